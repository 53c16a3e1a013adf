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

use crate::model::{FailOn, History, Mode, State, UrlResult};
use crate::summary::{StateCounts, Summary};

pub(crate) mod compare;
mod csv;
pub(crate) mod file;
mod github;
pub(crate) mod html;
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
    Html,
}

impl Format {
    pub const ALL: [Format; 9] = [
        Format::Human,
        Format::Json,
        Format::Jsonl,
        Format::Junit,
        Format::Markdown,
        Format::Csv,
        Format::Prometheus,
        Format::Sarif,
        Format::Html,
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
            Format::Html => "html",
        }
    }

    /// A document of every result, not only the failures: the run must keep them all.
    pub(crate) fn needs_every_result(self) -> bool {
        matches!(
            self,
            Format::Json | Format::Junit | Format::Prometheus | Format::Html
        )
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
    /// `-v`, for the human format: a line of phase timings under each result.
    pub verbose: bool,
    pub color: bool,
    /// What counts as a failure.
    pub fail_on: FailOn,
    /// The run keeps a history (`--history`): formats with fixed columns add its own.
    pub history: bool,
    /// The run checks certificates' expiry (`--cert-expiry`): so do they.
    pub certificates: bool,
    /// The run checks with `-X head,get`: formats with fixed columns add the method that
    /// decided each result.
    pub method: bool,
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

    /// The same failures with the newly broken ones first (what a person acts on first),
    /// each group in input order. Without a history, that is input order.
    pub(crate) fn failures_news_first(&self, fail_on: FailOn) -> Vec<&UrlResult> {
        let mut failures: Vec<&UrlResult> = self.failures(fail_on).collect();
        failures.sort_by_key(|r| !is_news(r));
        failures
    }
}

/// The history calls `r` newly broken (failing now, up or never checked before).
pub(crate) fn is_news(r: &UrlResult) -> bool {
    r.history.as_ref().is_some_and(History::is_news)
}

/// What the run history says of a URL, in a few words for people: `newly broken`, `failing 3
/// runs in a row`, `recovered`, `flapping`. Nothing for a URL that is steady, or seen for the
/// first time and up: that is the normal case, and saying it on every line would bury the
/// news.
pub(crate) fn history_note(h: &History) -> Option<String> {
    match h.state {
        State::Flapping if h.is_news() => Some(format!("{NEWLY_BROKEN}, flapping")),
        _ if h.is_news() => Some(NEWLY_BROKEN.to_string()),
        State::Still => Some(streak(h.consecutive_failures)),
        State::Recovered => Some(RECOVERED.to_string()),
        State::Flapping => Some("flapping".to_string()),
        State::First | State::Steady | State::New => None,
    }
}

/// `failing 3 runs in a row`.
fn streak(n: u32) -> String {
    let runs = if n == 1 { "run" } else { "runs" };
    format!("failing {n} {runs} in a row")
}

/// A run's history counts as the summaries say them: newly broken, recovered and still broken
/// always; flapping and first seen when there are any.
pub(crate) fn history_counts(c: &StateCounts) -> Vec<(u64, &'static str)> {
    let mut parts = vec![
        (c.newly_broken, NEWLY_BROKEN),
        (c.recovered, RECOVERED),
        (c.still, "still broken"),
    ];
    if c.flapping > 0 {
        parts.push((c.flapping, "flapping"));
    }
    if c.first > 0 {
        parts.push((c.first, "first seen"));
    }
    parts
}

pub(crate) const NEWLY_BROKEN: &str = "newly broken";
pub(crate) const RECOVERED: &str = "recovered";

/// `3 newly broken, 2 recovered, 5 still broken`.
pub(crate) fn history_counts_text(c: &StateCounts) -> String {
    let parts: Vec<String> = history_counts(c)
        .into_iter()
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    parts.join(", ")
}

/// Facts about a run that every report states.
#[derive(Debug, Clone)]
pub(crate) struct RunInfo {
    pub mode: Mode,
    pub started_at: SystemTime,
    pub finished_at: SystemTime,
    pub settings: Settings,
    /// `--shard`: which shard of how many, and the fingerprint of the inputs.
    pub shard: Option<ShardInfo>,
    /// `urlcheck merge`: the shards this run was merged from.
    pub merged: Option<Merged>,
}

/// A shard's place in its fleet, as its JSON report records it (and `merge` reads it back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub(crate) struct ShardInfo {
    pub index: u32,
    pub count: u32,
    /// The inputs every shard surveyed, as 16 hex digits: shards of other lists differ.
    pub fingerprint: String,
}

/// What a merged run was made of.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Merged {
    pub count: u32,
    pub fingerprint: String,
    /// The shards merged (all of them, unless `--allow-partial` merged fewer).
    pub shards: Vec<u32>,
    /// The shards that were not there (`--allow-partial`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<u32>,
}

/// The settings a report records, so a reader knows what "down" meant. Header values are
/// never recorded, only their names.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
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
    /// `--cert-expiry`, which makes an https URL whose certificate expires within it down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_expiry_ms: Option<u128>,
    /// `--canary` URLs (credentials redacted): none up stops the run before the list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canaries: Vec<String>,
    /// The urlcheck.toml read, as named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// How many `[[host]]` and `[[expect]]` tables it has (what changes verdicts).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub host_tables: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub expect_tables: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
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
        Format::Csv => Box::new(csv::Csv::new(out, &options)),
        Format::Json => Box::new(Document::new(out, options, json::render)),
        Format::Junit => Box::new(Document::new(out, options, junit::render)),
        Format::Markdown => Box::new(Document::new(out, options, markdown::render)),
        Format::Prometheus => Box::new(Document::new(out, options, prometheus::render)),
        Format::Sarif => Box::new(Document::new(out, options, sarif::render)),
        Format::Html => Box::new(Document::new(out, options, html::render)),
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
    if let Some(reason) = &c.reason {
        return match c.status {
            Some(s) => format!("blocked: {reason} (HTTP {s})"),
            None => format!("blocked: {reason}"),
        };
    }
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

/// Where a result was listed, as people read it: `list.txt:3, docs/a.md:7:12`.
pub(crate) fn listed_at(r: &UrlResult) -> String {
    let lines: Vec<String> = r.sources.iter().map(|s| s.to_string()).collect();
    lines.join(", ")
}

/// The final HTTP status, or `-` without one.
pub(crate) fn status_text(r: &UrlResult) -> String {
    r.check.status.map_or("-".to_string(), |s| s.to_string())
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

/// RFC 3339 in UTC to the second, as the run history keeps its times (and JSON writes them).
pub(crate) fn rfc3339_seconds(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
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
    use crate::model::{
        Check, CheckError, ErrorKind, FailOn, History, Mode, Outcome, Source, State, UrlResult,
    };
    use crate::summary::{StateCounts, Summary};

    /// When the hand-made runs start: 2027-01-15T08:00:00Z.
    pub(crate) const STARTED: u64 = 1_800_000_000;

    /// The default `--fail-on`: down, error, invalid.
    pub(crate) fn options() -> Options {
        let mut fail_on = FailOn::default();
        for o in [Outcome::Down, Outcome::Error, Outcome::Invalid] {
            fail_on.outcomes.insert(o);
        }
        Options {
            quiet: false,
            verbose: false,
            color: false,
            fail_on,
            history: false,
            certificates: false,
            method: false,
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

    /// `r` as the run history sees it: in `state`, failing `failures` runs in a row (this
    /// one included), with a failing streak that began a run per failure ago (15 minutes
    /// apart) and an up check just before it (none for a first check that fails).
    pub(crate) fn with_history(mut r: UrlResult, state: State, failures: u32) -> UrlResult {
        let at = |runs_ago: u32| {
            SystemTime::UNIX_EPOCH + Duration::from_secs(STARTED - u64::from(runs_ago) * 900)
        };
        let never_up = state == State::First && failures > 0;
        r.history = Some(History {
            state,
            consecutive_failures: failures,
            failing_since: (failures > 0).then(|| at(failures - 1)),
            last_up: (!never_up).then(|| at(failures)),
        });
        r
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
        summary.history = tally(&results);
        let started_at = SystemTime::UNIX_EPOCH + Duration::from_secs(STARTED);
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
                    cert_expiry_ms: None,
                    canaries: Vec::new(),
                    config: None,
                    host_tables: 0,
                    expect_tables: 0,
                },
                shard: None,
                merged: None,
            },
            summary,
            results,
        }
    }

    /// The history counts of `results`, as the recorder keeps them, when any has a history.
    fn tally(results: &[UrlResult]) -> Option<StateCounts> {
        let mut counts = None;
        for h in results.iter().filter_map(|r| r.history.as_ref()) {
            let c: &mut StateCounts = counts.get_or_insert_with(StateCounts::default);
            match h.state {
                _ if h.is_news() => c.newly_broken += 1,
                State::Still => c.still += 1,
                State::Recovered => c.recovered += 1,
                State::Flapping => c.flapping += 1,
                State::First => c.first += 1,
                State::New | State::Steady => {}
            }
        }
        counts
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

    /// A run the history has seen before: a URL that broke since the last run, one that
    /// has failed for three, one that recovered, one steady, one flapping, one seen first.
    pub(super) fn history_run() -> Run {
        use crate::model::State;
        let at = |line| vec![testing::source("list.txt", line, None)];
        let r = testing::result;
        let h = testing::with_history;
        testing::run(vec![
            h(
                r("https://x/long", Outcome::Down, Some(404), None, at(1)),
                State::Still,
                3,
            ),
            h(
                r("https://x/ok", Outcome::Up, Some(200), None, at(2)),
                State::Steady,
                0,
            ),
            h(
                r("https://x/new", Outcome::Down, Some(500), None, at(3)),
                State::New,
                1,
            ),
            h(
                r("https://x/back", Outcome::Up, Some(200), None, at(4)),
                State::Recovered,
                0,
            ),
            h(
                r("https://x/flap", Outcome::Down, Some(502), None, at(5)),
                State::Flapping,
                2,
            ),
            h(
                r("https://x/fresh", Outcome::Up, Some(200), None, at(6)),
                State::First,
                0,
            ),
        ])
    }

    fn render(format: Format, run: &Run) -> String {
        let mut out = Vec::new();
        let options = Options {
            history: run.summary.history.is_some(),
            ..testing::options()
        };
        let mut reporter = make(format, &mut out, options);
        replay(&mut *reporter, run).unwrap();
        drop(reporter);
        String::from_utf8(out).unwrap()
    }

    /// Every format says which URL broke since the last run, and says nothing of a history
    /// when the run keeps none.
    #[test]
    fn every_format_shows_the_history_state() {
        let run = history_run();
        let mut plain = history_run();
        plain.results.iter_mut().for_each(|r| r.history = None);
        plain.summary.history = None;
        for format in Format::ALL {
            let wanted = match format {
                Format::Json | Format::Sarif => r#""state": "new""#,
                Format::Jsonl => r#""state":"new""#,
                Format::Csv => "https://x/new,down,500,,,3,,1,0,,list.txt:3,false,new,1,",
                Format::Prometheus => r#"urlcheck_history_urls{state="new"} 1"#,
                Format::Human | Format::Junit | Format::Markdown | Format::Html => "newly broken",
            };
            let text = render(format, &run);
            assert!(
                text.contains(wanted),
                "{}: no {wanted} in\n{text}",
                format.as_str()
            );
            let text = render(format, &plain);
            for unwanted in ["history", "newly broken", "state", "consecutive"] {
                assert!(
                    !text.contains(unwanted),
                    "{}: {unwanted} in\n{text}",
                    format.as_str()
                );
            }
        }
    }

    #[test]
    fn history_in_a_few_words() {
        use crate::model::State;
        let note = |state, failures| {
            let r = testing::result("https://x/", Outcome::Down, None, None, Vec::new());
            history_note(&testing::with_history(r, state, failures).history.unwrap())
        };
        assert_eq!(note(State::New, 1).as_deref(), Some("newly broken"));
        assert_eq!(note(State::First, 1).as_deref(), Some("newly broken"));
        assert_eq!(note(State::First, 0), None);
        assert_eq!(note(State::Steady, 0), None);
        assert_eq!(
            note(State::Still, 3).as_deref(),
            Some("failing 3 runs in a row")
        );
        assert_eq!(
            note(State::Still, 2).as_deref(),
            Some("failing 2 runs in a row")
        );
        assert_eq!(note(State::Recovered, 0).as_deref(), Some("recovered"));
        assert_eq!(note(State::Flapping, 0).as_deref(), Some("flapping"));
        assert_eq!(note(State::Flapping, 2).as_deref(), Some("flapping"));
        // A flapping URL that just went down is news: an outage may begin while it flaps.
        assert_eq!(
            note(State::Flapping, 1).as_deref(),
            Some("newly broken, flapping")
        );
        let counts = history_run().summary.history.unwrap();
        assert_eq!(
            history_counts_text(&counts),
            "1 newly broken, 1 recovered, 1 still broken, 1 flapping, 1 first seen"
        );
        let quiet = StateCounts {
            still: 2,
            ..StateCounts::default()
        };
        assert_eq!(
            history_counts_text(&quiet),
            "0 newly broken, 0 recovered, 2 still broken"
        );
    }

    #[test]
    fn newly_broken_failures_come_first_then_input_order() {
        let run = history_run();
        let failures: Vec<&str> = run
            .failures_news_first(testing::options().fail_on)
            .iter()
            .map(|r| r.url.as_str())
            .collect();
        assert_eq!(
            failures,
            ["https://x/new", "https://x/long", "https://x/flap"]
        );
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_micros(420)), "0.4ms");
        assert_eq!(human_duration(Duration::from_millis(12)), "12ms");
        assert_eq!(human_duration(Duration::from_millis(1234)), "1.23s");
        assert_eq!(human_duration(Duration::from_secs(125)), "2m05s");
    }
}
