//! Scheduling: admits targets under a global limit and a per-host:port limit, asks
//! [`Dedup`] about repeats, and hands every result to a [`Sink`] as it completes, with its
//! [`Order`] among the run's results.
//!
//! One dispatcher task owns all the bookkeeping (no locks on the hot path). A check task is
//! spawned only when both a global and a per-host slot are free; targets whose host is full
//! wait in that host's queue, and the input is read only while those queues are short, so
//! memory follows the concurrency limit and the number of hosts, not the length of the list.
//! The sequential baseline is this same path with one slot.

use std::collections::VecDeque;
use std::collections::{HashMap, HashSet};
use std::io;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures::FutureExt;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::check::{Checker, HostGate, LocalFault};
use crate::config::Limits;
use crate::dedup::{Dedup, Ending, Verdict};
use crate::input::{Batch, Item, Problem, Target};
use crate::model::{Anchors, Check, CheckError, ErrorKind, Order, Outcome, Source, UrlResult};
use crate::sanitize::redact;
use crate::summary::Summary;

mod fragments;

/// Where the scheduler hands results, as they complete.
pub(crate) trait Sink {
    fn result(&mut self, order: Order, result: UrlResult) -> io::Result<()>;
    /// Pushes out what was handed over so far. Called when the scheduler is about to wait,
    /// so a burst of results costs one write, and a lone result is still seen at once.
    fn flush(&mut self) -> io::Result<()>;
    /// A diagnostic for the user (stderr), about the run rather than a URL.
    fn note(&mut self, text: &str);
}

/// A target admitted but not yet reported.
struct Pending {
    display: String,
    sources: Vec<Source>,
    /// Lines that link into the page with a `#fragment` to look for (`--check-fragments`).
    fragments: Vec<(Source, String)>,
    key: u64,
    host: Arc<str>,
}

struct Host {
    in_flight: usize,
    /// Checks in flight at most: `--per-host`, or a host table's `per-host`.
    limit: usize,
    queue: VecDeque<(u64, Url)>,
    gate: Arc<HostGate>,
    /// In the dispatcher's `ready` list.
    listed: bool,
    /// A check of this host was started before: it is one the list comes back to.
    asked: bool,
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
    dedup: Dedup,
    /// With `--check-fragments`: the anchors of each page checked, by its key.
    anchors: HashMap<u64, Arc<Anchors>>,
    /// Pages checked whose every line linked to a missing anchor: no result of the page's own
    /// was reported yet.
    silent: HashSet<u64>,
    queued: usize,
    tasks: JoinSet<(u64, Result<Check, LocalFault>)>,
    /// The checker's descriptor pressure when the dispatcher last looked.
    pressure: u64,
    next_index: u64,
    summary: Summary,
    sink: &'r mut dyn Sink,
}

const TASKS_DO_NOT_FAIL: &str = "check tasks catch their panics and are aborted only at the end";

/// Runs every item from `items` through `checker` under `limits`, handing each result to
/// `sink` as it completes. Returns when the input is exhausted and every check has finished, or when
/// `cancel` fires (in-flight checks are dropped and the summary is marked interrupted).
pub(crate) async fn execute(
    items: mpsc::Receiver<Batch>,
    checker: Arc<Checker>,
    limits: Limits,
    sink: &mut dyn Sink,
    cancel: &CancellationToken,
) -> io::Result<Summary> {
    let started = Instant::now();
    // Enough queued targets to keep every host busy, few enough to be small.
    let max_queued = (limits.concurrency * 4).max(1024);
    let mut d = Dispatcher {
        checker,
        limits,
        hosts: HashMap::new(),
        key_buf: String::new(),
        ready: VecDeque::new(),
        pending: HashMap::new(),
        dedup: Dedup::default(),
        anchors: HashMap::new(),
        silent: HashSet::new(),
        queued: 0,
        tasks: JoinSet::new(),
        pressure: 0,
        next_index: 0,
        summary: Summary::default(),
        sink,
    };
    let mut input = Input {
        rx: items,
        batch: Vec::new().into_iter(),
        open: true,
    };
    loop {
        d.admit();
        if cancel.is_cancelled() {
            d.tasks.abort_all();
            d.summary.interrupted = true;
            break;
        }
        if !input.open && d.tasks.is_empty() {
            debug_assert_eq!(d.queued, 0);
            break;
        }
        let want_input = input.open && d.queued < max_queued;
        if d.step_ready(&mut input, want_input)? {
            continue;
        }
        d.sink.flush()?;
        tokio::select! {
            biased;
            _ = cancel.cancelled() => {}
            Some(joined) = d.tasks.join_next(), if !d.tasks.is_empty() => {
                let (index, check) = joined.expect(TASKS_DO_NOT_FAIL);
                d.complete(index, check)?;
            }
            more = input.rx.recv(), if want_input => match more {
                Some(more) => input.batch = more.into_iter(),
                None => input.open = false,
            },
        }
    }
    d.sink.flush()?;
    d.summary.wall = started.elapsed();
    Ok(d.summary)
}

/// The input side of the dispatcher: the channel, the batch being taken, and whether more
/// may come.
struct Input {
    rx: mpsc::Receiver<Batch>,
    batch: std::vec::IntoIter<Item>,
    open: bool,
}

impl Dispatcher<'_> {
    /// Handles what is ready without waiting: one finished check and one input item (or
    /// batch), so neither starves the other. Whatever is ready is handled before anything is
    /// written out, so a burst of results costs one write. False when nothing was ready.
    fn step_ready(&mut self, input: &mut Input, want_input: bool) -> io::Result<bool> {
        let mut busy = false;
        if let Some(joined) = self.tasks.try_join_next() {
            let (index, check) = joined.expect(TASKS_DO_NOT_FAIL);
            self.complete(index, check)?;
            busy = true;
        }
        if !want_input {
            return Ok(busy);
        }
        if let Some(item) = input.batch.next() {
            self.take(item)?;
            return Ok(true);
        }
        match input.rx.try_recv() {
            Ok(more) => {
                input.batch = more.into_iter();
                Ok(true)
            }
            Err(mpsc::error::TryRecvError::Disconnected) => {
                input.open = false;
                Ok(true)
            }
            Err(mpsc::error::TryRecvError::Empty) => Ok(busy),
        }
    }

    /// Hands on one result, at `index` among the run's results, found again by `key`.
    fn report(
        &mut self,
        index: u64,
        key: Option<u64>,
        url: String,
        sources: Vec<Source>,
        check: Check,
        duplicate: bool,
    ) -> io::Result<()> {
        let result = UrlResult {
            url,
            sources,
            check,
            duplicate,
            history: None,
        };
        self.emit(Order { index, key }, result)
    }

    fn emit(&mut self, order: Order, result: UrlResult) -> io::Result<()> {
        self.summary.record(&result);
        self.sink.result(order, result)
    }

    /// A result for a line that is never fetched.
    fn unfetched(
        &mut self,
        index: u64,
        url: String,
        source: Source,
        check: Check,
    ) -> io::Result<()> {
        self.report(index, None, url, vec![source], check, false)
    }

    fn take(&mut self, item: Item) -> io::Result<()> {
        let index = self.next_index;
        self.next_index += 1;
        match item {
            Item::Invalid {
                text,
                source,
                reason,
            } => {
                let error = CheckError::new(ErrorKind::Input, reason);
                let check = Check::not_fetched(Outcome::Invalid, Some(error));
                self.unfetched(index, text, source, check)
            }
            Item::Skipped {
                url,
                source,
                reason,
            } => {
                let mut check = Check::not_fetched(Outcome::Skipped, None);
                check.warnings.push(reason);
                self.unfetched(index, url, source, check)
            }
            Item::Local {
                url,
                source,
                problem,
            } => self.local(index, url, source, problem),
            Item::Note(text) => {
                self.sink.note(&text);
                Ok(())
            }
            Item::Target(t) => self.target(index, t),
        }
    }

    /// An http(s) URL: checked, joined to its check in flight, or reported as a repeat.
    fn target(&mut self, index: u64, target: Target) -> io::Result<()> {
        // Duplicates are found by the URL as written: credentials included, before --remap.
        let written = target.original.as_ref().unwrap_or(&target.url);
        let verdict = self.dedup.classify(written.as_str(), index);
        let display = redact(written);
        let key = match verdict {
            Verdict::New { key } => key,
            Verdict::InFlight { index: first } => {
                let pending = self.pending.get_mut(&first).expect("in flight");
                match target.fragment {
                    Some(fragment) => pending.fragments.push((target.source, fragment)),
                    None => pending.sources.push(target.source),
                }
                return Ok(());
            }
            Verdict::Done { key, ending } => {
                return match target.fragment {
                    Some(fragment) => {
                        self.fragment_of_done(index, key, ending, display, target.source, fragment)
                    }
                    None => self.line_of_done(index, key, ending, display, target.source),
                };
            }
        };
        let host = self.host(&target.url);
        self.pending.insert(
            index,
            Pending {
                display,
                sources: if target.fragment.is_none() {
                    vec![target.source.clone()]
                } else {
                    Vec::new()
                },
                fragments: target
                    .fragment
                    .map(|f| (target.source, f))
                    .into_iter()
                    .collect(),
                key,
                host: host.clone(),
            },
        );
        let entry = self.hosts.get_mut(&host).expect("just looked up");
        entry.queue.push_back((index, target.url));
        self.queued += 1;
        if !entry.listed && entry.in_flight < entry.limit {
            entry.listed = true;
            self.ready.push_back(host);
        }
        Ok(())
    }

    /// A line whose URL was checked already: reported as a repeat that ended so, unfetched.
    fn repeat(
        &mut self,
        index: u64,
        key: u64,
        ending: Ending,
        url: String,
        source: Source,
    ) -> io::Result<()> {
        self.report(index, Some(key), url, vec![source], ended(ending), true)
    }

    /// A local link, checked on the input thread already: complete the moment it is taken.
    fn local(
        &mut self,
        index: u64,
        url: String,
        source: Source,
        problem: Option<Problem>,
    ) -> io::Result<()> {
        let check = match problem {
            None => Check::not_fetched(Outcome::Up, None),
            Some(Problem::File(message)) => {
                let error = CheckError::new(ErrorKind::File, message);
                Check::not_fetched(Outcome::Error, Some(error))
            }
            Some(Problem::Fragment(message)) => {
                let error = CheckError::new(ErrorKind::Fragment, message);
                Check::not_fetched(Outcome::Error, Some(error))
            }
        };
        match self.dedup.classify(&url, index) {
            Verdict::New { key } => {
                self.dedup.complete(key, &check);
                self.report(index, Some(key), url, vec![source], check, false)
            }
            Verdict::Done { key, ending } => self.repeat(index, key, ending, url, source),
            Verdict::InFlight { index: first } => {
                let pending = self.pending.get_mut(&first).expect("in flight");
                pending.sources.push(source);
                Ok(())
            }
        }
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
        let (limit, interval) = self.checker.host_limits(url);
        // Never more than the run's slots (one, for the sequential baseline); a host split
        // over several shards gets its share of them here.
        let limit = limit.map_or(self.limits.per_host, |n| n.min(self.limits.concurrency));
        let limit = (self.limits.split.as_ref()).map_or(limit, |s| s.plan.per_host(&key, limit));
        // And its share of the host's pace: the pieces' turns together keep the interval.
        let pieces = (self.limits.split.as_ref()).map_or(1, |s| s.plan.pieces(&key));
        let interval = interval.map(|i| i * pieces as u32);
        let host = Host {
            in_flight: 0,
            limit,
            queue: VecDeque::new(),
            gate: Arc::new(HostGate::spaced(interval.unwrap_or_default())),
            listed: false,
            asked: false,
        };
        self.hosts.insert(key.clone(), host);
        key
    }

    /// Starts checks while a global slot is free and some host has a free slot and work.
    fn admit(&mut self) {
        self.fit_descriptors();
        while self.tasks.len() < self.limits.concurrency {
            let Some(key) = self.ready.pop_front() else {
                return;
            };
            let host = self.hosts.get_mut(&key).expect("listed hosts exist");
            let Some((index, url)) = host.queue.pop_front() else {
                host.listed = false;
                continue;
            };
            self.queued -= 1;
            host.in_flight += 1;
            // A connection is worth keeping for a host the list comes back to, or one with
            // more work queued than the checks in flight can take; any other closes with its
            // response, so idle connections do not pile up with the number of hosts.
            let keep = host.asked || host.queue.len() >= host.in_flight;
            host.asked = true;
            if host.in_flight < host.limit && !host.queue.is_empty() {
                self.ready.push_back(key);
            } else {
                host.listed = false;
            }
            let checker = self.checker.clone();
            let gate = host.gate.clone();
            self.tasks.spawn(async move {
                let check = AssertUnwindSafe(checker.check(&url, &gate, keep))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| {
                        let error =
                            CheckError::new(ErrorKind::Other, "internal error: the check panicked");
                        Ok(Check::not_fetched(Outcome::Error, Some(error)))
                    });
                (index, check)
            });
        }
    }

    /// Checks that found no descriptor free since the last look: fewer in flight from now on
    /// (a quarter fewer than are in flight now), said once each time.
    fn fit_descriptors(&mut self) {
        let pressure = self.checker.descriptor_pressure();
        if pressure == self.pressure {
            return;
        }
        self.pressure = pressure;
        let lowered = (self.tasks.len() * 3 / 4).max(1);
        if lowered < self.limits.concurrency {
            self.sink.note(&format!(
                "urlcheck: out of file descriptors with {} checks in flight: lowering the \
                 concurrency to {lowered} (raise the limit with `ulimit -n`)",
                self.tasks.len()
            ));
            self.limits.concurrency = lowered;
        }
    }

    /// A finished check; a run that can go on no longer for want of descriptors stops here.
    fn complete(&mut self, index: u64, check: Result<Check, LocalFault>) -> io::Result<()> {
        let mut check = check.map_err(io::Error::other)?;
        let pending = self
            .pending
            .remove(&index)
            .expect("every task has a pending entry");
        self.dedup.complete(pending.key, &check);
        let host = self.hosts.get_mut(&pending.host).expect("host of a task");
        host.in_flight -= 1;
        if !host.listed && !host.queue.is_empty() {
            host.listed = true;
            self.ready.push_back(pending.host.clone());
        }
        let mut sources = pending.sources;
        let missing =
            self.split_fragments(&mut check, pending.key, pending.fragments, &mut sources);
        for (fragment, lines) in missing {
            self.missing_anchor(index, &pending.display, &fragment, lines, check.clone())?;
        }
        if sources.is_empty() {
            // Every line linked to an anchor the page lacks: those are the results. A line
            // that links to the page alone later reports the page.
            self.silent.insert(pending.key);
            return Ok(());
        }
        self.report(
            index,
            Some(pending.key),
            pending.display,
            sources,
            check,
            false,
        )
    }
}

/// What a repeat of a completed check reports: how it ended, unfetched.
fn ended((outcome, status, error): Ending) -> Check {
    let mut check = Check::not_fetched(outcome, error);
    check.status = status;
    check
}

/// `host:port`, the unit of politeness.
fn write_host_key(url: &Url, out: &mut String) {
    crate::shard::write_key(url, out);
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
