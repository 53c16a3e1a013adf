//! Reading inputs into [`Item`]s that remember where they were written: URL lists line by
//! line (`list.rs`), and the links of Markdown, HTML and sitemap documents at line:column
//! (`doc.rs`), with directories walked and globs expanded (`args.rs`) and links to local files
//! and fragments checked as a set join on the input thread, without a request (`local.rs`).
//!
//! Every input is opened before the run starts, so a missing file is exit 2 before any request
//! is sent; the inputs themselves are read lazily on a thread of their own and handed over
//! through a bounded channel, so memory follows the largest document, not the list or the tree.

use std::io::{self, IsTerminal};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Result};
use globset::GlobSet;
use regex::{Regex, RegexSet};
use tokio::sync::mpsc;
use url::Url;

use crate::model::Source;
use crate::sanitize::{escape_for_terminal, redact, redact_url};

mod args;
mod doc;
mod list;
mod local;
mod read;
mod survey;

pub use list::{parse_all, parse_line};
pub(crate) use survey::survey;

/// Items are handed over in batches of up to this many: one wake-up of the scheduler per
/// batch instead of one per line. A batch is also sent whenever reading on might block
/// (a slow pipe), so a trickle of input is never held back.
pub(crate) const BATCH: usize = 256;

/// What the input thread sends.
pub(crate) type Batch = Vec<Item>;

/// One URL to report: a list line, or a link in a document.
#[derive(Debug, Clone)]
pub enum Item {
    /// A checkable http(s) URL.
    Target(Target),
    /// A URL reported but never requested (`--exclude`, `--exclude-private`, a `mailto:`
    /// link in a document, a root-relative link with nothing to resolve it against).
    Skipped {
        /// The URL as shown: redacted.
        url: String,
        source: Source,
        /// Why, for people: "excluded by --exclude PATTERN", ".urlcheckignore:3 PATTERN".
        reason: String,
    },
    /// A line that is not a checkable URL, and why.
    Invalid {
        /// The line as shown to people: escaped and redacted.
        text: String,
        source: Source,
        reason: String,
    },
    /// A link to a local file (and fragment), already checked on the file system.
    Local {
        /// The target as shown: a path (relative to the working folder when the document's
        /// was) and `#fragment`; also what duplicates are found by.
        url: String,
        source: Source,
        /// `None` when the target and its anchor exist (or `--dump` asked for no check).
        problem: Option<Problem>,
    },
    /// A diagnostic about the inputs rather than a URL (an unreadable file in a walked
    /// folder), for stderr.
    Note(String),
}

/// Why a local link is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No such file or folder.
    File(String),
    /// The file exists; the fragment names none of its anchors.
    Fragment(String),
}

#[derive(Debug, Clone)]
pub struct Target {
    /// The URL as requested (credentials included, fragment removed).
    pub url: Url,
    pub source: Source,
    /// The URL as written, when `--remap` changed what is requested.
    pub original: Option<Url>,
    /// The `#fragment` to look for in the page, with `--check-fragments` (never sent).
    pub fragment: Option<String>,
}

impl Target {
    /// An http(s) URL as a target: one that can be connected to (a host, a port other than
    /// 0), its fragment kept apart, since it never reaches the server (two links differing
    /// only there are one check). The error says why a URL cannot be one.
    pub(crate) fn new(mut url: Url, source: Source) -> Result<Target, (Source, &'static str)> {
        if url.host_str().is_none_or(str::is_empty) {
            return Err((source, "no host"));
        }
        if url.port() == Some(0) {
            return Err((source, "port 0 cannot be connected to"));
        }
        let fragment = url.fragment().filter(|f| !f.is_empty()).map(str::to_owned);
        url.set_fragment(None);
        Ok(Target {
            url,
            source,
            original: None,
            fragment,
        })
    }
}

/// What kind of input a file (or stdin) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One URL per line.
    List,
    Markdown,
    Html,
    Sitemap,
}

impl Kind {
    /// The kind its name says: `.md`, `.markdown`, `.html`, `.htm`, `.xhtml`, `.xml`
    /// (a sitemap); anything else is a list.
    pub fn of_path(path: &std::path::Path) -> Kind {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        match ext.to_ascii_lowercase().as_str() {
            "md" | "markdown" => Kind::Markdown,
            "html" | "htm" | "xhtml" => Kind::Html,
            "xml" => Kind::Sitemap,
            _ => Kind::List,
        }
    }

    /// Documents a directory walk picks up.
    fn walked(self) -> bool {
        matches!(self, Kind::Markdown | Kind::Html)
    }
}

/// Fetches a remote sitemap's body (at most the bytes given), for `--input-format sitemap`
/// on a URL. Given by the caller, which owns the HTTP client.
pub(crate) type Fetch = Box<dyn Fn(&Url, usize) -> Result<Vec<u8>, String> + Send>;

/// How inputs are read and what their links become.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rules {
    /// URLs matching any of these are skipped (`--exclude`, `.urlcheckignore`).
    pub exclude: Option<Exclude>,
    /// `--remap`: the first pattern that matches rewrites what is requested.
    pub remap: Vec<(Regex, String)>,
    /// `--exclude-private`: skip loopback, private and link-local addresses and `localhost`.
    pub exclude_private: bool,
    /// `--input-format`: the kind of every file and of stdin, whatever their names say.
    pub format: Option<Kind>,
    /// `--root-dir`: where root-relative links (`/x`) of local documents point.
    pub root_dir: Option<PathBuf>,
    /// `--base-url`: what root-relative links are joined to when there is no root folder.
    pub base_url: Option<Url>,
    /// `--exclude-path`: files and folders not read.
    pub exclude_paths: Option<GlobSet>,
    /// `--dump`: list the links, check nothing (not even local files).
    pub dump: bool,
    /// `--check-fragments`: an http(s) URL keeps its `#fragment`, to be checked in the page.
    pub check_fragments: bool,
    /// `--shard`: only this shard's items go on to the run.
    pub shard: Option<Arc<crate::shard::Sharding>>,
}

/// URL patterns that skip what they match, and where each was given: the reason a skipped
/// URL shows names the flag or the line of `.urlcheckignore` that skipped it.
#[derive(Debug, Clone)]
pub(crate) struct Exclude {
    pub set: RegexSet,
    /// One for each pattern of `set`, in its order: `--exclude PATTERN`,
    /// `.urlcheckignore:LINE PATTERN`.
    pub given: Vec<String>,
}

/// The inputs of a run, opened and ready to be read.
pub(crate) struct Inputs {
    origins: Vec<args::Origin>,
    rules: Arc<Rules>,
}

impl Inputs {
    /// Opens every input up front. `-` is stdin; an argument starting with `http://` or
    /// `https://` is a URL; a folder is walked; a glob is expanded; anything else is a file.
    /// No inputs and stdin not a terminal means stdin.
    pub fn open(given: &[String], rules: Rules) -> Result<Inputs> {
        if given.is_empty() && io::stdin().is_terminal() {
            bail!(
                "no input: give a file of URLs, documents or folders, URLs as arguments, or \
                 pipe a list into `urlcheck -` (see `urlcheck --help`)"
            );
        }
        let origins = args::open(given, &rules)?;
        Ok(Inputs {
            origins,
            rules: Arc::new(rules),
        })
    }

    /// Counts the non-blank, non-comment lines of every list that can be read twice (files
    /// and arguments), for the progress bar. `None` when stdin or a document is among the
    /// inputs: how many links a document has is known only once it is read.
    pub fn count_hint(&self) -> Option<u64> {
        let mut total = 0;
        for origin in &self.origins {
            total += origin.count_hint()?;
        }
        Some(total)
    }

    /// Reads every input in order on a thread of its own and sends the items. The thread ends
    /// when the inputs are exhausted or the receiver is dropped.
    pub fn spawn(
        self,
        tx: mpsc::Sender<Batch>,
        fetch: Option<Fetch>,
    ) -> std::thread::JoinHandle<()> {
        std::thread::Builder::new()
            .name("urlcheck-input".into())
            .spawn(move || {
                let mut out = Batcher::new(tx, self.rules.clone());
                let mut reader = doc::Reader::new(self.rules.clone(), fetch);
                for origin in self.origins {
                    if !origin.read(&mut reader, &mut out) {
                        return;
                    }
                }
                if reader.finish(&mut out) {
                    out.send();
                }
            })
            .expect("spawn the input thread")
    }
}

/// Collects items into batches for the scheduler, applying `--remap`, `--exclude` and
/// `--exclude-private` to every URL on the way.
pub(crate) struct Batcher {
    tx: mpsc::Sender<Batch>,
    batch: Batch,
    rules: Arc<Rules>,
    /// Reused for the host:port of each URL, with `--shard`.
    key: String,
}

impl Batcher {
    fn new(tx: mpsc::Sender<Batch>, rules: Arc<Rules>) -> Self {
        Batcher {
            tx,
            batch: Vec::with_capacity(BATCH),
            rules,
            key: String::new(),
        }
    }

    /// False when the receiver is gone.
    fn push(&mut self, item: Item) -> bool {
        let item = match item {
            Item::Target(t) => self.rules.apply(t),
            local @ Item::Local { .. } => self.rules.exclude_local(local),
            item => item,
        };
        if let Some(sharding) = &self.rules.shard {
            if !survey::owned(sharding, &item, &mut self.key) {
                return true;
            }
        }
        self.batch.push(item);
        self.batch.len() < BATCH || self.send()
    }

    /// A diagnostic for stderr, in order with the items; false when the receiver is gone.
    fn note(&mut self, text: &str) -> bool {
        self.push(Item::Note(text.to_owned()))
    }

    /// Sends what is collected; false when the receiver is gone.
    fn send(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.tx.blocking_send(batch).is_ok()
    }
}

impl Rules {
    /// What a URL becomes: skipped, remapped, or as it is.
    fn apply(&self, mut t: Target) -> Item {
        // --dump shows the fragment as written; a check looks for it only when asked to.
        if !self.check_fragments && !self.dump {
            t.fragment = None;
        }
        if let Some(exclude) = &self.exclude {
            if let Some(i) = exclude.set.matches(t.url.as_str()).iter().next() {
                let reason = format!("excluded by {}", exclude.given[i]);
                return skipped(&t, reason);
            }
        }
        // Judged as written, as --exclude is: a --remap to a local build is what was asked
        // for, not a private address the document links to.
        if self.exclude_private && is_private(&t.url) {
            return skipped(
                &t,
                "a private address, excluded by --exclude-private".into(),
            );
        }
        match self.remap(&t.url) {
            Some(Ok(mapped)) => {
                t.original = Some(std::mem::replace(&mut t.url, mapped));
                Item::Target(t)
            }
            // Requesting the URL as written instead would check what --remap was to avoid.
            Some(Err(mapped)) => Item::Invalid {
                text: redact(&t.url),
                source: t.source,
                reason: format!(
                    "--remap makes it {}, which is not an http(s) URL",
                    escape_for_terminal(&redact_url(&mapped))
                ),
            },
            None => Item::Target(t),
        }
    }

    /// What the first matching `--remap` makes of `url`: an http(s) URL, or the text it made
    /// when that is not one.
    fn remap(&self, url: &Url) -> Option<Result<Url, String>> {
        let (pattern, replacement) = self.remap.iter().find(|(p, _)| p.is_match(url.as_str()))?;
        let mapped = pattern.replace(url.as_str(), replacement.as_str());
        Some(
            Url::parse(&mapped)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
                .ok_or_else(|| mapped.into_owned()),
        )
    }

    /// A local link `--exclude` (or `.urlcheckignore`) names is skipped, as a URL is.
    fn exclude_local(&self, item: Item) -> Item {
        let Item::Local {
            url,
            source,
            problem,
        } = item
        else {
            return item;
        };
        match self.exclude.as_ref().and_then(|e| {
            let i = e.set.matches(&url).iter().next()?;
            Some(format!("excluded by {}", e.given[i]))
        }) {
            Some(reason) => Item::Skipped {
                url,
                source,
                reason,
            },
            None => Item::Local {
                url,
                source,
                problem,
            },
        }
    }
}

fn skipped(t: &Target, reason: String) -> Item {
    Item::Skipped {
        url: redact(t.original.as_ref().unwrap_or(&t.url)),
        source: t.source.clone(),
        reason,
    }
}

/// Loopback, private, link-local, unique-local and unspecified addresses, and `localhost`.
fn is_private(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.');
            d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => private_ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => private_ip(IpAddr::V6(ip)),
        None => false,
    }
}

fn private_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => {
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                // 100.64.0.0/10, shared address space (carrier-grade NAT).
                || (ip.octets()[0] == 100 && (ip.octets()[1] & 0xC0) == 64)
        }
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => private_ip(IpAddr::V4(v4)),
            None => {
                let first = ip.segments()[0];
                ip.is_loopback()
                    || ip.is_unspecified()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses() {
        for private in [
            "http://127.0.0.1/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.1.1/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://localhost:8080/",
            "http://LOCALHOST./",
            "http://app.localhost/",
        ] {
            assert!(is_private(&Url::parse(private).unwrap()), "{private}");
        }
        for public in [
            "http://8.8.8.8/",
            "http://100.128.0.1/",
            "http://[2001:db8::1]/",
            "http://example.org/",
            "http://localhost.example.org/",
        ] {
            assert!(!is_private(&Url::parse(public).unwrap()), "{public}");
        }
    }

    #[test]
    fn exclude_private_judges_the_url_as_written_not_as_remapped() {
        let rules = Rules {
            exclude_private: true,
            remap: vec![(
                Regex::new("^https://docs.example/").unwrap(),
                "http://127.0.0.1:8000/".into(),
            )],
            ..Rules::default()
        };
        let target = |url: &str| Target {
            url: Url::parse(url).unwrap(),
            source: Source::line(Arc::from("a.md"), 1),
            original: None,
            fragment: None,
        };
        match rules.apply(target("https://docs.example/x")) {
            Item::Target(t) => {
                assert_eq!(t.url.as_str(), "http://127.0.0.1:8000/x");
                assert_eq!(t.original.unwrap().as_str(), "https://docs.example/x");
            }
            other => panic!("a remapped URL is requested: {other:?}"),
        }
        match rules.apply(target("http://127.0.0.1:9/private")) {
            Item::Skipped { url, reason, .. } => {
                assert_eq!(url, "http://127.0.0.1:9/private");
                assert!(reason.contains("--exclude-private"), "{reason}");
            }
            other => panic!("a private URL as written is skipped: {other:?}"),
        }
    }

    #[test]
    fn kinds_by_name() {
        for (name, kind) in [
            ("a.md", Kind::Markdown),
            ("A.MARKDOWN", Kind::Markdown),
            ("x/index.html", Kind::Html),
            ("y.htm", Kind::Html),
            ("z.xhtml", Kind::Html),
            ("sitemap.xml", Kind::Sitemap),
            ("urls.txt", Kind::List),
            ("urls", Kind::List),
        ] {
            assert_eq!(Kind::of_path(std::path::Path::new(name)), kind, "{name}");
        }
    }
}
