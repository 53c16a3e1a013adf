//! urlcheck.toml: found in the current folder (or `--config PATH`, or none with
//! `--no-config`), read with the line of every key, and merged with the command line.
//!
//! The file's top-level keys are the long flags, so they are turned into the arguments the
//! flags would be and parsed by the very same clap definition: one set of value parsers,
//! one set of rules. A key whose flag is on the command line is left out (the command line
//! wins key by key), and so is a switch that conflicts with one given there. Each value is
//! parsed alone first, so that a bad one is reported with its file, line and key before
//! anything runs. The `[[host]]` and `[[expect]]` tables become `config::Hosts` and
//! `config::Expects` (`cli/tables.rs`).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, CommandFactory, FromArgMatches};
use toml::{Spanned, Value};

use super::source::{expand, line_of, scalar, File, Loaded};
use super::{tables, Cli};

/// The file read from the current folder when there is one.
pub const DEFAULT_FILE: &str = "urlcheck.toml";

/// Where the values of `header` and `proxy` may hold `${VAR}`.
const EXPANDED: [&str; 2] = ["header", "proxy"];

/// Flags that are about the file itself, or no setting at all.
const NOT_KEYS: [&str; 5] = ["config", "no-config", "print-config", "help", "version"];

/// Why the command line could not be parsed: clap's own error (it prints usage and exits
/// with 2, or 0 for `--help`), or one in urlcheck.toml.
#[derive(Debug)]
pub enum Failure {
    Clap(clap::Error),
    File(anyhow::Error),
}

/// The command line with urlcheck.toml merged in: the one parse the doorway makes.
pub fn parse_args<I, T>(args: I) -> Result<Cli, Failure>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    // A flag that needs another (--fail-after needs --history) may find it in the file: the
    // merged parse judges that. Any other fault of the command line is clap's to tell.
    let strict = Cli::command().try_get_matches_from(&args);
    let given = match strict {
        Err(e) if e.kind() != clap::error::ErrorKind::MissingRequiredArgument => {
            return Err(Failure::Clap(e))
        }
        Err(_) => Cli::command()
            .ignore_errors(true)
            .try_get_matches_from(&args)
            .map_err(Failure::Clap)?,
        Ok(ref given) => given.clone(),
    };
    let path = match locate(&given) {
        Ok(Some(path)) if given.subcommand().is_none() => path,
        Ok(_) => {
            let given = strict.map_err(Failure::Clap)?;
            return from_matches(&given, Loaded::default()).map_err(Failure::Clap);
        }
        Err(e) => return Err(Failure::File(e)),
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))
        .map_err(Failure::File)?;
    let file = File {
        name: path.display().to_string(),
        text: &text,
    };
    let (arguments, lines) = file.arguments(&given).map_err(Failure::File)?;
    let (hosts, expects) = tables::read(&file.name, &text).map_err(Failure::File)?;
    let merged = merge(&args, arguments);
    let matches = Cli::command()
        .try_get_matches_from(&merged)
        .map_err(|e| Failure::File(together(&file.name, &e)))?;
    let loaded = Loaded {
        path: Some(path),
        hosts,
        expects,
        lines,
    };
    from_matches(&matches, loaded).map_err(Failure::Clap)
}

/// The `Cli` of `matches`, with what the file gave; with `--print-config`, the settings as
/// printed, rendered while the matches still say where each came from.
fn from_matches(matches: &ArgMatches, file: Loaded) -> Result<Cli, clap::Error> {
    let mut cli = Cli::from_arg_matches(matches)?;
    if cli.print_config {
        cli.printed = Some(super::print::render(matches, &file));
    }
    cli.file = file;
    Ok(cli)
}

/// The file to read: `--config`'s (which must exist), else ./urlcheck.toml when there is one.
fn locate(given: &ArgMatches) -> Result<Option<PathBuf>> {
    if given.get_flag("no_config") {
        return Ok(None);
    }
    if let Some(path) = given.get_one::<PathBuf>("config") {
        if !path.is_file() {
            bail!("--config {}: no such file", path.display());
        }
        return Ok(Some(path.clone()));
    }
    Ok(Path::new(DEFAULT_FILE)
        .is_file()
        .then(|| PathBuf::from(DEFAULT_FILE)))
}

/// The file's arguments first, then the command line's: `urlcheck FILE-ARGS... ARGS...`, the
/// file's inputs last (after `--`, unless the command line has one).
fn merge(args: &[OsString], (flags, inputs): (Vec<String>, Vec<String>)) -> Vec<OsString> {
    let mut merged: Vec<OsString> = args.iter().take(1).cloned().collect();
    merged.extend(flags.into_iter().map(OsString::from));
    merged.extend(args.iter().skip(1).cloned());
    if !inputs.is_empty() {
        if !args.iter().any(|a| a == "--") {
            merged.push("--".into());
        }
        merged.extend(inputs.into_iter().map(OsString::from));
    }
    merged
}

/// An error of the file's settings and the command line's together (a flag the file sets
/// needs another), said as clap says it, with the file named.
fn together(name: &str, e: &clap::Error) -> anyhow::Error {
    let said = clap_says(e);
    anyhow!("{name} with the command line: {said} (--no-config leaves the file out)")
}

/// What clap's error says, on one line, without the usage and the advice that follow it.
fn clap_says(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let said: Vec<&str> = (text.lines())
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let said = said.join(" ");
    said.strip_prefix("error: ").unwrap_or(&said).to_owned()
}

type Keys = BTreeMap<Spanned<String>, Spanned<Value>>;

/// Arguments made from the file's top-level keys: the flags, and the inputs.
type Arguments = (Vec<String>, Vec<String>);

impl File<'_> {
    /// The top-level keys as arguments, each checked alone, and the line of each argument id
    /// they set. Keys whose flag the command line gives (or conflicts with) are checked, then
    /// left out.
    fn arguments(&self, given: &ArgMatches) -> Result<(Arguments, BTreeMap<String, usize>)> {
        let keys: Keys = toml::from_str(self.text).map_err(|e| self.syntax(&e))?;
        let cmd = Cli::command();
        let taken = taken(&cmd, given);
        let (mut flags, mut inputs, mut lines) = (Vec::new(), Vec::new(), BTreeMap::new());
        for (key, value) in &keys {
            let name = key.get_ref().replace('_', "-");
            if matches!(name.as_str(), "host" | "expect") {
                continue;
            }
            let at = self.at(key.span().start);
            let arg = (cmd.get_arguments())
                .find(|a| a.get_long() == Some(&name) || (name == "inputs" && a.is_positional()))
                .filter(|_| !NOT_KEYS.contains(&name.as_str()))
                .ok_or_else(|| {
                    anyhow!(
                        "{at}: {}: unknown key (the keys are the long flags of `urlcheck \
                         --help`, and [[host]] and [[expect]] tables)",
                        key.get_ref()
                    )
                })?;
            let id = arg.get_id().as_str();
            let fail = |why: String| anyhow!("{at}: {}: {why}", key.get_ref());
            let raw = values(arg, value.get_ref()).map_err(fail)?;
            let values = expand_all(&name, raw.clone()).map_err(fail)?;
            for (v, raw) in values.iter().zip(&raw).filter(|_| arg.get_long().is_some()) {
                check(&cmd, arg, &name, v).map_err(|why| match v == raw {
                    true => fail(why),
                    // What it says may hold what a variable held.
                    false => {
                        fail("not a valid value once its ${VAR}s are expanded (not shown)".into())
                    }
                })?;
            }
            // Checked whole even so: a file is good or it is not.
            let conflicts = cmd.get_arg_conflicts_with(arg);
            let overridden = std::iter::once(arg)
                .chain(conflicts)
                .any(|a| taken.contains(a.get_id().as_str()));
            if overridden {
                continue;
            }
            lines.insert(id.to_owned(), line_of(self.text, key.span().start));
            match arg.get_long() {
                None => inputs.extend(values),
                Some(long) if arg.get_action().takes_values() => {
                    flags.extend(values.iter().map(|v| format!("--{long}={v}")));
                }
                Some(long) => flags.extend(values.iter().map(|_| format!("--{long}"))),
            }
        }
        Ok(((flags, inputs), lines))
    }
}

/// The argument ids the command line settles: those it gives, those they conflict with (either
/// way round), and the other of a pair that overrides each other.
fn taken(cmd: &clap::Command, given: &ArgMatches) -> std::collections::HashSet<String> {
    let mut taken = std::collections::HashSet::new();
    let on_line = (cmd.get_arguments())
        .filter(|a| given.value_source(a.get_id().as_str()) == Some(ValueSource::CommandLine));
    for arg in on_line {
        taken.insert(arg.get_id().to_string());
        taken.extend(
            cmd.get_arg_conflicts_with(arg)
                .iter()
                .map(|a| a.get_id().to_string()),
        );
        for (one, other) in PAIRS {
            if arg.get_id() == one {
                taken.insert(other.to_owned());
            }
            if arg.get_id() == other {
                taken.insert(one.to_owned());
            }
        }
    }
    taken
}

/// Flags that override each other (clap has no getter for `overrides_with`).
const PAIRS: [(&str, &str); 1] = [("github", "no_github")];

/// The argument values a key's TOML value stands for: a switch's `true` is one (the flag
/// alone), `false` none; a repeatable flag takes an array (or one value); a comma list may be
/// written as an array.
fn values(arg: &Arg, value: &Value) -> Result<Vec<String>, String> {
    if !arg.get_action().takes_values() {
        return match value {
            Value::Boolean(true) => Ok(vec![String::new()]),
            Value::Boolean(false) => Ok(Vec::new()),
            _ => Err("expected true or false".into()),
        };
    }
    match (value, arg.get_action()) {
        (Value::Array(items), ArgAction::Append) => items.iter().map(scalar).collect(),
        (Value::Array(items), _) => {
            let items: Vec<String> = items.iter().map(scalar).collect::<Result<_, _>>()?;
            Ok(vec![items.join(",")])
        }
        (value, _) => Ok(vec![scalar(value)?]),
    }
}

fn expand_all(name: &str, values: Vec<String>) -> Result<Vec<String>, String> {
    if !EXPANDED.contains(&name) {
        return Ok(values);
    }
    values.iter().map(|v| expand(v)).collect()
}

/// Parses one value of `arg` as the command line would, and what `Cli::into_config` checks
/// of it, so a bad value is told with its line. Values of secrets are never shown.
fn check(cmd: &clap::Command, arg: &Arg, name: &str, value: &str) -> Result<(), String> {
    let (Some(long), true) = (arg.get_long(), arg.get_action().takes_values()) else {
        return Ok(());
    };
    let argv = ["urlcheck".to_owned(), format!("--{long}={value}")];
    match cmd.clone().try_get_matches_from(argv) {
        Ok(_) => {}
        // A flag that needs another (--fail-after, --history): judged with the rest later.
        Err(e) if e.kind() == clap::error::ErrorKind::MissingRequiredArgument => {}
        Err(e) => {
            return Err(match std::error::Error::source(&e) {
                Some(why) => why.to_string(),
                None if EXPANDED.contains(&name) => "not a valid value (not shown)".into(),
                None => clap_says(&e),
            })
        }
    }
    super::check_value(name, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_expanded_and_unset_ones_named() {
        std::env::set_var("URLCHECK_UNIT_TOKEN", "t0k");
        assert_eq!(
            expand("Bearer ${URLCHECK_UNIT_TOKEN}").unwrap(),
            "Bearer t0k"
        );
        assert_eq!(
            expand("a$$b $x ${URLCHECK_UNIT_TOKEN}$").unwrap(),
            "a$b $x t0k$"
        );
        let err = expand("${URLCHECK_UNIT_UNSET_VAR}").unwrap_err();
        assert!(
            err.contains("URLCHECK_UNIT_UNSET_VAR") && err.contains("not set"),
            "{err}"
        );
        assert!(expand("${1X}").is_err());
        assert!(expand("${OPEN").is_err());
    }

    #[test]
    fn the_file_goes_first_and_its_inputs_last() {
        let args: Vec<OsString> = ["urlcheck", "-q"].map(OsString::from).into();
        let merged = merge(&args, (vec!["--timeout=3s".into()], vec!["a.txt".into()]));
        assert_eq!(merged, ["urlcheck", "--timeout=3s", "-q", "--", "a.txt"]);
        let args: Vec<OsString> = ["urlcheck", "--"].map(OsString::from).into();
        let merged = merge(&args, (Vec::new(), vec!["-odd".into()]));
        assert_eq!(merged, ["urlcheck", "--", "-odd"]);
    }

    #[test]
    fn lines_count_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
