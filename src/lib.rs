//! urlcheck: check lists of URLs concurrently, stream the results, and measure the speedup
//! over a sequential baseline that runs the very same checker one URL at a time.
//!
//! The binary is a thin doorway to [`run`]; tests and examples call it (or the parsers in
//! [`cli`] and [`input`]) directly. `docs/ARCHITECTURE.md` maps the modules.

pub mod cli;
pub mod exit;
pub mod extract;
pub mod history;
pub mod input;
pub mod model;
pub mod shard;

mod canary;
mod check;
mod commands;
mod compare;
mod config;
mod dedup;
mod dump;
mod fdlimit;
mod merge;
mod pass;
mod report;
mod run;
mod sanitize;
mod signals;
mod summary;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use anyhow::Result;

use crate::check::Checker;
use crate::exit::ExitCode;
use crate::history::Recorder;
use crate::input::Inputs;
use crate::model::Mode;
use crate::pass::Setup;
use crate::report::{file, Stdout};
use crate::signals::Signals;

pub use crate::cli::Cli;

/// Runs urlcheck as the command line asks and returns the exit code. Errors are for
/// "could not run at all" (exit 2); a dead link is a result, not an error.
pub async fn run(mut cli: Cli) -> Result<ExitCode> {
    if let Some(done) = commands::instead(&mut cli).await {
        return done;
    }
    // Listening starts before anything is made that a signal must clean up. A second signal
    // exits at once, skipping destructors: the report files' temporary files go first.
    let temps: Arc<Mutex<Vec<PathBuf>>> = Arc::default();
    let signals = Signals::install(file::remover(temps.clone()));
    let mut config = cli.into_config()?;
    config.fit_descriptors();
    let checker = Arc::new(Checker::for_config(&config)?);
    // With --shard, the inputs are read once first, for the plan of the fleet.
    pass::plan(&mut config, &checker).await?;
    let inputs = Inputs::open(&config.inputs, config.rules.clone())?;
    // An unusable database stops the run before its first request; one is not created (or
    // migrated) for a run that cannot start.
    let history = (config.history.as_ref())
        .map(|h| Recorder::open(&h.path, SystemTime::now()))
        .transpose()?;
    // A reader that goes away (`| head`) stops the run like a signal, but is no failure:
    // the exit code is then the one the results call for.
    let stdout = Stdout::new(signals.token.clone());
    if config.rules.dump {
        return dump::run(inputs, &config, stdout, &signals.token).await;
    }
    let files = file::prepare_all(&config.reports)?;
    if let Ok(mut list) = temps.lock() {
        list.extend(files.iter().map(|f| f.temp_path().to_owned()));
    }
    // Before the input thread (it may fetch documents); `files` and `history` drop unwritten.
    if let Some(code) = canary::guard(&config.canaries, &checker, &signals.token).await? {
        return Ok(code.combine(signals.exit_code()));
    }
    let setup = Setup {
        config,
        inputs,
        files,
        checker,
        cancel: signals.token.clone(),
        stdout,
        history,
    };
    let code = match setup.config.mode {
        Mode::Concurrent | Mode::Sequential => pass::single(setup).await?,
        Mode::Compare => compare::run(setup).await?,
    };
    Ok(code.combine(signals.exit_code()))
}
