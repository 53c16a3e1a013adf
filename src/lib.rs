//! urlcheck: check lists of URLs concurrently, stream the results, and measure the speedup
//! over a sequential baseline that runs the very same checker one URL at a time.
//!
//! The binary is a thin doorway to [`run`]; tests and examples call it (or the pieces below)
//! directly.

pub mod check;
pub mod cli;
pub mod config;
pub mod dns;
pub mod exit;
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

use anyhow::Result;
use tokio::sync::mpsc;

use crate::check::Checker;
use crate::config::{Config, Format, Mode};
use crate::exit::ExitCode;
use crate::input::Inputs;
use crate::report::compare::{self, Half};
use crate::report::human::Human;
use crate::report::json::{Json, Jsonl};
use crate::report::{progress_bar, Collect, Reporter, RunInfo, Settings, Tee};
use crate::run::Limits;
use crate::signals::Signals;

pub use crate::cli::Cli;

/// Items waiting between the input thread and the scheduler.
const INPUT_BUFFER: usize = 1024;

/// Runs urlcheck as the command line asks and returns the exit code. Errors are for
/// "could not run at all" (exit 2); a dead link is a result, not an error.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let config = Config::from_cli(cli)?;
    let inputs = Inputs::open(&config.inputs)?;
    let pool = config.per_host.max(1);
    let checker = Arc::new(Checker::new(config.check.clone(), pool)?);
    let signals = Signals::install();
    let code = match config.mode {
        Mode::Concurrent | Mode::Sequential => single(&config, inputs, checker, &signals).await?,
        Mode::Compare => compare(&config, inputs, checker, &signals).await?,
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

async fn single(
    config: &Config,
    inputs: Inputs,
    checker: Arc<Checker>,
    signals: &Signals,
) -> Result<ExitCode> {
    let progress = config
        .progress
        .then(|| progress_bar(inputs.count_hint(), config.mode.as_str()));
    let (tx, rx) = mpsc::channel(INPUT_BUFFER);
    inputs.spawn(tx);
    let stdout = io::BufWriter::with_capacity(64 * 1024, io::stdout());
    let mut format: Box<dyn Reporter> = match config.format {
        Format::Human => Box::new(Human::new(stdout, config.quiet, config.color)),
        Format::Json => Box::new(Json::new(stdout)),
        Format::Jsonl => Box::new(Jsonl::new(stdout)),
    };
    let mut tee = Tee {
        reporters: vec![&mut *format],
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
    Ok(summary.exit_code())
}

/// Reads the whole list once (stdin cannot be read twice), then runs it sequentially and
/// concurrently with the same checker settings.
async fn compare(
    config: &Config,
    inputs: Inputs,
    checker: Arc<Checker>,
    signals: &Signals,
) -> Result<ExitCode> {
    let (tx, mut rx) = mpsc::channel(INPUT_BUFFER);
    inputs.spawn(tx);
    let mut items = Vec::new();
    while let Some(item) = rx.recv().await {
        items.push(item);
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
            for item in feed {
                if tx.send(item).await.is_err() {
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
        .map(|h| h.summary.exit_code())
        .fold(ExitCode::Success, ExitCode::combine);
    let mut out = io::stdout().lock();
    let mut halves = halves.into_iter();
    match (halves.next(), halves.next()) {
        (Some(seq), Some(con)) => match config.format {
            Format::Json | Format::Jsonl => compare::write_json(&mut out, seq, con)?,
            Format::Human => compare::write_table(&mut out, &seq, &con)?,
        },
        _ => writeln!(out, "compare: interrupted before both runs completed")?,
    }
    Ok(code)
}

/// Whether an error is stdout having been closed by its reader (`urlcheck ... | head`).
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
