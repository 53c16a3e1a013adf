//! JSON for machines: `json` is one document written when the run ends (results in input
//! order); `jsonl` is one object per URL as it completes, then one summary object.
//! Field names are stable; a change that breaks a consumer bumps [`SCHEMA_VERSION`].

use std::io::{self, Write};

use serde::Serialize;

use super::{rfc3339, write_flush, Collect, Reporter, RunInfo, Settings};
use crate::run::UrlResult;
use crate::summary::{Summary, SummaryJson};

pub const SCHEMA_VERSION: u32 = 1;
pub const TOOL: &str = "urlcheck";

/// The whole JSON report of one run.
#[derive(Debug, Serialize)]
pub struct Document {
    pub schema_version: u32,
    pub tool: &'static str,
    pub version: &'static str,
    pub started_at: String,
    pub finished_at: String,
    pub mode: &'static str,
    pub interrupted: bool,
    pub settings: Settings,
    pub summary: SummaryJson,
    pub results: Vec<UrlResult>,
}

impl Document {
    pub fn new(run: &RunInfo, summary: &Summary, results: Vec<UrlResult>) -> Document {
        Document {
            schema_version: SCHEMA_VERSION,
            tool: TOOL,
            version: env!("CARGO_PKG_VERSION"),
            started_at: rfc3339(run.started_at),
            finished_at: rfc3339(run.finished_at),
            mode: run.mode.as_str(),
            interrupted: summary.interrupted,
            settings: run.settings.clone(),
            summary: summary.to_json(),
            results,
        }
    }
}

/// `--format json`: collects, then writes one document.
pub struct Json<W: Write> {
    out: W,
    collected: Collect,
}

impl<W: Write> Json<W> {
    pub fn new(out: W) -> Self {
        Json {
            out,
            collected: Collect::default(),
        }
    }
}

impl<W: Write> Reporter for Json<W> {
    fn result(&mut self, result: &UrlResult) -> io::Result<()> {
        self.collected.result(result)
    }

    fn finish(&mut self, run: &RunInfo, summary: &Summary) -> io::Result<()> {
        let results = std::mem::take(&mut self.collected).into_ordered();
        let doc = Document::new(run, summary, results);
        let mut bytes = serde_json::to_vec_pretty(&doc).map_err(io::Error::other)?;
        bytes.push(b'\n');
        write_flush(&mut self.out, &bytes)
    }
}

/// `--format jsonl`: a line per result as it completes, then a summary line.
pub struct Jsonl<W: Write> {
    out: W,
    line: Vec<u8>,
}

impl<W: Write> Jsonl<W> {
    pub fn new(out: W) -> Self {
        Jsonl {
            out,
            line: Vec::with_capacity(512),
        }
    }
}

#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    inner: &'a T,
}

#[derive(Serialize)]
struct SummaryLine<'a> {
    schema_version: u32,
    tool: &'static str,
    version: &'static str,
    started_at: String,
    finished_at: String,
    mode: &'static str,
    interrupted: bool,
    settings: &'a Settings,
    summary: SummaryJson,
}

impl<W: Write> Jsonl<W> {
    fn write_line(&mut self, value: &impl Serialize) -> io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, value).map_err(io::Error::other)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }
}

impl<W: Write> Reporter for Jsonl<W> {
    fn result(&mut self, result: &UrlResult) -> io::Result<()> {
        self.write_line(&Tagged {
            kind: "result",
            inner: result,
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self, run: &RunInfo, summary: &Summary) -> io::Result<()> {
        let line = SummaryLine {
            schema_version: SCHEMA_VERSION,
            tool: TOOL,
            version: env!("CARGO_PKG_VERSION"),
            started_at: rfc3339(run.started_at),
            finished_at: rfc3339(run.finished_at),
            mode: run.mode.as_str(),
            interrupted: summary.interrupted,
            settings: &run.settings,
            summary: summary.to_json(),
        };
        self.write_line(&Tagged {
            kind: "summary",
            inner: &line,
        })?;
        self.out.flush()
    }
}
