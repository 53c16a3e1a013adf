//! Documents: a Markdown, HTML or sitemap file (or stdin, or a remote sitemap) read whole,
//! its links extracted at line:column (`crate::extract`), and each link resolved into an
//! [`Item`]: an http(s) URL to request, a local file (and fragment) to look up on the input
//! thread, or a link that is skipped with the reason (`mailto:`, a root-relative link with
//! nothing to resolve it against).

use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use url::Url;

use super::local::Local;
use super::read::read_document;
use super::{Batcher, Fetch, Item, Kind, Rules, Target};
use crate::extract::{self, Extracted, Link};
use crate::model::Source;
use crate::sanitize::{escape_for_terminal, redact, redact_url};

/// A remote sitemap is read up to this many bytes (the sitemap protocol's own limit).
const MAX_SITEMAP: usize = 50 * 1024 * 1024;
/// Sitemap indexes are followed this deep, and this many sitemaps are read at most.
const MAX_SITEMAP_DEPTH: u32 = 3;
const MAX_SITEMAPS: usize = 1000;

/// Reads documents and resolves their links, remembering local anchors across documents.
pub(crate) struct Reader {
    rules: Arc<Rules>,
    fetch: Option<Fetch>,
    local: Local,
    /// Documents read so far, by their absolute path.
    read: HashSet<PathBuf>,
}

/// Where a document's relative links point.
struct Context {
    name: Arc<str>,
    /// The document's own path (the key of its anchors); `<stdin>` for stdin.
    key: PathBuf,
    /// The folder relative links are joined to.
    dir: PathBuf,
    /// An absolute `<base href>` (or the URL of a remote sitemap): relative links join it.
    base: Option<Url>,
    /// A root-relative `<base href>` (`/docs/`) with neither `--root-dir` nor `--base-url` to
    /// resolve it: relative links cannot be resolved either, and are skipped.
    rooted_base: Option<String>,
}

impl Reader {
    pub(super) fn new(rules: Arc<Rules>, fetch: Option<Fetch>) -> Reader {
        let local = Local::new(rules.dump);
        Reader {
            rules,
            fetch,
            local,
            read: HashSet::new(),
        }
    }

    pub(super) fn rules(&self) -> &Arc<Rules> {
        &self.rules
    }

    /// Reads one document and sends an item per link; false when the receiver is gone.
    pub(super) fn document(
        &mut self,
        name: Arc<str>,
        path: Option<PathBuf>,
        source: impl Read,
        kind: Kind,
        out: &mut Batcher,
    ) -> bool {
        // The same document named twice (`README.md .`) is read once.
        if let Some(path) = &path {
            if !self.read.insert(self.local.key(path)) {
                return true;
            }
        }
        // Reading may block (stdin): what is found so far is checked meanwhile.
        if !out.send() {
            return false;
        }
        let bytes = match read_document(source) {
            Ok(bytes) => bytes,
            Err(reason) => return out.push(unreadable(&name, reason)),
        };
        let extracted = match kind {
            Kind::Html => extract::html(&bytes),
            Kind::Markdown => extract::markdown(&String::from_utf8_lossy(&bytes)),
            Kind::Sitemap => match extract::sitemap(&bytes) {
                Ok(map) => Extracted {
                    links: map.urls,
                    ..Extracted::default()
                },
                Err(e) => return out.push(unreadable(&name, e)),
            },
            Kind::List => unreachable!("lists are read line by line"),
        };
        drop(bytes);
        let key = path.clone().unwrap_or_else(|| PathBuf::from("<stdin>"));
        let dir = match &path {
            Some(p) => p.parent().map(Path::to_owned).unwrap_or_default(),
            None => PathBuf::new(),
        };
        let mut cx = Context {
            name,
            key,
            dir,
            base: None,
            rooted_base: None,
        };
        if let Some(base) = extracted.base.as_deref() {
            cx.set_base(base, &self.rules);
        }
        self.local.define(&cx.key, &extracted.anchors, kind);
        for link in extracted.links {
            if let Some(item) = self.resolve(&cx, link) {
                if !out.push(item) {
                    return false;
                }
            }
        }
        true
    }

    /// `--input-format sitemap` on a URL: fetches it (and the sitemaps an index lists, a few
    /// levels deep, each through `--remap`) and sends an item per page it lists.
    pub(super) fn remote_sitemap(&mut self, text: &str, pos: u64, out: &mut Batcher) -> bool {
        let arg = Source::line(Arc::from("<args>"), pos);
        let invalid = |reason: String| Item::Invalid {
            text: escape_for_terminal(&redact_url(text)),
            source: arg.clone(),
            reason,
        };
        let (Ok(url), Some(fetch)) = (Url::parse(text), self.fetch.as_ref()) else {
            return out.push(invalid("not a URL that can be fetched".into()));
        };
        let mut queue = VecDeque::from([(url, 0u32)]);
        let mut read = 0;
        while let Some((url, depth)) = queue.pop_front() {
            read += 1;
            if read > MAX_SITEMAPS {
                return out.note(&format!(
                    "urlcheck: {}: more than {MAX_SITEMAPS} sitemaps; the rest are not read",
                    escape_for_terminal(&redact_url(text))
                ));
            }
            // A fetch may take a while: what is found so far is checked meanwhile.
            if !out.send() {
                return false;
            }
            // Requested as --remap says, named as written (as the pages it lists are).
            let requested = self.rules.remap(&url).and_then(Result::ok);
            let map = fetch(requested.as_ref().unwrap_or(&url), MAX_SITEMAP)
                .and_then(|body| extract::sitemap(&body));
            let map = match map {
                Ok(map) => map,
                Err(e) => {
                    let reason = format!("cannot read the sitemap {}: {e}", redact(&url));
                    if !out.push(invalid(reason)) {
                        return false;
                    }
                    continue;
                }
            };
            let name: Arc<str> = Arc::from(redact(&url));
            for link in map.urls {
                let source = Source::at(name.clone(), link.line.into(), link.column);
                if map.index {
                    if depth + 1 >= MAX_SITEMAP_DEPTH {
                        let reason =
                            format!("sitemap indexes nest more than {MAX_SITEMAP_DEPTH} deep");
                        if !out.push(Item::Invalid {
                            text: escape_for_terminal(&redact_url(&link.url)),
                            source,
                            reason,
                        }) {
                            return false;
                        }
                        continue;
                    }
                    match Url::parse(link.url.trim()) {
                        Ok(next) => queue.push_back((next, depth + 1)),
                        Err(e) => {
                            let reason = format!("not a sitemap URL: {e}");
                            let text = escape_for_terminal(&redact_url(&link.url));
                            if !out.push(Item::Invalid {
                                text,
                                source,
                                reason,
                            }) {
                                return false;
                            }
                        }
                    }
                } else if !out.push(http(&link.url, source)) {
                    return false;
                }
            }
        }
        true
    }

    /// Resolves the links that waited for anchors of documents read later; false when the
    /// receiver is gone.
    pub(super) fn finish(&mut self, out: &mut Batcher) -> bool {
        self.local.finish(out)
    }

    /// What one link becomes; `None` for a link that waits for its target's anchors.
    fn resolve(&mut self, cx: &Context, link: Link) -> Option<Item> {
        let source = Source::at(cx.name.clone(), link.line.into(), link.column);
        let text = link.url.trim();
        if is_rust_path(text) {
            return Some(Item::Skipped {
                url: escape_for_terminal(text),
                source,
                reason: "a Rust path (a rustdoc intra-doc link), not a URL".into(),
            });
        }
        if let Some(scheme) = scheme_of(text) {
            return match scheme.to_ascii_lowercase().as_str() {
                "http" | "https" => Some(http(text, source)),
                "file" => match Url::parse(text).ok().and_then(|u| u.to_file_path().ok()) {
                    Some(path) => {
                        let fragment = text.split_once('#').map(|(_, f)| f);
                        self.local.link(path, fragment, source)
                    }
                    None => Some(invalid(text, source, "not a file URL".into())),
                },
                other => Some(Item::Skipped {
                    url: escape_for_terminal(&redact_url(text)),
                    source,
                    reason: format!("{other}: links are not checked"),
                }),
            };
        }
        if let Some(base) = &cx.base {
            return Some(joined(base, text, source));
        }
        if let Some(rest) = text.strip_prefix("//") {
            return Some(http(&format!("https://{rest}"), source));
        }
        let (path, fragment) = match text.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (text, None),
        };
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        if let Some(base) = cx.rooted_base.as_ref().filter(|_| !path.starts_with('/')) {
            if !path.is_empty() {
                return Some(Item::Skipped {
                    url: escape_for_terminal(text),
                    source,
                    reason: format!(
                        "relative to the page's <base href=\"{}\">: give --root-dir or \
                         --base-url to check it",
                        escape_for_terminal(base)
                    ),
                });
            }
        }
        let target = if path.is_empty() {
            cx.key.clone()
        } else if let Some(rooted) = path.strip_prefix('/') {
            if let Some(root) = &self.rules.root_dir {
                root.join(below_root(rooted))
            } else if let Some(base) = &self.rules.base_url {
                return Some(joined(base, text, source));
            } else {
                return Some(Item::Skipped {
                    url: escape_for_terminal(text),
                    source,
                    reason: "a root-relative link: give --root-dir or --base-url to check it"
                        .into(),
                });
            }
        } else {
            cx.dir.join(decoded(path))
        };
        self.local.link(target, fragment, source)
    }
}

impl Context {
    /// `<base href>`: an absolute URL that relative links join, or a folder relative to the
    /// document's; a root-relative one (`/docs/`) is resolved as root-relative links are.
    fn set_base(&mut self, href: &str, rules: &Rules) {
        let href = href.trim();
        if let Some(rest) = href.strip_prefix("//") {
            // Protocol-relative, as a link of that form is: https.
            self.base = Url::parse(&format!("https://{rest}")).ok();
            return;
        }
        match Url::parse(href) {
            Ok(url) if url.scheme() == "file" => {
                if let Ok(dir) = url.to_file_path() {
                    self.dir = dir;
                }
            }
            Ok(url) => self.base = Some(url),
            Err(_) if href.starts_with('/') => {
                if let Some(root) = &rules.root_dir {
                    self.dir = folder_of(root.join(below_root(&href[1..])), href);
                } else if let Some(base) = &rules.base_url {
                    self.base = base.join(href).ok();
                } else {
                    self.rooted_base = Some(href.to_owned());
                }
            }
            Err(_) => self.dir = folder_of(self.dir.join(decoded(href)), href),
        }
    }
}

/// The folder a base names: itself when it ends with `/`, else the one it is in.
fn folder_of(joined: PathBuf, href: &str) -> PathBuf {
    if href.ends_with('/') {
        joined
    } else {
        joined.parent().map(Path::to_owned).unwrap_or_default()
    }
}

fn unreadable(name: &Arc<str>, reason: String) -> Item {
    Item::Invalid {
        text: escape_for_terminal(name),
        source: Source::line(name.clone(), 1),
        reason,
    }
}

fn invalid(text: &str, source: Source, reason: String) -> Item {
    Item::Invalid {
        text: escape_for_terminal(&redact_url(text)),
        source,
        reason,
    }
}

/// An http(s) link of a document: parsed as a browser would (spaces percent-encoded), the
/// fragment dropped.
fn http(text: &str, source: Source) -> Item {
    match Url::parse(text) {
        Ok(url) => target(url, text, source),
        Err(e) => invalid(text, source, format!("not a URL: {e}")),
    }
}

/// A relative link joined to a base URL.
fn joined(base: &Url, text: &str, source: Source) -> Item {
    match base.join(text) {
        Ok(url) => target(url, text, source),
        Err(e) => invalid(text, source, format!("not a URL relative to {base}: {e}")),
    }
}

fn target(url: Url, text: &str, source: Source) -> Item {
    if !matches!(url.scheme(), "http" | "https") {
        let reason = format!("{}: links are not checked", url.scheme());
        return Item::Skipped {
            url: escape_for_terminal(&redact_url(text)),
            source,
            reason,
        };
    }
    match Target::new(url, source) {
        Ok(target) => Item::Target(target),
        Err((source, reason)) => invalid(text, source, reason.into()),
    }
}

/// The scheme of an absolute URL: letters, digits, `+ - .` before a `:`, starting with a
/// letter, and more than one character (so `C:\x` is a path, not a URL).
fn scheme_of(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && scheme.len() > 1
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// `http::StatusCode`, `crate::model::Check`, `Vec::new`: what rustdoc resolves as a link to
/// an item, and no URL or file can be written so (`::` never follows a scheme's colon).
fn is_rust_path(text: &str) -> bool {
    text.contains("::")
        && !text.contains("://")
        && text.split("::").all(|part| {
            !part.is_empty()
                && part.chars().all(|c| {
                    c.is_alphanumeric() || c == '_' || c == '!' || c == '<' || c == '>' || c == ','
                })
        })
}

/// A link's path as a file name: percent-decoded (`my%20file.md` is `my file.md`).
fn decoded(path: &str) -> PathBuf {
    path.split('/')
        .map(|segment| {
            let plain = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
            // `%2F` is part of a name, never a separator (`%2Fetc%2Fpasswd` is no way out).
            if plain.contains(['/', '\\']) {
                Cow::Borrowed(segment)
            } else {
                plain
            }
        })
        .fold(PathBuf::new(), |path, segment| path.join(&*segment))
}

/// A root-relative link's path under the root: as a web server sees it, `..` cannot climb
/// above the root (`/../../etc/x` is `/etc/x` of the site).
fn below_root(rooted: &str) -> PathBuf {
    let mut path = PathBuf::new();
    for part in decoded(rooted).components() {
        match part {
            std::path::Component::Normal(name) => path.push(name),
            std::path::Component::ParentDir => {
                path.pop();
            }
            _ => {}
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_paths_decode_without_escaping_their_folder() {
        assert_eq!(decoded("my%20notes.md"), PathBuf::from("my notes.md"));
        assert_eq!(decoded("a/b%23c.md"), PathBuf::from("a/b#c.md"));
        assert_eq!(decoded("%2Fetc%2Fpasswd"), PathBuf::from("%2Fetc%2Fpasswd"));
        assert_eq!(decoded("..%2F..%2Fx"), PathBuf::from("..%2F..%2Fx"));
        assert_eq!(below_root("../../etc/passwd"), PathBuf::from("etc/passwd"));
        assert_eq!(below_root("docs/../../x.html"), PathBuf::from("x.html"));
        assert_eq!(below_root("a/%2E%2E/b"), PathBuf::from("b"));
    }

    #[test]
    fn rust_paths_are_told_from_urls() {
        assert!(is_rust_path("http::StatusCode"));
        assert!(is_rust_path("crate::model::Check"));
        assert!(is_rust_path("Vec::<u8>::new"));
        assert!(!is_rust_path("http://x/a::b"));
        assert!(!is_rust_path("docs/a::b.md"));
        assert!(!is_rust_path("urn:isbn:123"));
        assert!(!is_rust_path("::"));
    }

    #[test]
    fn schemes_are_told_from_paths() {
        assert_eq!(scheme_of("https://x/"), Some("https"));
        assert_eq!(scheme_of("mailto:a@b"), Some("mailto"));
        assert_eq!(scheme_of("git+ssh://x"), Some("git+ssh"));
        assert_eq!(scheme_of("C:\\x"), None);
        assert_eq!(scheme_of("a/b:c"), None);
        assert_eq!(scheme_of("./x:y"), None);
        assert_eq!(scheme_of("page.html"), None);
        assert_eq!(scheme_of("#a:b"), None);
    }
}
