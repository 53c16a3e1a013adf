//! `--dump`: the links the inputs hold, each with where it is written, and nothing checked:
//! no request is made (but for a remote sitemap's own body) and no local file is looked up.
//! Human lines (`file:line:col  url`), JSON Lines, or one JSON document.

use std::io::Write;
use std::sync::Arc;

use anyhow::{bail, Result};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::check::Checker;
use crate::config::Config;
use crate::exit::ExitCode;
use crate::input::{Inputs, Item};
use crate::model::Source;
use crate::report::{Format, Stdout};
use crate::sanitize::redact;

/// Batches of links waiting to be written, at most.
const INPUT_BUFFER: usize = 8;

/// One occurrence of a link, as dumped.
#[derive(Serialize)]
struct Entry<'a> {
    /// As written (redacted), resolved: a URL, or a local path and fragment.
    url: &'a str,
    /// `url` (requested), `local` (a file), `skipped` or `invalid`.
    kind: &'static str,
    source: &'a Source,
    /// What is requested instead, after `--remap`.
    #[serde(skip_serializing_if = "Option::is_none")]
    requested: Option<String>,
    /// Why a link is skipped or invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

/// Writes every link of `inputs` to `out` as `format` says, until the inputs end or `cancel`.
pub(crate) async fn run(
    inputs: Inputs,
    config: &Config,
    mut out: Stdout,
    cancel: &CancellationToken,
) -> Result<ExitCode> {
    let format = config.format;
    let checker = Arc::new(Checker::for_config(config)?);
    if !matches!(format, Format::Human | Format::Json | Format::Jsonl) {
        bail!(
            "--dump writes human, json or jsonl, not {}",
            format.as_str()
        );
    }
    let (tx, mut rx) = mpsc::channel(INPUT_BUFFER);
    inputs.spawn(tx, Some(checker.fetcher()));
    let mut first = true;
    if format == Format::Json {
        out.write_all(b"{\"links\":[")?;
    }
    loop {
        let batch = tokio::select! {
            _ = cancel.cancelled() => break,
            batch = rx.recv() => match batch {
                Some(batch) => batch,
                None => break,
            },
        };
        for item in &batch {
            write_item(&mut out, format, item, &mut first)?;
        }
    }
    if format == Format::Json {
        out.write_all(b"\n]}\n")?;
    }
    out.flush()?;
    Ok(ExitCode::Success)
}

fn write_item(out: &mut Stdout, format: Format, item: &Item, first: &mut bool) -> Result<()> {
    let shown;
    let entry = match item {
        Item::Target(t) => {
            let mut written = t.original.clone().unwrap_or_else(|| t.url.clone());
            written.set_fragment(t.fragment.as_deref());
            shown = redact(&written);
            Entry {
                url: &shown,
                kind: "url",
                source: &t.source,
                requested: t.original.is_some().then(|| redact(&t.url)),
                reason: None,
            }
        }
        Item::Local { url, source, .. } => entry(url, "local", source, None),
        Item::Skipped {
            url,
            source,
            reason,
        } => entry(url, "skipped", source, Some(reason)),
        Item::Invalid {
            text,
            source,
            reason,
        } => entry(text, "invalid", source, Some(reason)),
        Item::Note(text) => {
            eprintln!("{text}");
            return Ok(());
        }
    };
    match format {
        Format::Human => {
            write!(out, "{}\t{}", entry.source, entry.url)?;
            if let Some(requested) = &entry.requested {
                write!(out, " -> {requested}")?;
            }
            match entry.reason {
                Some(reason) => writeln!(out, "\t({}: {reason})", entry.kind)?,
                None => writeln!(out)?,
            }
        }
        Format::Json => {
            out.write_all(if *first { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut *out, &entry)?;
        }
        _ => {
            serde_json::to_writer(&mut *out, &entry)?;
            out.write_all(b"\n")?;
        }
    }
    *first = false;
    Ok(())
}

fn entry<'a>(
    url: &'a str,
    kind: &'static str,
    source: &'a Source,
    reason: Option<&'a str>,
) -> Entry<'a> {
    Entry {
        url,
        kind,
        source,
        requested: None,
        reason,
    }
}
