//! What a run adds up to: counts per outcome (one per input line), errors per kind, latency
//! percentiles, wall time, and from those the exit code.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::check::{millis, ErrorKind, Outcome};
use crate::exit::ExitCode;
use crate::run::UrlResult;
use crate::status::OutcomeSet;

/// Latencies are kept in microseconds, up to an hour, with 3 significant digits: a few tens of
/// kilobytes whatever the number of URLs.
const MAX_MICROS: u64 = 3_600_000_000;

#[derive(Debug, Clone)]
pub struct Summary {
    counts: [u64; 5],
    errors: BTreeMap<ErrorKind, u64>,
    latency: Histogram<u64>,
    /// Wall time of the run.
    pub wall: Duration,
    /// The run was stopped before every URL was checked.
    pub interrupted: bool,
}

impl Default for Summary {
    fn default() -> Self {
        Summary {
            counts: [0; 5],
            errors: BTreeMap::new(),
            latency: Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid bounds"),
            wall: Duration::ZERO,
            interrupted: false,
        }
    }
}

impl Summary {
    /// Counts a result once per source line; its latency once (a duplicate was not fetched).
    pub fn record(&mut self, r: &UrlResult) {
        let lines = r.sources.len() as u64;
        self.counts[r.check.outcome as usize] += lines;
        if let (Outcome::Error, Some(e)) = (r.check.outcome, &r.check.error) {
            *self.errors.entry(e.kind).or_default() += lines;
        }
        if !r.duplicate
            && matches!(
                r.check.outcome,
                Outcome::Up | Outcome::Down | Outcome::Error
            )
        {
            let micros = (r.check.elapsed.as_micros() as u64).clamp(1, MAX_MICROS);
            self.latency.saturating_record(micros);
        }
    }

    pub fn count(&self, outcome: Outcome) -> u64 {
        self.counts[outcome as usize]
    }

    /// Lines accounted for: every outcome.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn errors(&self) -> &BTreeMap<ErrorKind, u64> {
        &self.errors
    }

    /// The latency below which `q` (0..=1) of the fetched URLs fall.
    pub fn percentile(&self, q: f64) -> Option<Duration> {
        (!self.latency.is_empty()).then(|| Duration::from_micros(self.latency.value_at_quantile(q)))
    }

    pub fn max(&self) -> Option<Duration> {
        (!self.latency.is_empty()).then(|| Duration::from_micros(self.latency.max()))
    }

    pub fn urls_per_sec(&self) -> f64 {
        let secs = self.wall.as_secs_f64();
        if secs > 0.0 {
            self.total() as f64 / secs
        } else {
            0.0
        }
    }

    /// 0 when no URL has an outcome in `fail_on` (by default down, error, invalid), else 1.
    /// What stopped a run early (a signal) is the caller's to add.
    pub fn exit_code(&self, fail_on: OutcomeSet) -> ExitCode {
        if fail_on.iter().any(|o| self.count(o) > 0) {
            ExitCode::Failures
        } else {
            ExitCode::Success
        }
    }

    /// The machine-readable form used by the JSON and JSONL reports.
    pub fn to_json(&self) -> SummaryJson {
        let ms = |d: Option<Duration>| d.map(millis);
        SummaryJson {
            total: self.total(),
            up: self.count(Outcome::Up),
            down: self.count(Outcome::Down),
            error: self.count(Outcome::Error),
            invalid: self.count(Outcome::Invalid),
            skipped: self.count(Outcome::Skipped),
            errors_by_kind: self.errors.iter().map(|(k, n)| (k.as_str(), *n)).collect(),
            latency_ms: Latency {
                p50: ms(self.percentile(0.50)),
                p90: ms(self.percentile(0.90)),
                p95: ms(self.percentile(0.95)),
                p99: ms(self.percentile(0.99)),
                max: ms(self.max()),
            },
            wall_ms: millis(self.wall),
            urls_per_sec: (self.urls_per_sec() * 100.0).round() / 100.0,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SummaryJson {
    pub total: u64,
    pub up: u64,
    pub down: u64,
    pub error: u64,
    pub invalid: u64,
    pub skipped: u64,
    pub errors_by_kind: BTreeMap<&'static str, u64>,
    pub latency_ms: Latency,
    pub wall_ms: f64,
    pub urls_per_sec: f64,
}

#[derive(Debug, Serialize)]
pub struct Latency {
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Check, CheckError};
    use crate::input::Source;

    fn result(outcome: Outcome, ms: u64, lines: u64) -> UrlResult {
        let mut check = Check::not_fetched(outcome, None);
        check.elapsed = Duration::from_millis(ms);
        if outcome == Outcome::Error {
            check.error = Some(CheckError {
                kind: ErrorKind::Timeout,
                message: "t".into(),
            });
        }
        UrlResult {
            id: 0,
            fingerprint: 0,
            url: "http://x/".into(),
            sources: (1..=lines)
                .map(|line| Source {
                    file: "f".into(),
                    line,
                })
                .collect(),
            check,
            duplicate: false,
        }
    }

    fn default_fail_on() -> OutcomeSet {
        crate::cli::parse_outcomes("down,error,invalid").unwrap()
    }

    #[test]
    fn counts_lines_and_percentiles() {
        let mut s = Summary::default();
        for ms in 1..=100 {
            s.record(&result(Outcome::Up, ms, 1));
        }
        s.record(&result(Outcome::Error, 1000, 2));
        assert_eq!(s.total(), 102);
        assert_eq!(s.count(Outcome::Error), 2);
        assert_eq!(s.errors()[&ErrorKind::Timeout], 2);
        let p50 = s.percentile(0.5).unwrap().as_millis();
        assert!((50..=51).contains(&p50), "{p50}");
        assert_eq!(s.max().unwrap().as_millis(), 1000);
        assert_eq!(s.exit_code(default_fail_on()), ExitCode::Failures);
        let mut only_down = OutcomeSet::default();
        only_down.insert(Outcome::Down);
        assert_eq!(s.exit_code(only_down), ExitCode::Success);
    }

    #[test]
    fn all_up_is_success() {
        let mut s = Summary::default();
        s.record(&result(Outcome::Up, 5, 1));
        assert_eq!(s.exit_code(default_fail_on()), ExitCode::Success);
        assert_eq!(Summary::default().percentile(0.5), None);
    }
}
