//! Links and anchors of an HTML page, read by html5gum's tokenizer (the WHATWG tokenizer, so
//! entities, quoting, `<script>` contents and broken markup are read the way a browser reads
//! them) through an emitter of our own: it keeps only the attributes that can hold a link or
//! an anchor, allocates only for what it returns, and notes the byte offset where each value
//! starts, so every link gets the position of its URL text at no extra pass.

use std::convert::Infallible;
use std::ops::Range;

use html5gum::{Emitter, Error, State, Tokenizer};

use super::Kind;

/// A link found at a byte offset of the scanned text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    pub offset: usize,
    pub url: String,
    pub kind: Kind,
}

/// What a scan yields, positions still as byte offsets.
#[derive(Debug, Default)]
pub(super) struct Scan {
    /// In document order.
    pub links: Vec<Found>,
    pub anchors: Vec<String>,
    pub base: Option<String>,
}

/// Scans an HTML page or fragment.
pub(super) fn scan(bytes: &[u8]) -> Scan {
    let mut scan = Scan::default();
    // A byte slice cannot fail to read.
    let Ok(()) = Tokenizer::new_with_emitter(bytes, LinkEmitter::new(&mut scan)).finish();
    // Attributes come in source order, but a value's candidates are mapped back to the source
    // one by one; sorting keeps the order strict for the line:column walk (a no-op in practice).
    scan.links.sort_by_key(|l| l.offset);
    scan
}

/// The attributes worth keeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attr {
    Href,
    Src,
    Srcset,
    Poster,
    Id,
    Name,
    HttpEquiv,
    Content,
}

/// Which attribute `name` of element `tag` is, when it is one we keep.
fn relevant(tag: &[u8], name: &[u8]) -> Option<Attr> {
    let attr = match name {
        b"id" => Attr::Id,
        // Browsers find `name` only on `a`; accepting it on any element never fails a valid
        // fragment.
        b"name" => Attr::Name,
        b"href" if matches!(tag, b"a" | b"area" | b"link" | b"base") => Attr::Href,
        b"src"
            if matches!(
                tag,
                b"img"
                    | b"script"
                    | b"iframe"
                    | b"source"
                    | b"audio"
                    | b"video"
                    | b"track"
                    | b"embed"
            ) =>
        {
            Attr::Src
        }
        b"srcset" if matches!(tag, b"img" | b"source") => Attr::Srcset,
        b"poster" if tag == b"video" => Attr::Poster,
        b"http-equiv" if tag == b"meta" => Attr::HttpEquiv,
        b"content" if tag == b"meta" => Attr::Content,
        _ => return None,
    };
    Some(attr)
}

/// The tokenizer state after a start tag: the elements whose content is text, not markup.
/// (`noscript` stays markup: its links are what a reader without scripts follows.)
fn next_state(tag: &[u8]) -> Option<State> {
    match tag {
        b"textarea" | b"title" => Some(State::RcData),
        b"plaintext" => Some(State::PlainText),
        b"script" => Some(State::ScriptData),
        b"style" | b"iframe" | b"xmp" | b"noembed" | b"noframes" => Some(State::RawText),
        _ => None,
    }
}

/// One kept attribute value of the current tag.
#[derive(Debug)]
struct Value {
    attr: Attr,
    /// Into `LinkEmitter::values`.
    bytes: Range<usize>,
    /// Into `LinkEmitter::segments`.
    segments: Range<usize>,
}

/// The emitter: html5gum calls it for every piece of the document.
#[derive(Debug)]
struct LinkEmitter<'s> {
    /// Byte offset of the tokenizer in the input.
    position: usize,
    tag: Vec<u8>,
    start_tag: bool,
    last_start_tag: Vec<u8>,
    attr_name: Vec<u8>,
    /// The kept attribute whose value is being read, and where it began in `values` and
    /// `segments`.
    current: Option<(Attr, usize, usize)>,
    /// Where the previous piece of the current value ended in the input.
    last_pos: usize,
    /// The current tag's kept values, back to back.
    values: Vec<u8>,
    /// `(offset in values, offset in input)` for each piece the tokenizer handed over: a
    /// decoded entity is one piece, so offsets after it still map exactly.
    segments: Vec<(usize, usize)>,
    pending: Vec<Value>,
    out: &'s mut Scan,
}

impl<'s> LinkEmitter<'s> {
    fn new(out: &'s mut Scan) -> Self {
        LinkEmitter {
            position: 0,
            tag: Vec::new(),
            start_tag: false,
            last_start_tag: Vec::new(),
            attr_name: Vec::new(),
            current: None,
            last_pos: 0,
            values: Vec::new(),
            segments: Vec::new(),
            pending: Vec::new(),
            out,
        }
    }

    fn reset_tag(&mut self, start: bool) {
        self.tag.clear();
        self.start_tag = start;
        self.attr_name.clear();
        self.current = None;
        self.values.clear();
        self.segments.clear();
        self.pending.clear();
    }

    fn finish_attribute(&mut self) {
        if let Some((attr, bytes, segments)) = self.current.take() {
            self.pending.push(Value {
                attr,
                bytes: bytes..self.values.len(),
                segments: segments..self.segments.len(),
            });
        }
    }

    /// The input offset of byte `at` of `values`.
    fn source_at(&self, value: &Value, at: usize) -> usize {
        let segments = &self.segments[value.segments.clone()];
        let i = segments.partition_point(|s| s.0 <= at);
        let Some(&(v, s)) = i.checked_sub(1).and_then(|i| segments.get(i)) else {
            return segments.first().map_or(self.position, |s| s.1);
        };
        let mut source = s + (at - v);
        if let Some(&(_, next)) = segments.get(i) {
            source = source.min(next.saturating_sub(1).max(s));
        }
        source
    }

    /// The trimmed text of `range` of `values`, and its input offset; `None` when empty.
    fn text(&self, value: &Value, range: Range<usize>) -> Option<(String, usize)> {
        let bytes = &self.values[range.clone()];
        let start = bytes.iter().position(|b| !is_space(*b))?;
        let end = bytes.iter().rposition(|b| !is_space(*b))? + 1;
        let url = String::from_utf8_lossy(&bytes[start..end]).into_owned();
        Some((url, self.source_at(value, range.start + start)))
    }

    fn link(&mut self, value: &Value, range: Range<usize>, kind: Kind) {
        if let Some((url, offset)) = self.text(value, range) {
            self.out.links.push(Found { offset, url, kind });
        }
    }

    /// A start tag is complete: its kept attributes become links, anchors or the base.
    fn emit_start_tag(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        for value in &pending {
            let range = value.bytes.clone();
            match value.attr {
                Attr::Id | Attr::Name if !range.is_empty() => {
                    let anchor = String::from_utf8_lossy(&self.values[range]).into_owned();
                    self.out.anchors.push(anchor);
                }
                Attr::Href if self.tag == b"base" => {
                    let href = self.text(value, range).map(|(url, _)| url);
                    self.out.base = self.out.base.take().or(href);
                }
                Attr::Href => self.link(value, range, Kind::Href),
                Attr::Src => self.link(value, range, Kind::Src),
                Attr::Poster => self.link(value, range, Kind::Poster),
                Attr::Srcset => {
                    for candidate in srcset(&self.values[range.clone()]) {
                        let shifted = candidate.start + range.start..candidate.end + range.start;
                        self.link(value, shifted, Kind::Srcset);
                    }
                }
                Attr::Content => self.refresh(&pending, value),
                _ => {}
            }
        }
        self.pending = pending;
    }

    /// `<meta http-equiv=refresh content="5; url=...">`: the URL part of `content`.
    fn refresh(&mut self, pending: &[Value], content: &Value) {
        let is_refresh = pending.iter().any(|v| {
            v.attr == Attr::HttpEquiv
                && self.values[v.bytes.clone()]
                    .trim_ascii()
                    .eq_ignore_ascii_case(b"refresh")
        });
        if !is_refresh {
            return;
        }
        if let Some(url) = refresh_url(&self.values[content.bytes.clone()]) {
            let shifted = url.start + content.bytes.start..url.end + content.bytes.start;
            self.link(content, shifted, Kind::Refresh);
        }
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0C' | b'\r')
}

/// The URL ranges of a `srcset`, as the HTML standard splits it: candidates are separated by
/// commas, a URL runs to the next whitespace (commas at its end are separators, commas inside
/// it belong to it, as in `data:` URLs), and descriptors run to the next comma outside
/// parentheses.
fn srcset(value: &[u8]) -> Vec<Range<usize>> {
    let mut urls = Vec::new();
    let mut i = 0;
    loop {
        while i < value.len() && (is_space(value[i]) || value[i] == b',') {
            i += 1;
        }
        if i >= value.len() {
            return urls;
        }
        let start = i;
        while i < value.len() && !is_space(value[i]) {
            i += 1;
        }
        let mut end = i;
        while end > start && value[end - 1] == b',' {
            end -= 1;
        }
        if end == i {
            // Descriptors follow: skip them.
            let mut depth = 0u32;
            while i < value.len() {
                match value[i] {
                    b'(' => depth += 1,
                    b')' => depth = depth.saturating_sub(1),
                    b',' if depth == 0 => break,
                    _ => {}
                }
                i += 1;
            }
        }
        if end > start {
            urls.push(start..end);
        }
    }
}

/// The URL range of a refresh `content` (`5`, `0; url=x`, `0, 'x'`, `0;URL="x"`), when it
/// has one.
fn refresh_url(content: &[u8]) -> Option<Range<usize>> {
    let skip = |mut i: usize, what: fn(u8) -> bool| {
        while i < content.len() && what(content[i]) {
            i += 1;
        }
        i
    };
    let mut i = skip(0, is_space);
    let digits = skip(i, |b| b.is_ascii_digit() || b == b'.');
    if digits == i {
        return None;
    }
    i = digits;
    if i < content.len() && !(is_space(content[i]) || matches!(content[i], b';' | b',')) {
        return None;
    }
    i = skip(i, is_space);
    if i < content.len() && matches!(content[i], b';' | b',') {
        i += 1;
    }
    i = skip(i, is_space);
    if content.len() - i >= 3 && content[i..i + 3].eq_ignore_ascii_case(b"url") {
        let j = skip(i + 3, is_space);
        if content.get(j) == Some(&b'=') {
            i = skip(j + 1, is_space);
        }
    }
    let mut end = content.len();
    if let Some(&quote @ (b'"' | b'\'')) = content.get(i) {
        i += 1;
        end = memchr::memchr(quote, &content[i..]).map_or(end, |q| i + q);
    }
    (i < end).then_some(i..end)
}

impl Emitter for LinkEmitter<'_> {
    type Token = Infallible;

    #[inline]
    fn move_position(&mut self, offset: isize) {
        self.position = self.position.saturating_add_signed(offset);
    }

    fn set_last_start_tag(&mut self, last_start_tag: Option<&[u8]>) {
        self.last_start_tag.clear();
        self.last_start_tag
            .extend_from_slice(last_start_tag.unwrap_or_default());
    }

    fn emit_eof(&mut self) {}

    fn emit_error(&mut self, _: Error) {}

    #[inline]
    fn should_emit_errors(&mut self) -> bool {
        false
    }

    fn pop_token(&mut self) -> Option<Infallible> {
        None
    }

    fn emit_string(&mut self, _: &[u8]) {}

    fn init_start_tag(&mut self) {
        self.reset_tag(true);
    }

    fn init_end_tag(&mut self) {
        self.reset_tag(false);
    }

    fn init_comment(&mut self) {}

    fn emit_current_tag(&mut self) -> Option<State> {
        self.finish_attribute();
        if !self.start_tag {
            self.last_start_tag.clear();
            return None;
        }
        self.emit_start_tag();
        self.last_start_tag.clear();
        self.last_start_tag.extend_from_slice(&self.tag);
        next_state(&self.tag)
    }

    fn emit_current_comment(&mut self) {}

    fn emit_current_doctype(&mut self) {}

    fn set_self_closing(&mut self) {}

    fn set_force_quirks(&mut self) {}

    fn push_tag_name(&mut self, s: &[u8]) {
        self.tag.extend_from_slice(s);
    }

    fn push_comment(&mut self, _: &[u8]) {}

    fn push_doctype_name(&mut self, _: &[u8]) {}

    fn init_doctype(&mut self) {}

    fn init_attribute(&mut self) {
        self.finish_attribute();
        self.attr_name.clear();
    }

    fn init_attribute_value(&mut self) {
        self.current = None;
        if !self.start_tag {
            return;
        }
        // The first of two same-named attributes counts, as in a browser.
        let attr = relevant(&self.tag, &self.attr_name)
            .filter(|a| !self.pending.iter().any(|p| p.attr == *a));
        self.current = attr.map(|a| (a, self.values.len(), self.segments.len()));
        self.last_pos = self.position;
    }

    fn push_attribute_name(&mut self, s: &[u8]) {
        self.attr_name.extend_from_slice(s);
    }

    fn push_attribute_value(&mut self, s: &[u8]) {
        if let Some((_, start, _)) = self.current {
            if self.values.len() == start {
                // An unquoted value is begun after its first byte was read (then given back):
                // a plain first piece ends where the tokenizer is now.
                self.last_pos = self.last_pos.min(self.position.saturating_sub(s.len()));
            }
            self.segments.push((self.values.len(), self.last_pos));
            self.values.extend_from_slice(s);
            self.last_pos = self.position;
        }
    }

    fn set_doctype_public_identifier(&mut self, _: &[u8]) {}

    fn set_doctype_system_identifier(&mut self, _: &[u8]) {}

    fn push_doctype_public_identifier(&mut self, _: &[u8]) {}

    fn push_doctype_system_identifier(&mut self, _: &[u8]) {}

    fn current_is_appropriate_end_tag_token(&mut self) -> bool {
        !self.start_tag && !self.last_start_tag.is_empty() && self.last_start_tag == self.tag
    }
}

#[cfg(test)]
mod tests {
    use super::super::{found, html, one, Kind, Tuple};

    fn links(text: &str) -> Vec<Tuple> {
        found(html(text.as_bytes()))
    }

    #[test]
    fn every_element_and_attribute_that_links() {
        let page = r#"<a href="a.html">a</a><area href=area><link rel=x href='l.css'>
<img src=i.png><script src="s.js"></script><iframe src="f.html"></iframe>
<source src=so.mp4><audio src=au.ogg></audio><video src=v.mp4 poster=p.jpg></video>
<track src=t.vtt><embed src=e.swf>"#;
        let kinds: Vec<(String, Kind)> = html(page.as_bytes())
            .links
            .into_iter()
            .map(|l| (l.url, l.kind))
            .collect();
        let want = [
            ("a.html", Kind::Href),
            ("area", Kind::Href),
            ("l.css", Kind::Href),
            ("i.png", Kind::Src),
            ("s.js", Kind::Src),
            ("f.html", Kind::Src),
            ("so.mp4", Kind::Src),
            ("au.ogg", Kind::Src),
            ("v.mp4", Kind::Src),
            ("p.jpg", Kind::Poster),
            ("t.vtt", Kind::Src),
            ("e.swf", Kind::Src),
        ];
        let want: Vec<(String, Kind)> = want.iter().map(|(u, k)| (u.to_string(), *k)).collect();
        assert_eq!(kinds, want);
    }

    #[test]
    fn names_are_case_insensitive_and_values_keep_their_case() {
        assert_eq!(
            links("<A HREF=\"Page.HTML\"/><IMG SrC='X.PNG'><Video POSTER=P.jpg>"),
            [
                one("Page.HTML", 1, 10, Kind::Href),
                one("X.PNG", 1, 32, Kind::Src),
                one("P.jpg", 1, 53, Kind::Poster),
            ]
        );
    }

    #[test]
    fn attributes_of_other_elements_are_not_links() {
        assert!(links(r#"<div href="x" src="y"></div><img href="z"><a src="w">"#).is_empty());
        // `<a href>` without a value, an empty one and a blank one are no links.
        assert!(links(r#"<a href>x</a><a href="">y</a><a href="  ">z</a>"#).is_empty());
    }

    #[test]
    fn positions_are_those_of_the_url_text() {
        let page =
            "<p>\n  <a class=x href=\"one.html\">1</a> <a href=two>2</a>\n<a href = 'three'>";
        assert_eq!(
            links(page),
            [
                one("one.html", 2, 20, Kind::Href),
                one("two", 2, 44, Kind::Href),
                one("three", 3, 12, Kind::Href),
            ]
        );
    }

    #[test]
    fn columns_count_characters_and_crlf_is_one_line_break() {
        let page = "<p>Grüße 😀 <a href=\"x\">x</a>\r\n\r\n<img src=\"é.png\">";
        assert_eq!(
            links(page),
            [one("x", 1, 21, Kind::Href), one("é.png", 3, 11, Kind::Src)]
        );
        // A lone CR ends a line too, as in browsers.
        assert_eq!(links("\r<a href=y>"), [one("y", 2, 9, Kind::Href)]);
    }

    #[test]
    fn values_are_entity_decoded_and_trimmed_at_the_first_real_character() {
        assert_eq!(
            links("<a href=\"  a?b=1&amp;c=2&#x41;&lt \">"),
            [one("a?b=1&c=2A<", 1, 12, Kind::Href)]
        );
        // A value starting with an entity is placed at its `&`.
        assert_eq!(
            links("<a href='&#104;ttp://x/'>"),
            [one("http://x/", 1, 10, Kind::Href)]
        );
        // After an entity, positions are exact again.
        assert_eq!(
            links("<img srcset='a&amp;b.png 1x, c.png 2x'>"),
            [
                one("a&b.png", 1, 14, Kind::Srcset),
                one("c.png", 1, 30, Kind::Srcset)
            ]
        );
    }

    #[test]
    fn srcset_candidates_are_links_of_their_own() {
        let page = "<img src=a.png srcset=\"a-1x.png 1x,\n  a-2x.png 2x, a.webp\">\n\
                    <source srcset=\"w.png 100w,x.png 200w\">\
                    <img srcset=\"data:image/png;base64,AAA= 1x, f(1).png (x, y) 2x,,z.png\">";
        assert_eq!(
            links(page),
            [
                one("a.png", 1, 10, Kind::Src),
                one("a-1x.png", 1, 24, Kind::Srcset),
                one("a-2x.png", 2, 3, Kind::Srcset),
                one("a.webp", 2, 16, Kind::Srcset),
                one("w.png", 3, 17, Kind::Srcset),
                one("x.png", 3, 28, Kind::Srcset),
                one("data:image/png;base64,AAA=", 3, 53, Kind::Srcset),
                one("f(1).png", 3, 84, Kind::Srcset),
                one("z.png", 3, 104, Kind::Srcset),
            ]
        );
    }

    #[test]
    fn meta_refresh_url_is_a_link() {
        let cases = [
            (
                r#"<meta http-equiv="refresh" content="0; url=next.html">"#,
                "next.html",
                44,
            ),
            (
                r#"<meta content="5;URL='q.html'" http-equiv=Refresh>"#,
                "q.html",
                23,
            ),
            (
                r#"<meta http-equiv="REFRESH" content="3, other.html">"#,
                "other.html",
                40,
            ),
            (
                r#"<meta http-equiv=refresh content='0;url = "z.html" trailing'>"#,
                "z.html",
                44,
            ),
        ];
        for (page, url, column) in cases {
            assert_eq!(links(page), [one(url, 1, column, Kind::Refresh)], "{page}");
        }
        assert!(links(r#"<meta http-equiv="refresh" content="30">"#).is_empty());
        assert!(links(r#"<meta name="x" content="0; url=y">"#).is_empty());
        assert!(links(r#"<meta http-equiv="refresh" content="soon; url=y">"#).is_empty());
    }

    #[test]
    fn base_is_the_first_one_and_not_a_link() {
        let found = html(b"<base href=' https://x.test/docs/ '><base href='/other/'><a href=a>");
        assert_eq!(found.base.as_deref(), Some("https://x.test/docs/"));
        assert_eq!(found.links.len(), 1);
        assert_eq!(html(b"<base target=_blank><a href=a>").base, None);
    }

    #[test]
    fn anchors_are_ids_and_names() {
        let found = html(
            b"<h1 id=top>x</h1><a name=\"old\"></a><div ID='Mixed Case'><a id=''>\
                           <input name=q><a href='#top' id=top>",
        );
        assert_eq!(found.anchors, ["top", "old", "Mixed Case", "q", "top"]);
    }

    #[test]
    fn script_style_and_comments_hold_no_links() {
        let page =
            "<script>var s = '<a href=no1>';</script><style>a{}</style><!-- <a href=no2> -->\
                    <textarea><a href=no3></textarea><title><img src=no4></title><a href=yes>";
        assert_eq!(links(page), [one("yes", 1, 149, Kind::Href)]);
        // noscript is markup: what a reader without scripts follows.
        assert_eq!(links("<noscript><a href=n>")[0].0, "n");
    }

    #[test]
    fn the_first_of_repeated_attributes_counts_and_end_tags_hold_nothing() {
        assert_eq!(
            links("<a href=one href=two>"),
            [one("one", 1, 9, Kind::Href)]
        );
        assert!(links("</a href=x><br/ src=y>").is_empty());
        assert_eq!(html(b"</a id=x>").anchors, Vec::<String>::new());
    }

    #[test]
    fn invalid_utf8_and_broken_markup_never_panic() {
        let found = html(b"<a href=\"\xff\xfe.html\">\x00<a href=\"ok\0x\">");
        let urls: Vec<&str> = found.links.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(urls, ["\u{fffd}\u{fffd}.html", "ok\u{fffd}x"]);
        for garbage in [
            &b"<a href=\"unterminated"[..],
            b"<<<>>>&&&;",
            b"<a href=x",
            b"<",
        ] {
            let _ = html(garbage);
        }
        // A tag cut off by the end of the file is no tag.
        assert!(html(b"<a href=\"x\"").links.is_empty());
    }
}
