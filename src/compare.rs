//! `--compare`: two passes over the same list, sequential then concurrent, with the same
//! checker settings; the comparison goes to stdout and the report files describe the
//! concurrent half.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::check::Checker;
use crate::dedup::Keep;
use crate::exit::ExitCode;
use crate::input::{self, Inputs, Item};
use crate::model::Mode;
use crate::pass::{self, Feed, Pass, Setup, INPUT_BUFFER};
use crate::report::{self, file, Run};

/// Reads the whole list once (stdin cannot be read twice), then runs it sequentially and
/// concurrently.
pub(crate) async fn run(setup: Setup) -> Result<ExitCode> {
    let Setup {
        config,
        inputs,
        files,
        checker,
        cancel,
        mut stdout,
        // clap refuses --history with --compare: one database run for two passes would
        // record each URL twice.
        history: _,
    } = setup;
    let items = read_all(inputs, &checker, &cancel).await;
    let pass = Pass {
        config: &config,
        cancel: &cancel,
        keep: Keep::All,
    };
    let mut halves = Vec::with_capacity(2);
    for mode in [Mode::Sequential, Mode::Concurrent] {
        if cancel.is_cancelled() {
            break;
        }
        // A fresh client per half: the concurrent run must not ride on connections the
        // baseline warmed up.
        let checker = if mode == Mode::Sequential {
            checker.clone()
        } else {
            Arc::new(Checker::for_config(&config)?)
        };
        halves.push(pass.run(mode, feed(&items), checker, &mut [], None).await?);
    }
    if let Some(first) = halves.first() {
        pass::note_if_empty(first, &config);
    }
    let code = halves
        .iter()
        .map(|h| h.summary.exit_code(config.fail_on))
        .fold(ExitCode::Success, ExitCode::combine);
    if let Some(last) = halves.last() {
        write_reports(&config, files, last)?;
    }
    match halves.as_slice() {
        [seq, con] => {
            let options = pass::options(&config, config.color);
            report::compare::write(config.format, &mut stdout, seq, con, options)?;
        }
        _ => writeln!(stdout, "compare: interrupted before both runs completed")?,
    }
    stdout.flush()?;
    Ok(code)
}

/// Every item of the inputs, until they end or the run is cancelled.
async fn read_all(inputs: Inputs, checker: &Arc<Checker>, cancel: &CancellationToken) -> Vec<Item> {
    let (tx, mut rx) = mpsc::channel(INPUT_BUFFER);
    inputs.spawn(tx, Some(checker.fetcher()));
    let mut items = Vec::new();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            batch = rx.recv() => match batch {
                Some(batch) => items.extend(batch),
                None => break,
            },
        }
    }
    items
}

/// The items again, in batches, as the input thread would send them.
fn feed(items: &[Item]) -> Feed {
    let (tx, rx) = mpsc::channel(INPUT_BUFFER);
    let batches: Vec<Vec<Item>> = items.chunks(input::BATCH).map(<[Item]>::to_vec).collect();
    tokio::spawn(async move {
        for batch in batches {
            if tx.send(batch).await.is_err() {
                return;
            }
        }
    });
    Feed {
        items: rx,
        total: Some(items.len() as u64),
    }
}

/// The report files, from the last half that ran.
fn write_reports(
    config: &crate::config::Config,
    files: Vec<file::ReportFile>,
    run: &Run,
) -> Result<()> {
    for mut side in pass::side_reporters(config, &files)? {
        report::replay(&mut *side, run)?;
    }
    file::commit_all(files)
}
