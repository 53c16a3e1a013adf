//! `--print-config`: the settings a run would use, as a urlcheck.toml that says where each
//! value came from (the default, the command line, or the file's line), with every secret
//! masked: header values, and the password of a proxy URL.

use std::fmt::Write;

use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, CommandFactory};
use toml::Value;

use super::source::Loaded;
use super::Cli;
use crate::config::{ExpectTable, Expectation, HostTable};

/// What stands for a secret.
const MASK: &str = "***";

/// The settings of `matches` (the file's arguments merged in) and the file's tables.
pub(super) fn render(matches: &ArgMatches, file: &Loaded) -> String {
    let mut out =
        String::from("# The settings urlcheck would run with (urlcheck --print-config).\n");
    if let Some(path) = &file.path {
        let _ = writeln!(out, "# Read from {}.", path.display());
    }
    let cmd = Cli::command();
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        let Some(key) = arg.get_long().or(arg.is_positional().then_some("inputs")) else {
            continue;
        };
        if matches!(
            key,
            "config" | "no-config" | "print-config" | "help" | "version"
        ) {
            continue;
        }
        let from = match (matches.value_source(id), file.lines.get(id)) {
            (_, Some(line)) => format!(
                "{}:{line}",
                file.path.as_deref().unwrap_or("?".as_ref()).display()
            ),
            (Some(ValueSource::CommandLine), None) => "command line".into(),
            (Some(ValueSource::EnvVariable), None) => "environment".into(),
            (Some(ValueSource::DefaultValue), None) => "default".into(),
            _ => {
                let _ = writeln!(out, "# {key}: not set");
                continue;
            }
        };
        let raw: Vec<String> = (matches.get_raw(id).into_iter().flatten())
            .map(|v| v.to_string_lossy().into_owned())
            .map(|v| masked(key, v))
            .collect();
        let _ = writeln!(out, "{key} = {}  # {from}", value(arg, &raw));
    }
    for table in &file.hosts.tables {
        host(&mut out, table);
    }
    for table in &file.expects.tables {
        expect(&mut out, table);
    }
    out
}

/// The TOML value of an argument's raw values: a switch's boolean, a repeatable flag's
/// array, a number as a number.
fn value(arg: &Arg, raw: &[String]) -> Value {
    if !arg.get_action().takes_values() {
        return Value::Boolean(raw.first().is_some_and(|v| v == "true"));
    }
    if matches!(arg.get_action(), clap::ArgAction::Append) {
        return Value::Array(raw.iter().cloned().map(Value::String).collect());
    }
    let one = raw.join(",");
    match one.parse::<i64>() {
        Ok(n) if !one.starts_with('0') || one == "0" => Value::Integer(n),
        _ => Value::String(one),
    }
}

/// A header's value, or a URL's password, masked.
fn masked(key: &str, value: String) -> String {
    match key {
        "header" => match value.split_once(':') {
            Some((name, _)) => format!("{name}: {MASK}"),
            None => MASK.into(),
        },
        "proxy" => match url::Url::parse(&value) {
            Ok(url) => crate::sanitize::redact(&url),
            Err(_) => MASK.into(),
        },
        // A URL's password (a canary's, a --base-url's), as in every output.
        _ => match url::Url::parse(&value) {
            Ok(url) if url.password().is_some() => crate::sanitize::redact(&url),
            _ => value,
        },
    }
}

fn host(out: &mut String, t: &HostTable) {
    let _ = writeln!(out, "\n[[host]]  # {}", t.origin);
    let _ = writeln!(out, "match = {}", Value::String(t.pattern.clone()));
    if !t.headers.is_empty() {
        let names: Vec<String> = (t.headers.iter())
            .map(|(name, _)| format!("{} = \"{MASK}\"", Value::String(name.to_string())))
            .collect();
        let _ = writeln!(out, "headers = {{ {} }}", names.join(", "));
    }
    let duration =
        |d: std::time::Duration| Value::String(humantime::format_duration(d).to_string());
    let mut line = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            let _ = writeln!(out, "{key} = {value}");
        }
    };
    line("per-host", t.per_host.map(|n| Value::Integer(n as i64)));
    line("interval", t.interval.map(duration));
    line(
        "accept",
        t.accept.as_ref().map(|a| Value::String(a.to_string())),
    );
    line("timeout", t.timeout.map(duration));
    line("insecure", t.insecure.map(Value::Boolean));
    if !t.cacert.is_empty() {
        let paths = t
            .cacert
            .iter()
            .map(|p| Value::String(p.display().to_string()));
        line("cacert", Some(Value::Array(paths.collect())));
    }
    line(
        "method",
        t.method.as_ref().map(|(m, fallback)| {
            Value::String(match (m.as_str(), fallback) {
                (_, true) => "head,get".into(),
                (m, false) => m.to_ascii_lowercase(),
            })
        }),
    );
}

fn expect(out: &mut String, t: &ExpectTable) {
    let _ = writeln!(out, "\n[[expect]]  # {}", t.origin);
    let _ = writeln!(
        out,
        "match = {}",
        Value::String(t.pattern.as_str().to_owned())
    );
    let duration = |d: &std::time::Duration| humantime::format_duration(*d).to_string();
    let mut headers = Vec::new();
    for e in &t.expectations {
        let value = match e {
            Expectation::Status(set) => set.to_string(),
            Expectation::BodyContains(text) => text.clone(),
            Expectation::BodyRegex(regex) => regex.as_str().to_owned(),
            Expectation::MaxLatency(d) | Expectation::CertExpiry(d) => duration(d),
            Expectation::Header(name, value) => {
                headers.push(Value::String(match value {
                    Some(v) => format!("{name}: {v}"),
                    None => name.to_string(),
                }));
                continue;
            }
        };
        let _ = writeln!(out, "{} = {}", e.key(), Value::String(value));
    }
    if !headers.is_empty() {
        let _ = writeln!(out, "header = {}", Value::Array(headers));
    }
}
