//! Reporters: every output format behind one small [`Reporter`] trait, of two kinds.
//!
//! **Streams** see each result as it completes (human lines, jsonl, csv, GitHub annotations).
//! **Documents** are pure functions `render(&Run) -> bytes` over the run's one ordered, merged
//! result list, built once when the run ends (json, junit, markdown, prometheus, sarif; and the
//! human failure list and the GitHub step summary at the end of their streams). Reporters know
//! nothing of the scheduler, the checker or the command line: they read the vocabulary in
//! [`crate::model`], a [`Run`], and their [`Options`].

use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::model::{FailOn, Mode, UrlResult};
use crate::summary::Summary;

pub(crate) mod compare;
mod csv;
pub(crate) mod file;
mod github;
mod human;
mod json;
mod junit;
mod markdown;
mod progress;
mod prometheus;
mod sarif;
mod stdout;

pub(crate) use github::Github;
pub(crate) use progress::progress_bar;
pub(crate) use stdout::Stdout;

/// An output format, for stdout or a report file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Jsonl,
    Junit,
    Markdown,
    Csv,
    Prometheus,
    Sarif,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::Human,
        Format::Json,
        Format::Jsonl,
        Format::Junit,
        Format::Markdown,
        Format::Csv,
        Format::Prometheus,
        Format::Sarif,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Csv => "csv",
            Format::Prometheus => "prometheus",
            Format::Sarif => "sarif",
        }
    }

    /// A document of every result, not only the failures: the run must keep them all.
    pub(crate) fn needs_every_result(self) -> bool {
        matches!(self, Format::Json | Format::Junit | Format::Prometheus)
    }

    /// Ends with a list of the failures (per `--fail-on`): the run must keep those.
    pub(crate) fn lists_failures(self) -> bool {
        matches!(self, Format::Human | Format::Markdown | Format::Sarif)
    }
}

/// What reporters are told about the user's choices.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// `-q`, for the human format on stdout only: nothing when nothing failed, else the
    /// failure list and one summary line. Report files are never quiet.
    pub quiet: bool,
    pub color: bool,
    /// What counts as a failure.
    pub fail_on: FailOn,
}

/// A finished run, as documents render it.
pub(crate) struct Run {
    pub info: RunInfo,
    pub summary: Summary,
    /// In input order, repeats merged. Every result, or only the failures, or none: what the
    /// run's documents need (see [`Format::needs_every_result`], [`Format::lists_failures`]).
    pub results: Vec<UrlResult>,
}

impl Run {
    /// The results that fail the run as `fail_on` says, in input order.
    pub(crate) fn failures(&self, fail_on: FailOn) -> impl Iterator<Item = &UrlResult> {
        self.results.iter().filter(move |r| fail_on.fails(r))
    }
}

/// Facts about a run that every report states.
#[derive(Debug, Clone)]
pub(crate) struct RunInfo {
    pub mode: Mode,
    pub started_at: SystemTime,
    pub finished_at: SystemTime,
    pub settings: Settings,
}

/// The settings a report records, so a reader knows what "down" meant. Header values are
/// never recorded, only their names.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Settings {
    pub concurrency: usize,
    pub per_host: usize,
    pub timeout_ms: u128,
    pub max_time_ms: u128,
    pub connect_timeout_ms: u128,
    pub dns_timeout_ms: u128,
    pub retries: u32,
    pub max_redirects: u32,
    pub accept: String,
    pub method: String,
    pub user_agent: String,
    pub insecure: bool,
    pub headers: Vec<String>,
}

/// Receives results as they complete, then the finished run once. Streams write as results
/// arrive; documents write everything at the end.
pub(crate) trait Reporter {
    fn result(&mut self, _result: &UrlResult) -> io::Result<()> {
        Ok(())
    }

    /// Pushes out what streamed so far.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, run: &Run) -> io::Result<()>;
}

/// The reporter for `format`, writing to `out`.
pub(crate) fn make<'w>(
    format: Format,
    out: impl Write + 'w,
    options: Options,
) -> Box<dyn Reporter + 'w> {
    match format {
        Format::Human => Box::new(human::Human::new(out, options)),
        Format::Jsonl => Box::new(json::Jsonl::new(out)),
        Format::Csv => Box::new(csv::Csv::new(out)),
        Format::Json => Box::new(Document::new(out, options, json::render)),
        Format::Junit => Box::new(Document::new(out, options, junit::render)),
        Format::Markdown => Box::new(Document::new(out, options, markdown::render)),
        Format::Prometheus => Box::new(Document::new(out, options, prometheus::render)),
        Format::Sarif => Box::new(Document::new(out, options, sarif::render)),
    }
}

/// A document format: nothing while results stream, the rendered bytes at the end.
struct Document<W: Write> {
    out: W,
    options: Options,
    render: fn(&Run, Options) -> Vec<u8>,
}

impl<W: Write> Document<W> {
    fn new(out: W, options: Options, render: fn(&Run, Options) -> Vec<u8>) -> Self {
        Document {
            out,
            options,
            render,
        }
    }
}

impl<W: Write> Reporter for Document<W> {
    fn finish(&mut self, run: &Run) -> io::Result<()> {
        let bytes = (self.render)(run, self.options);
        write_flush(&mut self.out, &bytes)
    }
}

/// Feeds a finished run to a reporter as if its results were streaming in (for `--compare`,
/// whose report files describe the concurrent half).
pub(crate) fn replay(reporter: &mut dyn Reporter, run: &Run) -> io::Result<()> {
    run.results.iter().try_for_each(|r| reporter.result(r))?;
    reporter.finish(run)
}

/// Why a result failed, in a few words: the error, or the HTTP status and its reason.
pub(crate) fn failure_reason(r: &UrlResult) -> String {
    let c = &r.check;
    match (&c.error, c.status) {
        (Some(e), _) => format!("{}: {}", e.kind.as_str(), e.message),
        (None, Some(s)) => {
            let reason = reqwest::StatusCode::from_u16(s)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("");
            format!("HTTP {s} {reason}").trim_end().to_string()
        }
        (None, None) => c.outcome.as_str().to_string(),
    }
}

/// `0.4ms`, `12ms`, `1.23s`, `2m05s`: short, and as precise as a person needs.
pub(crate) fn human_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1}ms")
    } else if ms < 1000.0 {
        format!("{ms:.0}ms")
    } else if ms < 60_000.0 {
        format!("{:.2}s", ms / 1000.0)
    } else {
        let secs = d.as_secs();
        format!("{}m{:02}s", secs / 60, secs % 60)
    }
}

/// `1 URL`, `2 URLs`.
pub(crate) fn urls(n: u64) -> String {
    if n == 1 {
        "1 URL".to_string()
    } else {
        format!("{n} URLs")
    }
}

/// RFC 3339 in UTC with milliseconds.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// Writes and flushes the last piece of a report.
pub(crate) fn write_flush(out: &mut dyn Write, bytes: &[u8]) -> io::Result<()> {
    out.write_all(bytes)?;
    out.flush()
}

/// Hand-made runs and results for the formats' unit tests.
#[cfg(test)]
pub(super) mod testing {
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use super::{Options, Run, RunInfo, Settings};
    use crate::model::{Check, CheckError, ErrorKind, FailOn, Mode, Outcome, Source, UrlResult};
    use crate::summary::Summary;

    /// The default `--fail-on`: down, error, invalid.
    pub(crate) fn options() -> Options {
        let mut fail_on = FailOn::default();
        for o in [Outcome::Down, Outcome::Error, Outcome::Invalid] {
            fail_on.outcomes.insert(o);
        }
        Options {
            quiet: false,
            color: false,
            fail_on,
        }
    }

    /// A result for `url` listed at `sources`, with an HTTP `status` or an error of `kind`.
    pub(crate) fn result(
        url: &str,
        outcome: Outcome,
        status: Option<u16>,
        kind: Option<ErrorKind>,
        sources: Vec<Source>,
    ) -> UrlResult {
        let mut check = Check::not_fetched(outcome, kind.map(|k| CheckError::new(k, "it broke")));
        check.status = status;
        check.elapsed = Duration::from_millis(3);
        check.attempts = 1;
        UrlResult {
            url: url.to_string(),
            sources,
            check,
            duplicate: false,
            history: None,
        }
    }

    pub(crate) fn source(file: &str, line: u64, column: Option<u32>) -> Source {
        match column {
            Some(c) => Source::at(Arc::from(file), line, c),
            None => Source::line(Arc::from(file), line),
        }
    }

    /// A finished concurrent run of `results`, counted into its summary.
    pub(crate) fn run(results: Vec<UrlResult>) -> Run {
        let mut summary = Summary::default();
        results.iter().for_each(|r| summary.record(r));
        let started_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        Run {
            info: RunInfo {
                mode: Mode::Concurrent,
                started_at,
                finished_at: started_at + Duration::from_secs(1),
                settings: Settings {
                    concurrency: 4,
                    per_host: 2,
                    timeout_ms: 1000,
                    max_time_ms: 2000,
                    connect_timeout_ms: 500,
                    dns_timeout_ms: 500,
                    retries: 0,
                    max_redirects: 5,
                    accept: "200-299".into(),
                    method: "GET".into(),
                    user_agent: "urlcheck/test".into(),
                    insecure: false,
                    headers: Vec::new(),
                },
            },
            summary,
            results,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Outcome;

    /// Every format that names a source writes a link's column as `file:line:col` (or, in
    /// JSON and SARIF, as a number of its own).
    #[test]
    fn every_format_shows_the_column_of_a_link() {
        let sources = vec![testing::source("docs/a.md", 7, Some(12))];
        let r = testing::result("https://x/y", Outcome::Down, Some(404), None, sources);
        let run = testing::run(vec![r]);
        for format in Format::ALL {
            let mut out = Vec::new();
            let mut reporter = make(format, &mut out, testing::options());
            replay(&mut *reporter, &run).unwrap();
            drop(reporter);
            let text = String::from_utf8(out).unwrap();
            let wanted = match format {
                Format::Json => r#""column": 12"#,
                Format::Jsonl => r#""column":12"#,
                Format::Sarif => r#""startColumn": 12"#,
                // Names a source only to tell two series of one URL apart.
                Format::Prometheus => continue,
                _ => "docs/a.md:7:12",
            };
            assert!(
                text.contains(wanted),
                "{}: no {wanted} in\n{text}",
                format.as_str()
            );
        }
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_micros(420)), "0.4ms");
        assert_eq!(human_duration(Duration::from_millis(12)), "12ms");
        assert_eq!(human_duration(Duration::from_millis(1234)), "1.23s");
        assert_eq!(human_duration(Duration::from_secs(125)), "2m05s");
    }
}
