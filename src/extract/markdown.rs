//! Links and anchors of a Markdown document, read by pulldown-cmark (CommonMark, with GitHub's
//! tables, footnotes, strikethrough and task lists, and `{#id}` heading attributes).
//!
//! What counts as a link: inline links and images, autolinks (`<https://...>`, and
//! `<user@host>` as a `mailto:` URL), bare `http://` and `https://` URLs in text (GitHub links
//! them too), each reference definition `[label]: url` once, at its URL (a broken reference is
//! fixed there, and every `[text][label]` using it is the same link: uses are not reported
//! again), and `href`/`src` of HTML in the document. Nothing inside code spans or code blocks.
//! Anchors: heading slugs (GitHub's rules, `slug.rs`), a heading's `{#id}` instead of its slug,
//! and `id`/`name` of HTML elements.

use std::ops::Range;

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, TextMergeWithOffset};

use super::html::{self, Found};
use super::slug::Slugger;
use super::Kind;

/// What a scan of a Markdown document yields, positions still as byte offsets.
#[derive(Debug, Default)]
pub(super) struct Scan {
    /// In document order.
    pub links: Vec<Found>,
    pub anchors: Vec<String>,
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// A link or image whose end has not been seen yet.
struct Open {
    /// `None` for the forms that are not reported here (reference uses).
    kind: Option<Kind>,
    url: String,
    image: bool,
    range: Range<usize>,
    /// Where the label's content ends: the destination is searched after it.
    inner_end: usize,
}

/// A heading being read.
struct Heading {
    id: Option<String>,
    text: String,
    /// Inside an image of the heading: its alt text is not part of the heading's text.
    images: u32,
}

/// The state of one walk over the events.
struct Walk<'t> {
    text: &'t str,
    out: Scan,
    open: Vec<Open>,
    heading: Option<Heading>,
    slugger: Slugger,
    code: u32,
    /// The HTML block being read, and where each of its pieces starts in the source.
    html: String,
    html_pieces: Vec<(usize, usize)>,
}

/// Scans a Markdown document.
pub(super) fn scan(text: &str) -> Scan {
    let parser = Parser::new_ext(text, options());
    let mut walk = Walk {
        text,
        out: Scan::default(),
        open: Vec::new(),
        heading: None,
        slugger: Slugger::default(),
        code: 0,
        html: String::new(),
        html_pieces: Vec::new(),
    };
    for (_, def) in parser.reference_definitions().iter() {
        if !def.dest.is_empty() {
            let offset = definition_url(text, def.span.clone());
            walk.found(offset, def.dest.to_string(), Kind::Reference);
        }
    }
    for (event, range) in TextMergeWithOffset::new(parser.into_offset_iter()) {
        walk.event(event, range);
    }
    let mut out = walk.out;
    out.links.sort_by_key(|l| l.offset);
    out
}

impl Walk<'_> {
    fn found(&mut self, offset: usize, url: String, kind: Kind) {
        self.out.links.push(Found { offset, url, kind });
    }

    fn event(&mut self, event: Event<'_>, range: Range<usize>) {
        let closes = matches!(event, Event::End(TagEnd::Link | TagEnd::Image));
        if let Some(open) = self.open.last_mut().filter(|_| !closes) {
            open.inner_end = open.inner_end.max(range.end);
        }
        match event {
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            }) => self.open_link(link_type, dest_url, range, false),
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                ..
            }) => self.open_link(link_type, dest_url, range, true),
            Event::End(TagEnd::Link | TagEnd::Image) => self.close_link(),
            Event::Start(Tag::Heading { id, .. }) => {
                self.heading = Some(Heading {
                    id: id.map(|id| id.to_string()),
                    text: String::new(),
                    images: 0,
                });
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some(h) = self.heading.take() {
                    let anchor = h.id.unwrap_or_else(|| self.slugger.unique(&h.text));
                    if !anchor.is_empty() {
                        self.out.anchors.push(anchor);
                    }
                }
            }
            Event::Start(Tag::CodeBlock(_)) => self.code += 1,
            Event::End(TagEnd::CodeBlock) => self.code = self.code.saturating_sub(1),
            Event::Text(t) => self.text_event(&t, range),
            Event::Code(t) => self.heading_text(&t),
            Event::Start(Tag::HtmlBlock) => {
                self.html.clear();
                self.html_pieces.clear();
            }
            Event::Html(h) => {
                let source = self.source_of(&h, &range);
                self.html_pieces.push((self.html.len(), source));
                self.html.push_str(&h);
            }
            Event::End(TagEnd::HtmlBlock) => {
                let block = std::mem::take(&mut self.html);
                let pieces = std::mem::take(&mut self.html_pieces);
                self.html_links(&block, &pieces);
                self.html = block;
                self.html_pieces = pieces;
            }
            Event::InlineHtml(h) => {
                let source = self.source_of(&h, &range);
                self.html_links(&h, &[(0, source)]);
            }
            _ => {}
        }
    }

    /// Where `piece` starts in the source: `range.start` when the event's text is the source
    /// text (it is, but for HTML inside block quotes and lists).
    fn source_of(&self, piece: &str, range: &Range<usize>) -> usize {
        let source = self.text.get(range.clone()).unwrap_or_default();
        let at = if source.starts_with(piece) {
            0
        } else {
            source.find(piece).unwrap_or(0)
        };
        range.start + at
    }

    fn open_link(
        &mut self,
        link_type: LinkType,
        dest: CowStr<'_>,
        range: Range<usize>,
        image: bool,
    ) {
        let (kind, url) = match link_type {
            LinkType::Inline if image => (Some(Kind::Src), dest.to_string()),
            LinkType::Inline => (Some(Kind::Href), dest.to_string()),
            LinkType::Autolink => (Some(Kind::Autolink), dest.to_string()),
            LinkType::Email => (Some(Kind::Autolink), format!("mailto:{dest}")),
            // Reference uses: the definition is reported, once.
            _ => (None, String::new()),
        };
        if let Some(h) = self.heading.as_mut().filter(|_| image) {
            h.images += 1;
        }
        let inner_end = range.start;
        self.open.push(Open {
            kind,
            url,
            image,
            range,
            inner_end,
        });
    }

    fn close_link(&mut self) {
        let Some(open) = self.open.pop() else {
            return;
        };
        if let Some(parent) = self.open.last_mut() {
            parent.inner_end = parent.inner_end.max(open.range.end);
        }
        if let Some(h) = self.heading.as_mut().filter(|_| open.image) {
            h.images = h.images.saturating_sub(1);
        }
        let Some(kind) = open.kind else {
            return;
        };
        if open.url.is_empty() {
            return;
        }
        let dest = dest_for_search(&open.url, kind);
        // An autolink's text is its destination: search from its `<`.
        let label_end = if kind == Kind::Autolink {
            open.range.start
        } else {
            open.inner_end
        };
        let offset = destination(self.text, open.range.clone(), label_end, dest);
        self.found(offset, open.url, kind);
    }

    fn heading_text(&mut self, text: &str) {
        if let Some(h) = self.heading.as_mut().filter(|h| h.images == 0) {
            h.text.push_str(text);
        }
    }

    fn text_event(&mut self, text: &str, range: Range<usize>) {
        self.heading_text(text);
        if self.code > 0 || !self.open.is_empty() {
            return;
        }
        let source = self.text.get(range.clone()).unwrap_or_default();
        let exact = source == text;
        // When escapes or entities make the text differ from the source, each URL is looked
        // for after the previous one: one pass over the source in all.
        let mut cursor = 0;
        for url in bare_urls(text) {
            let written = &text[url.clone()];
            let at = if exact {
                url.start
            } else {
                match source.get(cursor..).and_then(|s| s.find(written)) {
                    Some(at) => {
                        cursor += at + written.len();
                        cursor - written.len()
                    }
                    None => cursor,
                }
            };
            self.found(range.start + at, written.to_string(), Kind::Autolink);
        }
    }

    /// Links and anchors of a piece of HTML; `pieces` maps offsets in `html` to the source.
    fn html_links(&mut self, html: &str, pieces: &[(usize, usize)]) {
        let scan = html::scan(html.as_bytes());
        for link in scan.links {
            let i = pieces.partition_point(|p| p.0 <= link.offset);
            let offset = match i.checked_sub(1).map(|i| pieces[i]) {
                Some((at, source)) => source + (link.offset - at),
                None => pieces.first().map_or(0, |p| p.1),
            };
            self.found(offset, link.url, link.kind);
        }
        self.out.anchors.extend(scan.anchors);
    }
}

/// The text to look for in the source: an email autolink is written without `mailto:`.
fn dest_for_search(url: &str, kind: Kind) -> &str {
    match kind {
        Kind::Autolink => url.strip_prefix("mailto:").unwrap_or(url),
        _ => url,
    }
}

/// Where the destination of the link at `range` is written: after the label (which ends at
/// `inner_end`), as written when found there; else just after the `(`; else the link's start.
fn destination(text: &str, range: Range<usize>, inner_end: usize, dest: &str) -> usize {
    let from = inner_end.clamp(range.start, range.end);
    let Some(tail) = text.get(from..range.end) else {
        return range.start;
    };
    if let Some(at) = tail.find(dest) {
        return from + at;
    }
    if let Some(paren) = tail
        .find("](")
        .map(|p| p + 2)
        .or_else(|| tail.find('(').map(|p| p + 1))
    {
        let rest = &tail[paren..];
        let skipped = rest.len() - rest.trim_start().len();
        let angle = usize::from(rest.trim_start().starts_with('<'));
        return from + paren + skipped + angle;
    }
    range.start
}

/// Where the URL of the reference definition at `span` is written: after `]:`, blanks and an
/// opening `<`.
fn definition_url(text: &str, span: Range<usize>) -> usize {
    let Some(def) = text.get(span.clone()) else {
        return span.start;
    };
    let bytes = def.as_bytes();
    let mut colon = None;
    let mut i = 0;
    while i + 1 < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b']' if bytes[i + 1] == b':' => {
                colon = Some(i + 2);
                break;
            }
            _ => {}
        }
        i += 1;
    }
    let Some(after) = colon else {
        return span.start;
    };
    let rest = &def[after..];
    let blank = rest.len() - rest.trim_start().len();
    let angle = usize::from(rest[blank..].starts_with('<'));
    span.start + after + blank + angle
}

/// The bare `http://` and `https://` URLs of a text, as GitHub's autolink extension ends them:
/// at whitespace or `<`, without trailing punctuation, and without a `)` that closes nothing.
fn bare_urls(text: &str) -> Vec<Range<usize>> {
    let mut urls = Vec::new();
    let mut from = 0;
    while let Some(found) = memchr::memmem::find(&text.as_bytes()[from..], b"http") {
        let start = from + found;
        let rest = &text[start..];
        let scheme = if rest.starts_with("https://") {
            8
        } else if rest.starts_with("http://") {
            7
        } else {
            from = start + 4;
            continue;
        };
        // A word ending in "http" is not a URL's start (e.g. "xhttp://").
        let glued = text[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric());
        let len = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`'))
            .unwrap_or(rest.len());
        let len = unbalanced_bracket(&rest[..len]).unwrap_or(len);
        let end = start + trim_url_end(&rest[..len]);
        if !glued && end > start + scheme {
            urls.push(start..end);
        }
        from = (start + len).max(start + 4);
    }
    urls
}

/// Where a `]` that closes no `[` of the URL is: the URL ends there (`[https://x.test/]`, or
/// `[https://x.test/](text)` written the wrong way round).
fn unbalanced_bracket(url: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in url.bytes().enumerate() {
        match b {
            b'[' => depth += 1,
            b']' if depth == 0 => return Some(i),
            b']' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The length of `url` without what GitHub does not count as part of a bare URL at its end.
fn trim_url_end(url: &str) -> usize {
    let opens = url.matches('(').count();
    let mut closes = url.matches(')').count();
    let mut end = url.len();
    while let Some(last) = url[..end].chars().next_back() {
        let unbalanced = last == ')' && closes > opens;
        if !(unbalanced
            || matches!(
                last,
                '?' | '!' | '.' | ',' | ':' | ';' | '*' | '_' | '~' | '\''
            ))
        {
            break;
        }
        closes -= usize::from(last == ')');
        end -= last.len_utf8();
    }
    end
}

#[cfg(test)]
mod tests {
    use super::super::{found, markdown, one, Kind, Tuple};

    fn links(text: &str) -> Vec<Tuple> {
        found(markdown(text))
    }

    #[test]
    fn inline_links_images_and_autolinks() {
        let doc = "See [the docs](docs/a.md \"title\") and ![logo](img/logo.png).\n\
                   Mail <me@example.com> or <https://example.com/x>.";
        assert_eq!(
            links(doc),
            [
                one("docs/a.md", 1, 16, Kind::Href),
                one("img/logo.png", 1, 47, Kind::Src),
                one("mailto:me@example.com", 2, 7, Kind::Autolink),
                one("https://example.com/x", 2, 27, Kind::Autolink),
            ]
        );
    }

    #[test]
    fn the_destination_is_found_after_the_label_even_when_the_label_repeats_it() {
        assert_eq!(
            links("[x.md](x.md) [<y.md>](<y.md>)"),
            [
                one("x.md", 1, 8, Kind::Href),
                one("y.md", 1, 24, Kind::Href)
            ]
        );
        // A destination written with escapes is placed where it starts.
        assert_eq!(links(r"[a](b\(c\).md)"), [one("b(c).md", 1, 5, Kind::Href)]);
        // An image inside a link: both, each at its own URL.
        assert_eq!(
            links("[![badge](b.svg)](https://ci.test/)"),
            [
                one("b.svg", 1, 11, Kind::Src),
                one("https://ci.test/", 1, 19, Kind::Href)
            ]
        );
    }

    #[test]
    fn positions_count_characters_and_crlf() {
        let doc = "# Grüße 😀\r\n\r\nÄ 😀 [l](https://x.test/)\r\n";
        assert_eq!(links(doc), [one("https://x.test/", 3, 9, Kind::Href)]);
    }

    #[test]
    fn reference_definitions_are_reported_once_where_the_url_is_written() {
        let doc = "Use [one][a], [two][a], [a][] and [a].\n\n[a]: https://a.test/\n\
                   [b]:\n   <b.md> \"unused\"\n> [c]: c.md\n";
        assert_eq!(
            links(doc),
            [
                one("https://a.test/", 3, 6, Kind::Reference),
                one("b.md", 5, 5, Kind::Reference),
                one("c.md", 6, 8, Kind::Reference),
            ]
        );
        // A reference image is a use too.
        assert_eq!(
            links("![i][p]\n\n[p]: p.png"),
            [one("p.png", 3, 6, Kind::Reference)]
        );
    }

    #[test]
    fn bare_urls_in_text_are_autolinks() {
        let doc = "Visit https://a.test/path. Or (see http://b.test/x_(y)), \
                   https://c.test/q?x=1&y=2!\nnot xhttp://d.test nor `https://e.test`";
        assert_eq!(
            links(doc),
            [
                one("https://a.test/path", 1, 7, Kind::Autolink),
                one("http://b.test/x_(y)", 1, 36, Kind::Autolink),
                one("https://c.test/q?x=1&y=2", 1, 58, Kind::Autolink),
            ]
        );
        // A bracket that closes nothing ends the URL; brackets inside it stay.
        assert_eq!(
            links("[https://h.test/a] [https://i.test/b](not a link) https://j.test/?a[0]=1"),
            [
                one("https://h.test/a", 1, 2, Kind::Autolink),
                one("https://i.test/b", 1, 21, Kind::Autolink),
                one("https://j.test/?a[0]=1", 1, 51, Kind::Autolink),
            ]
        );
        // With an entity before it, the text differs from the source: still placed exactly.
        assert_eq!(
            links("&amp; https://f.test/"),
            [one("https://f.test/", 1, 7, Kind::Autolink)]
        );
        // The text of a link is not a second link.
        assert_eq!(links("[https://g.test/](h.md)").len(), 1);
    }

    #[test]
    fn code_spans_and_code_blocks_are_never_links() {
        let doc = "`[a](b.md)` and `https://x.test`\n\n```\n[c](d.md) <https://y.test> <a href=z>\n```\n\n    \
                   [e](f.md) in an indented block\n\n[ok](ok.md)";
        assert_eq!(links(doc), [one("ok.md", 9, 6, Kind::Href)]);
    }

    #[test]
    fn html_in_markdown_is_read_as_html() {
        let doc = "Text <a href=\"inline.html\" id=\"here\">x</a>.\n\n<div>\n  <img src=\"block.png\"\n       srcset=\"b2.png 2x\">\n</div>\n\n\
                   > <p><a name=quoted href=\"q.html\">q</a></p>\n";
        let found = markdown(doc);
        let got: Vec<(String, u32, u32, Kind)> = found
            .links
            .into_iter()
            .map(|l| (l.url, l.line, l.column, l.kind))
            .collect();
        assert_eq!(
            got,
            [
                one("inline.html", 1, 15, Kind::Href),
                one("block.png", 4, 13, Kind::Src),
                one("b2.png", 5, 16, Kind::Srcset),
                one("q.html", 8, 27, Kind::Href),
            ]
        );
        assert_eq!(found.anchors, ["here", "quoted"]);
    }

    #[test]
    fn heading_anchors_are_github_slugs_or_the_given_id() {
        let doc = "# Hello, World!\n## Usage\n## Usage\nSetup `cfg` & *more*\n---\n\
                   ## Custom {#my-id}\n### ![icon](i.png) Icon [link](l.md)\n";
        assert_eq!(
            markdown(doc).anchors,
            [
                "hello-world",
                "usage",
                "usage-1",
                "setup-cfg--more",
                "my-id",
                "-icon-link"
            ]
        );
    }

    #[test]
    fn tables_footnotes_and_task_lists_are_read() {
        let doc = "| a | b |\n|---|---|\n| [t](t.md) | x |\n\n- [x] [done](d.md)\n\n\
                   Note[^1].\n\n[^1]: See [f](f.md).\n";
        let urls: Vec<String> = markdown(doc).links.into_iter().map(|l| l.url).collect();
        assert_eq!(urls, ["t.md", "d.md", "f.md"]);
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        for doc in [
            ">".repeat(100_000),
            "[".repeat(100_000),
            "*".repeat(100_000),
        ] {
            let _ = markdown(&doc);
        }
        let nested = format!("{}x{}", "[".repeat(50_000), "](y)".repeat(50_000));
        let _ = markdown(&nested);
        let list = "- ".repeat(50_000) + "[a](b)";
        let _ = markdown(&list);
    }
}
