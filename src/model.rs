//! The vocabulary every layer shares: what a check concluded ([`Outcome`], [`ErrorKind`],
//! [`Check`]), one reported URL ([`UrlResult`]) and where it was listed ([`Source`]), the place
//! of a result in the run ([`Order`]), what the run history says of it ([`History`],
//! [`State`]), the status and outcome sets of `--accept` and `--fail-on` and the rule of
//! what fails a run ([`FailOn`]), and the [`Anchors`] fragments are checked against. It
//! imports nothing of the crate but `sanitize`, so every other module may import it.

use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::sanitize::{escape_for_terminal, redact_url};

/// What a check concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// An accepted status after redirects.
    Up,
    /// An HTTP answer whose status is not accepted.
    Down,
    /// No usable HTTP answer.
    Error,
    /// The input line is not a checkable URL.
    Invalid,
    /// Excluded on purpose.
    Skipped,
    /// An answer that says nothing about the page: a bot wall, or a rate limit that outlasted
    /// every retry (`Check::reason` says which). Not a failure unless `--fail-on` says so.
    Blocked,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::Up,
        Outcome::Down,
        Outcome::Error,
        Outcome::Invalid,
        Outcome::Skipped,
        Outcome::Blocked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Up => "up",
            Outcome::Down => "down",
            Outcome::Error => "error",
            Outcome::Invalid => "invalid",
            Outcome::Skipped => "skipped",
            Outcome::Blocked => "blocked",
        }
    }
}

/// Why there was no usable HTTP answer; stable names for machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ErrorKind {
    Dns,
    Connect,
    Timeout,
    Tls,
    Reset,
    Redirects,
    Protocol,
    Other,
    /// The input line is not a checkable URL (outcome `invalid`).
    Input,
    /// A local link whose file or folder does not exist.
    File,
    /// A link's `#fragment` names no anchor of the page it points into.
    Fragment,
    /// The certificate expires within `--cert-expiry` (the page itself answered).
    #[serde(rename = "cert-expiry")]
    CertExpiry,
    /// The answer failed an `[[expect]]` of urlcheck.toml (the page itself answered).
    Expectation,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Dns => "dns",
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Tls => "tls",
            ErrorKind::Reset => "reset",
            ErrorKind::Redirects => "redirects",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Other => "other",
            ErrorKind::Input => "input",
            ErrorKind::File => "file",
            ErrorKind::Fragment => "fragment",
            ErrorKind::CertExpiry => "cert-expiry",
            ErrorKind::Expectation => "expectation",
        }
    }

    /// Worth another attempt: the same request may well succeed a moment later.
    pub(crate) fn is_transient(self) -> bool {
        matches!(self, ErrorKind::Timeout | ErrorKind::Reset)
    }
}

/// A machine-readable kind and a human message (escaped, credentials redacted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CheckError {
    pub kind: ErrorKind,
    pub message: String,
}

impl CheckError {
    pub fn new(kind: ErrorKind, message: impl AsRef<str>) -> Self {
        CheckError {
            kind,
            message: escape_for_terminal(&redact_url(message.as_ref())),
        }
    }
}

/// The fragment names a page defines (its `id`s and `name`s, or a Markdown document's heading
/// slugs), kept as 8-byte hashes that are the same in every run: what `#fragment` links are
/// checked against, for local files and, with `--check-fragments`, for remote pages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Anchors(HashSet<u64, BuildHasherDefault<NoHash>>);

impl Anchors {
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Anchors {
        Anchors(names.into_iter().map(Self::hash).collect())
    }

    /// Whether `fragment` (as written, or percent-decoded) names an anchor; an empty
    /// fragment, and `top` in an HTML page, always do.
    pub fn holds(&self, fragment: &str, html: bool) -> bool {
        if fragment.is_empty() || (html && fragment.eq_ignore_ascii_case("top")) {
            return true;
        }
        if self.0.contains(&Self::hash(fragment)) {
            return true;
        }
        let decoded = percent_encoding::percent_decode_str(fragment).decode_utf8_lossy();
        self.0.contains(&Self::hash(&decoded))
    }

    fn hash(name: &str) -> u64 {
        rustc_hash::FxBuildHasher.hash_one(name)
    }
}

/// The set holds hashes already: hashing them again would be work for nothing.
#[derive(Default)]
struct NoHash(u64);

impl Hasher for NoHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// One redirect: the URL that answered, its 3xx status, and where that request's time went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Hop {
    pub url: String,
    pub status: u16,
    pub timings: Timings,
}

/// Where one request's time went, phase by phase, as measured at the connector. A phase that
/// did not happen is `None`: no lookup for an IP address, no handshake over plain http, none
/// of the three over a connection kept from an earlier request (`reused`). The phases that
/// happened add up to at most `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Timings {
    #[serde(
        rename = "dns_ms",
        serialize_with = "ser_opt_ms",
        deserialize_with = "de_opt_ms"
    )]
    pub dns: Option<Duration>,
    /// The TCP connect, after the lookup.
    #[serde(
        rename = "connect_ms",
        serialize_with = "ser_opt_ms",
        deserialize_with = "de_opt_ms"
    )]
    pub connect: Option<Duration>,
    #[serde(
        rename = "tls_ms",
        serialize_with = "ser_opt_ms",
        deserialize_with = "de_opt_ms"
    )]
    pub tls: Option<Duration>,
    /// From the connection being ready (the request's start, over a kept one) to the
    /// response headers; `None` when none came.
    #[serde(
        rename = "ttfb_ms",
        serialize_with = "ser_opt_ms",
        deserialize_with = "de_opt_ms"
    )]
    pub ttfb: Option<Duration>,
    /// The whole request, its body's reading included.
    #[serde(
        rename = "total_ms",
        serialize_with = "ser_ms",
        deserialize_with = "de_ms"
    )]
    pub total: Duration,
    /// The request did not open the connection it went over: one kept from an earlier
    /// request, or one another request was opening.
    pub reused: bool,
}

impl Timings {
    /// A request over a kept connection, before its times are known.
    pub fn reused() -> Timings {
        Timings {
            dns: None,
            connect: None,
            tls: None,
            ttfb: None,
            total: Duration::ZERO,
            reused: true,
        }
    }

    /// The phases in order, by the names reports give them, with the ones that happened.
    pub fn phases(&self) -> [(&'static str, Option<Duration>); 4] {
        [
            ("dns", self.dns),
            ("connect", self.connect),
            ("tls", self.tls),
            ("ttfb", self.ttfb),
        ]
    }
}

/// The HTTP method of a request chain, as results name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Head,
    Get,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Head => "HEAD",
            Method::Get => "GET",
        }
    }
}

/// The result of checking one URL.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Check {
    pub outcome: Outcome,
    /// The final HTTP status, when there was one.
    pub status: Option<u16>,
    pub error: Option<CheckError>,
    /// All attempts, hops and waits.
    #[serde(
        rename = "elapsed_ms",
        serialize_with = "ser_ms",
        deserialize_with = "de_ms"
    )]
    pub elapsed: Duration,
    /// Time to the response headers of the final attempt.
    #[serde(
        rename = "ttfb_ms",
        serialize_with = "ser_opt_ms",
        deserialize_with = "de_opt_ms"
    )]
    pub ttfb: Option<Duration>,
    /// Tries: 1, plus one for every retry on any hop of the redirect chain (following a
    /// redirect is not a retry); 0 for a line that was never fetched.
    pub attempts: u32,
    /// The method whose answer decided, in a `-X head,get` run (HEAD, or GET after HEAD
    /// was refused or not accepted); absent otherwise, and for lines never fetched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    pub redirects: Vec<Hop>,
    /// The last URL requested (redacted), when it differs from the one checked.
    pub final_url: Option<String>,
    /// Things worth knowing that do not change the outcome (an https -> http redirect).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Why a `blocked` answer says nothing about the page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The leaf certificate of the final hop, for an https URL that answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Certificate>,
    /// Where the time of the final request went (each redirect's is in its [`Hop`]); `None`
    /// for a line never fetched.
    pub timings: Option<Timings>,
    /// The anchors of the page, when `--check-fragments` read its body (never reported; the
    /// scheduler takes them before the result goes anywhere).
    #[serde(skip)]
    pub anchors: Option<Arc<Anchors>>,
}

impl Check {
    /// A result for something that was never requested: an invalid line, a skipped URL, a
    /// duplicate whose first line was checked already.
    pub fn not_fetched(outcome: Outcome, error: Option<CheckError>) -> Check {
        Check {
            outcome,
            status: None,
            error,
            elapsed: Duration::ZERO,
            ttfb: None,
            attempts: 0,
            method: None,
            redirects: Vec::new(),
            final_url: None,
            warnings: Vec::new(),
            reason: None,
            certificate: None,
            timings: None,
            anchors: None,
        }
    }
}

/// The leaf certificate an https server showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Certificate {
    #[serde(serialize_with = "ser_time", deserialize_with = "de_time")]
    pub not_after: SystemTime,
    /// Whole days from the check to `not_after`; negative once it has expired.
    pub days_left: i64,
    pub subject: String,
    pub issuer: String,
    /// Its DNS names and IP addresses.
    pub sans: Vec<String>,
}

fn ser_time<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&humantime::format_rfc3339_seconds(*t))
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(millis(*d))
}

fn ser_opt_ms<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(millis(*d)),
        None => s.serialize_none(),
    }
}

// Read back (`urlcheck merge`): what the serializers above wrote.

fn de_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_rfc3339(&text).map_err(serde::de::Error::custom)
}

fn de_opt_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<SystemTime>, D::Error> {
    match Option::<String>::deserialize(d)? {
        Some(text) => humantime::parse_rfc3339(&text)
            .map(Some)
            .map_err(serde::de::Error::custom),
        None => Ok(None),
    }
}

fn de_ms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let ms = f64::deserialize(d)?;
    Duration::try_from_secs_f64(ms / 1000.0).map_err(serde::de::Error::custom)
}

fn de_opt_ms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    match Option::<f64>::deserialize(d)? {
        Some(ms) => Duration::try_from_secs_f64(ms / 1000.0)
            .map(Some)
            .map_err(serde::de::Error::custom),
        None => Ok(None),
    }
}

/// Milliseconds with microsecond resolution: loopback answers take less than a millisecond.
pub(crate) fn millis(d: Duration) -> f64 {
    (d.as_micros() as f64 / 1000.0 * 1000.0).round() / 1000.0
}

/// How the list is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A pool of `concurrency` requests, at most `per_host` per host:port.
    Concurrent,
    /// The baseline: the same path with one slot.
    Sequential,
    /// Sequential, then concurrent, then a side-by-side table.
    Compare,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Concurrent => "concurrent",
            Mode::Sequential => "sequential",
            Mode::Compare => "compare",
        }
    }
}

/// Where a URL came from: a file (or `<stdin>`, `<args>`), a 1-based line number and, for a
/// link in a document, the 1-based column (in characters) where the link's URL starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Source {
    pub file: Arc<str>,
    pub line: u64,
    /// `None` for a line of a URL list, where the URL is the whole line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

impl Source {
    /// A line of a URL list.
    pub fn line(file: Arc<str>, line: u64) -> Source {
        Source {
            file,
            line,
            column: None,
        }
    }

    /// A link in a document, at `line:column`.
    pub fn at(file: Arc<str>, line: u64, column: u32) -> Source {
        Source {
            file,
            line,
            column: Some(column),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        match self.column {
            Some(column) => write!(f, ":{column}"),
            None => Ok(()),
        }
    }
}

/// One reported URL: the check and every input line that listed it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UrlResult {
    /// The URL as shown: credentials redacted.
    pub url: String,
    pub sources: Vec<Source>,
    #[serde(flatten)]
    pub check: Check,
    /// A repeat of a URL already reported: not fetched again, outcome and status copied.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
    /// What the run history (`--history`) says of the URL, when the run keeps one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<History>,
}

impl UrlResult {
    /// A request was made for it and it has a latency: not a repeat, not a local link, not
    /// an invalid, skipped or blocked line.
    pub(crate) fn fetched(&self) -> bool {
        !self.duplicate
            && self.check.attempts > 0
            && matches!(
                self.check.outcome,
                Outcome::Up | Outcome::Down | Outcome::Error
            )
    }
}

/// A URL's state against its earlier checks in the run history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Never checked before.
    First,
    /// Failing now, up at its last check.
    New,
    /// Failing now and at its last check.
    Still,
    /// Up now, failing at its last check.
    Recovered,
    /// Up now and at its last check.
    Steady,
    /// Changed between up and failing at least [`History::FLAP_CHANGES`] times over its last
    /// [`History::FLAP_WINDOW`] checks (this one included).
    Flapping,
}

impl State {
    pub const ALL: [State; 6] = [
        State::First,
        State::New,
        State::Still,
        State::Recovered,
        State::Steady,
        State::Flapping,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::First => "first",
            State::New => "new",
            State::Still => "still",
            State::Recovered => "recovered",
            State::Steady => "steady",
            State::Flapping => "flapping",
        }
    }
}

/// What the run history says of a URL checked in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub state: State,
    /// Failing checks in a row, this one included (0 when it is up).
    pub consecutive_failures: u32,
    /// When the run that began the current failing streak started.
    #[serde(serialize_with = "ser_opt_time", deserialize_with = "de_opt_time")]
    pub failing_since: Option<SystemTime>,
    /// When the last run that found it up started (this one, when it is up).
    #[serde(serialize_with = "ser_opt_time", deserialize_with = "de_opt_time")]
    pub last_up: Option<SystemTime>,
}

impl History {
    /// Changes between up and failing that make a URL flapping...
    pub const FLAP_CHANGES: u32 = 3;
    /// ...over this many of its last checks.
    pub const FLAP_WINDOW: u32 = 10;

    /// Broken since the last run: failing now and up at its last check, or failing at its
    /// first check (what `--fail-on new` fails on and the summary calls newly broken). A
    /// flapping URL that has just gone down is news too: telling it only as flapping would
    /// hide a real outage that begins while it flaps (the next runs call it flapping, then
    /// `still`: never new).
    pub fn is_news(&self) -> bool {
        self.consecutive_failures == 1
    }
}

fn ser_opt_time<S: serde::Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => ser_time(t, s),
        None => s.serialize_none(),
    }
}

/// Where a result belongs among all of a run's results, as the scheduler decided it: what
/// the ordered, merged collection that documents render is built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Order {
    /// Place of the result's first line in the input.
    pub index: u64,
    /// Which URL it is (a fingerprint), for results that are fetched or repeat a fetched URL;
    /// `None` for lines that are never fetched (invalid, skipped). A result marked
    /// [`UrlResult::duplicate`] is merged into the result with the same key.
    pub key: Option<u64>,
}

/// A set of outcomes, e.g. those that fail a run (`--fail-on`), and whether a run with no URL
/// at all fails too (`empty`, which is not an outcome of any URL).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutcomeSet(u8);

impl OutcomeSet {
    /// The bit of `empty`, above every outcome's.
    const EMPTY: u8 = 1 << 7;

    /// A run that checked no URL at all fails too.
    pub fn insert_empty(&mut self) {
        self.0 |= Self::EMPTY;
    }

    pub fn fails_empty(self) -> bool {
        self.0 & Self::EMPTY != 0
    }

    pub fn insert(&mut self, o: Outcome) {
        self.0 |= 1 << o as u8;
    }

    pub fn contains(self, o: Outcome) -> bool {
        self.0 & (1 << o as u8) != 0
    }

    /// The outcomes in the set, in their natural order.
    pub fn iter(self) -> impl Iterator<Item = Outcome> {
        Outcome::ALL.into_iter().filter(move |o| self.contains(*o))
    }
}

impl fmt::Display for OutcomeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.iter().map(Outcome::as_str).collect();
        if self.fails_empty() {
            names.push("empty");
        }
        f.write_str(&names.join(","))
    }
}

/// What fails a run (`--fail-on`, `--fail-after`): results with an outcome in the set; with
/// `new`, results the history calls newly broken; with `after N`, a down or error result only
/// once it has failed N runs in a row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailOn {
    pub outcomes: OutcomeSet,
    /// `new` was given: newly broken URLs fail the run.
    pub new: bool,
    /// `--fail-after N`.
    pub after: Option<u32>,
}

impl FailOn {
    /// Whether `r` fails the run.
    pub(crate) fn fails(&self, r: &UrlResult) -> bool {
        let history = r.history.as_ref();
        if self.new && history.is_some_and(History::is_news) {
            return true;
        }
        let checked_and_failing = matches!(r.check.outcome, Outcome::Down | Outcome::Error);
        match (self.after, history) {
            // A streak long enough fails the run: with outcomes given that include it, or
            // beside `new` alone (`--fail-on new --fail-after 3`: either says so).
            (Some(n), Some(h)) if checked_and_failing => {
                h.consecutive_failures >= n
                    && (self.outcomes.contains(r.check.outcome) || self.only_new())
            }
            _ => self.outcomes.contains(r.check.outcome),
        }
    }

    /// `--fail-on new` and no outcome.
    fn only_new(&self) -> bool {
        self.new && self.outcomes.iter().next().is_none()
    }

    /// A run that checked no URL at all fails too.
    pub fn fails_empty(&self) -> bool {
        self.outcomes.fails_empty()
    }

    /// Whether it needs the run history to decide.
    pub fn needs_history(&self) -> bool {
        self.new || self.after.is_some()
    }
}

impl fmt::Display for FailOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<String> = self.outcomes.iter().map(|o| o.as_str().into()).collect();
        if self.new {
            names.push("new".into());
        }
        if self.outcomes.fails_empty() {
            names.push("empty".into());
        }
        f.write_str(&names.join(","))?;
        match self.after {
            Some(n) => write!(f, " after {n} failing runs"),
            None => Ok(()),
        }
    }
}

/// A set of HTTP status codes (100..=599).
#[derive(Clone, PartialEq, Eq)]
pub struct StatusSet {
    bits: [u64; 10],
    /// The text it was parsed from, normalised, for reports.
    text: String,
}

impl StatusSet {
    pub fn contains(&self, code: u16) -> bool {
        if !(100..=599).contains(&code) {
            return false;
        }
        let i = usize::from(code - 100);
        self.bits[i / 64] & (1 << (i % 64)) != 0
    }

    fn insert(&mut self, code: u16) {
        let i = usize::from(code - 100);
        self.bits[i / 64] |= 1 << (i % 64);
    }
}

impl Default for StatusSet {
    fn default() -> Self {
        "200-299".parse().expect("valid default")
    }
}

impl FromStr for StatusSet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut set = StatusSet {
            bits: [0; 10],
            text: String::new(),
        };
        let mut parts = Vec::new();
        for part in s.split(',') {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!("empty item in status list {s:?}"));
            }
            let (lo, hi) = match part.split_once('-') {
                Some((a, b)) => (code(a)?, code(b)?),
                None => {
                    let c = code(part)?;
                    (c, c)
                }
            };
            if lo > hi {
                return Err(format!("range {part} is backwards (write {hi}-{lo})"));
            }
            for c in lo..=hi {
                set.insert(c);
            }
            parts.push(if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            });
        }
        set.text = parts.join(",");
        Ok(set)
    }
}

fn code(s: &str) -> Result<u16, String> {
    let s = s.trim();
    match s.parse::<u16>() {
        Ok(c) if (100..=599).contains(&c) => Ok(c),
        _ => Err(format!(
            "{s:?} is not an HTTP status code (expected 100-599)"
        )),
    }
}

impl fmt::Display for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusSet({})", self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_singles() {
        let s: StatusSet = "200-299, 403".parse().unwrap();
        assert!(s.contains(200) && s.contains(299) && s.contains(403));
        assert!(!s.contains(300) && !s.contains(404) && !s.contains(199));
        assert_eq!(s.to_string(), "200-299,403");
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            "", "999-100", "99", "600", "abc", "200-", "200,,300", "300-200",
        ] {
            assert!(bad.parse::<StatusSet>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn out_of_range_codes_are_never_members() {
        let s: StatusSet = "100-599".parse().unwrap();
        assert!(s.contains(100) && s.contains(599));
        assert!(!s.contains(0) && !s.contains(600) && !s.contains(u16::MAX));
    }
}
