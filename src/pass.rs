//! One pass over a list: the scheduler runs it while every stream and the progress bar see
//! each result, and the results the documents need are kept; the pass ends as a [`Run`]. A
//! plain run is one pass with its reporters and report files ([`single`]); `--compare` is two
//! (`compare.rs`).

use std::io::{self, Write};
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Result;
use indicatif::ProgressBar;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::check::Checker;
use crate::config::Config;
use crate::dedup::{Collection, Keep};
use crate::exit::ExitCode;
use crate::history::{Recorder, RunRecord};
use crate::input::{self, Batch, Inputs};
use crate::model::{FailOn, Mode, Order, Outcome, UrlResult};
use crate::report::file::{self, ReportFile};
use crate::report::{
    self, progress_bar, Format, Github, Options, Reporter, Run, RunInfo, Settings, ShardInfo,
    Stdout,
};
use crate::run::{self, Sink};
use crate::shard::{Plan, Sharding};
use crate::summary::Summary;

/// Batches of items waiting between the input thread and the scheduler.
pub(crate) const INPUT_BUFFER: usize = 8;

/// What a run needs, set up before the first request.
pub(crate) struct Setup {
    pub config: Config,
    pub inputs: Inputs,
    /// Report files, their temporary files already created.
    pub files: Vec<ReportFile>,
    pub checker: Arc<Checker>,
    /// Cancelled by a signal or a closed stdout.
    pub cancel: CancellationToken,
    pub stdout: Stdout,
    /// `--history`: the database, opened and read before the first request.
    pub history: Option<Recorder>,
}

/// A plain run (concurrent or sequential): one pass, every reporter, the report files.
pub(crate) async fn single(setup: Setup) -> Result<ExitCode> {
    let Setup {
        config,
        inputs,
        files,
        checker,
        cancel,
        stdout,
        mut history,
    } = setup;
    let total = inputs.count_hint();
    let (tx, rx) = mpsc::channel(INPUT_BUFFER);
    inputs.spawn(tx, Some(checker.fetcher()));
    let stdout = report::make(config.format, stdout, options(&config, config.color));
    let mut reporters = vec![stdout];
    reporters.extend(side_reporters(&config, &files)?);
    let pass = Pass {
        config: &config,
        cancel: &cancel,
        keep: keep(&config),
    };
    let feed = Feed { items: rx, total };
    let run = (pass.run(config.mode, feed, checker, &mut reporters, history.as_mut())).await?;
    note_if_empty(&run, &config);
    reporters.iter_mut().try_for_each(|r| r.finish(&run))?;
    drop(reporters);
    file::commit_all(files)?;
    let code = run.summary.exit_code(config.fail_on);
    Ok(match history {
        Some(recorder) => code.combine(record(recorder, &run, &config).await),
        None => code,
    })
}

/// Writes the run into its history, once its results and report files are out: a run that
/// cannot be recorded (a full disk, a second signal) has lost nothing else, and says what
/// was not recorded (exit 2).
async fn record(recorder: Recorder, run: &Run, config: &Config) -> ExitCode {
    let keep = config.history.as_ref().and_then(|h| h.keep);
    let fragments = config.check.check_fragments;
    record_run(recorder, run, (config.fail_on, fragments), keep).await
}

/// Writes `run` into the history of `recorder`, with what decided its failures (`--fail-on`,
/// `--check-fragments`), forgetting runs older than `keep`.
pub(crate) async fn record_run(
    mut recorder: Recorder,
    run: &Run,
    (fail_on, check_fragments): (FailOn, bool),
    keep: Option<std::time::Duration>,
) -> ExitCode {
    let record = RunRecord {
        finished: run.info.finished_at,
        settings: serde_json::json!({
            "settings": run.info.settings,
            "fail_on": fail_on.to_string(),
            "check_fragments": check_fragments,
        })
        .to_string(),
        counts: Outcome::ALL.map(|o| run.summary.count(o)),
        interrupted: run.summary.interrupted,
    };
    let (recorder, done) = tokio::task::spawn_blocking(move || {
        let done = recorder.commit(&record, keep);
        (recorder, done)
    })
    .await
    .expect("the recording thread does not panic");
    match done {
        Ok(_) => ExitCode::Success,
        Err(e) => {
            let _ = writeln!(
                io::stderr(),
                "urlcheck: --history {}: this run's {} results were not recorded: {e:#} (its \
                 results and report files are complete)",
                recorder.path().display(),
                recorder.len()
            );
            ExitCode::Usage
        }
    }
}

/// `--shard`: surveys the inputs (read once, as the run will read them) and makes the plan that
/// every shard of the fleet makes alike; from then on the inputs give this shard's items only.
pub(crate) async fn plan(config: &mut Config, checker: &Arc<Checker>) -> Result<()> {
    let Some(shard) = config.shard_of else {
        return Ok(());
    };
    let fetch = Some(checker.fetcher());
    let survey = input::survey(&config.inputs, config.rules.clone(), fetch).await?;
    let hosts = survey.hosts.iter().map(|(h, n)| (h.as_str(), *n));
    // A host table's `per-host` caps how many pieces its host is split into, as --per-host
    // caps every host's.
    let limit = |key: &str| {
        let url = url::Url::parse(&format!("http://{key}/")).ok();
        let table = url.and_then(|u| checker.host_limits(&u).0);
        table.unwrap_or(config.per_host)
    };
    let plan = Plan::with_limits(hosts, shard.count, limit);
    // Shards of other --per-host settings make other plans: they are other fleets.
    let settings = crate::shard::hash(&format!("per-host {}", config.per_host));
    let sharding = Arc::new(Sharding {
        shard,
        plan,
        fingerprint: survey.fingerprint ^ settings,
        items: survey.items,
    });
    config.rules.shard = Some(sharding);
    Ok(())
}

/// `urlcheck merge`: results read back from shards' reports, each told its history and judged,
/// to every reporter in order as a run would hand them over; the summary counted from them.
pub(crate) fn replay(
    results: Vec<UrlResult>,
    reporters: &mut [Box<dyn Reporter + '_>],
    history: Option<&mut Recorder>,
    fail_on: FailOn,
) -> io::Result<(Summary, Vec<UrlResult>)> {
    let mut fan = FanOut {
        reporters,
        progress: None,
        collection: Collection::new(Keep::All),
        history,
        fail_on,
        failed: 0,
    };
    let mut summary = Summary::default();
    for (index, result) in results.into_iter().enumerate() {
        summary.record(&result);
        let order = Order {
            index: index as u64,
            key: None,
        };
        fan.result(order, result)?;
    }
    fan.flush()?;
    summary.failed = fan.failed;
    summary.history = fan.history.as_ref().map(|h| h.tally());
    Ok((summary, fan.collection.into_ordered()))
}

/// The input of a pass: batches from the input thread, and how many lines to expect.
pub(crate) struct Feed {
    pub items: mpsc::Receiver<Batch>,
    pub total: Option<u64>,
}

/// What stays the same across the passes of one command.
pub(crate) struct Pass<'a> {
    pub config: &'a Config,
    pub cancel: &'a CancellationToken,
    /// Which results the documents need.
    pub keep: Keep,
}

impl Pass<'_> {
    /// Runs `feed` in `mode`, handing each result to `reporters` as it completes.
    pub(crate) async fn run(
        &self,
        mode: Mode,
        feed: Feed,
        checker: Arc<Checker>,
        reporters: &mut [Box<dyn Reporter + '_>],
        history: Option<&mut Recorder>,
    ) -> Result<Run> {
        let config = self.config;
        let mut fan = FanOut {
            reporters,
            progress: config
                .progress
                .then(|| progress_bar(feed.total, mode.as_str())),
            collection: Collection::new(self.keep),
            history,
            fail_on: config.fail_on,
            failed: 0,
        };
        let started_at = SystemTime::now();
        let limits = config.limits(mode);
        let mut summary = run::execute(feed.items, checker, limits, &mut fan, self.cancel).await?;
        summary.failed = fan.failed;
        summary.surveyed = config.rules.shard.as_ref().map_or(0, |s| s.items);
        // The pass runs only once a canary (if any was given) was up.
        summary.canary_up = !config.canaries.is_empty();
        summary.history = fan.history.as_ref().map(|h| h.tally());
        if let Some(bar) = fan.progress.take() {
            bar.finish_and_clear();
        }
        let info = RunInfo {
            mode,
            started_at,
            finished_at: SystemTime::now(),
            settings: settings(config, mode),
            shard: config.rules.shard.as_ref().map(|s| ShardInfo {
                index: s.shard.index,
                count: s.shard.count,
                fingerprint: format!("{:016x}", s.fingerprint),
            }),
            merged: None,
        };
        Ok(Run {
            info,
            summary,
            results: fan.collection.into_ordered(),
        })
    }
}

/// Says on stderr that the inputs held no URL at all: a run that checked nothing passes
/// silently otherwise (exit 0), which a CI step may want to fail (`--fail-on ...,empty`).
pub(crate) fn note_if_empty(run: &Run, config: &Config) {
    if run.summary.total() > 0 || run.summary.interrupted {
        return;
    }
    if run.summary.surveyed > 0 {
        let _ = writeln!(
            io::stderr(),
            "urlcheck: this shard has none of the inputs' {} items: the other shards check them",
            run.summary.surveyed
        );
        return;
    }
    let what = if config.fail_on.fails_empty() {
        "which --fail-on empty makes a failure"
    } else {
        "add empty to --fail-on to make that a failure"
    };
    let _ = writeln!(
        io::stderr(),
        "urlcheck: no URLs in the input: nothing was checked ({what})"
    );
}

/// What the reporters are told of the user's choices; `color` differs between stdout and
/// report files (never coloured).
pub(crate) fn options(config: &Config, color: bool) -> Options {
    Options {
        quiet: config.quiet,
        verbose: config.verbose,
        color,
        fail_on: config.fail_on,
        history: config.history.is_some(),
        certificates: config.check.cert_expiry.is_some(),
        method: config.check.get_fallback,
    }
}

/// Every result when a document on stdout or in a file lists them all; the failures when only
/// a failure list needs them (human, markdown, sarif, the step summary); else nothing.
fn keep(config: &Config) -> Keep {
    let formats = || std::iter::once(config.format).chain(config.reports.iter().map(|r| r.0));
    let step_summary = config
        .github
        .as_ref()
        .is_some_and(|g| g.step_summary.is_some());
    if formats().any(Format::needs_every_result) {
        Keep::All
    } else if step_summary || formats().any(Format::lists_failures) {
        Keep::Failures(config.fail_on)
    } else {
        Keep::Nothing
    }
}

/// Reporters for the report files and GitHub, besides the one on stdout.
pub(crate) fn side_reporters<'a>(
    config: &Config,
    files: &'a [ReportFile],
) -> Result<Vec<Box<dyn Reporter + 'a>>> {
    let mut list = Vec::new();
    for file in files {
        // `-q` is for what cron mails (stdout); a report file keeps every line.
        let options = Options {
            quiet: false,
            ..options(config, false)
        };
        list.push(report::make(file.format, file.writer()?, options));
    }
    if let Some(gh) = &config.github {
        list.push(Box::new(Github::new(
            io::stderr(),
            gh.step_summary.clone(),
            config.fail_on,
        )) as Box<dyn Reporter>);
    }
    Ok(list)
}

/// The settings a run in `mode` records in its reports (the baseline runs with one slot).
fn settings(config: &Config, mode: Mode) -> Settings {
    let limits = config.limits(mode);
    let c = &config.check;
    Settings {
        concurrency: limits.concurrency,
        per_host: limits.per_host,
        timeout_ms: c.timeout.as_millis(),
        max_time_ms: c.max_time.as_millis(),
        connect_timeout_ms: c.connect_timeout.as_millis(),
        dns_timeout_ms: c.dns_timeout.as_millis(),
        retries: c.retries,
        max_redirects: c.max_redirects,
        accept: c.accept.to_string(),
        method: if c.get_fallback {
            "HEAD,GET".to_owned()
        } else {
            c.method.to_string()
        },
        user_agent: c.user_agent.clone(),
        insecure: c.insecure,
        headers: c.headers.iter().map(|(n, _)| n.to_string()).collect(),
        cert_expiry_ms: c.cert_expiry.map(|d| d.as_millis()),
        canaries: config
            .canaries
            .iter()
            .map(crate::sanitize::redact)
            .collect(),
        config: config.file.as_ref().map(|p| p.display().to_string()),
        host_tables: c.hosts.tables.len(),
        expect_tables: c.expects.tables.len(),
    }
}

/// The pass's side of the scheduler: each result is told its history, judged, goes to every
/// reporter (with the progress bar suspended, so the two never interleave on a terminal),
/// ticks the bar, and is kept.
struct FanOut<'a, 'r> {
    reporters: &'a mut [Box<dyn Reporter + 'r>],
    progress: Option<ProgressBar>,
    collection: Collection,
    history: Option<&'a mut Recorder>,
    fail_on: FailOn,
    /// Lines whose result fails the run.
    failed: u64,
}

impl Sink for FanOut<'_, '_> {
    fn result(&mut self, order: Order, mut result: UrlResult) -> io::Result<()> {
        let lines = result.sources.len() as u64;
        if let Some(history) = self.history.as_deref_mut() {
            history.annotate(&mut result);
        }
        if self.fail_on.fails(&result) {
            self.failed += lines;
        }
        let reporters = &mut *self.reporters;
        let sent = match &self.progress {
            // The line must reach the terminal while the bar is off it: written and flushed
            // inside the suspension (a line flushed later lands on the redrawn bar).
            Some(bar) => {
                let sent = bar.suspend(|| {
                    reporters.iter_mut().try_for_each(|r| {
                        r.result(&result)?;
                        r.flush()
                    })
                });
                bar.inc(lines);
                sent
            }
            None => reporters.iter_mut().try_for_each(|r| r.result(&result)),
        };
        self.collection.push(order, result);
        sent
    }

    fn flush(&mut self) -> io::Result<()> {
        self.reporters.iter_mut().try_for_each(|r| r.flush())
    }

    fn note(&mut self, text: &str) {
        let write = || {
            let _ = writeln!(io::stderr(), "{text}");
        };
        match &self.progress {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}
