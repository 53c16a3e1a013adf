//! What runs instead of a check: `urlcheck history`, `urlcheck merge`, `--print-config`, and
//! what urlcheck says about itself, generated from the clap definition so it can never
//! disagree with the flags: shell completions (`urlcheck completions SHELL`) and the man page
//! (`urlcheck man`), both on stdout for the user to install where their system looks.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, Command, HistoryFormat};
use crate::exit::ExitCode;
use crate::history;
use crate::merge;
use crate::report;

/// What runs instead of a check, when something does: a subcommand, or `--print-config`.
pub(crate) async fn instead(cli: &mut Cli) -> Option<Result<ExitCode>> {
    let text = match cli.command.take() {
        Some(Command::Merge(args)) => {
            let merge = args.into_merge();
            return Some(async { merge::run(merge?).await }.await);
        }
        Some(Command::History(args)) if args.format == HistoryFormat::Html => {
            let q = args.into_query();
            history::uptime(&q.db, q.since, q.url.as_deref(), &q.states)
                .map(|page| report::html::history_page(&page))
        }
        Some(Command::History(args)) => {
            return Some(history::show(
                &args.into_query(),
                &mut std::io::stdout().lock(),
            ))
        }
        Some(Command::Completions { shell }) => Ok(completions(shell)),
        Some(Command::Man) => man(),
        None => Ok(cli.printed.take()?.into_bytes()),
    };
    Some(text.and_then(|text| write(&text)))
}

/// Writes `text` to stdout. A closed pipe (`| head`) ends quietly.
fn write(text: &[u8]) -> Result<ExitCode> {
    let out = &mut std::io::stdout().lock();
    match out.write_all(text).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to stdout")
        }
        _ => Ok(ExitCode::Success),
    }
}

/// The completion script for `shell`.
fn completions(shell: Shell) -> Vec<u8> {
    let mut text = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "urlcheck", &mut text);
    text
}

/// The man page, urlcheck(1), in roff.
fn man() -> Result<Vec<u8>> {
    let mut text = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut text)
        .context("cannot render the man page")?;
    Ok(text)
}
