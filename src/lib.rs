//! urlcheck: check lists of URLs concurrently, stream the results, and measure the speedup
//! over a sequential baseline that runs the very same checker one URL at a time.
//!
//! The binary is a thin doorway to [`run`]; tests and examples call it (or the pieces below)
//! directly.

pub mod check;
pub mod cli;
pub mod config;
pub mod dedup;
pub mod dns;
pub mod exit;
pub mod fdlimit;
pub mod input;
pub mod report;
pub mod run;
pub mod sanitize;
pub mod signals;
pub mod status;
pub mod summary;

use std::io::{self, Write};
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::{Context, Result};
use tokio::sync::mpsc;

use crate::check::Checker;
use crate::config::{Config, Format, Mode};
use crate::exit::ExitCode;
use crate::input::Inputs;
use crate::report::compare::{self, Half};
use crate::report::file::ReportFile;
use crate::report::github::Github;
use crate::report::{progress_bar, Collect, Reporter, RunInfo, Settings, Stdout, Tee};
use crate::run::Limits;
use crate::signals::Signals;

pub use crate::cli::Cli;

/// Batches of items waiting between the input thread and the scheduler.
const INPUT_BUFFER: usize = 8;

/// Runs urlcheck as the command line asks and returns the exit code. Errors are for
/// "could not run at all" (exit 2); a dead link is a result, not an error.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let mut config = Config::from_cli(cli)?;
    let (fits, limit) = fdlimit::fit(config.concurrency);
    if let Some(limit) = limit {
        let _ = writeln!(
            io::stderr(),
            "urlcheck: lowering --concurrency from {} to {fits}: only {limit} files may be open \
             (raise the limit with `ulimit -n`)",
            config.concurrency
        );
        config.concurrency = fits;
    }
    let inputs = Inputs::open(&config.inputs, config.exclude.clone())?;
    let files = prepare_reports(&config)?;
    let pool = config.per_host.max(1);
    let checker = Arc::new(Checker::new(config.check.clone(), pool)?);
    let signals = Signals::install();
    // A reader that goes away (`| head`) stops the run like a signal, but is no failure:
    // the exit code is then the one the results call for.
    let stdout = Stdout::new(signals.token.clone());
    let code = match config.mode {
        Mode::Concurrent | Mode::Sequential => {
            single(&config, inputs, files, checker, &signals, stdout).await?
        }
        Mode::Compare => compare(&config, inputs, files, checker, &signals, stdout).await?,
    };
    Ok(code.combine(signals.exit_code()))
}

/// The limits a run in `mode` uses: the baseline is the same path with one slot.
pub fn limits_for(config: &Config, mode: Mode) -> Limits {
    match mode {
        Mode::Sequential => Limits::SEQUENTIAL,
        Mode::Concurrent | Mode::Compare => Limits {
            concurrency: config.concurrency,
            per_host: config.per_host,
        },
    }
}

/// Creates every report's temporary file now, so an unwritable folder is exit 2 before any
/// request is sent.
fn prepare_reports(config: &Config) -> Result<Vec<ReportFile>> {
    let mut files: Vec<ReportFile> = Vec::with_capacity(config.reports.len());
    for (format, path) in &config.reports {
        if files.iter().any(|f| f.path() == path.as_path()) {
            anyhow::bail!("--report names {} twice", path.display());
        }
        files.push(ReportFile::prepare(*format, path)?);
    }
    Ok(files)
}

/// Reporters for the report files and GitHub, besides the one on stdout.
fn side_reporters<'a>(
    config: &Config,
    files: &'a [ReportFile],
) -> Result<Vec<Box<dyn Reporter + 'a>>> {
    let mut list = Vec::new();
    for file in files {
        list.push(report::make(file.format, file.writer()?, config, false));
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

/// Puts every report file in place; the first failure is the error.
fn commit_reports(files: Vec<ReportFile>) -> Result<()> {
    for file in files {
        let path = file.path().display().to_string();
        file.commit()
            .with_context(|| format!("cannot write report {path}"))?;
    }
    Ok(())
}

async fn single(
    config: &Config,
    inputs: Inputs,
    files: Vec<ReportFile>,
    checker: Arc<Checker>,
    signals: &Signals,
    stdout: Stdout,
) -> Result<ExitCode> {
    let progress = config
        .progress
        .then(|| progress_bar(inputs.count_hint(), config.mode.as_str()));
    let (tx, rx) = mpsc::channel(INPUT_BUFFER);
    inputs.spawn(tx);
    let mut main = report::make(config.format, stdout, config, config.color);
    let mut side = side_reporters(config, &files)?;
    let mut reporters: Vec<&mut dyn Reporter> = vec![&mut *main];
    reporters.extend(side.iter_mut().map(|r| &mut **r as &mut dyn Reporter));
    let mut tee = Tee {
        reporters,
        progress,
    };
    let started_at = SystemTime::now();
    let limits = limits_for(config, config.mode);
    let summary = run::execute(rx, checker, limits, &mut tee, &signals.token).await?;
    let info = RunInfo {
        mode: config.mode,
        started_at,
        finished_at: SystemTime::now(),
        settings: Settings::new(config, config.mode),
    };
    tee.finish(&info, &summary)?;
    drop(tee);
    drop(side);
    commit_reports(files)?;
    Ok(summary.exit_code(config.fail_on))
}

/// Reads the whole list once (stdin cannot be read twice), then runs it sequentially and
/// concurrently with the same checker settings. Report files describe the concurrent run.
async fn compare(
    config: &Config,
    inputs: Inputs,
    files: Vec<ReportFile>,
    checker: Arc<Checker>,
    signals: &Signals,
    mut stdout: Stdout,
) -> Result<ExitCode> {
    let (tx, mut rx) = mpsc::channel(INPUT_BUFFER);
    inputs.spawn(tx);
    let mut items = Vec::new();
    loop {
        tokio::select! {
            _ = signals.token.cancelled() => break,
            batch = rx.recv() => match batch {
                Some(batch) => items.extend(batch),
                None => break,
            },
        }
    }
    let total = items.len() as u64;
    let mut halves = Vec::with_capacity(2);
    for mode in [Mode::Sequential, Mode::Concurrent] {
        if signals.token.is_cancelled() {
            break;
        }
        // A fresh client per half: the concurrent run must not ride on connections the
        // baseline warmed up.
        let checker = if mode == Mode::Sequential {
            checker.clone()
        } else {
            Arc::new(Checker::new(config.check.clone(), config.per_host.max(1))?)
        };
        let (tx, rx) = mpsc::channel(INPUT_BUFFER);
        let feed = items.clone();
        tokio::spawn(async move {
            for batch in feed.chunks(input::BATCH) {
                if tx.send(batch.to_vec()).await.is_err() {
                    return;
                }
            }
        });
        let mut collect = Collect::default();
        let progress = config
            .progress
            .then(|| progress_bar(Some(total), mode.as_str()));
        let mut tee = Tee {
            reporters: vec![&mut collect],
            progress,
        };
        let started_at = SystemTime::now();
        let summary = run::execute(
            rx,
            checker,
            limits_for(config, mode),
            &mut tee,
            &signals.token,
        )
        .await?;
        let run = RunInfo {
            mode,
            started_at,
            finished_at: SystemTime::now(),
            settings: Settings::new(config, mode),
        };
        tee.finish(&run, &summary)?;
        halves.push(Half {
            run,
            summary,
            results: collect.into_ordered(),
        });
    }
    let code = halves
        .iter()
        .map(|h| h.summary.exit_code(config.fail_on))
        .fold(ExitCode::Success, ExitCode::combine);
    if let Some(last) = halves.last() {
        for mut side in side_reporters(config, &files)? {
            report::replay(&mut *side, &last.results, &last.run, &last.summary)?;
        }
        commit_reports(files)?;
    }
    let mut halves = halves.into_iter();
    match (halves.next(), halves.next()) {
        (Some(seq), Some(con)) => match config.format {
            Format::Json | Format::Jsonl => compare::write_json(&mut stdout, seq, con)?,
            Format::Human => compare::write_table(&mut stdout, &seq, &con)?,
            other => {
                let mut main = report::make(other, &mut stdout, config, config.color);
                report::replay(&mut *main, &con.results, &con.run, &con.summary)?;
            }
        },
        _ => writeln!(stdout, "compare: interrupted before both runs completed")?,
    }
    stdout.flush()?;
    Ok(code)
}
