//! Settings scoped by urlcheck.toml: `[[host]]` tables, which apply to the requests sent to
//! the hosts their glob matches, and `[[expect]]` tables, which apply to the URLs their regex
//! matches. Validated already (`cli/file.rs` reads the file); nothing here knows of TOML.
//!
//! Several tables may match: for each setting the first table that sets it wins (file
//! order, as in ssh_config), and headers merge by name, the first table's value winning.

use std::time::Duration;

use globset::GlobMatcher;
use regex::Regex;
use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

use crate::model::StatusSet;

/// Where a table was written, for messages: `urlcheck.toml:12`.
pub(crate) type Origin = std::sync::Arc<str>;

/// One `[[host]]` table.
#[derive(Debug, Clone)]
pub(crate) struct HostTable {
    /// The glob as written (lowercased), for `--print-config`.
    pub pattern: String,
    pub matcher: HostPattern,
    pub origin: Origin,
    /// Sent to the matching hosts only; marked sensitive.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub per_host: Option<usize>,
    /// The least time between the starts of two requests to the host.
    pub interval: Option<Duration>,
    pub accept: Option<StatusSet>,
    pub timeout: Option<Duration>,
    pub insecure: Option<bool>,
    /// `cacert`: the files as written, and their certificates.
    pub cacert: Vec<std::path::PathBuf>,
    pub roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// The first chain's method, and whether GET follows a refused HEAD (`head,get`).
    pub method: Option<(reqwest::Method, bool)>,
}

impl HostTable {
    fn matches(&self, url: &Url) -> bool {
        self.matcher.matches(url)
    }
}

/// What a `match` of a `[[host]]` table is matched against: the URL's host (`*.example.com`,
/// `localhost`, `[::1]`), or its host:port when the pattern names a port (`127.0.0.1:8080`,
/// `*.internal:8443`). Without `*` or `?` it is compared as it is (so `[::1]` is no character
/// class); with them, a glob in which `*` also crosses dots. Both without regard to case.
#[derive(Debug, Clone)]
pub(crate) struct HostPattern {
    glob: Option<GlobMatcher>,
    literal: String,
    with_port: bool,
}

impl HostPattern {
    pub(crate) fn new(pattern: &str) -> Result<HostPattern, String> {
        let literal = pattern.trim().to_ascii_lowercase();
        if literal.is_empty() || literal.contains('/') {
            return Err(format!(
                "{pattern:?} is not a host pattern (e.g. *.example.com)"
            ));
        }
        let with_port = match literal.strip_prefix('[') {
            Some(v6) => v6.contains("]:"),
            None => literal.contains(':'),
        };
        let glob = if literal.contains(['*', '?']) {
            let glob = globset::GlobBuilder::new(&literal)
                .case_insensitive(true)
                .build()
                .map_err(|e| format!("not a glob: {e}"))?;
            Some(glob.compile_matcher())
        } else {
            None
        };
        Ok(HostPattern {
            glob,
            literal,
            with_port,
        })
    }

    fn matches(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        let joined;
        let candidate = if self.with_port {
            let port = url.port_or_known_default().unwrap_or(0);
            joined = format!("{host}:{port}");
            joined.as_str()
        } else {
            host
        };
        match &self.glob {
            Some(glob) => glob.is_match(candidate),
            None => candidate.eq_ignore_ascii_case(&self.literal),
        }
    }
}

/// Every `[[host]]` table, in file order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hosts {
    pub tables: Vec<HostTable>,
}

impl Hosts {
    /// What the tables say for the requests to `url`'s host, read in one pass over them.
    pub(crate) fn scope(&self, url: &Url) -> HostScope<'_> {
        let mut scope = HostScope::default();
        for (i, t) in self
            .tables
            .iter()
            .enumerate()
            .filter(|(_, t)| t.matches(url))
        {
            for header in &t.headers {
                if !scope.headers.iter().any(|(name, _)| *name == header.0) {
                    scope.headers.push(header);
                }
            }
            scope.per_host = scope.per_host.or(t.per_host);
            scope.interval = scope.interval.or(t.interval);
            scope.accept = scope.accept.or(t.accept.as_ref());
            scope.timeout = scope.timeout.or(t.timeout);
            scope.insecure = scope.insecure.or(t.insecure);
            scope.cacert = scope.cacert.or((!t.roots.is_empty()).then_some(i));
            scope.method = scope.method.or(t.method.as_ref());
        }
        scope
    }
}

/// The settings the `[[host]]` tables give one host: each from the first matching table that
/// sets it, headers merged by name (the first table's win). Nothing set when no table matches.
#[derive(Debug, Clone, Default)]
pub(crate) struct HostScope<'a> {
    pub headers: Vec<&'a (HeaderName, HeaderValue)>,
    pub per_host: Option<usize>,
    pub interval: Option<Duration>,
    pub accept: Option<&'a StatusSet>,
    pub timeout: Option<Duration>,
    pub insecure: Option<bool>,
    /// The table whose `cacert` the host's connections trust.
    pub cacert: Option<usize>,
    pub method: Option<&'a (reqwest::Method, bool)>,
}

/// One expectation of an `[[expect]]` table.
#[derive(Debug, Clone)]
pub(crate) enum Expectation {
    /// The final status is in this set (it replaces `--accept` for the URL).
    Status(StatusSet),
    /// The body's first [`BODY_LIMIT`] bytes contain this text.
    BodyContains(String),
    /// A match of this regex within the body's first [`BODY_LIMIT`] bytes.
    BodyRegex(Regex),
    /// The URL's time, all its requests together, at most this.
    MaxLatency(Duration),
    /// The final answer has this header, with this value when one is given.
    Header(HeaderName, Option<String>),
    /// https: the certificate is valid for at least this long.
    CertExpiry(Duration),
}

/// An `[[expect]]` body expectation reads at most this much of the body.
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;

impl Expectation {
    /// The key it was written as, for messages.
    pub(crate) fn key(&self) -> &'static str {
        match self {
            Expectation::Status(_) => "status",
            Expectation::BodyContains(_) => "body-contains",
            Expectation::BodyRegex(_) => "body-regex",
            Expectation::MaxLatency(_) => "max-latency",
            Expectation::Header(..) => "header",
            Expectation::CertExpiry(_) => "cert-expiry",
        }
    }

    pub(crate) fn reads_body(&self) -> bool {
        matches!(
            self,
            Expectation::BodyContains(_) | Expectation::BodyRegex(_)
        )
    }
}

/// One `[[expect]]` table.
#[derive(Debug, Clone)]
pub(crate) struct ExpectTable {
    pub pattern: Regex,
    pub origin: Origin,
    pub expectations: Vec<Expectation>,
}

/// Every `[[expect]]` table, in file order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expects {
    pub tables: Vec<ExpectTable>,
}

impl Expects {
    /// The tables whose regex is found in `url` (as listed).
    pub(crate) fn matching<'a>(&'a self, url: &str) -> Vec<&'a ExpectTable> {
        if self.tables.is_empty() {
            return Vec::new();
        }
        self.tables
            .iter()
            .filter(|t| t.pattern.is_match(url))
            .collect()
    }
}
