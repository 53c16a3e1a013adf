//! `--compare`: the sequential baseline and the concurrent pool side by side, and the speedup
//! one run has over the other. The reason the tool exists, measured. What goes to stdout is
//! chosen here: the table for people, one JSON document for machines, and any other format
//! rendered from the concurrent half.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use super::json::{pretty, Document, Header};
use super::{human_duration, make, replay, rfc3339, write_flush, Format, Options, Run, RunInfo};
use crate::model::{Outcome, Source};
use crate::summary::Summary;

/// Writes the comparison of the two halves to `out` in `format`.
pub(crate) fn write(
    format: Format,
    out: &mut dyn Write,
    seq: &Run,
    con: &Run,
    options: Options,
) -> io::Result<()> {
    match format {
        Format::Json | Format::Jsonl => write_flush(out, &pretty(&document(seq, con))),
        Format::Human => write_table(out, seq, con),
        other => replay(&mut *make(other, out, options), con),
    }
}

/// A URL whose outcome differs between the halves.
#[derive(Debug, Serialize)]
struct Difference {
    url: String,
    sequential: Outcome,
    concurrent: Outcome,
}

/// Wall time of the baseline over wall time of the pool.
fn speedup(sequential: &Summary, concurrent: &Summary) -> Option<f64> {
    let c = concurrent.wall.as_secs_f64();
    (c > 0.0).then(|| sequential.wall.as_secs_f64() / c)
}

/// URLs whose outcome differs, matched by the line that lists them first (a result's first
/// source is its own), not by the URL as shown: two URLs that differ only in their
/// credentials look alike once redacted.
fn differences(seq: &Run, con: &Run) -> Vec<Difference> {
    let before: HashMap<&Source, Outcome> = seq
        .results
        .iter()
        .map(|r| (&r.sources[0], r.check.outcome))
        .collect();
    con.results
        .iter()
        .filter_map(|r| {
            let was = *before.get(&r.sources[0])?;
            (was != r.check.outcome).then(|| Difference {
                url: r.url.clone(),
                sequential: was,
                concurrent: r.check.outcome,
            })
        })
        .collect()
}

/// The table a person reads.
fn write_table(out: &mut dyn Write, seq: &Run, con: &Run) -> io::Result<()> {
    let (s, c) = (&seq.summary, &con.summary);
    let mut t = String::new();
    let row = |t: &mut String, name: &str, a: String, b: String| {
        let _ = writeln!(t, "{name:<14}{a:>14}{b:>14}");
    };
    let pct = |s: &Summary, q| s.percentile(q).map_or("-".into(), human_duration);
    row(&mut t, "", "sequential".into(), "concurrent".into());
    row(&mut t, "limits", limits(&seq.info), limits(&con.info));
    row(
        &mut t,
        "wall time",
        human_duration(s.wall),
        human_duration(c.wall),
    );
    row(
        &mut t,
        "URLs/s",
        format!("{:.1}", s.urls_per_sec()),
        format!("{:.1}", c.urls_per_sec()),
    );
    row(&mut t, "p50 latency", pct(s, 0.5), pct(c, 0.5));
    row(&mut t, "p95 latency", pct(s, 0.95), pct(c, 0.95));
    for o in Outcome::ALL {
        if s.count(o) + c.count(o) > 0 || matches!(o, Outcome::Up | Outcome::Down | Outcome::Error)
        {
            row(
                &mut t,
                o.as_str(),
                s.count(o).to_string(),
                c.count(o).to_string(),
            );
        }
    }
    match speedup(s, c) {
        Some(x) => {
            let _ = writeln!(
                t,
                "\nspeedup: {x:.1}x ({} -> {})",
                human_duration(s.wall),
                human_duration(c.wall)
            );
        }
        None => t.push_str("\nspeedup: -\n"),
    }
    let diffs = differences(seq, con);
    if diffs.is_empty() {
        t.push_str("every URL had the same outcome in both runs\n");
    } else {
        let _ = writeln!(
            t,
            "outcome differs for {}:",
            super::urls(diffs.len() as u64)
        );
        for d in &diffs {
            let _ = writeln!(
                t,
                "  {}  {} -> {}",
                d.url,
                d.sequential.as_str(),
                d.concurrent.as_str()
            );
        }
    }
    if s.interrupted || c.interrupted {
        t.push_str("interrupted: the numbers above cover only what completed\n");
    }
    write_flush(out, t.as_bytes())
}

fn limits(run: &RunInfo) -> String {
    format!("c={} h={}", run.settings.concurrency, run.settings.per_host)
}

#[derive(Serialize)]
struct CompareDocument<'a> {
    #[serde(flatten)]
    header: Header,
    mode: &'static str,
    started_at: String,
    finished_at: String,
    interrupted: bool,
    speedup: Option<f64>,
    differences: Vec<Difference>,
    sequential: Document<'a>,
    concurrent: Document<'a>,
}

/// Both reports and the speedup in one JSON document.
fn document<'a>(seq: &'a Run, con: &'a Run) -> CompareDocument<'a> {
    CompareDocument {
        header: Header::URLCHECK,
        mode: "compare",
        started_at: rfc3339(seq.info.started_at),
        finished_at: rfc3339(con.info.finished_at),
        interrupted: seq.summary.interrupted || con.summary.interrupted,
        speedup: speedup(&seq.summary, &con.summary).map(|x| (x * 100.0).round() / 100.0),
        differences: differences(seq, con),
        sequential: Document::of(seq),
        concurrent: Document::of(con),
    }
}
