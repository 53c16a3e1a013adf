//! JSON for machines: `json` is one document rendered when the run ends (results in input
//! order); `jsonl` is one object per URL as it completes, then one summary object. The
//! document, the summary line and the `--compare` document all say who wrote them with the
//! same [`Header`]. Field names are stable; a change that breaks a consumer bumps
//! [`SCHEMA_VERSION`]. With `--history`, each result carries its `history` (serde, from the
//! model) and the summary the run's counts per state; both are absent without it, so adding
//! them broke no consumer.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;

use super::{rfc3339, Options, Reporter, Run, RunInfo, Settings};
use crate::model::{millis, Outcome, UrlResult};
use crate::summary::{StateCounts, Summary};

pub(super) const SCHEMA_VERSION: u32 = 1;

/// Who wrote a report: in the JSON document, the jsonl summary line and the compare document.
#[derive(Debug, Serialize)]
pub(super) struct Header {
    schema_version: u32,
    tool: &'static str,
    version: &'static str,
}

impl Header {
    pub(super) const URLCHECK: Header = Header {
        schema_version: SCHEMA_VERSION,
        tool: "urlcheck",
        version: env!("CARGO_PKG_VERSION"),
    };
}

/// A run's facts, summary and (in a document) results.
#[derive(Debug, Serialize)]
pub(super) struct Document<'a> {
    #[serde(flatten)]
    header: Header,
    started_at: String,
    finished_at: String,
    mode: &'static str,
    interrupted: bool,
    settings: &'a Settings,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<&'a super::ShardInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    merged: Option<&'a super::Merged>,
    summary: SummaryJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    results: Option<&'a [UrlResult]>,
}

impl<'a> Document<'a> {
    fn new(info: &'a RunInfo, summary: &Summary, results: Option<&'a [UrlResult]>) -> Self {
        Document {
            header: Header::URLCHECK,
            started_at: rfc3339(info.started_at),
            finished_at: rfc3339(info.finished_at),
            mode: info.mode.as_str(),
            interrupted: summary.interrupted,
            settings: &info.settings,
            shard: info.shard.as_ref(),
            merged: info.merged.as_ref(),
            summary: SummaryJson::new(summary),
            results,
        }
    }

    /// The whole report of a run.
    pub(super) fn of(run: &'a Run) -> Self {
        Document::new(&run.info, &run.summary, Some(&run.results))
    }
}

/// The summary as JSON reports state it.
#[derive(Debug, Serialize)]
struct SummaryJson {
    total: u64,
    up: u64,
    down: u64,
    error: u64,
    invalid: u64,
    skipped: u64,
    blocked: u64,
    errors_by_kind: BTreeMap<&'static str, u64>,
    latency_ms: Latency,
    wall_ms: f64,
    urls_per_sec: f64,
    /// With `--history`: the URLs in each state.
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<StateCounts>,
    /// Every URL requested failed to resolve or connect (and no --canary was up): present,
    /// and true, only then.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    offline_suspected: bool,
}

#[derive(Debug, Serialize)]
struct Latency {
    p50: Option<f64>,
    p90: Option<f64>,
    p95: Option<f64>,
    p99: Option<f64>,
    max: Option<f64>,
}

impl SummaryJson {
    fn new(s: &Summary) -> SummaryJson {
        let ms = |d: Option<Duration>| d.map(millis);
        SummaryJson {
            total: s.total(),
            up: s.count(Outcome::Up),
            down: s.count(Outcome::Down),
            error: s.count(Outcome::Error),
            invalid: s.count(Outcome::Invalid),
            skipped: s.count(Outcome::Skipped),
            blocked: s.count(Outcome::Blocked),
            errors_by_kind: s.errors().iter().map(|(k, n)| (k.as_str(), *n)).collect(),
            latency_ms: Latency {
                p50: ms(s.percentile(0.50)),
                p90: ms(s.percentile(0.90)),
                p95: ms(s.percentile(0.95)),
                p99: ms(s.percentile(0.99)),
                max: ms(s.max()),
            },
            wall_ms: millis(s.wall),
            urls_per_sec: (s.urls_per_sec() * 100.0).round() / 100.0,
            history: s.history,
            offline_suspected: s.offline_suspected(),
        }
    }
}

/// Pretty JSON and a final newline.
pub(super) fn pretty(value: &impl Serialize) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("reports serialize to JSON");
    bytes.push(b'\n');
    bytes
}

/// `--format json`: one document.
pub(super) fn render(run: &Run, _: Options) -> Vec<u8> {
    pretty(&Document::of(run))
}

/// `--format jsonl`: a line per result as it completes, then a summary line.
pub(super) struct Jsonl<W: Write> {
    out: W,
    line: Vec<u8>,
}

impl<W: Write> Jsonl<W> {
    pub(super) fn new(out: W) -> Self {
        Jsonl {
            out,
            line: Vec::with_capacity(512),
        }
    }

    fn write_line(&mut self, value: &impl Serialize) -> io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, value).map_err(io::Error::other)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }
}

#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    inner: &'a T,
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

    fn finish(&mut self, run: &Run) -> io::Result<()> {
        let summary = Document::new(&run.info, &run.summary, None);
        self.write_line(&Tagged {
            kind: "summary",
            inner: &summary,
        })?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::report::testing::{options, run};
    use crate::report::tests::history_run;

    /// `schema/report.v1.json`, or one of its `$defs`.
    fn validator(def: Option<&str>) -> jsonschema::Validator {
        let schema: Value =
            serde_json::from_str(include_str!("../../schema/report.v1.json")).unwrap();
        let schema = match def {
            None => schema,
            Some(def) => json!({
                "$schema": schema["$schema"],
                "$defs": schema["$defs"],
                "$ref": format!("#/$defs/{def}"),
            }),
        };
        jsonschema::draft202012::new(&schema).expect("the schema compiles")
    }

    fn assert_valid(validator: &jsonschema::Validator, doc: &Value) {
        let errors: Vec<String> = validator
            .iter_errors(doc)
            .map(|e| format!("at {}: {e}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
    }

    #[test]
    fn the_document_carries_each_history_and_the_counts() {
        let doc: Value = serde_json::from_slice(&render(&history_run(), options())).unwrap();
        assert_valid(&validator(None), &doc);
        assert_eq!(
            doc["summary"]["history"],
            json!({"newly_broken": 1, "recovered": 1, "still": 1, "flapping": 1, "steady": 0, "first": 1})
        );
        let long = &doc["results"][0]["history"];
        assert_eq!(long["state"], "still");
        assert_eq!(long["consecutive_failures"], 3);
        assert_eq!(long["failing_since"], "2027-01-15T07:30:00Z");
        assert_eq!(long["last_up"], "2027-01-15T07:15:00Z");
        let back = &doc["results"][3]["history"];
        assert_eq!(back["state"], "recovered");
        assert_eq!(back["failing_since"], Value::Null);
        assert_eq!(back["last_up"], "2027-01-15T08:00:00Z");
    }

    #[test]
    fn without_a_history_there_is_no_history_field() {
        let doc: Value = serde_json::from_slice(&render(&run(Vec::new()), options())).unwrap();
        assert_valid(&validator(None), &doc);
        assert!(doc["summary"].get("history").is_none(), "{doc:#}");
    }

    #[test]
    fn jsonl_lines_with_a_history_match_the_schema() {
        let run = history_run();
        let mut out = Vec::new();
        crate::report::replay(&mut Jsonl::new(&mut out), &run).unwrap();
        let lines: Vec<Value> = out
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        let (results, summary) = (
            validator(Some("jsonl_result")),
            validator(Some("jsonl_summary")),
        );
        for line in &lines[..lines.len() - 1] {
            assert_valid(&results, line);
            assert!(line["history"]["state"].is_string(), "{line}");
        }
        let last = lines.last().unwrap();
        assert_valid(&summary, last);
        assert_eq!(last["summary"]["history"]["newly_broken"], 1);
    }
}
