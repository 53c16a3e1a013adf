//! One check: a URL in, a [`Check`] out. Owns the HTTP client, and with it redirects, retries,
//! timeouts, timings and the classification of what went wrong. The sequential baseline and
//! the concurrent pool both call [`Checker::check`], so a comparison measures scheduling only.

use std::collections::HashSet;
use std::error::Error as StdError;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use rand::Rng;
use reqwest::header::{HeaderMap, HeaderName, AUTHORIZATION, COOKIE, LOCATION, RETRY_AFTER};
use reqwest::{Response, StatusCode};
use serde::Serialize;
use url::Url;

use crate::config::CheckSettings;
use crate::dns;
use crate::sanitize::{escape_for_terminal, redact, redact_url};

/// At most this much of a body is read, and only so the connection can be reused.
const BODY_PREFIX: u64 = 64 * 1024;
/// A server's `Retry-After` is honoured up to this long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(10);

/// What a check concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
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
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::Up,
        Outcome::Down,
        Outcome::Error,
        Outcome::Invalid,
        Outcome::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Up => "up",
            Outcome::Down => "down",
            Outcome::Error => "error",
            Outcome::Invalid => "invalid",
            Outcome::Skipped => "skipped",
        }
    }
}

/// Why there was no usable HTTP answer; stable names for machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
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
        }
    }

    /// Worth another attempt: the same request may well succeed a moment later.
    fn is_transient(self) -> bool {
        matches!(self, ErrorKind::Timeout | ErrorKind::Reset)
    }
}

/// A machine-readable kind and a human message (escaped, credentials redacted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckError {
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

/// One redirect: the URL that answered and its 3xx status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    pub url: String,
    pub status: u16,
}

/// The result of checking one URL.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub outcome: Outcome,
    /// The final HTTP status, when there was one.
    pub status: Option<u16>,
    pub error: Option<CheckError>,
    /// All attempts, hops and waits.
    #[serde(rename = "elapsed_ms", serialize_with = "ser_ms")]
    pub elapsed: Duration,
    /// Time to the response headers of the final attempt.
    #[serde(rename = "ttfb_ms", serialize_with = "ser_opt_ms")]
    pub ttfb: Option<Duration>,
    /// Requests sent for the final answer, counting retries (redirect hops are not retries).
    pub attempts: u32,
    pub redirects: Vec<Hop>,
    /// The last URL requested (redacted), when it differs from the one checked.
    pub final_url: Option<String>,
    /// Things worth knowing that do not change the outcome (an https -> http redirect).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
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
            redirects: Vec::new(),
            final_url: None,
            warnings: Vec::new(),
        }
    }
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

/// Milliseconds with microsecond resolution: loopback answers take less than a millisecond.
pub fn millis(d: Duration) -> f64 {
    (d.as_micros() as f64 / 1000.0 * 1000.0).round() / 1000.0
}

/// Shared by every check of one host:port, so that a server's `Retry-After` holds the whole
/// host back, not just the one URL that was told to wait.
#[derive(Debug)]
pub struct HostGate {
    epoch: Instant,
    /// Milliseconds after `epoch` before which nothing is sent to the host.
    not_before_ms: AtomicU64,
}

impl Default for HostGate {
    fn default() -> Self {
        HostGate {
            epoch: Instant::now(),
            not_before_ms: AtomicU64::new(0),
        }
    }
}

impl HostGate {
    /// Nothing goes to this host for `wait` from now (never shortens an earlier pause).
    pub fn pause_for(&self, wait: Duration) {
        let until = (self.epoch.elapsed() + wait).as_millis() as u64 + 1;
        self.not_before_ms.fetch_max(until, Ordering::AcqRel);
    }

    /// Sleeps until the host may be asked again.
    pub async fn wait(&self) {
        loop {
            let until = Duration::from_millis(self.not_before_ms.load(Ordering::Acquire));
            let now = self.epoch.elapsed();
            if now >= until {
                return;
            }
            tokio::time::sleep(until - now).await;
        }
    }
}

/// Makes checks. Cheap to share: one connection pool serves every check.
pub struct Checker {
    client: reqwest::Client,
    settings: Arc<CheckSettings>,
}

/// What one successful request answered.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    ttfb: Duration,
}

impl Checker {
    pub fn new(settings: Arc<CheckSettings>, pool_per_host: usize) -> Result<Checker> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.connect_timeout)
            .user_agent(settings.user_agent.clone())
            .pool_max_idle_per_host(pool_per_host)
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .danger_accept_invalid_certs(settings.insecure);
        for (host, addr) in &settings.resolve {
            builder = builder.resolve(host, *addr);
        }
        if let Some(server) = settings.dns_server {
            builder = builder.dns_resolver(Arc::new(dns::Resolver::new(server)));
        }
        let client = builder.build().context("cannot set up the HTTP client")?;
        Ok(Checker { client, settings })
    }

    /// Checks one URL: follows redirects, retries transient failures, never panics and never
    /// returns early without a result.
    pub async fn check(&self, url: &Url, gate: &HostGate) -> Check {
        let started = Instant::now();
        let mut check = Check::not_fetched(Outcome::Error, None);
        let mut current = url.clone();
        match self.follow(url, &mut current, gate, &mut check).await {
            Ok(status) if self.settings.accept.contains(status) => check.outcome = Outcome::Up,
            Ok(_) => check.outcome = Outcome::Down,
            Err(e) => check.error = Some(e),
        }
        check.elapsed = started.elapsed();
        check.final_url = (current != *url).then(|| redact(&current));
        check
    }

    /// Requests `url` and follows its redirects, leaving `current` at the last URL requested.
    /// Returns the final status, or why there is none; records status, timing, attempts, hops
    /// and warnings in `check` as it goes.
    async fn follow(
        &self,
        url: &Url,
        current: &mut Url,
        gate: &HostGate,
        check: &mut Check,
    ) -> Result<u16, CheckError> {
        let mut visited: HashSet<Url> = HashSet::new();
        loop {
            // Credentials and the host's politeness gate belong to the host the user named.
            let same_host = same_authority(current, url);
            check.status = None;
            check.ttfb = None;
            check.attempts = 0;
            let answer = self
                .fetch(
                    current,
                    same_host,
                    same_host.then_some(gate),
                    &mut check.attempts,
                )
                .await?;
            let status = answer.status.as_u16();
            check.status = Some(status);
            check.ttfb = Some(answer.ttfb);
            let Some(location) = answer.location.filter(|_| answer.status.is_redirection()) else {
                return Ok(status);
            };
            check.redirects.push(Hop {
                url: redact(current),
                status,
            });
            let fail = |message: String| CheckError::new(ErrorKind::Redirects, message);
            let next = current
                .join(&location)
                .map_err(|e| fail(format!("invalid redirect target {location:?}: {e}")))?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err(fail(format!(
                    "redirect to {} not followed (only http and https)",
                    redact(&next)
                )));
            }
            if check.redirects.len() > self.settings.max_redirects as usize {
                return Err(fail(format!(
                    "more than {} redirects (--max-redirects)",
                    self.settings.max_redirects
                )));
            }
            visited.insert(current.clone());
            if visited.contains(&next) {
                return Err(fail(format!("redirect loop back to {}", redact(&next))));
            }
            if current.scheme() == "https" && next.scheme() == "http" {
                check.warnings.push(format!(
                    "redirect from https to plain http: {}",
                    escape_for_terminal(&redact(&next))
                ));
            }
            *current = next;
        }
    }

    /// One URL, with retries; `attempts` counts the requests sent.
    async fn fetch(
        &self,
        url: &Url,
        same_host: bool,
        gate: Option<&HostGate>,
        attempts: &mut u32,
    ) -> Result<Answer, CheckError> {
        let s = &self.settings;
        let mut retry = 0;
        loop {
            if let Some(gate) = gate {
                gate.wait().await;
            }
            *attempts += 1;
            let result = self.attempt(url, same_host).await;
            let wait = match &result {
                Err(e) if e.kind.is_transient() => backoff(retry),
                Ok(a) if is_transient_status(a.status) => match &a.retry_after {
                    Some(wait) => {
                        if let Some(gate) = gate {
                            gate.pause_for(*wait);
                        }
                        *wait
                    }
                    None => backoff(retry),
                },
                _ => return result.map(|a| a.answer),
            };
            if retry >= s.retries {
                return result.map(|a| a.answer);
            }
            retry += 1;
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, url: &Url, same_host: bool) -> Result<Attempt, CheckError> {
        let s = &self.settings;
        let sent = Instant::now();
        let deadline = tokio::time::Instant::from_std(sent + s.timeout);
        let mut request = self.client.request(s.method.clone(), url.clone());
        for (name, value) in &s.headers {
            // Secrets do not follow a redirect to somebody else's host.
            if same_host || !is_sensitive(name) {
                request = request.header(name, value);
            }
        }
        let response = match tokio::time::timeout_at(deadline, request.send()).await {
            Err(_) => {
                return Err(CheckError::new(
                    ErrorKind::Timeout,
                    format!(
                        "no response within {}",
                        humantime::format_duration(s.timeout)
                    ),
                ))
            }
            Ok(Err(e)) => return Err(classify(&e)),
            Ok(Ok(r)) => r,
        };
        let ttfb = sent.elapsed();
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let retry_after = matches!(status.as_u16(), 429 | 503)
            .then(|| retry_after(response.headers(), SystemTime::now()))
            .flatten();
        read_prefix(response, deadline).await;
        Ok(Attempt {
            answer: Answer {
                status,
                location,
                ttfb,
            },
            retry_after,
        })
    }
}

struct Attempt {
    answer: Answer,
    retry_after: Option<Duration>,
}

impl std::ops::Deref for Attempt {
    type Target = Answer;
    fn deref(&self) -> &Answer {
        &self.answer
    }
}

/// Reads at most [`BODY_PREFIX`] bytes so that a small body leaves its connection reusable;
/// a larger or endless one is dropped, which closes the connection.
async fn read_prefix(mut response: Response, deadline: tokio::time::Instant) {
    if response.content_length().is_some_and(|n| n > BODY_PREFIX) {
        return;
    }
    let mut read = 0u64;
    let _ = tokio::time::timeout_at(deadline, async {
        while let Ok(Some(chunk)) = response.chunk().await {
            read += chunk.len() as u64;
            if read > BODY_PREFIX {
                break;
            }
        }
    })
    .await;
}

fn is_transient_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

fn is_sensitive(name: &HeaderName) -> bool {
    name == AUTHORIZATION || name == COOKIE || name == reqwest::header::PROXY_AUTHORIZATION
}

fn same_authority(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Exponential backoff with jitter: somewhere in [d/2, d] for d = base * 2^retry, capped.
pub fn backoff(retry: u32) -> Duration {
    let d = BACKOFF_BASE
        .saturating_mul(1 << retry.min(16))
        .min(BACKOFF_CAP);
    let half = d / 2;
    half + rand::thread_rng().gen_range(Duration::ZERO..=half)
}

/// `Retry-After` as seconds or an HTTP date, capped at [`MAX_RETRY_AFTER`].
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(now)
            .unwrap_or(Duration::ZERO),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// Sorts a failed request into an [`ErrorKind`] by walking its chain of causes.
pub fn classify(error: &reqwest::Error) -> CheckError {
    let chain: Vec<&(dyn StdError + 'static)> =
        std::iter::successors(Some(error as &(dyn StdError + 'static)), |e| (*e).source())
            .collect();
    let message = describe(&chain);
    let kind = chain.iter().find_map(|e| kind_of(*e)).unwrap_or_else(|| {
        let lower = message.to_ascii_lowercase();
        if lower.contains("dns error") || lower.contains("failed to lookup address") {
            ErrorKind::Dns
        } else if error.is_timeout() {
            ErrorKind::Timeout
        } else if error.is_connect() {
            ErrorKind::Connect
        } else if error.is_redirect() {
            ErrorKind::Redirects
        } else if error.is_request() || error.is_body() || error.is_decode() {
            ErrorKind::Protocol
        } else {
            ErrorKind::Other
        }
    });
    CheckError::new(kind, message)
}

fn kind_of(e: &(dyn StdError + 'static)) -> Option<ErrorKind> {
    if e.downcast_ref::<dns::DnsError>().is_some() {
        return Some(ErrorKind::Dns);
    }
    if e.downcast_ref::<rustls::Error>().is_some() {
        return Some(ErrorKind::Tls);
    }
    if let Some(h) = e.downcast_ref::<hyper::Error>() {
        if h.is_incomplete_message() {
            return Some(ErrorKind::Reset);
        }
        if h.is_parse() || h.is_parse_status() {
            return Some(ErrorKind::Protocol);
        }
        if h.is_timeout() {
            return Some(ErrorKind::Timeout);
        }
    }
    if let Some(io) = e.downcast_ref::<io::Error>() {
        // An io::Error's source() skips the error it wraps, and TLS failures arrive as an
        // io::Error wrapping an io::Error wrapping the rustls error: look inside first.
        if let Some(kind) = io.get_ref().and_then(|inner| kind_of(inner)) {
            return Some(kind);
        }
        return match io.kind() {
            io::ErrorKind::ConnectionRefused
            | io::ErrorKind::AddrNotAvailable
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable => Some(ErrorKind::Connect),
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => Some(ErrorKind::Reset),
            io::ErrorKind::TimedOut => Some(ErrorKind::Timeout),
            _ => None,
        };
    }
    None
}

/// The causes, with reqwest's outermost level (which carries the URL and its credentials)
/// left out and repeats removed.
fn describe(chain: &[&(dyn StdError + 'static)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in chain.iter().skip(1) {
        let text = e.to_string();
        if text.starts_with("client error (") || parts.iter().any(|p| p.contains(&text)) {
            continue;
        }
        parts.push(text);
    }
    if parts.is_empty() {
        return chain[0].to_string();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(2)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("3600"));
        assert_eq!(retry_after(&h, now), Some(MAX_RETRY_AFTER));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(5));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(5)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(5));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&past).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for retry in 0..30 {
            let d = backoff(retry);
            let full = BACKOFF_BASE
                .saturating_mul(1 << retry.min(16))
                .min(BACKOFF_CAP);
            assert!(d >= full / 2 && d <= full, "retry {retry}: {d:?}");
        }
    }

    #[tokio::test]
    async fn gate_holds_until_the_pause_is_over() {
        let gate = HostGate::default();
        gate.pause_for(Duration::from_millis(50));
        gate.pause_for(Duration::from_millis(1)); // never shortens
        let t = Instant::now();
        gate.wait().await;
        assert!(t.elapsed() >= Duration::from_millis(49));
    }
}
