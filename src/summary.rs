//! What a run adds up to: counts per outcome (one per input line), errors per kind, latency
//! percentiles, wall time, and from those the exit code.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::exit::ExitCode;
use crate::model::{ErrorKind, FailOn, Outcome, UrlResult};

/// Latencies are kept in microseconds, up to an hour, with 3 significant digits: a few tens of
/// kilobytes whatever the number of URLs.
const MAX_MICROS: u64 = 3_600_000_000;

#[derive(Debug, Clone)]
pub(crate) struct Summary {
    counts: [u64; 6],
    errors: BTreeMap<ErrorKind, u64>,
    latency: Histogram<u64>,
    /// Wall time of the run.
    pub(crate) wall: Duration,
    /// The run was stopped before every URL was checked.
    pub(crate) interrupted: bool,
    /// The URLs in each history state, when the run keeps a history.
    pub(crate) history: Option<StateCounts>,
    /// Lines whose result fails the run, as `--fail-on` (and the history) decided: the pass
    /// counts them, once the history has had its say.
    pub(crate) failed: u64,
    /// URLs requested (not repeats, not local links), and those of them that failed to
    /// resolve or to connect: when they are all of them, the machine looks offline.
    fetched: u64,
    unreachable: u64,
    /// A `--canary` was up before the run: the network is known to work, whatever failed.
    pub(crate) canary_up: bool,
    /// `--shard`: the items of the whole fleet's inputs; a shard with none of them is not an
    /// empty run when the inputs have some.
    pub(crate) surveyed: u64,
}

/// How many of a run's URLs (not lines: a repeat is one URL) the history found in each
/// state; the JSON report's `summary.history`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct StateCounts {
    /// Failing now, and up (or never checked) before: what `--fail-on new` fails on.
    pub newly_broken: u64,
    pub still: u64,
    pub recovered: u64,
    pub flapping: u64,
    pub steady: u64,
    /// Checked for the first time (and up; failing ones are newly broken).
    pub first: u64,
}

impl Default for Summary {
    fn default() -> Self {
        Summary {
            counts: [0; 6],
            errors: BTreeMap::new(),
            latency: Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid bounds"),
            wall: Duration::ZERO,
            interrupted: false,
            history: None,
            failed: 0,
            fetched: 0,
            unreachable: 0,
            canary_up: false,
            surveyed: 0,
        }
    }
}

impl Summary {
    /// Counts a result once per source line; its latency once (a duplicate was not fetched).
    pub(crate) fn record(&mut self, r: &UrlResult) {
        let lines = r.sources.len() as u64;
        self.counts[r.check.outcome as usize] += lines;
        if let (Outcome::Error, Some(e)) = (r.check.outcome, &r.check.error) {
            *self.errors.entry(e.kind).or_default() += lines;
        }
        // Only requests have a latency: not repeats, and not local links (never fetched).
        if r.fetched() {
            let micros = (r.check.elapsed.as_micros() as u64).clamp(1, MAX_MICROS);
            self.latency.saturating_record(micros);
            self.fetched += 1;
            if r.check.error.as_ref().is_some_and(|e| {
                r.check.outcome == Outcome::Error
                    && matches!(e.kind, ErrorKind::Dns | ErrorKind::Connect)
            }) {
                self.unreachable += 1;
            }
        }
    }

    /// Every URL requested (at least one) failed to resolve or to connect, and no `--canary`
    /// proved the network up: the machine itself looks offline, not the list. A note in
    /// the summary; the exit code is the results' own.
    pub(crate) fn offline_suspected(&self) -> bool {
        !self.canary_up && self.fetched > 0 && self.unreachable == self.fetched
    }

    pub(crate) fn count(&self, outcome: Outcome) -> u64 {
        self.counts[outcome as usize]
    }

    /// Lines accounted for: every outcome.
    pub(crate) fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub(crate) fn errors(&self) -> &BTreeMap<ErrorKind, u64> {
        &self.errors
    }

    /// The latency below which `q` (0..=1) of the fetched URLs fall.
    pub(crate) fn percentile(&self, q: f64) -> Option<Duration> {
        (!self.latency.is_empty()).then(|| Duration::from_micros(self.latency.value_at_quantile(q)))
    }

    pub(crate) fn max(&self) -> Option<Duration> {
        (!self.latency.is_empty()).then(|| Duration::from_micros(self.latency.max()))
    }

    pub(crate) fn urls_per_sec(&self) -> f64 {
        let secs = self.wall.as_secs_f64();
        if secs > 0.0 {
            self.total() as f64 / secs
        } else {
            0.0
        }
    }

    /// The run found no URL at all and `fail_on` says `empty`: a failure with no failed URL,
    /// which every report that gives a verdict must say.
    pub(crate) fn failed_empty(&self, fail_on: FailOn) -> bool {
        self.total() == 0 && self.surveyed == 0 && !self.interrupted && fail_on.fails_empty()
    }

    /// 0 when no result failed the run (by default: none is down, error or invalid), else 1;
    /// also 1 for a run that found no URL at all when `fail_on` says `empty`. What stopped a
    /// run early (a signal) is the caller's to add.
    pub(crate) fn exit_code(&self, fail_on: FailOn) -> ExitCode {
        if self.failed > 0 || self.failed_empty(fail_on) {
            ExitCode::Failures
        } else {
            ExitCode::Success
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Check, CheckError, Source};

    fn result(outcome: Outcome, ms: u64, lines: u64) -> UrlResult {
        let mut check = Check::not_fetched(outcome, None);
        check.elapsed = Duration::from_millis(ms);
        // Fetched: only requests have a latency.
        check.attempts = 1;
        if outcome == Outcome::Error {
            check.error = Some(CheckError {
                kind: ErrorKind::Timeout,
                message: "t".into(),
            });
        }
        UrlResult {
            url: "http://x/".into(),
            sources: (1..=lines)
                .map(|line| Source::line("f".into(), line))
                .collect(),
            check,
            duplicate: false,
            history: None,
        }
    }

    fn default_fail_on() -> FailOn {
        let mut fail_on = FailOn::default();
        for o in [Outcome::Down, Outcome::Error, Outcome::Invalid] {
            fail_on.outcomes.insert(o);
        }
        fail_on
    }

    /// Records `r` and counts it as failed when `fail_on` says so, as a pass does.
    fn add(s: &mut Summary, r: &UrlResult, fail_on: FailOn) {
        s.record(r);
        if fail_on.fails(r) {
            s.failed += r.sources.len() as u64;
        }
    }

    #[test]
    fn counts_lines_and_percentiles() {
        let mut s = Summary::default();
        let fail_on = default_fail_on();
        for ms in 1..=100 {
            add(&mut s, &result(Outcome::Up, ms, 1), fail_on);
        }
        add(&mut s, &result(Outcome::Error, 1000, 2), fail_on);
        assert_eq!(s.total(), 102);
        assert_eq!(s.count(Outcome::Error), 2);
        assert_eq!(s.errors()[&ErrorKind::Timeout], 2);
        let p50 = s.percentile(0.5).unwrap().as_millis();
        assert!((50..=51).contains(&p50), "{p50}");
        assert_eq!(s.max().unwrap().as_millis(), 1000);
        assert_eq!(s.failed, 2);
        assert_eq!(s.exit_code(fail_on), ExitCode::Failures);
        let mut only_down = FailOn::default();
        only_down.outcomes.insert(Outcome::Down);
        let mut judged = Summary::default();
        add(&mut judged, &result(Outcome::Error, 1000, 2), only_down);
        assert_eq!(judged.exit_code(only_down), ExitCode::Success);
    }

    #[test]
    fn an_empty_run_fails_only_when_asked() {
        let empty = Summary::default();
        assert_eq!(empty.exit_code(default_fail_on()), ExitCode::Success);
        let mut strict = default_fail_on();
        strict.outcomes.insert_empty();
        assert_eq!(empty.exit_code(strict), ExitCode::Failures);
        assert_eq!(strict.to_string(), "down,error,invalid,empty");
        let mut s = Summary::default();
        add(&mut s, &result(Outcome::Up, 5, 1), strict);
        assert_eq!(s.exit_code(strict), ExitCode::Success);
    }

    fn failing(kind: ErrorKind) -> UrlResult {
        let mut r = result(Outcome::Error, 5, 1);
        r.check.error = Some(CheckError {
            kind,
            message: "x".into(),
        });
        r
    }

    #[test]
    fn offline_when_every_request_failed_to_resolve_or_connect() {
        let mut s = Summary::default();
        assert!(!s.offline_suspected(), "nothing fetched");
        let mut local = result(Outcome::Error, 5, 1);
        local.check.attempts = 0;
        s.record(&local);
        assert!(!s.offline_suspected(), "a local link is no request");
        s.record(&failing(ErrorKind::Dns));
        s.record(&failing(ErrorKind::Connect));
        assert!(s.offline_suspected());
        let mut proven = s.clone();
        proven.canary_up = true;
        assert!(!proven.offline_suspected(), "a canary was up");
        let mut timed_out = s.clone();
        timed_out.record(&failing(ErrorKind::Timeout));
        assert!(!timed_out.offline_suspected());
        s.record(&result(Outcome::Up, 5, 1));
        assert!(!s.offline_suspected());
    }

    #[test]
    fn all_up_is_success() {
        let mut s = Summary::default();
        add(&mut s, &result(Outcome::Up, 5, 1), default_fail_on());
        assert_eq!(s.exit_code(default_fail_on()), ExitCode::Success);
        assert_eq!(Summary::default().percentile(0.5), None);
    }
}
