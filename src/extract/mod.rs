//! Links in documents: what a Markdown file, an HTML page or a sitemap links to, each link
//! with the line and column where its URL is written, and the anchors a page defines (for
//! `#fragment` checks). Pure functions over bytes: no file system, no network, nothing else of
//! the crate, so the fuzzers and the benchmark call them as they are.

mod html;
mod markdown;
mod position;
mod sitemap;
mod slug;

use serde::Serialize;

use self::html::Found;
use self::position::Lines;

/// Where in a document a link's URL was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `href` of `a`, `area`, `link`; a Markdown inline link.
    Href,
    /// `src` of `img`, `script`, `iframe`, `source`, `audio`, `video`, `track`, `embed`; a
    /// Markdown image.
    Src,
    /// One candidate of a `srcset`.
    Srcset,
    /// `video poster`.
    Poster,
    /// `<meta http-equiv=refresh content="0; url=...">`.
    Refresh,
    /// A Markdown autolink `<https://...>` (or a bare URL where the parser takes it as one).
    Autolink,
    /// A Markdown reference definition `[name]: url`.
    Reference,
    /// A sitemap's `<loc>`.
    Loc,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Href => "href",
            Kind::Src => "src",
            Kind::Srcset => "srcset",
            Kind::Poster => "poster",
            Kind::Refresh => "refresh",
            Kind::Autolink => "autolink",
            Kind::Reference => "reference",
            Kind::Loc => "loc",
        }
    }
}

/// One link as written: the URL text (entities decoded, surrounding whitespace trimmed, not
/// resolved against anything) and where it starts, 1-based, the column counted in characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: String,
    pub line: u32,
    pub column: u32,
    pub kind: Kind,
}

/// What a document yields.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// In document order.
    pub links: Vec<Link>,
    /// The fragment names the document defines: `id` and `name` attributes (HTML, and HTML
    /// inside Markdown), heading slugs (Markdown, GitHub's rules), as written (not decoded).
    pub anchors: Vec<String>,
    /// The first `<base href>`, when there is one.
    pub base: Option<String>,
}

/// Every link and anchor of an HTML page. Bytes that are not UTF-8 are read as U+FFFD;
/// nothing makes it fail.
pub fn html(bytes: &[u8]) -> Extracted {
    let scan = html::scan(bytes);
    Extracted {
        links: placed(bytes, scan.links),
        anchors: scan.anchors,
        base: scan.base,
    }
}

/// Every link and anchor of a Markdown document: inline links and images, autolinks, bare
/// `http(s)://` URLs, each reference definition once at its URL (the `[text][label]` uses of
/// a definition are not reported again: the definition is where a broken one is fixed), and
/// `href`/`src` of HTML in the document; nothing in code spans or blocks. Anchors are heading
/// slugs by GitHub's rules (`{#id}` replaces the slug) and HTML `id`/`name`. `base` is `None`.
pub fn markdown(text: &str) -> Extracted {
    let scan = markdown::scan(text);
    Extracted {
        links: placed(text.as_bytes(), scan.links),
        anchors: scan.anchors,
        base: None,
    }
}

/// Links at byte offsets of `text` (sorted) to links at line:column.
fn placed(text: &[u8], found: Vec<Found>) -> Vec<Link> {
    let mut lines = Lines::new(text);
    found
        .into_iter()
        .map(|f| {
            let (line, column) = lines.at(f.offset);
            Link {
                url: f.url,
                line,
                column,
                kind: f.kind,
            }
        })
        .collect()
}

/// A sitemap: the URLs it lists, and whether it is an index of further sitemaps.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sitemap {
    pub urls: Vec<Link>,
    /// A `<sitemapindex>`: its URLs are sitemaps, not pages.
    pub index: bool,
}

/// The `<loc>`s of a sitemap or sitemap index; an error says why the bytes are not one.
pub fn sitemap(bytes: &[u8]) -> Result<Sitemap, String> {
    let (urls, index) = sitemap::scan(bytes)?;
    Ok(Sitemap {
        urls: placed(bytes, urls),
        index,
    })
}

/// What tests compare: each link as a tuple.
#[cfg(test)]
pub(crate) type Tuple = (String, u32, u32, Kind);

#[cfg(test)]
pub(crate) fn found(extracted: Extracted) -> Vec<Tuple> {
    let tuple = |l: Link| (l.url, l.line, l.column, l.kind);
    extracted.links.into_iter().map(tuple).collect()
}

#[cfg(test)]
pub(crate) fn one(url: &str, line: u32, column: u32, kind: Kind) -> Tuple {
    (url.to_string(), line, column, kind)
}
