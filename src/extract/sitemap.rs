//! The `<loc>`s of a sitemap (`<urlset><url><loc>`) or sitemap index
//! (`<sitemapindex><sitemap><loc>`), read by quick-xml as a stream of events: memory follows
//! the longest URL, not the file. Only a `<loc>` directly inside an entry counts (an image
//! sitemap's `<image:loc>` is deeper), its text trimmed and its entities decoded.

use quick_xml::events::{BytesRef, Event};
use quick_xml::Reader;

use super::html::Found;
use super::Kind;

/// The `<loc>` being read: its text so far and where its first non-blank character is.
#[derive(Default)]
struct Loc {
    text: String,
    start: Option<usize>,
}

impl Loc {
    fn add(&mut self, piece: &str, at: usize) {
        if self.start.is_none() {
            if let Some(lead) = piece.find(|c: char| !c.is_whitespace()) {
                self.start = Some(at + lead);
            }
        }
        self.text.push_str(piece);
    }
}

/// A sitemap's URLs, positions still as byte offsets, and whether it is an index.
pub(super) fn scan(bytes: &[u8]) -> Result<(Vec<Found>, bool), String> {
    let mut reader = Reader::from_reader(bytes);
    let mut urls = Vec::new();
    let mut index = None;
    let mut depth = 0usize;
    let mut in_entry = false;
    let mut loc: Option<Loc> = None;
    loop {
        let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_event().map_err(|e| {
            let at = reader.error_position();
            format!("not a sitemap: the XML is not well-formed at byte {at}: {e}")
        })?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) if index.is_none() => {
                index = Some(root(e.local_name().as_ref())?);
                depth = usize::from(matches!(event, Event::Start(_)));
            }
            Event::Start(e) => {
                depth += 1;
                let name = e.local_name();
                let entry_name: &[u8] = if index == Some(true) {
                    b"sitemap"
                } else {
                    b"url"
                };
                match depth {
                    2 => in_entry = name.as_ref() == entry_name,
                    3 if in_entry && name.as_ref() == b"loc" => loc = Some(Loc::default()),
                    _ => {}
                }
            }
            Event::End(_) => {
                if depth == 3 {
                    if let Some(Loc {
                        text,
                        start: Some(offset),
                    }) = loc.take()
                    {
                        let url = text.trim().to_string();
                        urls.push(Found {
                            offset,
                            url,
                            kind: Kind::Loc,
                        });
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) => {
                if let Some(loc) = loc.as_mut().filter(|_| depth == 3) {
                    loc.add(&String::from_utf8_lossy(&t), at);
                }
            }
            Event::CData(t) => {
                if let Some(loc) = loc.as_mut().filter(|_| depth == 3) {
                    loc.add(&String::from_utf8_lossy(&t), at + "<![CDATA[".len());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(loc) = loc.as_mut().filter(|_| depth == 3) {
                    loc.add(&resolve(&r), at);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    match index {
        Some(index) => Ok((urls, index)),
        None => {
            Err("not a sitemap: no root element (expected <urlset> or <sitemapindex>)".to_string())
        }
    }
}

/// Whether the root element `name` is an index; an error for any other root.
fn root(name: &[u8]) -> Result<bool, String> {
    match name {
        b"urlset" => Ok(false),
        b"sitemapindex" => Ok(true),
        other => Err(format!(
            "not a sitemap: the root element is <{}>, expected <urlset> or <sitemapindex>",
            String::from_utf8_lossy(other)
        )),
    }
}

/// The text of `&name;` or `&#N;`: a predefined entity or a character; anything else stays
/// as written.
fn resolve(r: &BytesRef<'_>) -> String {
    let name = String::from_utf8_lossy(r);
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return c.to_string();
    }
    match quick_xml::escape::resolve_predefined_entity(&name) {
        Some(text) => text.to_string(),
        None => format!("&{name};"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{sitemap, Kind};

    fn urls(xml: &str) -> Vec<(String, u32, u32)> {
        let map = sitemap(xml.as_bytes()).unwrap();
        assert!(map.urls.iter().all(|l| l.kind == Kind::Loc));
        map.urls
            .into_iter()
            .map(|l| (l.url, l.line, l.column))
            .collect()
    }

    #[test]
    fn a_urlset_lists_its_locs_with_positions() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
                   <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\r\n\
                   <url><loc>https://a.test/</loc><lastmod>2024-01-01</lastmod></url>\r\n\
                   <url>\n  <loc>\n    https://b.test/é?x=1&amp;y=&#50;\n  </loc>\n</url>\n\
                   <url><loc><![CDATA[https://c.test/<raw>]]></loc></url>\n</urlset>";
        assert_eq!(
            urls(xml),
            [
                ("https://a.test/".to_string(), 3, 11),
                ("https://b.test/é?x=1&y=2".to_string(), 6, 5),
                ("https://c.test/<raw>".to_string(), 9, 20),
            ]
        );
        assert!(!sitemap(xml.as_bytes()).unwrap().index);
    }

    #[test]
    fn an_index_lists_sitemaps() {
        let xml = "<sitemapindex><sitemap><loc>https://a.test/s1.xml</loc></sitemap>\
                   <sitemap><loc> https://a.test/s2.xml </loc></sitemap></sitemapindex>";
        let map = sitemap(xml.as_bytes()).unwrap();
        assert!(map.index);
        let got: Vec<&str> = map.urls.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(got, ["https://a.test/s1.xml", "https://a.test/s2.xml"]);
    }

    #[test]
    fn only_the_loc_of_an_entry_counts() {
        let xml = "<urlset xmlns:image=\"http://www.google.com/schemas/sitemap-image/1.1\">\
                   <loc>https://stray.test/</loc><url><loc>https://page.test/</loc>\
                   <image:image><image:loc>https://img.test/a.png</image:loc></image:image>\
                   </url><url><loc></loc></url><url><loc>  </loc></url></urlset>";
        assert_eq!(urls(xml), [("https://page.test/".to_string(), 1, 111)]);
        // Namespace prefixes on the sitemap's own elements are fine.
        let xml = "<sm:urlset xmlns:sm=\"x\"><sm:url><sm:loc>https://p.test/</sm:loc></sm:url></sm:urlset>";
        assert_eq!(urls(xml).len(), 1);
        // An empty urlset is a sitemap without URLs.
        assert_eq!(urls("<urlset/>"), []);
    }

    #[test]
    fn other_documents_are_errors_that_say_what_they_are() {
        let rss = sitemap(b"<?xml version=\"1.0\"?><rss><channel></channel></rss>").unwrap_err();
        assert_eq!(
            rss,
            "not a sitemap: the root element is <rss>, expected <urlset> or <sitemapindex>"
        );
        let html = sitemap(b"<!DOCTYPE html><html><body></body></html>").unwrap_err();
        assert!(html.contains("<html>"), "{html}");
        let empty = sitemap(b"  ").unwrap_err();
        assert!(empty.contains("no root element"), "{empty}");
        let broken = sitemap(b"<urlset><url><loc>x</lo></url></urlset>").unwrap_err();
        assert!(
            broken.starts_with("not a sitemap: the XML is not well-formed at byte"),
            "{broken}"
        );
        for garbage in [&b"\xff\xfe<<"[..], b"<urlset><url><loc>&bogus;", b"<a b='>"] {
            let _ = sitemap(garbage);
        }
    }
}
