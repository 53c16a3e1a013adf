//! One check: a URL in, a [`Check`] out. Owns the HTTP client, and with it redirects, retries,
//! timeouts, timings and the classification of what went wrong. The sequential baseline and
//! the concurrent pool both call [`Checker::check`], so a comparison measures scheduling only.
//!
//! Each layer returns what it found: [`Checker::fetch`] the answer of one URL and the requests
//! it took, [`Checker::follow`] the end of the redirect chain; [`Checker::check`] builds the
//! `Check` once from that.

mod body;
mod cert;
mod classify;
mod cookies;
mod dns;
mod expect;
mod phases;
mod polite;
mod pool;
mod tls;
mod wall;

use std::collections::HashSet;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use reqwest::dns::Resolve;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, COOKIE, LOCATION, SET_COOKIE,
};
use reqwest::{RequestBuilder, Response, StatusCode};
use rustls::pki_types::CertificateDer;
use url::Url;

use crate::config::{CheckSettings, Config, ExpectTable, HostScope, BODY_LIMIT};
use crate::extract;
use crate::model::{
    Anchors, Certificate, Check, CheckError, ErrorKind, Hop, Method, Outcome, Timings,
};
use crate::sanitize::{escape_for_terminal, redact};

use cookies::Jar;
use expect::{Seen, Wants};
use phases::TimeDials;
pub(crate) use polite::HostGate;
use polite::{backoff, retry_after};
pub(crate) use pool::LocalFault;
use pool::{CountConnects, Pool};

/// With `--check-fragments`, this much of an HTML page is read for its anchors at most.
const ANCHOR_BODY: usize = 8 * 1024 * 1024;
/// The warning of a page whose anchors could not be read: its fragments are not checked.
const ANCHORS_UNREAD: &str = "fragments not checked: the page's body did not arrive whole \
     within --max-time and 8 MiB";
/// At most this much of a body is read, and only so the connection can be reused.
const BODY_PREFIX: u64 = 64 * 1024;
/// The verdict is known at the headers: a body still arriving after this is not waited for.
/// A small body is nearly always here by then (often in the headers' packet), so its
/// connection stays reusable; a slow one is dropped, which closes its connection.
const BODY_GRACE: Duration = Duration::from_millis(5);
/// Response headers are accepted up to curl's limits: 300 KiB in all (the largest single one
/// curl takes is 100 KiB), over HTTP/2 as over HTTP/1.1, where hyper reads a head of up to
/// about 400 KiB. hyper's defaults, 16 KiB over HTTP/2 and 100 fields over HTTP/1.1, are
/// exceeded by real sites that curl and browsers load.
const MAX_HEADER_BYTES: u32 = 300 * 1024;
/// As many HTTP/1.1 header fields as 300 KiB of short ones (about 30 bytes each) make.
const MAX_HEADER_FIELDS: usize = 10_000;

/// How much longer than `--connect-timeout` reqwest's connect timeout is, so that a lookup
/// whose `--dns-timeout` equals it is reported by the resolver, not as a connect timeout.
const LOOKUP_SLACK: Duration = Duration::from_millis(50);

/// In the message of an attempt that the URL's `--max-time` ended.
const BUDGET_SPENT: &str = "no response within the --max-time";

/// Makes checks. Cheap to share: one connection pool serves every check (and one more each
/// TLS setting that `[[host]]` tables give some hosts).
pub(crate) struct Checker {
    /// The run's pool first, then one for each TLS setting a host may get from the tables.
    pools: Vec<(TlsKey, Pool)>,
    settings: Arc<CheckSettings>,
}

/// The TLS settings of a host: the first matching table's `insecure`, and the first matching
/// table with a `cacert` (its index); `(None, None)` is the run's own.
type TlsKey = (Option<bool>, Option<usize>);

/// What one successful request answered.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    ttfb: Duration,
    /// The page's anchors, when `--check-fragments` read an HTML body; why not, when its
    /// body did not come whole.
    anchors: Option<Result<Arc<Anchors>, &'static str>>,
    /// The DER of the server's leaf certificate, over https.
    certificate: Option<Vec<u8>>,
    /// What says this answer is a bot wall, not the page.
    wall: Option<String>,
    /// Its headers and body's prefix, for the URL's expectations, when it ends the chain.
    seen: Option<Seen>,
}

/// One request's answer, and how long the server asked us to wait before the next one.
struct Attempt {
    answer: Answer,
    retry_after: Option<Duration>,
    /// When its headers came, over the connection at which local address.
    heard: (Instant, Option<std::net::SocketAddr>),
}

/// What a timeout of one request means: its own `timeout` passed, or the URL's budget
/// (`max_time`) ended first.
#[derive(Debug, Clone, Copy)]
struct Late {
    by_budget: bool,
    timeout: Duration,
    max_time: Duration,
}

/// What one request came to, and where its time went.
type Tried = (Result<Attempt, CheckError>, Timings);

/// The answer for one URL after its retries, and the requests that took.
struct Fetched {
    answer: Result<Answer, CheckError>,
    /// Where the time of the request that gave `answer` went.
    timings: Timings,
    attempts: u32,
    /// Why a retry that was due was not made, when the answer stands anyway.
    note: Option<String>,
}

/// One URL's budget over all its attempts, hops and waits (`--max-time`). It starts at the
/// URL's first request, so a wait at the gate of a host that asked for a pause before that is
/// not charged to the URL; nor is a wait for a free descriptor (a local fault).
struct Budget {
    max: Duration,
    deadline: Mutex<Option<Instant>>,
}

impl Budget {
    fn new(max: Duration) -> Budget {
        Budget {
            max,
            deadline: Mutex::new(None),
        }
    }

    fn deadline(&self) -> MutexGuard<'_, Option<Instant>> {
        self.deadline.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The deadline, starting the budget if this is the first request.
    fn start(&self) -> Instant {
        *self
            .deadline()
            .get_or_insert_with(|| Instant::now() + self.max)
    }

    /// Waiting `wait` and trying again would still be within the budget.
    fn allows(&self, wait: Duration) -> bool {
        self.deadline()
            .is_none_or(|deadline| Instant::now() + wait < deadline)
    }

    /// When the URL's first request was sent, if it was.
    fn began(&self) -> Option<Instant> {
        self.deadline().map(|deadline| deadline - self.max)
    }

    /// Gives back time the URL is not to blame for.
    fn excuse(&self, time: Duration) {
        if let Some(deadline) = self.deadline().as_mut() {
            *deadline += time;
        }
    }
}

/// What one request chain carries from hop to hop: its method, its cookies, and what the
/// URL's expectations want of the answer that ends it.
struct Chain<'a> {
    method: reqwest::Method,
    jar: Jar,
    wants: Wants,
    /// A redirect went from https to plain http: the host tables' headers stay behind.
    downgraded: bool,
    /// What the host tables say for the host of the hop being requested: looked up once a
    /// hop, for all its attempts.
    host: HostScope<'a>,
}

impl Chain<'_> {
    fn new<'a>(method: reqwest::Method, wants: Wants) -> Chain<'a> {
        Chain {
            method,
            jar: Jar::default(),
            wants,
            downgraded: false,
            host: HostScope::default(),
        }
    }
}

/// What the settings say for one URL, its host tables and expectations looked up once.
struct Scoped<'a> {
    accept: &'a crate::model::StatusSet,
    method: reqwest::Method,
    get_fallback: bool,
    max_time: Duration,
    expects: Vec<&'a ExpectTable>,
    wants: Wants,
}

/// What the answer that ended a chain showed, beyond its status.
#[derive(Default)]
struct Ending {
    anchors: Option<Arc<Anchors>>,
    certificate: Option<Vec<u8>>,
    wall: Option<String>,
    seen: Option<Seen>,
}

impl Ending {
    /// What `answer` showed; a page whose anchors could not be read says so in `warnings`.
    fn of(answer: Answer, warnings: &mut Vec<String>) -> Ending {
        Ending {
            anchors: (answer.anchors)
                .and_then(|a| a.map_err(|why| warnings.push(why.to_owned())).ok()),
            certificate: answer.certificate,
            wall: answer.wall,
            seen: answer.seen,
        }
    }
}

/// Where following a URL's redirects ended.
struct Followed {
    /// The final status, or why there is none.
    end: Result<u16, CheckError>,
    /// The last URL requested.
    last: Url,
    /// Status and time to first byte of the last answer, when the last request had one.
    answer: Option<(u16, Duration)>,
    /// The last answer's anchors, when its body was read for them.
    anchors: Option<Arc<Anchors>>,
    /// The DER of the last answer's leaf certificate, over https.
    certificate: Option<Vec<u8>>,
    /// What says the last answer is a bot wall.
    wall: Option<String>,
    /// The last answer's headers and body prefix, when the URL's expectations want them.
    seen: Option<Seen>,
    /// Where the last request's time went.
    timings: Timings,
    /// 1, plus every retry on any hop of the chain.
    attempts: u32,
    redirects: Vec<Hop>,
    warnings: Vec<String>,
}

impl Checker {
    /// The checker a run's settings ask for.
    pub(crate) fn for_config(config: &Config) -> Result<Checker> {
        Checker::new(config.check.clone(), config.per_host.max(1), config.idle)
    }

    /// A checker whose pool keeps up to `per_host` idle connections to one host and `idle`
    /// over all hosts together (see `check/pool.rs`).
    pub(crate) fn new(
        settings: Arc<CheckSettings>,
        per_host: usize,
        idle: usize,
    ) -> Result<Checker> {
        // reqwest is built without a crypto provider (its default, aws-lc-rs, is a long C
        // build): rustls uses ring. Installed once a process; a second call changes nothing.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let resolver = resolver(&settings);
        // Read once: a client made again later, perhaps while descriptors are short, must
        // not come out trusting fewer roots because the system's store could not be opened.
        let roots: Vec<CertificateDer<'static>> = built_in_roots()
            .chain(system_roots())
            .chain(settings.roots.iter().cloned())
            .collect();
        // A URL's own sockets are all closed within its budget: descriptors that stay taken
        // for longer than that (and a little) are held by something else.
        let give_up = settings.max_time + Duration::from_secs(5);
        let pool = |roots: &[CertificateDer<'static>], insecure: bool| -> Result<Pool> {
            let tls = tls::config(roots, insecure)?;
            let (settings, resolver) = (settings.clone(), resolver.clone());
            let build = Box::new(move |idle_per_host, connects| {
                client(&settings, (&tls, resolver.clone()), idle_per_host, connects)
            });
            Pool::new(build, per_host, idle, give_up)
        };
        // Every setting a host can get, made now: a few tables make a few pools.
        let tables = &settings.hosts.tables;
        let cacerts: Vec<Option<usize>> = std::iter::once(None)
            .chain(
                (0..tables.len())
                    .filter(|&i| !tables[i].roots.is_empty())
                    .map(Some),
            )
            .collect();
        let mut pools: Vec<(TlsKey, Pool)> = Vec::new();
        for cacert in cacerts {
            let insecure = tables.iter().filter_map(|t| t.insecure);
            for insecure in std::iter::once(None).chain(insecure.map(Some)) {
                if pools.iter().any(|(key, _)| *key == (insecure, cacert)) {
                    continue;
                }
                let extra = cacert.map_or(&[][..], |i| &tables[i].roots[..]);
                let roots = [&roots[..], extra].concat();
                let pool = pool(&roots, insecure.unwrap_or(settings.insecure))?;
                pools.push(((insecure, cacert), pool));
            }
        }
        Ok(Checker { pools, settings })
    }

    /// The pool of the requests to a host: the one of the TLS settings its tables give it.
    fn pool(&self, host: &HostScope<'_>) -> &Pool {
        let key = (host.insecure, host.cacert);
        let found = self.pools.iter().find(|(k, _)| *k == key);
        &found.unwrap_or(&self.pools[0]).1
    }

    /// A host table's `per-host` and `interval` for the URLs of `url`'s host:port.
    pub(crate) fn host_limits(&self, url: &Url) -> (Option<usize>, Option<Duration>) {
        let host = self.settings.hosts.scope(url);
        (host.per_host, host.interval)
    }

    /// What the settings, the host tables and the expectations say for `url`.
    fn scoped(&self, url: &Url) -> Scoped<'_> {
        let s = &self.settings;
        let host = s.hosts.scope(url);
        let expects = s.expects.matching(url.as_str());
        let wants = Wants::of(&expects);
        let (mut method, mut get_fallback) =
            (host.method.cloned()).unwrap_or_else(|| (s.method.clone(), s.get_fallback));
        // A body to read needs GET.
        if wants.body && method == reqwest::Method::HEAD {
            (method, get_fallback) = (reqwest::Method::GET, false);
        }
        let timeout = host.timeout.unwrap_or(s.timeout);
        Scoped {
            // An expected status replaces the statuses accepted.
            accept: (expect::status(&expects))
                .or(host.accept)
                .unwrap_or(&s.accept),
            method,
            get_fallback,
            max_time: s.max_time_for(timeout),
            expects,
            wants,
        }
    }

    /// How many times a request found no descriptor free so far: the dispatcher lowers the
    /// concurrency when this grows.
    pub(crate) fn descriptor_pressure(&self) -> u64 {
        self.pools.iter().map(|(_, pool)| pool.pressure()).sum()
    }

    /// Checks one URL: follows redirects, retries transient failures, never panics and never
    /// returns early without a result. `keep`: more requests to this host are expected, so
    /// its connection is worth keeping open. Fails only when the run cannot go on for want of
    /// descriptors, which is no fault of the URL.
    pub(crate) async fn check(
        &self,
        url: &Url,
        gate: &HostGate,
        keep: bool,
    ) -> Result<Check, LocalFault> {
        let started = Instant::now();
        let scoped = self.scoped(url);
        let budget = Budget::new(scoped.max_time);
        let first = scoped.method.clone();
        let mut f =
            (self.follow(url, gate, keep, &budget, Chain::new(first, scoped.wants))).await?;
        let mut decided = Method::from(&scoped.method);
        if scoped.get_fallback && refused(&f.end, scoped.accept) {
            (f, decided) = self
                .fall_back(url, (gate, keep), &budget, &scoped, f)
                .await?;
        }
        let (mut outcome, mut error) = match &f.end {
            Ok(status) if scoped.accept.contains(*status) => (Outcome::Up, None),
            // A status outside the one expected is the expectation's failure, said so.
            Ok(_) if expect::status(&scoped.expects).is_some() => (Outcome::Up, None),
            Ok(_) => (Outcome::Down, None),
            Err(e) => (Outcome::Error, Some(e.clone())),
        };
        let status = f.end.as_ref().ok().copied();
        let refused = outcome == Outcome::Down;
        let reason = matches!(outcome, Outcome::Up | Outcome::Down)
            .then(|| wall::blocked(status, f.wall.take(), refused, f.attempts))
            .flatten();
        if reason.is_some() {
            outcome = Outcome::Blocked;
        }
        let now = SystemTime::now();
        let certificate = (f.certificate.as_deref()).and_then(|der| cert::describe(der, now));
        // From its first request: a wait for the host's turn before it is not the URL's time.
        let elapsed = budget.began().unwrap_or(started).elapsed();
        if outcome == Outcome::Up {
            error = expected(&scoped, &f, elapsed, certificate.as_ref());
            if error.is_some() {
                outcome = Outcome::Down;
            }
        }
        self.cert_expiry(certificate.as_ref(), &mut f, &mut outcome, &mut error);
        Ok(Check {
            outcome,
            status: f.answer.map(|(status, _)| status),
            error,
            elapsed,
            ttfb: f.answer.map(|(_, ttfb)| ttfb),
            attempts: f.attempts,
            method: scoped.get_fallback.then_some(decided),
            redirects: f.redirects,
            final_url: (f.last != *url).then(|| redact(&f.last)),
            warnings: f.warnings,
            reason,
            certificate,
            timings: Some(f.timings),
            anchors: f.anchors,
        })
    }

    /// The whole check again with GET, within what is left of the same budget: GET's answer
    /// decides, and `attempts` counts the tries of both. When there is no time left for GET,
    /// or the budget cuts it short before it has an answer, HEAD's answer stands with a note.
    async fn fall_back(
        &self,
        url: &Url,
        (gate, keep): (&HostGate, bool),
        budget: &Budget,
        scoped: &Scoped<'_>,
        head: Followed,
    ) -> Result<(Followed, Method), LocalFault> {
        let spent = || {
            format!(
                "HEAD's answer stands: no time left for GET within the --max-time of {}",
                humantime::format_duration(scoped.max_time)
            )
        };
        let mut head = head;
        if !budget.allows(Duration::ZERO) {
            head.warnings.push(spent());
            return Ok((head, Method::Head));
        }
        let chain = Chain::new(reqwest::Method::GET, scoped.wants);
        let mut get = self.follow(url, gate, keep, budget, chain).await?;
        let attempts = head.attempts + get.attempts;
        if get
            .end
            .as_ref()
            .is_err_and(|e| e.message.contains(BUDGET_SPENT))
        {
            head.attempts = attempts;
            head.warnings.push(spent());
            return Ok((head, Method::Head));
        }
        get.attempts = attempts;
        // What HEAD's chain warned of (an https -> http hop) is said once, before GET's.
        let mut warnings = std::mem::take(&mut head.warnings);
        warnings.retain(|w| !get.warnings.contains(w));
        warnings.append(&mut get.warnings);
        get.warnings = warnings;
        Ok((get, Method::Get))
    }

    /// What the final hop's certificate says, and with `--cert-expiry`, whether it makes an
    /// up URL down (a URL already failing is told in a warning).
    fn cert_expiry(
        &self,
        certificate: Option<&Certificate>,
        f: &mut Followed,
        outcome: &mut Outcome,
        error: &mut Option<CheckError>,
    ) {
        let (Some(c), Some(within)) = (certificate, self.settings.cert_expiry) else {
            return;
        };
        if let Some(why) = cert::expires_within(c, within, SystemTime::now()) {
            if *outcome == Outcome::Up {
                let answered = f.answer.map_or(0, |(status, _)| status);
                *outcome = Outcome::Down;
                *error = Some(CheckError::new(
                    ErrorKind::CertExpiry,
                    format!("{why}; the server answered {answered} (up otherwise)"),
                ));
            } else {
                f.warnings.push(why);
            }
        }
    }

    /// Requests `url` with `method` and follows its redirects to the end of the chain.
    async fn follow<'s>(
        &'s self,
        url: &Url,
        gate: &HostGate,
        keep: bool,
        budget: &Budget,
        mut chain: Chain<'s>,
    ) -> Result<Followed, LocalFault> {
        let mut current = url.clone();
        let mut redirects = Vec::new();
        let mut warnings = Vec::new();
        // Cookies belong to this chain alone. A consent wall redirects back to itself until its
        // cookie returns, so a loop is a URL requested again with the same cookies.
        let mut visited: HashSet<(Url, Option<String>)> = HashSet::new();
        let (mut retries, mut ending) = (0, Ending::default());
        let mut timings;
        let (end, answer) = loop {
            let sent = chain.jar.header(&current); // its cookies, before its answer sets more
            chain.host = self.settings.hosts.scope(&current); // its tables, for every attempt
                                                              // Credentials and the host's politeness gate belong to the host the user named.
            let same_host = same_authority(&current, url);
            let fetched = self
                .fetch(
                    &current,
                    same_host,
                    same_host.then_some(gate),
                    keep,
                    budget,
                    &mut chain,
                )
                .await?;
            retries += fetched.attempts - 1;
            warnings.extend(fetched.note);
            timings = fetched.timings;
            let mut answer = match fetched.answer {
                Ok(answer) => answer,
                Err(e) => break (Err(e), None),
            };
            let status = answer.status.as_u16();
            let heard = Some((status, answer.ttfb));
            let redirects_to = answer
                .location
                .take()
                .filter(|_| answer.status.is_redirection());
            let Some(location) = redirects_to else {
                ending = Ending::of(answer, &mut warnings);
                break (Ok(status), heard);
            };
            redirects.push(Hop {
                url: redact(&current),
                status,
                timings: fetched.timings,
            });
            // Only a chain that redirects needs to remember where it has been.
            visited.insert((current.clone(), sent));
            match self.next_hop(&current, &location, redirects.len(), |next| {
                visited.contains(&(next.clone(), chain.jar.header(next)))
            }) {
                Ok((next, warning)) => {
                    chain.downgraded |= warning.is_some(); // its one warning: a drop to http
                    warnings.extend(warning);
                    current = next;
                }
                Err(e) => break (Err(e), heard),
            }
        };
        Ok(Followed {
            end,
            last: current,
            answer,
            anchors: ending.anchors,
            certificate: ending.certificate,
            wall: ending.wall,
            seen: ending.seen,
            timings,
            attempts: 1 + retries,
            redirects,
            warnings,
        })
    }

    /// Where the redirect from `current` to `location` leads, once it is known to be one to
    /// follow (http or https, within `--max-redirects`, not a request already `made`), and a
    /// warning when it drops from https to http.
    fn next_hop(
        &self,
        current: &Url,
        location: &str,
        hops: usize,
        made: impl Fn(&Url) -> bool,
    ) -> Result<(Url, Option<String>), CheckError> {
        let fail = |message: String| CheckError::new(ErrorKind::Redirects, message);
        let mut next = current
            .join(location)
            .map_err(|e| fail(format!("invalid redirect target {location:?}: {e}")))?;
        keep_credentials(current, &mut next);
        if !matches!(next.scheme(), "http" | "https") {
            return Err(fail(format!(
                "redirect to {} not followed (only http and https)",
                redact(&next)
            )));
        }
        if hops > self.settings.max_redirects as usize {
            return Err(fail(format!(
                "more than {} redirects (--max-redirects)",
                self.settings.max_redirects
            )));
        }
        if made(&next) {
            return Err(fail(format!("redirect loop back to {}", redact(&next))));
        }
        let warning = (current.scheme() == "https" && next.scheme() == "http").then(|| {
            format!(
                "redirect from https to plain http: {}",
                escape_for_terminal(&redact(&next))
            )
        });
        Ok((next, warning))
    }

    /// One URL, with retries of transient failures while the budget allows. A retry that
    /// could not finish within the budget (its wait, or the host's pause at the gate, is too
    /// long) is not made: the answer so far stands, with a note that says why.
    async fn fetch(
        &self,
        url: &Url,
        same_host: bool,
        gate: Option<&HostGate>,
        keep: bool,
        budget: &Budget,
        chain: &mut Chain<'_>,
    ) -> Result<Fetched, LocalFault> {
        let mut attempts = 0;
        let mut previous = None;
        loop {
            // The pause may grow while we wait (another URL of the host told to wait longer):
            // each time, a retry that the budget cannot hold is not made.
            while let Some(hold) = gate.map(HostGate::remaining).filter(|d| !d.is_zero()) {
                if let Some(tried) = previous.take_if(|_| !budget.allows(hold)) {
                    return Ok(Self::out_of_time(tried, attempts, budget.max));
                }
                tokio::time::sleep(hold).await;
            }
            // A host table's `interval`: this request's turn among the host's.
            if let Some(turn) = gate.map(HostGate::turn).filter(|d| !d.is_zero()) {
                tokio::time::sleep(turn).await;
            }
            attempts += 1;
            let (result, timings) = self.attempt(url, same_host, keep, budget, chain).await?;
            // A retry that the budget cut short tells less than an HTTP answer before it (a
            // failure before it tells no more: the budget's own message stands then).
            if result
                .as_ref()
                .is_err_and(|e| e.message.contains(BUDGET_SPENT))
            {
                if let Some((Ok(answer), timings)) = previous.take() {
                    let note = format!(
                        "{} answered; its retry was cut short by the --max-time of {}",
                        answer.status.as_u16(),
                        humantime::format_duration(budget.max)
                    );
                    return Ok(Fetched {
                        answer: Ok(answer),
                        timings,
                        attempts,
                        note: Some(note),
                    });
                }
            }
            let wait = match &result {
                Err(e) if e.kind.is_transient() => Some(backoff(attempts - 1)),
                Ok(a) if is_transient_status(a.answer.status) => match a.retry_after {
                    Some(wait) => {
                        if let Some(gate) = gate {
                            gate.pause_for(wait);
                        }
                        Some(wait)
                    }
                    None => Some(backoff(attempts - 1)),
                },
                _ => None,
            };
            let tried = (result.map(|a| a.answer), timings);
            match wait {
                _ if attempts > self.settings.retries => {}
                Some(wait) if budget.allows(wait) => {
                    tokio::time::sleep(wait).await;
                    previous = Some(tried);
                    continue;
                }
                Some(_) => return Ok(Self::out_of_time(tried, attempts, budget.max)),
                None => {}
            }
            let (answer, timings) = tried;
            return Ok(Fetched {
                answer,
                timings,
                attempts,
                note: None,
            });
        }
    }

    /// The answer of the last attempt, when a retry was due but the budget had no room left
    /// for it.
    fn out_of_time(
        (mut answer, timings): (Result<Answer, CheckError>, Timings),
        attempts: u32,
        max_time: Duration,
    ) -> Fetched {
        let left = format!(
            "no time left for a retry within the --max-time of {}",
            humantime::format_duration(max_time)
        );
        let mut note = None;
        match &mut answer {
            // An attempt that the budget itself ended says so already.
            Err(e) if e.message.contains(BUDGET_SPENT) => {}
            Err(e) => e.message.push_str(&format!("; {left}")),
            Ok(a) => note = Some(format!("{} answered; {left}", a.status.as_u16())),
        }
        Fetched {
            answer,
            timings,
            attempts,
            note,
        }
    }

    /// One request, answered within the budget at the latest, and where its time went; the
    /// cookies it sets go into `jar`. A request that finds no descriptor free is sent again
    /// once one is, with its deadlines moved by the wait.
    async fn attempt(
        &self,
        url: &Url,
        same_host: bool,
        keep: bool,
        budget: &Budget,
        chain: &mut Chain<'_>,
    ) -> Result<Tried, LocalFault> {
        let s = &self.settings;
        let timeout = chain.host.timeout.unwrap_or(s.timeout);
        let pool = self.pool(&chain.host);
        let mut tries = 0;
        let (sent, deadline, late, (sending, dialed)) = loop {
            let sent = Instant::now();
            let ends = budget.start();
            let late = Late {
                by_budget: ends <= sent + timeout,
                timeout,
                max_time: budget.max,
            };
            let deadline = tokio::time::Instant::from_std((sent + timeout).min(ends));
            // Asked for each time: a waiting request must not hold on to a pool that is being
            // let go to free descriptors.
            let request = self.request(pool, url, same_host, keep, chain);
            // Bound first: a finished request future still holds its client.
            let sending = phases::send(tokio::time::timeout_at(deadline, request.send())).await;
            match sending {
                (Ok(Err(e)), _) if pool::out_of_descriptors(&e) => {
                    pool.relieve(tries).await?;
                    tries += 1;
                    budget.excuse(sent.elapsed());
                }
                sending => {
                    pool.progressed();
                    break (sent, deadline, late, sending);
                }
            }
        };
        let answer = (self.answer(sent, (deadline, late), keep, chain.wants, sending)).await;
        let timings = dialed.timings(
            sent,
            answer.as_ref().ok().map(|a| a.0.heard),
            Instant::now(),
        );
        let attempt = answer.map(|(attempt, headers)| {
            chain.jar.store(url, &headers);
            attempt
        });
        Ok((attempt, timings))
    }

    /// What the answer to one request says: its status and where it redirects, or what went
    /// wrong; and its headers, for the cookies they set.
    async fn answer(
        &self,
        sent: Instant,
        (deadline, late): (tokio::time::Instant, Late),
        keep: bool,
        wants: Wants,
        sending: Result<reqwest::Result<Response>, tokio::time::error::Elapsed>,
    ) -> Result<(Attempt, HeaderMap), CheckError> {
        let response = match sending {
            Err(_) if late.by_budget => {
                return Err(CheckError::new(
                    ErrorKind::Timeout,
                    format!(
                        "{BUDGET_SPENT} of {}",
                        humantime::format_duration(late.max_time)
                    ),
                ))
            }
            Err(_) => {
                return Err(CheckError::new(
                    ErrorKind::Timeout,
                    format!(
                        "no response within {}",
                        humantime::format_duration(late.timeout)
                    ),
                ))
            }
            Ok(Err(e)) => return Err(classify::classify(&e)),
            Ok(Ok(r)) => r,
        };
        let heard = (Instant::now(), phases::local_address(&response));
        let ttfb = heard.0 - sent;
        let set_cookies = set_cookies(response.headers());
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        // Only an answer that ends the chain is looked at for a wall or a certificate.
        let ends = !(status.is_redirection() && location.is_some());
        let wall = ends.then(|| wall::seen(response.headers())).flatten();
        let certificate = (response.extensions().get::<reqwest::tls::TlsInfo>())
            .filter(|_| ends)
            .and_then(|tls| tls.peer_certificate())
            .map(<[u8]>::to_vec);
        let retry_after = matches!(status.as_u16(), 429 | 503)
            .then(|| retry_after(response.headers(), SystemTime::now()))
            .flatten();
        let wants = if ends { wants } else { Wants::default() };
        let (anchors, seen) = self.body(response, wants, keep, deadline).await;
        let attempt = Attempt {
            answer: Answer {
                status,
                location,
                ttfb,
                anchors,
                certificate,
                wall,
                seen,
            },
            retry_after,
            heard,
        };
        Ok((attempt, set_cookies))
    }

    /// What is read of a body: an HTML page's anchors with `--check-fragments`; what the
    /// expectations `wants` of the answer; or, for a connection to keep, a small body so that
    /// the connection is reusable. Nothing else needs a body.
    async fn body(
        &self,
        response: Response,
        wants: Wants,
        keep: bool,
        deadline: tokio::time::Instant,
    ) -> (Option<Result<Arc<Anchors>, &'static str>>, Option<Seen>) {
        let headers = wants.any().then(|| response.headers().clone());
        if self.settings.check_fragments && is_html_page(&response) {
            let (body, whole) = read_body(response, ANCHOR_BODY, deadline).await;
            let anchors = match whole {
                true => Ok(Arc::new(Anchors::new(
                    extract::html(&body).anchors.iter().map(String::as_str),
                ))),
                false => Err(ANCHORS_UNREAD),
            };
            // What came of the body serves the expectations, whole or not.
            let seen = headers.map(|headers| Seen {
                headers,
                body: body[..body.len().min(BODY_LIMIT)].to_vec(),
            });
            return (Some(anchors), seen);
        }
        if wants.body {
            let (body, _) = read_body(response, BODY_LIMIT, deadline).await;
            let headers = headers.unwrap_or_default();
            return (None, Some(Seen { headers, body }));
        }
        let seen = headers.map(|headers| Seen {
            headers,
            body: Vec::new(),
        });
        if keep {
            // A connection that is not kept closes with its response: no need for the body.
            let grace = tokio::time::Instant::now() + BODY_GRACE;
            read_prefix(response, grace.min(deadline)).await;
        }
        (None, seen)
    }

    /// The request for `url` with the user's headers, and the chain's cookies in the one
    /// `Cookie` header HTTP/1.1 allows (after the user's own, when that is sent). The user's
    /// secrets do not follow a redirect to somebody else's host; the chain's cookies go where
    /// the cookie rules say.
    fn request(
        &self,
        pool: &Pool,
        url: &Url,
        same_host: bool,
        keep: bool,
        chain: &Chain<'_>,
    ) -> RequestBuilder {
        let s = &self.settings;
        let mut cookies = chain.jar.header(url);
        let mut request = pool.client(keep).request(chain.method.clone(), url.clone());
        // The host tables' headers go to the hosts they match only, never in the clear after
        // a drop from https, and take the place of a command-line header of the same name.
        let scoped: &[&(HeaderName, HeaderValue)] = match chain.downgraded {
            true => &[],
            false => &chain.host.headers,
        };
        let given = (s.headers.iter())
            .filter(|(name, _)| same_host || !is_sensitive(name))
            .filter(|(name, _)| !scoped.iter().any(|(n, _)| n == name));
        for (name, value) in scoped.iter().copied().chain(given) {
            let merged = (name == COOKIE)
                .then(|| cookies.take())
                .flatten()
                .and_then(|chain| merge_cookies(value, &chain));
            request = request.header(name, merged.unwrap_or_else(|| value.clone()));
        }
        if let Some(chain) = cookies {
            request = request.header(COOKIE, chain);
        }
        request
    }
}

/// With `-X head,get`: the HEAD chain ended in an answer that GET may contradict (405 and 501
/// say the method is refused; any status not `accept`ed may be HEAD's alone). A chain that
/// ended without an answer (a timeout, a redirect loop) is not tried again.
fn refused(end: &Result<u16, CheckError>, accept: &crate::model::StatusSet) -> bool {
    matches!(end, Ok(status) if matches!(status, 405 | 501) || !accept.contains(*status))
}

/// The failure of an answer that is up otherwise, when it fails an expectation of the URL's.
fn expected(
    scoped: &Scoped<'_>,
    f: &Followed,
    elapsed: Duration,
    certificate: Option<&Certificate>,
) -> Option<CheckError> {
    let (Ok(status), false) = (f.end.as_ref(), scoped.expects.is_empty()) else {
        return None;
    };
    let answered = expect::Answered {
        status: *status,
        seen: f.seen.as_ref(),
        elapsed,
        certificate,
        https: f.last.scheme() == "https",
        now: SystemTime::now(),
    };
    let failed = expect::judge(&scoped.expects, &answered);
    (!failed.is_empty()).then(|| CheckError::new(ErrorKind::Expectation, failed.join("; ")))
}

/// Only what the chain's cookie jar needs of an answer's headers, to go back with it.
fn set_cookies(headers: &HeaderMap) -> HeaderMap {
    let mut set = HeaderMap::new();
    for value in headers.get_all(SET_COOKIE) {
        set.append(SET_COOKIE, value.clone());
    }
    set
}

/// The system's trusted roots (honouring SSL_CERT_FILE and SSL_CERT_DIR): unreadable ones
/// are left out, and so are invalid ones when the store is made.
fn system_roots() -> impl Iterator<Item = CertificateDer<'static>> {
    rustls_native_certs::load_native_certs().certs.into_iter()
}

/// The resolver every client shares: `--dns-server`'s, or the system's, both under a lookup
/// deadline that ends before the attempt's own timeout can, so that a DNS server that does
/// not answer is a `dns` error even when `--dns-timeout` is as long as `--timeout`; and each
/// lookup timed, for the phases of the connection it is for.
fn resolver(settings: &CheckSettings) -> Arc<dyn Resolve> {
    Arc::new(phases::Timed(untimed_resolver(settings)))
}

fn untimed_resolver(settings: &CheckSettings) -> Arc<dyn Resolve> {
    let lookup = settings.dns_timeout.min(
        settings
            .timeout
            .saturating_sub(LOOKUP_SLACK)
            .max(settings.timeout / 2),
    );
    match settings.dns_server {
        Some(server) => Arc::new(dns::ServerResolver::new(server, lookup)),
        None => Arc::new(dns::SystemResolver::new(lookup)),
    }
}

/// The HTTP client: at most `idle_per_host` idle connections per host (0: none are kept), and
/// every connection it opens counted in `connects` and timed; with the TLS configuration
/// `tls` (trusting the built-in, the system's and `--cacert`'s roots, read once), resolving
/// with `resolver`.
fn client(
    settings: &CheckSettings,
    (tls, resolver): (&rustls::ClientConfig, Arc<dyn Resolve>),
    idle_per_host: usize,
    connects: Arc<AtomicUsize>,
) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // reqwest's connect timeout includes the lookup: the slack lets a lookup that uses
        // all of it end first, as the `dns` error it is.
        .connect_timeout(settings.connect_timeout + LOOKUP_SLACK)
        .user_agent(settings.user_agent.clone())
        .pool_max_idle_per_host(idle_per_host)
        .pool_idle_timeout(Duration::from_secs(30))
        .tcp_nodelay(true)
        .http1_max_headers(MAX_HEADER_FIELDS)
        .http2_max_header_list_size(MAX_HEADER_BYTES)
        .connector_layer(CountConnects(connects))
        // Outside the counting, so its time is the whole of opening a connection.
        .connector_layer(TimeDials)
        .tls_backend_preconfigured(tls::for_client(tls))
        // The leaf certificate of each answer, for its expiry (a copy of its DER bytes).
        .tls_info(true)
        .dns_resolver(resolver);
    for (host, addr) in &settings.resolve {
        builder = builder.resolve(host, *addr);
    }
    // Without either, reqwest honours HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY.
    if settings.no_proxy {
        builder = builder.no_proxy();
    }
    if let Some(proxy) = &settings.proxy {
        let proxy = reqwest::Proxy::all(proxy.as_str()).context("cannot use the --proxy")?;
        builder = builder.proxy(proxy.no_proxy(reqwest::NoProxy::from_env()));
    }
    builder.build().context("cannot set up the HTTP client")
}

/// Reads at most [`BODY_PREFIX`] bytes, until `deadline`, so that a small body leaves its
/// connection reusable; a larger, slower or endless one is dropped, which closes the
/// connection. Nothing needs the body itself.
/// A successful answer whose body is an HTML page: where `--check-fragments` looks for
/// anchors.
fn is_html_page(response: &Response) -> bool {
    response.status().is_success()
        && response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| {
                let t = t.to_ascii_lowercase();
                t.starts_with("text/html") || t.starts_with("application/xhtml+xml")
            })
}

/// The body, up to `limit` bytes and until `deadline`, and whether that was all of it (a page
/// cut short would lack the anchors after the cut).
async fn read_body(
    mut response: Response,
    limit: usize,
    deadline: tokio::time::Instant,
) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    let whole = tokio::time::timeout_at(deadline, async {
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = limit - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if chunk.len() > room {
                        return false;
                    }
                }
                Err(_) => return false,
                Ok(None) => return true,
            }
        }
    })
    .await;
    (body, whole.unwrap_or(false))
}

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

/// The Mozilla roots built in, trusted beside the system's store, so a machine without one
/// still works.
fn built_in_roots() -> impl Iterator<Item = CertificateDer<'static>> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned()
}

impl From<&reqwest::Method> for Method {
    fn from(method: &reqwest::Method) -> Method {
        if method == reqwest::Method::HEAD {
            Method::Head
        } else {
            Method::Get
        }
    }
}

fn is_transient_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// The user's `Cookie` value followed by the chain's cookies, sensitive as the user's is.
fn merge_cookies(user: &HeaderValue, chain: &str) -> Option<HeaderValue> {
    let mut merged = user.as_bytes().to_vec();
    merged.extend_from_slice(b"; ");
    merged.extend_from_slice(chain.as_bytes());
    let mut merged = HeaderValue::from_bytes(&merged).ok()?;
    merged.set_sensitive(true);
    Some(merged)
}

fn is_sensitive(name: &HeaderName) -> bool {
    name == AUTHORIZATION || name == COOKIE || name == reqwest::header::PROXY_AUTHORIZATION
}

/// The user name and password of `current` go on to `next` when it is the same origin (scheme,
/// host and port) and names none of its own, as curl does: an absolute `Location` back to the
/// same site drops them otherwise. Never to another origin.
fn keep_credentials(current: &Url, next: &mut Url) {
    let has_own = !next.username().is_empty() || next.password().is_some();
    let has_some = !current.username().is_empty() || current.password().is_some();
    if has_own || !has_some || !same_authority(current, next) {
        return;
    }
    // Only fails for URLs that cannot hold credentials, which an http(s) origin can.
    let _ = next.set_username(current.username());
    let _ = next.set_password(current.password());
}

fn same_authority(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Mozilla roots stay beside the system's store (about 150 of them), so a machine
    /// with no store of its own still checks public sites.
    #[test]
    fn the_built_in_roots_are_there() {
        assert!(built_in_roots().count() > 100);
    }
}
