//! Reporters: every output format sees the same stream of results and then the summary.
//! One file per format behind the small [`Reporter`] trait.

use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Format, Mode};
use crate::run::UrlResult;
use crate::summary::Summary;

pub mod compare;
pub mod csv;
pub mod file;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod prometheus;

/// The reporter for `format`, writing to `out`.
pub fn make<'w>(
    format: Format,
    out: impl Write + 'w,
    config: &Config,
    color: bool,
) -> Box<dyn Reporter + 'w> {
    match format {
        Format::Human => Box::new(human::Human::new(out, config.quiet, color, config.fail_on)),
        Format::Json => Box::new(json::Json::new(out)),
        Format::Jsonl => Box::new(json::Jsonl::new(out)),
        Format::Junit => Box::new(junit::Junit::new(out, config.fail_on)),
        Format::Markdown => Box::new(markdown::Markdown::new(out, config.fail_on)),
        Format::Csv => Box::new(csv::Csv::new(out)),
        Format::Prometheus => Box::new(prometheus::Prometheus::new(out)),
    }
}

/// Feeds finished results to a reporter as if they were streaming in (for `--compare`,
/// whose report files describe the concurrent half).
pub fn replay(
    reporter: &mut dyn Reporter,
    results: &[UrlResult],
    run: &RunInfo,
    summary: &Summary,
) -> io::Result<()> {
    results.iter().try_for_each(|r| reporter.result(r))?;
    reporter.finish(run, summary)
}

/// Why a result failed, in a few words: the error, or the HTTP status and its reason.
pub fn failure_reason(r: &UrlResult) -> String {
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

/// stdout, whose reader may go away (`urlcheck big.txt | head`): a broken pipe stops the run
/// (report files are still written, marked interrupted) and later output is dropped quietly.
pub struct Stdout {
    inner: io::BufWriter<io::Stdout>,
    closed: bool,
    cancel: CancellationToken,
}

impl Stdout {
    pub fn new(cancel: CancellationToken) -> Stdout {
        Stdout {
            inner: io::BufWriter::with_capacity(64 * 1024, io::stdout()),
            closed: false,
            cancel,
        }
    }

    fn guard<T>(&mut self, done: T, result: io::Result<T>) -> io::Result<T> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                self.cancel.cancel();
                Ok(done)
            }
            other => other,
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let result = self.inner.write(buf);
        self.guard(buf.len(), result)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let result = self.inner.flush();
        self.guard((), result)
    }
}

/// Receives results as they complete, then the summary once.
pub trait Reporter {
    fn result(&mut self, result: &UrlResult) -> io::Result<()>;
    fn finish(&mut self, run: &RunInfo, summary: &Summary) -> io::Result<()>;
    /// Pushes out what streamed so far. The scheduler calls it when it is about to wait, so
    /// a burst of results costs one write, and a lone result is still seen at once.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Facts about a run that every report states.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub mode: Mode,
    pub started_at: SystemTime,
    pub finished_at: SystemTime,
    pub settings: Settings,
}

/// The settings a report records, so a reader knows what "down" meant. Header values are
/// never recorded, only their names.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub concurrency: usize,
    pub per_host: usize,
    pub timeout_ms: u128,
    pub connect_timeout_ms: u128,
    pub retries: u32,
    pub max_redirects: u32,
    pub accept: String,
    pub method: String,
    pub user_agent: String,
    pub insecure: bool,
    pub headers: Vec<String>,
}

impl Settings {
    /// The settings of a run in `mode` (the baseline runs with one slot).
    pub fn new(config: &Config, mode: Mode) -> Settings {
        let limits = crate::limits_for(config, mode);
        let c = &config.check;
        Settings {
            concurrency: limits.concurrency,
            per_host: limits.per_host,
            timeout_ms: c.timeout.as_millis(),
            connect_timeout_ms: c.connect_timeout.as_millis(),
            retries: c.retries,
            max_redirects: c.max_redirects,
            accept: c.accept.to_string(),
            method: c.method.to_string(),
            user_agent: c.user_agent.clone(),
            insecure: c.insecure,
            headers: c.headers.iter().map(|(n, _)| n.to_string()).collect(),
        }
    }
}

/// Results kept for a report that needs them all (input order, merging duplicates).
#[derive(Default)]
pub struct Collect {
    pub results: Vec<UrlResult>,
}

impl Reporter for Collect {
    fn result(&mut self, result: &UrlResult) -> io::Result<()> {
        self.results.push(result.clone());
        Ok(())
    }

    fn finish(&mut self, _: &RunInfo, _: &Summary) -> io::Result<()> {
        Ok(())
    }
}

impl Collect {
    /// Results in input order; a duplicate line reported after its URL had completed is
    /// merged into that URL's result as another source.
    pub fn into_ordered(self) -> Vec<UrlResult> {
        let mut results = self.results;
        results.sort_by_key(|r| r.id);
        let mut index = std::collections::HashMap::new();
        let mut merged: Vec<UrlResult> = Vec::with_capacity(results.len());
        for r in results {
            if r.duplicate {
                if let Some(&i) = index.get(&r.fingerprint) {
                    let first: &mut UrlResult = &mut merged[i];
                    first.sources.extend(r.sources);
                    continue;
                }
            } else if r.fingerprint != 0 {
                index.insert(r.fingerprint, merged.len());
            }
            merged.push(r);
        }
        for r in &mut merged {
            r.sources
                .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        }
        merged
    }
}

/// Fans results out to several reporters and ticks the progress bar. Lines written while
/// the bar is drawn suspend it, so the two never interleave on a terminal.
pub struct Tee<'a> {
    pub reporters: Vec<&'a mut dyn Reporter>,
    pub progress: Option<ProgressBar>,
}

impl Reporter for Tee<'_> {
    fn result(&mut self, result: &UrlResult) -> io::Result<()> {
        let lines = result.sources.len() as u64;
        let reporters = &mut self.reporters;
        let mut send = || reporters.iter_mut().try_for_each(|r| r.result(result));
        match &self.progress {
            Some(bar) => {
                let outcome = bar.suspend(send);
                bar.inc(lines);
                outcome
            }
            None => send(),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.reporters.iter_mut().try_for_each(|r| r.flush())
    }

    fn finish(&mut self, run: &RunInfo, summary: &Summary) -> io::Result<()> {
        if let Some(bar) = self.progress.take() {
            bar.finish_and_clear();
        }
        self.reporters
            .iter_mut()
            .try_for_each(|r| r.finish(run, summary))
    }
}

/// A progress bar on stderr (done/total, rate, ETA); a spinner with a count when the total
/// is unknown (stdin).
pub fn progress_bar(total: Option<u64>, label: &str) -> ProgressBar {
    let bar = match total {
        Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()).with_style(
            ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {per_sec} ETA {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        ),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
            ProgressStyle::with_template("{prefix:>10} {spinner} {pos} checked {per_sec}")
                .expect("valid template"),
        ),
    };
    bar.set_prefix(label.to_owned());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// `0.4ms`, `12ms`, `1.23s`, `2m05s`: short, and as precise as a person needs.
pub fn human_duration(d: Duration) -> String {
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
pub fn urls(n: u64) -> String {
    if n == 1 {
        "1 URL".to_string()
    } else {
        format!("{n} URLs")
    }
}

/// RFC 3339 in UTC with milliseconds.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// Writes and flushes the last piece of a report.
pub fn write_flush(out: &mut dyn Write, bytes: &[u8]) -> io::Result<()> {
    out.write_all(bytes)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_micros(420)), "0.4ms");
        assert_eq!(human_duration(Duration::from_millis(12)), "12ms");
        assert_eq!(human_duration(Duration::from_millis(1234)), "1.23s");
        assert_eq!(human_duration(Duration::from_secs(125)), "2m05s");
    }
}
