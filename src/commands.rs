//! The subcommands: `urlcheck history`, and what urlcheck says about itself, generated from
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

/// Runs the subcommand, writing to stdout. A closed pipe (`| head`) ends quietly.
pub(crate) fn run(command: Command) -> Result<ExitCode> {
    let out = &mut std::io::stdout().lock();
    let text = match command {
        Command::History(args) => return history::show(&args.into_query(), out),
        Command::Completions { shell } => completions(shell),
        Command::Man => man()?,
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
