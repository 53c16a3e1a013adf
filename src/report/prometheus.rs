//! Prometheus text exposition format, for node_exporter's textfile collector: per-URL gauges,
//! run totals by outcome, the run's duration and when it ran.

use std::fmt::Write as _;
use std::time::UNIX_EPOCH;

use super::{Options, Run};
use crate::model::{Outcome, UrlResult};

/// One series per result. Two URLs that differ only in their credentials look alike once
/// redacted, and the format forbids repeating a series: the second and later of them also carry
/// the `source` label (the file:line that lists them), so no result is lost or merged.
struct Series<'a> {
    url: &'a str,
    source: Option<String>,
    up: bool,
    status: u16,
    seconds: f64,
}

impl Series<'_> {
    fn labels(&self) -> String {
        match &self.source {
            None => format!("{{url=\"{}\"}}", escape_label(self.url)),
            Some(source) => format!(
                "{{url=\"{}\",source=\"{}\"}}",
                escape_label(self.url),
                escape_label(source)
            ),
        }
    }
}

fn series<'a>(results: impl Iterator<Item = &'a UrlResult>) -> Vec<Series<'a>> {
    let mut seen = std::collections::HashSet::new();
    results
        .map(|r| Series {
            url: &r.url,
            source: (!seen.insert(r.url.as_str())).then(|| r.sources[0].to_string()),
            up: r.check.outcome == Outcome::Up,
            status: r.check.status.unwrap_or(0),
            seconds: r.check.elapsed.as_secs_f64(),
        })
        .collect()
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
    let url = Series::labels;
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
