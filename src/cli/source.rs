//! What the rest of `cli/` reads urlcheck.toml with: the file and its lines (`path:line` of a
//! byte, serde's errors told with the key), its scalars as the command line would write them,
//! `${VAR}` expansion, and what was read ([`Loaded`]) for `Cli::into_config` and
//! `--print-config`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::anyhow;
use toml::Value;

use crate::config::{Expects, Hosts};

/// What was read from urlcheck.toml, for `Cli::into_config` and `--print-config`.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The file as it was named (`urlcheck.toml`, or the `--config` path).
    pub path: Option<PathBuf>,
    pub(crate) hosts: Hosts,
    pub(crate) expects: Expects,
    /// The line of each argument id whose value came from the file.
    pub(crate) lines: BTreeMap<String, usize>,
}

/// The file being read.
pub(crate) struct File<'a> {
    pub name: String,
    pub text: &'a str,
}

impl File<'_> {
    /// `path:line`, of the byte at `at`.
    pub(crate) fn at(&self, at: usize) -> String {
        format!("{}:{}", self.name, line_of(self.text, at))
    }

    /// A file that is no TOML, said with its line.
    pub(crate) fn syntax(&self, e: &toml::de::Error) -> anyhow::Error {
        let message = e.message().trim_end();
        let Some(span) = e.span() else {
            return anyhow!("{}: {message}", self.name);
        };
        let at = self.at(span.start);
        let line = self.text.lines().nth(line_of(self.text, span.start) - 1);
        let key = (line.and_then(|l| l.split_once('=')))
            .map(|(key, _)| key.trim())
            .filter(|key| !key.is_empty() && !key.contains(['[', '{', '"', '\'', ' ']))
            .filter(|key| !message.contains(&format!("`{key}`")));
        match key {
            Some(key) => anyhow!("{at}: {key}: {message}"),
            None => anyhow!("{at}: {message}"),
        }
    }
}

/// The line (from 1) of byte `at` of `text`.
pub(crate) fn line_of(text: &str, at: usize) -> usize {
    1 + text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// A string or a number as the command line would have it.
pub(crate) fn scalar(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Integer(n) => Ok(n.to_string()),
        Value::Float(x) => Ok(x.to_string()),
        other => Err(format!(
            "expected a string or a number, not {}",
            other.type_str()
        )),
    }
}

/// `${VAR}` replaced by the environment's VAR, `$$` by `$`; an unset VAR is an error that
/// names it (and nothing of the value).
pub(crate) fn expand(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if let Some(after) = rest.strip_prefix("$$") {
            out.push('$');
            rest = after;
        } else if let Some(open) = rest.strip_prefix("${") {
            let end = open.find('}').ok_or("a ${ without its closing }")?;
            let var = &open[..end];
            let valid = !var.is_empty()
                && !var.starts_with(|c: char| c.is_ascii_digit())
                && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!("${{{var}}}: not a variable name"));
            }
            match std::env::var(var) {
                Ok(value) => out.push_str(&value),
                Err(_) => return Err(format!("${{{var}}} is not set in the environment")),
            }
            rest = &open[end + 1..];
        } else {
            out.push('$');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}
