//! Scheduling: admits targets under a global limit and a per-host:port limit, de-duplicates
//! them, and hands every result to a reporter as it completes.
//!
//! One dispatcher task owns all the bookkeeping (no locks on the hot path). A check task is
//! spawned only when both a global and a per-host slot are free; targets whose host is full
//! wait in that host's queue, and the input is read only while those queues are short, so
//! memory follows the concurrency limit and the number of hosts, not the length of the list.
//! The sequential baseline is this same path with one slot.

use std::collections::HashMap;
use std::collections::VecDeque;
use std::io;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures::FutureExt;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::check::{Check, CheckError, Checker, ErrorKind, HostGate, Outcome};
use crate::dedup::Seen;
use crate::input::{Batch, Item, Source};
use crate::report::Reporter;
use crate::sanitize::redact;
use crate::summary::Summary;

/// The pool's limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Checks in flight at most.
    pub concurrency: usize,
    /// Checks in flight per host:port at most.
    pub per_host: usize,
}

impl Limits {
    pub const SEQUENTIAL: Limits = Limits {
        concurrency: 1,
        per_host: 1,
    };
}

/// One reported URL: the check and every input line that listed it.
#[derive(Debug, Clone, Serialize)]
pub struct UrlResult {
    /// Order of first appearance in the input.
    #[serde(skip)]
    pub id: u64,
    /// Which URL this is, for merging repeats (0 for lines that are not fetched).
    #[serde(skip)]
    pub fingerprint: u64,
    /// The URL as shown: credentials redacted.
    pub url: String,
    pub sources: Vec<Source>,
    #[serde(flatten)]
    pub check: Check,
    /// A repeat of a URL already reported: not fetched again, outcome and status copied.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

/// A target admitted but not yet reported.
struct Pending {
    display: String,
    sources: Vec<Source>,
    fingerprint: u64,
    host: Arc<str>,
}

struct Host {
    in_flight: usize,
    queue: VecDeque<(u64, Url)>,
    gate: Arc<HostGate>,
    /// In the dispatcher's `ready` list.
    listed: bool,
}

struct Dispatcher<'r> {
    checker: Arc<Checker>,
    limits: Limits,
    hosts: HashMap<Arc<str>, Host>,
    /// Reused to look hosts up without allocating.
    key_buf: String,
    /// Hosts with queued targets and a free host slot, served round-robin.
    ready: VecDeque<Arc<str>>,
    pending: HashMap<u64, Pending>,
    /// Fingerprint -> id of the pending check, for repeats that arrive while it runs.
    in_flight_by_fingerprint: HashMap<u64, u64>,
    seen: Seen,
    queued: usize,
    tasks: JoinSet<(u64, Check)>,
    next_id: u64,
    summary: Summary,
    reporter: &'r mut dyn Reporter,
}

const TASKS_DO_NOT_FAIL: &str = "check tasks catch their panics and are aborted only at the end";

/// Runs every item from `items` through `checker` under `limits`, reporting each result as
/// it completes. Returns when the input is exhausted and every check has finished, or when
/// `cancel` fires (in-flight checks are dropped and the summary is marked interrupted).
pub async fn execute(
    mut items: mpsc::Receiver<Batch>,
    checker: Arc<Checker>,
    limits: Limits,
    reporter: &mut dyn Reporter,
    cancel: &CancellationToken,
) -> io::Result<Summary> {
    let started = Instant::now();
    let mut d = Dispatcher {
        checker,
        limits,
        hosts: HashMap::new(),
        key_buf: String::new(),
        ready: VecDeque::new(),
        pending: HashMap::new(),
        in_flight_by_fingerprint: HashMap::new(),
        seen: Seen::default(),
        queued: 0,
        tasks: JoinSet::new(),
        next_id: 0,
        summary: Summary::default(),
        reporter,
    };
    // Enough queued targets to keep every host busy, few enough to be small.
    let max_queued = (limits.concurrency * 4).max(1024);
    let mut input_open = true;
    let mut batch = Vec::new().into_iter();
    loop {
        d.admit();
        if cancel.is_cancelled() {
            d.tasks.abort_all();
            d.summary.interrupted = true;
            break;
        }
        if !input_open && d.tasks.is_empty() {
            debug_assert_eq!(d.queued, 0);
            break;
        }
        let want_input = input_open && d.queued < max_queued;
        // Whatever is ready now is handled before anything is written out, so a burst of
        // results costs one write; one of each per turn, so neither starves the other.
        let mut busy = false;
        if let Some(joined) = d.tasks.try_join_next() {
            let (id, check) = joined.expect(TASKS_DO_NOT_FAIL);
            d.complete(id, check)?;
            busy = true;
        }
        if want_input {
            if let Some(item) = batch.next() {
                d.take(item)?;
                busy = true;
            } else {
                match items.try_recv() {
                    Ok(more) => {
                        batch = more.into_iter();
                        busy = true;
                    }
                    Err(mpsc::error::TryRecvError::Disconnected) => {
                        input_open = false;
                        busy = true;
                    }
                    Err(mpsc::error::TryRecvError::Empty) => {}
                }
            }
        }
        if busy {
            continue;
        }
        d.reporter.flush()?;
        tokio::select! {
            biased;
            _ = cancel.cancelled() => {}
            Some(joined) = d.tasks.join_next(), if !d.tasks.is_empty() => {
                let (id, check) = joined.expect(TASKS_DO_NOT_FAIL);
                d.complete(id, check)?;
            }
            more = items.recv(), if want_input => match more {
                Some(more) => batch = more.into_iter(),
                None => input_open = false,
            },
        }
    }
    d.reporter.flush()?;
    d.summary.wall = started.elapsed();
    Ok(d.summary)
}

impl Dispatcher<'_> {
    fn emit(&mut self, result: UrlResult) -> io::Result<()> {
        self.summary.record(&result);
        self.reporter.result(&result)
    }

    fn take(&mut self, item: Item) -> io::Result<()> {
        let id = self.next_id;
        self.next_id += 1;
        let target = match item {
            Item::Invalid {
                text,
                source,
                reason,
            } => {
                let error = CheckError::new(ErrorKind::Input, reason);
                return self.emit(UrlResult {
                    id,
                    fingerprint: 0,
                    url: text,
                    sources: vec![source],
                    check: Check::not_fetched(Outcome::Invalid, Some(error)),
                    duplicate: false,
                });
            }
            Item::Skipped {
                url,
                source,
                pattern,
            } => {
                let mut check = Check::not_fetched(Outcome::Skipped, None);
                check
                    .warnings
                    .push(format!("excluded by --exclude {pattern}"));
                return self.emit(UrlResult {
                    id,
                    fingerprint: 0,
                    url,
                    sources: vec![source],
                    check,
                    duplicate: false,
                });
            }
            Item::Target(t) => t,
        };
        let fingerprint = self.seen.fingerprint(target.url.as_str());
        if let Some(first) = self.in_flight_by_fingerprint.get(&fingerprint) {
            let pending = self.pending.get_mut(first).expect("in flight");
            pending.sources.push(target.source);
            return Ok(());
        }
        if self.seen.contains(fingerprint) {
            let (outcome, status, error) = self.seen.ending(fingerprint);
            let mut check = Check::not_fetched(outcome, error);
            check.status = status;
            return self.emit(UrlResult {
                id,
                fingerprint,
                url: redact(&target.url),
                sources: vec![target.source],
                check,
                duplicate: true,
            });
        }
        self.seen.insert(fingerprint);
        self.in_flight_by_fingerprint.insert(fingerprint, id);
        let host = self.host(&target.url);
        self.pending.insert(
            id,
            Pending {
                display: redact(&target.url),
                sources: vec![target.source],
                fingerprint,
                host: host.clone(),
            },
        );
        let entry = self.hosts.get_mut(&host).expect("just looked up");
        entry.queue.push_back((id, target.url));
        self.queued += 1;
        if !entry.listed && entry.in_flight < self.limits.per_host {
            entry.listed = true;
            self.ready.push_back(host);
        }
        Ok(())
    }

    /// The key of `url`'s host:port, made (and the host registered) only the first time:
    /// most URLs go to a host seen before, and then nothing is allocated.
    fn host(&mut self, url: &Url) -> Arc<str> {
        self.key_buf.clear();
        write_host_key(url, &mut self.key_buf);
        if let Some((key, _)) = self.hosts.get_key_value(self.key_buf.as_str()) {
            return key.clone();
        }
        let key: Arc<str> = Arc::from(self.key_buf.as_str());
        let host = Host {
            in_flight: 0,
            queue: VecDeque::new(),
            gate: Arc::new(HostGate::default()),
            listed: false,
        };
        self.hosts.insert(key.clone(), host);
        key
    }

    /// Starts checks while a global slot is free and some host has a free slot and work.
    fn admit(&mut self) {
        while self.tasks.len() < self.limits.concurrency {
            let Some(key) = self.ready.pop_front() else {
                return;
            };
            let host = self.hosts.get_mut(&key).expect("listed hosts exist");
            let Some((id, url)) = host.queue.pop_front() else {
                host.listed = false;
                continue;
            };
            self.queued -= 1;
            host.in_flight += 1;
            if host.in_flight < self.limits.per_host && !host.queue.is_empty() {
                self.ready.push_back(key);
            } else {
                host.listed = false;
            }
            let checker = self.checker.clone();
            let gate = host.gate.clone();
            self.tasks.spawn(async move {
                let check = AssertUnwindSafe(checker.check(&url, &gate))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| {
                        let error =
                            CheckError::new(ErrorKind::Other, "internal error: the check panicked");
                        Check::not_fetched(Outcome::Error, Some(error))
                    });
                (id, check)
            });
        }
    }

    fn complete(&mut self, id: u64, check: Check) -> io::Result<()> {
        let pending = self
            .pending
            .remove(&id)
            .expect("every task has a pending entry");
        self.in_flight_by_fingerprint.remove(&pending.fingerprint);
        self.seen.complete(pending.fingerprint, &check);
        let host = self.hosts.get_mut(&pending.host).expect("host of a task");
        host.in_flight -= 1;
        if !host.listed && !host.queue.is_empty() {
            host.listed = true;
            self.ready.push_back(pending.host.clone());
        }
        self.emit(UrlResult {
            id,
            fingerprint: pending.fingerprint,
            url: pending.display,
            sources: pending.sources,
            check,
            duplicate: false,
        })
    }
}

/// `host:port`, the unit of politeness.
fn write_host_key(url: &Url, out: &mut String) {
    use std::fmt::Write as _;
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(0);
    let _ = write!(out, "{host}:{port}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_keys_include_default_ports() {
        let k = |s: &str| {
            let mut key = String::new();
            write_host_key(&Url::parse(s).unwrap(), &mut key);
            key
        };
        assert_eq!(k("http://a.test/x"), "a.test:80");
        assert_eq!(k("https://a.test/x"), "a.test:443");
        assert_eq!(k("http://a.test:8080/"), "a.test:8080");
        assert_ne!(k("http://a.test/"), k("https://a.test/"));
    }
}
