//! The subcommands: `urlcheck history`, `--print-config`, and what urlcheck says about itself, generated from
//! the clap definition so it can never disagree with the flags: shell completions (`urlcheck
//! completions SHELL`) and the man page (`urlcheck man`), both on stdout for the user to
//! install where their system looks.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, Command};
use crate::exit::ExitCode;
use crate::history;

/// What runs instead of a check, when something does: a subcommand, or `--print-config`.
pub(crate) fn instead(cli: &mut Cli) -> Option<Result<ExitCode>> {
    if let Some(command) = cli.command.take() {
        return Some(run(Some(command), Vec::new()));
    }
    cli.printed.take().map(|text| run(None, text.into_bytes()))
}

/// Runs the subcommand, or writes `text`, to stdout. A closed pipe (`| head`) ends quietly.
fn run(command: Option<Command>, text: Vec<u8>) -> Result<ExitCode> {
    let out = &mut std::io::stdout().lock();
    let text = match command {
        Some(Command::History(args)) => return history::show(&args.into_query(), out),
        Some(Command::Completions { shell }) => completions(shell),
        Some(Command::Man) => man()?,
        None => text,
    };
    match out.write_all(&text).and_then(|()| out.flush()) {
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
