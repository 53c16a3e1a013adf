//! Prometheus text exposition format, for node_exporter's textfile collector: per-URL gauges,
//! run totals by outcome, the run's duration and when it ran, when each https URL's
//! certificate expires; with `--history`, each URL's
//! failing streak and when it was last up, and the URLs in each history state.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Options, Run};
use crate::model::{History, Outcome, Timings, UrlResult};
use crate::summary::StateCounts;

/// One series per result. Two URLs that differ only in their credentials look alike once
/// redacted, and the format forbids repeating a series: the second and later of them also carry
/// the `source` label (the file:line that lists them), so no result is lost or merged.
struct Series<'a> {
    url: &'a str,
    source: Option<String>,
    up: bool,
    status: u16,
    seconds: f64,
    history: Option<History>,
    /// When its certificate expires, for an https URL that answered.
    cert_expiry: Option<SystemTime>,
    /// Where its final request's time went, when it was fetched.
    timings: Option<Timings>,
}

impl Series<'_> {
    fn labels(&self) -> String {
        self.labels_and("")
    }

    /// The series' labels and `more` (written `,name="value"`, already escaped).
    fn labels_and(&self, more: &str) -> String {
        match &self.source {
            None => format!("{{url=\"{}\"{more}}}", escape_label(self.url)),
            Some(source) => format!(
                "{{url=\"{}\",source=\"{}\"{more}}}",
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
            history: r.history,
            cert_expiry: r.check.certificate.as_ref().map(|c| c.not_after),
            timings: r.check.timings,
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
    url_families(&mut t, &results);
    if results.iter().any(|r| r.cert_expiry.is_some()) {
        family(
            &mut t,
            "urlcheck_cert_expiry_timestamp_seconds",
            "When the TLS certificate of the URL's final hop expires, in seconds since the \
             Unix epoch (https URLs that answered).",
            &mut results
                .iter()
                .filter_map(|r| Some((r.labels(), format!("{:.0}", unix(r.cert_expiry?))))),
        );
    }
    if results.iter().any(|r| r.timings.is_some()) {
        phase_family(&mut t, &results);
    }
    if s.history.is_some() {
        history_families(&mut t, &results);
    }
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
    if let Some(counts) = &s.history {
        state_family(&mut t, counts);
    }
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
    let finished = unix(run.info.finished_at);
    family(
        &mut t,
        "urlcheck_last_run_timestamp_seconds",
        "When the last run finished, in seconds since the Unix epoch.",
        &mut std::iter::once((String::new(), format!("{finished:.3}"))),
    );
    t.into_bytes()
}

/// Seconds since the Unix epoch (0 for a time before it).
fn unix(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// What every run says of each URL.
fn url_families(t: &mut String, results: &[Series]) {
    let url = Series::labels;
    family(
        t,
        "urlcheck_up",
        "Whether the URL was up (1) or not (0) in the last run.",
        &mut results.iter().map(|r| (url(r), u8::from(r.up).to_string())),
    );
    family(
        t,
        "urlcheck_http_status",
        "The final HTTP status of the URL in the last run (0 when there was no HTTP answer).",
        &mut results.iter().map(|r| (url(r), r.status.to_string())),
    );
    family(
        t,
        "urlcheck_duration_seconds",
        "Time spent checking the URL in the last run, all attempts and redirects included.",
        &mut results.iter().map(|r| (url(r), r.seconds.to_string())),
    );
}

/// Where each URL's final request spent its time. A phase that did not happen (the lookup of
/// an IP address, the handshake over http, all three over a reused connection) has no sample:
/// 0 would read as "instant".
fn phase_family(t: &mut String, results: &[Series]) {
    let samples = results.iter().flat_map(|r| {
        let phases = r.timings.map(|t| t.phases()).into_iter().flatten();
        phases.filter_map(move |(phase, time)| {
            let labels = r.labels_and(&format!(",phase=\"{phase}\""));
            Some((labels, time?.as_secs_f64().to_string()))
        })
    });
    family(
        t,
        "urlcheck_phase_seconds",
        "Where the time of the URL's final request went in the last run, by phase: dns, \
         connect (TCP), tls, and ttfb (from the connection being ready to the headers).",
        &mut samples.into_iter(),
    );
}

/// What the run history says of each URL in it (skipped URLs are not). A URL that was never
/// up has no `last_up` sample: any timestamp would be a lie, and 0 reads as "down since
/// 1970" in `time() - urlcheck_last_up_timestamp_seconds`.
fn history_families(t: &mut String, results: &[Series]) {
    let known = || results.iter().filter_map(|r| Some((r, r.history?)));
    family(
        t,
        "urlcheck_consecutive_failures",
        "Failing runs in a row of the URL, the last run included (0 when it is up).",
        &mut known().map(|(r, h)| (r.labels(), h.consecutive_failures.to_string())),
    );
    family(
        t,
        "urlcheck_last_up_timestamp_seconds",
        "When the last run that found the URL up started, in seconds since the Unix epoch \
         (no sample when it was never up).",
        &mut known().filter_map(|(r, h)| Some((r.labels(), format!("{:.0}", unix(h.last_up?))))),
    );
}

/// The run's URLs in each history state (`new` is the newly broken: it includes URLs that fail
/// at their first check and flapping ones that just went down; `first` counts those that are
/// up at their first check, `flapping` the others that flap).
fn state_family(t: &mut String, c: &StateCounts) {
    let states = [
        ("new", c.newly_broken),
        ("still", c.still),
        ("recovered", c.recovered),
        ("flapping", c.flapping),
        ("first", c.first),
        ("steady", c.steady),
    ];
    family(
        t,
        "urlcheck_history_urls",
        "URLs by run-history state in the last run (a repeated URL once).",
        &mut states
            .iter()
            .map(|(state, n)| (format!("{{state=\"{state}\"}}"), n.to_string())),
    );
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
    use crate::report::testing::options;
    use crate::report::tests::history_run;

    /// The samples of `text` by metric name and labels, each line required to parse.
    fn samples(text: &str) -> Vec<prometheus_parse::Sample> {
        let lines = text.lines().filter(|l| !l.starts_with('#')).count();
        let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
            .expect("parse the exposition");
        assert_eq!(scrape.samples.len(), lines, "every sample parses:\n{text}");
        scrape.samples
    }

    fn value(
        samples: &[prometheus_parse::Sample],
        metric: &str,
        label: (&str, &str),
    ) -> Option<f64> {
        let s = samples
            .iter()
            .find(|s| s.metric == metric && s.labels.get(label.0) == Some(label.1))?;
        match s.value {
            prometheus_parse::Value::Gauge(v) => Some(v),
            ref other => panic!("{metric} is no gauge: {other:?}"),
        }
    }

    #[test]
    fn a_history_adds_streaks_last_up_and_states() {
        let text = String::from_utf8(render(&history_run(), options())).unwrap();
        let samples = samples(&text);
        let failures = |url| value(&samples, "urlcheck_consecutive_failures", ("url", url));
        assert_eq!(failures("https://x/long"), Some(3.0));
        assert_eq!(failures("https://x/new"), Some(1.0));
        assert_eq!(failures("https://x/back"), Some(0.0));
        let last_up = |url| value(&samples, "urlcheck_last_up_timestamp_seconds", ("url", url));
        assert_eq!(last_up("https://x/back"), Some(1_800_000_000.0));
        assert_eq!(
            last_up("https://x/long"),
            Some(1_800_000_000.0 - 3.0 * 900.0)
        );
        let state = |s| value(&samples, "urlcheck_history_urls", ("state", s));
        for s in ["new", "still", "recovered", "flapping", "first"] {
            assert_eq!(state(s), Some(1.0), "{s}");
        }
        for name in [
            "urlcheck_consecutive_failures",
            "urlcheck_last_up_timestamp_seconds",
            "urlcheck_history_urls",
        ] {
            assert!(text.contains(&format!("# HELP {name} ")), "{text}");
            assert!(text.contains(&format!("# TYPE {name} gauge\n")), "{text}");
        }
    }

    #[test]
    fn a_url_never_up_has_no_last_up_sample() {
        let mut run = history_run();
        let fresh = run
            .results
            .iter_mut()
            .find(|r| r.url == "https://x/fresh")
            .unwrap();
        fresh.check.outcome = Outcome::Down;
        let h = fresh.history.as_mut().unwrap();
        (h.consecutive_failures, h.last_up) = (1, None);
        let text = String::from_utf8(render(&run, options())).unwrap();
        let samples = samples(&text);
        let fresh = ("url", "https://x/fresh");
        assert_eq!(
            value(&samples, "urlcheck_consecutive_failures", fresh),
            Some(1.0)
        );
        assert_eq!(
            value(&samples, "urlcheck_last_up_timestamp_seconds", fresh),
            None
        );
    }

    #[test]
    fn without_a_history_no_history_family() {
        let mut run = history_run();
        run.results.iter_mut().for_each(|r| r.history = None);
        run.summary.history = None;
        let text = String::from_utf8(render(&run, options())).unwrap();
        samples(&text);
        for name in ["consecutive_failures", "last_up", "history_urls"] {
            assert!(!text.contains(name), "{text}");
        }
    }

    #[test]
    fn label_escaping() {
        assert_eq!(escape_label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label("x\ny"), "x\\ny");
    }
}
