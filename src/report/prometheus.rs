//! Prometheus text exposition format, for node_exporter's textfile collector: per-URL gauges,
//! run totals by outcome, the run's duration and when it ran.

use std::fmt::Write as _;
use std::time::UNIX_EPOCH;

use super::{Options, Run};
use crate::model::{Outcome, UrlResult};

/// One series per URL label. URLs that differ only in their (redacted) credentials share a
/// label, and the format forbids repeating a series: such a URL counts as up only if every
/// variant was, with the first failing variant's status and the longest duration.
struct Series<'a> {
    url: &'a str,
    up: bool,
    status: u16,
    seconds: f64,
}

fn series<'a>(results: impl Iterator<Item = &'a UrlResult>) -> Vec<Series<'a>> {
    let mut out: Vec<Series> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for r in results {
        let up = r.check.outcome == Outcome::Up;
        let status = r.check.status.unwrap_or(0);
        let seconds = r.check.elapsed.as_secs_f64();
        match index.get(r.url.as_str()) {
            Some(&i) => {
                let s: &mut Series = &mut out[i];
                if s.up && !up {
                    s.status = status;
                }
                s.up &= up;
                s.seconds = s.seconds.max(seconds);
            }
            None => {
                index.insert(r.url.as_str(), out.len());
                out.push(Series {
                    url: &r.url,
                    up,
                    status,
                    seconds,
                });
            }
        }
    }
    out
}

/// `--format prometheus`. Invalid lines are not URLs: they are counted in the totals, not
/// labelled.
pub(super) fn render(run: &Run, _: Options) -> Vec<u8> {
    let s = &run.summary;
    let mut t = String::new();
    let urls = run
        .results
        .iter()
        .filter(|r| r.check.outcome != Outcome::Invalid);
    let results = series(urls);
    let url = |r: &Series| format!("{{url=\"{}\"}}", escape_label(r.url));
    family(
        &mut t,
        "urlcheck_up",
        "Whether the URL was up (1) or not (0) in the last run.",
        &mut results.iter().map(|r| (url(r), u8::from(r.up).to_string())),
    );
    family(
        &mut t,
        "urlcheck_http_status",
        "The final HTTP status of the URL in the last run (0 when there was no HTTP answer).",
        &mut results.iter().map(|r| (url(r), r.status.to_string())),
    );
    family(
        &mut t,
        "urlcheck_duration_seconds",
        "Time spent checking the URL in the last run, all attempts and redirects included.",
        &mut results.iter().map(|r| (url(r), r.seconds.to_string())),
    );
    family(
        &mut t,
        "urlcheck_urls",
        "Input lines by outcome in the last run.",
        &mut Outcome::ALL.iter().map(|o| {
            (
                format!("{{outcome=\"{}\"}}", o.as_str()),
                s.count(*o).to_string(),
            )
        }),
    );
    family(
        &mut t,
        "urlcheck_run_duration_seconds",
        "Wall time of the last run.",
        &mut std::iter::once((String::new(), s.wall.as_secs_f64().to_string())),
    );
    family(
        &mut t,
        "urlcheck_run_interrupted",
        "Whether the last run was stopped before every URL was checked (1) or not (0).",
        &mut std::iter::once((String::new(), u8::from(s.interrupted).to_string())),
    );
    let finished = run
        .info
        .finished_at
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    family(
        &mut t,
        "urlcheck_last_run_timestamp_seconds",
        "When the last run finished, in seconds since the Unix epoch.",
        &mut std::iter::once((String::new(), format!("{finished:.3}"))),
    );
    t.into_bytes()
}

/// One metric family: HELP, TYPE, and a sample per (labels, value).
fn family(
    t: &mut String,
    name: &str,
    help: &str,
    values: &mut dyn Iterator<Item = (String, String)>,
) {
    let _ = writeln!(t, "# HELP {name} {help}\n# TYPE {name} gauge");
    for (labels, value) in values {
        let _ = writeln!(t, "{name}{labels} {value}");
    }
}

/// Label values escape backslash, double quote and line feed (the exposition format's rules).
fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_escaping() {
        assert_eq!(escape_label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label("x\ny"), "x\\ny");
    }
}
