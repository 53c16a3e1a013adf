//! urlcheck.toml's `[[host]]` and `[[expect]]` tables, read with serde (unknown keys refused,
//! each with its line) and checked with the command line's own value parsers, into the
//! validated `config::Hosts` and `config::Expects`.

use std::sync::Arc;

use anyhow::{anyhow, Result};
use clap::ValueEnum;
use regex::Regex;
use serde::Deserialize;
use toml::{Spanned, Value};

use super::source::{expand, scalar, File};
use super::{parse_accept, parse_age, parse_duration, parse_header, Method};
use crate::config::{ExpectTable, Expectation, Expects, HostPattern, HostTable, Hosts};

#[derive(Deserialize)]
struct Tables {
    #[serde(default)]
    host: Vec<Spanned<HostToml>>,
    #[serde(default)]
    expect: Vec<Spanned<ExpectToml>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct HostToml {
    #[serde(rename = "match")]
    pattern: Spanned<String>,
    #[serde(default)]
    headers: std::collections::BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(alias = "per_host")]
    per_host: Option<Spanned<Value>>,
    interval: Option<Spanned<Value>>,
    accept: Option<Spanned<Value>>,
    timeout: Option<Spanned<Value>>,
    insecure: Option<bool>,
    cacert: Option<Spanned<Value>>,
    method: Option<Spanned<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ExpectToml {
    #[serde(rename = "match")]
    pattern: Spanned<String>,
    status: Option<Spanned<Value>>,
    #[serde(alias = "body_contains")]
    body_contains: Option<Spanned<String>>,
    #[serde(alias = "body_regex")]
    body_regex: Option<Spanned<String>>,
    #[serde(alias = "max_latency")]
    max_latency: Option<Spanned<Value>>,
    header: Option<Spanned<Value>>,
    #[serde(alias = "cert_expiry")]
    cert_expiry: Option<Spanned<Value>>,
}

/// The tables of the file `name`, whose text is `text`.
pub(super) fn read(name: &str, text: &str) -> Result<(Hosts, Expects)> {
    let file = File {
        name: name.to_owned(),
        text,
    };
    let tables: Tables = toml::from_str(text).map_err(|e| file.syntax(&e))?;
    let hosts = (tables.host.into_iter())
        .map(|t| host(&file, t))
        .collect::<Result<_>>()?;
    let expects = (tables.expect.into_iter())
        .map(|t| expect(&file, t))
        .collect::<Result<_>>()?;
    Ok((Hosts { tables: hosts }, Expects { tables: expects }))
}

impl File<'_> {
    /// `value` read by `parse`, or an error naming its line and `key`.
    fn value<T>(
        &self,
        key: &str,
        value: &Spanned<Value>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T> {
        let text = match value.get_ref() {
            Value::Array(items) => items
                .iter()
                .map(scalar)
                .collect::<Result<Vec<_>, _>>()
                .map(|v| v.join(",")),
            other => scalar(other),
        };
        text.and_then(|t| parse(&t))
            .map_err(|why| anyhow!("{}: {key}: {why}", self.at(value.span().start)))
    }

    /// `value`, when there is one, read by `parse`.
    fn optional<T>(
        &self,
        key: &str,
        value: &Option<Spanned<Value>>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>> {
        value
            .as_ref()
            .map(|v| self.value(key, v, parse))
            .transpose()
    }

    /// One string or an array of them.
    fn strings(&self, key: &str, value: &Spanned<Value>) -> Result<Vec<String>> {
        let items = match value.get_ref() {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        (items.into_iter())
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(anyhow!(
                    "{}: {key}: expected a string, not {}",
                    self.at(value.span().start),
                    other.type_str()
                )),
            })
            .collect()
    }
}

fn host(file: &File, table: Spanned<HostToml>) -> Result<HostTable> {
    let origin: Arc<str> = file.at(table.span().start).into();
    let t = table.into_inner();
    let pattern = t.pattern.get_ref().trim().to_ascii_lowercase();
    let matcher = HostPattern::new(&pattern)
        .map_err(|why| anyhow!("{}: match: {why}", file.at(t.pattern.span().start)))?;
    let mut headers = Vec::with_capacity(t.headers.len());
    for (name, value) in &t.headers {
        let at = file.at(value.span().start);
        let key = format!("headers.{}", name.get_ref());
        let expanded = expand(value.get_ref()).map_err(|why| anyhow!("{at}: {key}: {why}"))?;
        let header = parse_header(&format!("{}: {expanded}", name.get_ref()))
            .map_err(|why| anyhow!("{at}: {key}: {why}"))?;
        headers.push(header);
    }
    let cacert = match &t.cacert {
        Some(v) => file.strings("cacert", v)?,
        None => Vec::new(),
    };
    let cacert: Vec<std::path::PathBuf> = cacert.into_iter().map(Into::into).collect();
    let roots = super::roots(&cacert).map_err(|e| anyhow!("{origin}: cacert: {e:#}"))?;
    Ok(HostTable {
        pattern,
        matcher,
        origin,
        headers,
        per_host: file.optional("per-host", &t.per_host, per_host)?,
        interval: file.optional("interval", &t.interval, parse_duration)?,
        accept: file.optional("accept", &t.accept, parse_accept)?,
        timeout: file.optional("timeout", &t.timeout, parse_duration)?,
        insecure: t.insecure,
        cacert,
        roots,
        method: file.optional("method", &t.method, method)?,
    })
}

fn per_host(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=100_000).contains(&n) => Ok(n),
        _ => Err(format!("expected a number from 1 to 100000, got {text:?}")),
    }
}

fn method(text: &str) -> Result<(reqwest::Method, bool), String> {
    let method = Method::from_str(text, true)
        .map_err(|_| format!("expected get, head or head,get, got {text:?}"))?;
    Ok(super::method_of(method))
}

fn expect(file: &File, table: Spanned<ExpectToml>) -> Result<ExpectTable> {
    let origin: Arc<str> = file.at(table.span().start).into();
    let t = table.into_inner();
    let at = |span: std::ops::Range<usize>| file.at(span.start);
    let pattern = Regex::new(t.pattern.get_ref())
        .map_err(|e| anyhow!("{}: match: not a regex: {e}", at(t.pattern.span())))?;
    let mut expectations = Vec::new();
    if let Some(v) = &t.status {
        expectations.push(Expectation::Status(file.value(
            "status",
            v,
            parse_accept,
        )?));
    }
    if let Some(v) = &t.body_contains {
        expectations.push(Expectation::BodyContains(v.get_ref().clone()));
    }
    if let Some(v) = &t.body_regex {
        let regex = Regex::new(v.get_ref())
            .map_err(|e| anyhow!("{}: body-regex: not a regex: {e}", at(v.span())))?;
        expectations.push(Expectation::BodyRegex(regex));
    }
    if let Some(v) = &t.max_latency {
        let max = file.value("max-latency", v, parse_duration)?;
        expectations.push(Expectation::MaxLatency(max));
    }
    if let Some(v) = &t.header {
        for text in file.strings("header", v)? {
            let (name, value) =
                expected_header(&text).map_err(|why| anyhow!("{}: header: {why}", at(v.span())))?;
            expectations.push(Expectation::Header(name, value));
        }
    }
    if let Some(v) = &t.cert_expiry {
        let within = file.value("cert-expiry", v, parse_age)?;
        expectations.push(Expectation::CertExpiry(within));
    }
    if expectations.is_empty() {
        return Err(anyhow!(
            "{origin}: an [[expect]] table with nothing to expect (status, body-contains, \
             body-regex, max-latency, header or cert-expiry)"
        ));
    }
    Ok(ExpectTable {
        pattern,
        origin,
        expectations,
    })
}

/// `Name` (present) or `Name: value` (equal).
fn expected_header(text: &str) -> Result<(reqwest::header::HeaderName, Option<String>), String> {
    let (name, value) = match text.split_once(':') {
        Some((name, value)) => (name.trim(), Some(value.trim().to_owned())),
        None => (text.trim(), None),
    };
    let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("{name:?} is not a header name"))?;
    Ok((name, value))
}
