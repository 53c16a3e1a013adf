//! Acceptance tests of issue 3 (reports for cron and CI), driving the built `urlcheck` binary
//! against the fixture each test starts on loopback. Every format is parsed back, not
//! string-matched: JSON and JSONL against `schema/report.v1.json`, JUnit with roxmltree and
//! against `tests/junit.xsd` (xmllint), CSV with the `csv` crate, Prometheus with
//! `prometheus-parse`, Markdown by its table rows. Layout is pinned by insta snapshots with
//! timings, ports and paths normalised.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tempfile::TempDir;

use common::github::annotations;
use common::json::json_lines;
use common::parse::{gauge, markdown_tables, prometheus};
use common::scenario::{report_name, Line, Scenario, FORMATS};
use common::validate::{assert_junit_xsd, assert_valid, validator, violations, xsd_check};
use common::{
    lines, refused_port, run, send_signal, sources, urlcheck, urlcheck_std, wait_child, wait_until,
    write_list, Run, Server, FAST_5S,
};

/// Bounded waits for a run to reach a state before a signal is sent.
const REACH: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------
// Small parsers
// ---------------------------------------------------------------------------

/// The exposition format's label-value escapes undone (prometheus-parse keeps them).
fn unescape_label(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('n') => out.push('\n'),
            other => panic!("invalid escape \\{other:?} in label value {raw:?}"),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// 1. Every format, parsed back
// ---------------------------------------------------------------------------

#[test]
fn json_report_validates_against_the_schema_and_holds_every_line() {
    let sc = Scenario::start();
    let out = sc.run(&["json"], &["--format", "json"]);
    let stdout = out.json();
    let doc: Value = serde_json::from_str(&sc.read("json")).expect("the report is JSON");
    let schema = validator(None);
    assert_valid(&schema, &stdout, "stdout");
    assert_valid(&schema, &doc, "the report file");

    assert_eq!(doc["interrupted"], false);
    let results = common::results(&doc);
    let urls = sc.urls();
    assert_eq!(results.len(), urls.len(), "one result per URL: {doc:#}");
    for (r, expected) in results.iter().zip(&urls) {
        assert_eq!(r["url"], expected.url.as_str(), "input order: {doc:#}");
        assert_eq!(sources(r), sc.sources_of(&expected.url), "{r:#}");
        assert_eq!(r["outcome"], expected.outcome, "{r:#}");
        assert_eq!(r["status"], json!(expected.status), "{r:#}");
    }
    let redirect = common::result(&doc, &sc.srv.url(0, "/redirect/1"));
    assert_eq!(redirect["redirects"].as_array().unwrap().len(), 1);
    assert_eq!(redirect["final_url"], sc.srv.url(0, "/redirect/0"));
    let refused = common::result(&doc, &format!("http://127.0.0.1:{}/", sc.refused));
    assert_eq!(refused["error"]["kind"], "connect");
    assert_eq!(common::result(&doc, "not a url")["error"]["kind"], "input");

    let s = &doc["summary"];
    for outcome in ["up", "down", "error", "invalid", "skipped"] {
        assert_eq!(s[outcome], sc.count(outcome), "{outcome}: {s:#}");
    }
    assert_eq!(s["total"], sc.lines.len());
    // The fixture saw each distinct URL once: the duplicate was not fetched again.
    assert_eq!(sc.srv.stats().hits("/ok"), 1);
    sc.shutdown();
}

#[test]
fn jsonl_report_is_results_then_one_summary_each_valid() {
    let sc = Scenario::start();
    let out = sc.run(&["jsonl"], &["--format", "jsonl"]);
    let result_schema = validator(Some("jsonl_result"));
    let summary_schema = validator(Some("jsonl_summary"));
    for (what, text) in [("stdout", out.stdout()), ("report", sc.read("jsonl"))] {
        let lines = json_lines(&text);
        let (summary, results) = lines.split_last().expect("at least the summary line");
        assert_eq!(summary["type"], "summary", "{what}: the last line:\n{text}");
        assert_valid(
            &summary_schema,
            summary,
            &format!("{what}: the summary line"),
        );
        for r in results {
            assert_eq!(r["type"], "result", "{what}: every other line:\n{text}");
            assert_valid(&result_schema, r, &format!("{what}: a result line"));
        }
        // A duplicate line is merged into its URL's result while that is in flight, or
        // reported as its own line (duplicate: true) once it has completed: either way
        // every input line is accounted for once, and each URL fetched once.
        let mut listed: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
        let mut firsts = Vec::new();
        for r in results {
            let url = r["url"].as_str().unwrap().to_string();
            if r.get("duplicate") == Some(&json!(true)) {
                let first = results
                    .iter()
                    .find(|f| f["url"] == r["url"] && f.get("duplicate").is_none())
                    .unwrap_or_else(|| panic!("{what}: a duplicate of nothing: {r}"));
                assert_eq!(r["outcome"], first["outcome"], "{what}: {r}");
                assert_eq!(r["status"], first["status"], "{what}: {r}");
            } else {
                firsts.push(url.clone());
            }
            listed.entry(url).or_default().extend(sources(r));
        }
        let expected: BTreeSet<String> = sc.urls().iter().map(|l| l.url.clone()).collect();
        assert_eq!(
            firsts.iter().cloned().collect::<BTreeSet<_>>(),
            expected,
            "{what}"
        );
        assert_eq!(firsts.len(), expected.len(), "{what}: one line per URL");
        for (url, mut got) in listed {
            got.sort();
            assert_eq!(got, sc.sources_of(&url), "{what}: sources of {url}");
        }
        assert_eq!(summary["interrupted"], false);
        for outcome in ["up", "down", "error", "invalid", "skipped"] {
            assert_eq!(summary["summary"][outcome], sc.count(outcome), "{what}");
        }
    }
    sc.shutdown();
}

#[test]
fn junit_report_has_a_suite_per_file_and_a_failure_per_failing_url() {
    let sc = Scenario::start();
    let out = sc.run(&["junit"], &["--format", "junit"]);
    let path = sc.report_path("junit");
    assert_junit_xsd(&path);
    let stdout_file = sc.dir.path().join("stdout.xml");
    std::fs::write(&stdout_file, &out.stdout).unwrap();
    assert_junit_xsd(&stdout_file);

    let text = sc.read("junit");
    let xml = roxmltree::Document::parse(&text).expect("well-formed XML");
    let root = xml.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    let names: Vec<&str> = suites
        .iter()
        .map(|s| s.attribute("name").unwrap())
        .collect();
    assert_eq!(names, ["a.txt", "b.txt"], "one testsuite per input file");

    let number = |node: roxmltree::Node, attr: &str| -> u64 {
        node.attribute(attr)
            .unwrap_or_else(|| panic!("<{}> has no {attr}", node.tag_name().name()))
            .parse()
            .unwrap_or_else(|e| panic!("{attr} is not a count: {e}"))
    };
    let seconds = |node: roxmltree::Node| -> f64 {
        let t: f64 = node
            .attribute("time")
            .unwrap_or_else(|| panic!("<{}> has no time", node.tag_name().name()))
            .parse()
            .expect("time is a number of seconds");
        assert!(t.is_finite() && t >= 0.0, "time {t}");
        t
    };
    let (mut all_tests, mut all_failures) = (0, 0);
    for suite in &suites {
        assert_eq!(suite.tag_name().name(), "testsuite");
        let file = suite.attribute("name").unwrap();
        seconds(*suite);
        let cases: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        let expected: Vec<&Line> = sc.urls().into_iter().filter(|l| l.file == file).collect();
        let got: Vec<&str> = cases.iter().map(|c| c.attribute("name").unwrap()).collect();
        let want: Vec<&str> = expected.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(got, want, "one testcase per URL, named by the URL:\n{text}");
        let mut failures = 0;
        for (case, line) in cases.iter().zip(&expected) {
            assert_eq!(case.attribute("classname"), Some(file), "{text}");
            seconds(*case);
            let failure: Vec<_> = case
                .children()
                .filter(|n| n.has_tag_name("failure"))
                .collect();
            let failing = ["down", "error", "invalid"].contains(&line.outcome);
            assert_eq!(
                failure.len(),
                usize::from(failing),
                "a failure for {} ({}) iff its outcome is in --fail-on:\n{text}",
                line.url,
                line.outcome
            );
            if let Some(f) = failure.first() {
                failures += 1;
                assert_eq!(f.attribute("type"), Some(line.outcome), "{text}");
                let message = f.attribute("message").expect("a failure message");
                match line.status {
                    Some(status) => assert!(message.contains(&status.to_string()), "{message}"),
                    None => assert!(message.contains(line.outcome), "{message}"),
                }
                if line.outcome == "error" {
                    assert!(message.contains("connect"), "the error kind: {message}");
                }
                let body = f.text().unwrap_or("");
                assert!(
                    body.contains(&format!("{}:{}", line.file, line.line)),
                    "where the URL is listed: {body:?}"
                );
            }
            assert!(
                case.children().all(|n| !n.has_tag_name("error")),
                "outcomes are failures, not errors:\n{text}"
            );
        }
        assert_eq!(number(*suite, "tests"), cases.len() as u64, "{text}");
        assert_eq!(number(*suite, "failures"), failures, "{text}");
        assert_eq!(number(*suite, "errors"), 0, "{text}");
        all_tests += cases.len() as u64;
        all_failures += failures;
    }
    assert_eq!(number(root, "tests"), all_tests, "{text}");
    assert_eq!(number(root, "failures"), all_failures, "{text}");
    assert_eq!(all_failures, 4, "404, refused, invalid, 410:\n{text}");
    sc.shutdown();
}

#[test]
fn markdown_report_has_the_summary_table_and_failures_with_file_and_line() {
    let sc = Scenario::start();
    let out = sc.run(&["markdown"], &["--format", "markdown"]);
    let text = sc.read("markdown");
    assert_eq!(out.stdout(), text, "stdout and the report file agree");
    let tables = markdown_tables(&text);
    assert_eq!(tables.len(), 2, "a summary and the failures:\n{text}");

    let summary = &tables[0];
    assert_eq!(summary[0], ["outcome", "URLs"]);
    let counts: BTreeMap<&str, &str> = summary[1..]
        .iter()
        .map(|row| (row[0].as_str(), row[1].as_str()))
        .collect();
    for outcome in ["up", "down", "error", "invalid", "skipped"] {
        assert_eq!(
            counts.get(outcome).copied(),
            Some(sc.count(outcome).to_string().as_str()),
            "{outcome}:\n{text}"
        );
    }
    let total = format!("**{}**", sc.lines.len());
    assert_eq!(counts.get("**total**"), Some(&total.as_str()), "{text}");

    let failures = &tables[1];
    assert_eq!(
        failures[0],
        ["outcome", "status", "URL", "listed at", "reason"]
    );
    let expected: Vec<&Line> = sc
        .lines
        .iter()
        .filter(|l| ["down", "error", "invalid"].contains(&l.outcome))
        .collect();
    assert_eq!(failures.len() - 1, expected.len(), "{text}");
    assert!(
        text.contains(&format!("### Failures ({})", expected.len())),
        "{text}"
    );
    for (row, line) in failures[1..].iter().zip(&expected) {
        assert_eq!(row.len(), 5, "{row:?}");
        assert_eq!(row[0], line.outcome, "{text}");
        let status = line.status.map_or("-".to_string(), |s| s.to_string());
        assert_eq!(row[1], status, "{text}");
        assert_eq!(row[2], format!("`{}`", line.url), "{text}");
        assert_eq!(row[3], format!("{}:{}", line.file, line.line), "{text}");
        assert!(!row[4].is_empty(), "a reason: {row:?}");
    }
    sc.shutdown();
}

#[test]
fn csv_report_has_a_header_and_a_record_per_result() {
    let sc = Scenario::start();
    let out = sc.run(&["csv"], &["--format", "csv"]);
    for (what, text) in [("stdout", out.stdout()), ("report", sc.read("csv"))] {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .expect("a header row")
            .iter()
            .map(str::to_string)
            .collect();
        assert_eq!(
            header,
            [
                "url",
                "outcome",
                "status",
                "error_kind",
                "error_message",
                "elapsed_ms",
                "ttfb_ms",
                "attempts",
                "redirects",
                "final_url",
                "sources",
                "duplicate"
            ],
            "{what}"
        );
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let mut listed: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
        let mut firsts = BTreeSet::new();
        let mut records = 0;
        for record in reader.records() {
            let record = record.unwrap_or_else(|e| panic!("{what}: a bad record ({e}):\n{text}"));
            assert_eq!(record.len(), header.len(), "{what}: {record:?}");
            records += 1;
            let url = record[col("url")].to_string();
            let line = sc
                .lines
                .iter()
                .find(|l| l.url == url)
                .unwrap_or_else(|| panic!("{what}: unexpected URL {url}"));
            assert_eq!(&record[col("outcome")], line.outcome, "{what}: {record:?}");
            let status = line.status.map_or(String::new(), |s| s.to_string());
            assert_eq!(record[col("status")], status, "{what}: {record:?}");
            let elapsed: f64 = record[col("elapsed_ms")].parse().expect("elapsed_ms");
            assert!(elapsed >= 0.0);
            match &record[col("duplicate")] {
                "false" => assert!(firsts.insert(url.clone()), "{what}: {url} twice"),
                "true" => {}
                other => panic!("{what}: duplicate is {other:?}"),
            }
            for s in record[col("sources")].split(';') {
                let (file, n) = s.rsplit_once(':').expect("file:line");
                let entry = listed.entry(url.clone()).or_default();
                entry.push((file.to_string(), n.parse().expect("a line number")));
            }
        }
        assert_eq!(firsts.len(), sc.urls().len(), "{what}:\n{text}");
        assert!(records >= firsts.len());
        for (url, mut got) in listed {
            got.sort();
            assert_eq!(got, sc.sources_of(&url), "{what}: sources of {url}");
        }
        let refused = format!("http://127.0.0.1:{}/", sc.refused);
        assert!(
            text.lines()
                .any(|l| l.starts_with(&refused) && l.contains(",connect,")),
            "{what}: the error kind:\n{text}"
        );
    }
    sc.shutdown();
}

#[test]
fn prometheus_report_parses_back_with_every_family() {
    let sc = Scenario::start();
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let out = sc.run(&["prometheus"], &["--format", "prometheus"]);
    let after = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let text = sc.read("prometheus");
    let stdout = out.stdout();
    for (what, text) in [("stdout", &stdout), ("report", &text)] {
        let scrape = prometheus(text);
        let families = [
            "urlcheck_up",
            "urlcheck_http_status",
            "urlcheck_duration_seconds",
            "urlcheck_urls",
            "urlcheck_run_duration_seconds",
            "urlcheck_last_run_timestamp_seconds",
        ];
        for family in families {
            assert!(scrape.docs.contains_key(family), "{what}: HELP {family}");
            assert!(
                text.contains(&format!("# TYPE {family} gauge\n")),
                "{what}: TYPE {family}"
            );
        }
        let per_url = |metric: &str| -> BTreeMap<String, f64> {
            scrape
                .samples
                .iter()
                .filter(|s| s.metric == metric)
                .map(|s| {
                    let raw = s
                        .labels
                        .get("url")
                        .unwrap_or_else(|| panic!("{what}: {metric} without url: {s:?}"));
                    (unescape_label(raw), gauge(s))
                })
                .collect()
        };
        let measured: Vec<&Line> = sc
            .urls()
            .into_iter()
            .filter(|l| l.outcome != "invalid")
            .collect();
        let up = per_url("urlcheck_up");
        let status = per_url("urlcheck_http_status");
        let duration = per_url("urlcheck_duration_seconds");
        for (name, family) in [("up", &up), ("status", &status), ("duration", &duration)] {
            let labels: BTreeSet<&str> = family.keys().map(String::as_str).collect();
            let want: BTreeSet<&str> = measured.iter().map(|l| l.url.as_str()).collect();
            assert_eq!(
                labels, want,
                "{what}: {name} has one sample per URL:\n{text}"
            );
        }
        for line in &measured {
            let u = &line.url;
            assert_eq!(
                up[u],
                f64::from(u8::from(line.outcome == "up")),
                "{what}: {u}"
            );
            assert_eq!(
                status[u],
                f64::from(line.status.unwrap_or(0)),
                "{what}: {u}"
            );
            assert!(duration[u].is_finite() && duration[u] >= 0.0, "{what}: {u}");
        }
        // The backslash reached the label escaped, and unescaping gives the URL back.
        let escaped = sc.srv.raw_url(0, r"/ok?x\y%22z");
        assert!(
            text.contains(&format!("url=\"{}\"", escaped.replace('\\', r"\\"))),
            "{what}: the backslash is escaped:\n{text}"
        );

        let totals: BTreeMap<String, f64> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == "urlcheck_urls")
            .map(|s| (s.labels.get("outcome").unwrap().to_string(), gauge(s)))
            .collect();
        for outcome in ["up", "down", "error", "invalid", "skipped"] {
            assert_eq!(
                totals.get(outcome).copied(),
                Some(sc.count(outcome) as f64),
                "{what}: urlcheck_urls{{outcome=\"{outcome}\"}}"
            );
        }
        let single = |metric: &str| -> f64 {
            let found: Vec<_> = scrape
                .samples
                .iter()
                .filter(|s| s.metric == metric)
                .collect();
            assert_eq!(found.len(), 1, "{what}: one {metric}");
            assert!(found[0].labels.is_empty(), "{what}: {metric} has no labels");
            gauge(found[0])
        };
        let wall = single("urlcheck_run_duration_seconds");
        assert!(wall.is_finite() && wall >= 0.0, "{what}: {wall}");
        let stamp = single("urlcheck_last_run_timestamp_seconds");
        assert!(
            stamp >= before.floor() && stamp <= after.ceil(),
            "{what}: finished at {stamp}, between {before} and {after}"
        );
    }
    sc.shutdown();
}

/// The exposition format allows one sample per metric name and label set, and node_exporter's
/// textfile collector rejects a file that repeats one. Two URLs that differ only in their
/// credentials look alike once redacted, yet must not become two series with equal labels.
#[test]
fn prometheus_series_stay_unique_when_urls_differ_only_in_credentials() {
    let srv = Server::start(1);
    let port = srv.http_port();
    let out = run(urlcheck()
        .args(FAST_5S)
        .args(["--format", "prometheus"])
        .args([
            format!("http://alice:pw1@127.0.0.1:{port}/ok"),
            format!("http://bob:pw2@127.0.0.1:{port}/ok"),
        ]));
    out.assert_code(0);
    assert_eq!(
        srv.stats().hits("/ok"),
        2,
        "two distinct targets, both checked"
    );
    let text = out.stdout();
    let scrape = prometheus(&text);
    let mut seen = BTreeSet::new();
    for sample in &scrape.samples {
        let key = format!("{}{{{}}}", sample.metric, sample.labels);
        assert!(
            seen.insert(key.clone()),
            "the series {key} appears twice:\n{text}"
        );
    }
    srv.shutdown();
}

/// The human format as a report file is what stdout shows: both writers see the same
/// results in the same order and the same summary.
#[test]
fn human_report_file_matches_stdout() {
    let sc = Scenario::start();
    let out = sc.run(&["human"], &["-q"]);
    let file = sc.read("human");
    assert!(
        file.contains("\nFailures (4):\n"),
        "failures are listed:\n{file}"
    );
    assert_eq!(file, out.stdout());
    sc.shutdown();
}

// ---------------------------------------------------------------------------
// 2. Snapshots where layout matters
// ---------------------------------------------------------------------------

fn timing_filters(settings: &mut insta::Settings) {
    // Right-aligned columns change width with the number: swallow the padding too.
    settings.add_filter(r" +\d+(?:\.\d+)?(?:ms|s)\b", " [DUR]");
    settings.add_filter(r"\d+(?:\.\d+)? URLs/s", "[RATE] URLs/s");
}

/// Regex-escapes a literal for an insta filter.
fn literal(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn snapshot_settings(sc: &Scenario) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    let dir = sc.dir.path().to_string_lossy().into_owned();
    settings.add_filter(&literal(&dir), "[TMP]");
    for (port, name) in [
        (sc.srv.http_port(), "[HTTP_PORT]"),
        (raw_port(&sc.srv), "[RAW_PORT]"),
        (sc.refused, "[REFUSED_PORT]"),
    ] {
        settings.add_filter(
            &format!(r"127\.0\.0\.1:{port}\b"),
            format!("127.0.0.1:{name}"),
        );
    }
    settings.add_filter(r#"time="[0-9.]+""#, r#"time="[TIME]""#);
    settings.add_filter(
        r"(?m)^(urlcheck_duration_seconds\{[^}]*\}|urlcheck_run_duration_seconds|urlcheck_last_run_timestamp_seconds) \S+$",
        "$1 [VALUE]",
    );
    timing_filters(&mut settings);
    settings
}

fn raw_port(srv: &Server) -> u16 {
    let url = srv.raw_url(0, "/");
    url.trim_start_matches("http://127.0.0.1:")
        .trim_end_matches('/')
        .parse()
        .expect("raw listener port")
}

#[test]
fn snapshots_of_markdown_human_prometheus_and_junit() {
    let sc = Scenario::start();
    let out = sc.run(&["markdown", "prometheus", "junit"], &["-q"]);
    // Results stream in completion order, which differs between runs; the lines themselves
    // (and the failure list and summary after them, which are in input order) do not.
    let stdout = out.stdout();
    let (streamed, rest) = stdout
        .split_once("\n\n")
        .unwrap_or_else(|| panic!("streamed lines, then the failures:\n{out}"));
    let mut streamed: Vec<&str> = streamed.lines().collect();
    streamed.sort_unstable();
    let human = format!("{}\n\n{rest}", streamed.join("\n"));

    let settings = snapshot_settings(&sc);
    settings.bind(|| {
        insta::assert_snapshot!("human_quiet", human);
        insta::assert_snapshot!("markdown", sc.read("markdown"));
        insta::assert_snapshot!("prometheus", sc.read("prometheus"));
        insta::assert_snapshot!("junit", sc.read("junit"));
    });
    sc.shutdown();
}

// ---------------------------------------------------------------------------
// 3. Atomic report files
// ---------------------------------------------------------------------------

/// Temporary report files (`.{name}.*.tmp`) in `dir`.
fn temp_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with(&format!(".{name}.")) && n.ends_with(".tmp")
        })
        .collect()
}

fn any_temp_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect()
}

/// Three quick URLs, then one that hangs until the fixture shuts down.
fn quick_then_hang(srv: &Server) -> (Vec<String>, String) {
    let oks = (1..=3).map(|i| srv.url(0, &format!("/ok?{i}"))).collect();
    (oks, srv.raw_url(0, "/hang"))
}

/// A urlcheck child that is killed (by its own handle) and reaped if the test panics first.
struct Spawned(Child);

impl Drop for Spawned {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts urlcheck with `-t 30s --retries 0` on `urls`, in `dir`, with `args`.
fn spawn_in(dir: &Path, args: &[String], urls: &[String]) -> Spawned {
    let child = urlcheck_std()
        .current_dir(dir)
        .args(["-t", "30s", "--retries", "0"])
        .args(args)
        .args(urls)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn urlcheck");
    Spawned(child)
}

fn stderr_of(child: &mut Child) -> String {
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    err
}

/// Waits until the temporary JSONL report holds `n` result lines and the hang has reached the
/// server: the run is then midway, with a partial report on disk.
fn wait_for_partial_jsonl(out: &Path, srv: &Server, n: usize) -> PathBuf {
    let stats = srv.stats();
    let mut temp = None;
    wait_until(
        "the partial JSONL report and the hanging request",
        REACH,
        || {
            let found = temp_files(out, "report.jsonl");
            let Some(path) = found.first() else {
                return false;
            };
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let done = text.lines().filter(|l| l.contains("/ok?")).count();
            temp = Some(path.clone());
            done >= n && stats.hits("/hang") >= 1
        },
    );
    temp.unwrap()
}

#[test]
fn sigkill_while_writing_leaves_the_old_report_intact() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let path = out.join("report.jsonl");
    let old = "{\"the previous\":\"complete report\"}\n";
    std::fs::write(&path, old).unwrap();
    let (oks, hang) = quick_then_hang(&srv);
    let mut urls = oks.clone();
    urls.push(hang);
    let args = vec!["--report".to_string(), "jsonl=out/report.jsonl".to_string()];
    let mut child = spawn_in(dir.path(), &args, &urls);

    let temp = wait_for_partial_jsonl(&out, &srv, oks.len());
    let partial = std::fs::read_to_string(&temp).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        old,
        "mid-run, the report at the path is still the old one"
    );
    send_signal(&child.0, libc::SIGKILL);
    let status = wait_child(&mut child.0, Duration::from_secs(10));
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGKILL)
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        old,
        "after SIGKILL the old report is intact (the partial one was:\n{partial})"
    );
    assert!(
        temp.parent() == Some(out.as_path()),
        "the temporary file is in the report's folder"
    );
    srv.shutdown();
}

/// Sends `signal` midway through a run with a report of every format (each replacing an old
/// one) and checks that each is complete, marked interrupted, and holds what finished.
fn interrupted_reports(signal: libc::c_int, expected_code: i32) {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let mut args = Vec::new();
    for format in FORMATS.iter().chain(&["human"]) {
        std::fs::write(out.join(report_name(format)), "old\n").unwrap();
        args.push("--report".to_string());
        args.push(format!("{format}=out/{}", report_name(format)));
    }
    let (oks, hang) = quick_then_hang(&srv);
    let mut urls = oks.clone();
    urls.push(hang.clone());
    let mut child = spawn_in(dir.path(), &args, &urls);
    wait_for_partial_jsonl(&out, &srv, oks.len());
    send_signal(&child.0, signal);
    let status: ExitStatus = wait_child(&mut child.0, Duration::from_secs(10));
    let stderr = stderr_of(&mut child.0);
    assert_eq!(status.code(), Some(expected_code), "{stderr}");
    assert!(
        any_temp_files(&out).is_empty(),
        "every report was put in place: {:?}",
        any_temp_files(&out)
    );
    let read = |format: &str| std::fs::read_to_string(out.join(report_name(format))).unwrap();

    let doc: Value = serde_json::from_str(&read("json")).expect("the JSON report is complete");
    assert_valid(&validator(None), &doc, "the interrupted JSON report");
    assert_eq!(doc["interrupted"], true, "{doc:#}");
    for ok in &oks {
        assert_eq!(common::result(&doc, ok)["outcome"], "up", "{doc:#}");
    }
    assert!(
        common::results(&doc)
            .iter()
            .all(|r| r["url"] != hang.as_str() || r["outcome"] != "up"),
        "the hang did not complete: {doc:#}"
    );

    let lines = json_lines(&read("jsonl"));
    let (summary, results) = lines.split_last().unwrap();
    assert_valid(
        &validator(Some("jsonl_summary")),
        summary,
        "the summary line",
    );
    assert_eq!(summary["interrupted"], true, "{summary}");
    let result_schema = validator(Some("jsonl_result"));
    for r in results {
        assert_valid(&result_schema, r, "a result line");
    }
    assert_eq!(results.len(), oks.len(), "{lines:#?}");

    let junit = out.join(report_name("junit"));
    assert_junit_xsd(&junit);
    let text = read("junit");
    let xml = roxmltree::Document::parse(&text).expect("the JUnit report is complete");
    let cases = xml
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(cases, oks.len(), "{text}");

    let scrape = prometheus(&read("prometheus"));
    let interrupted: Vec<_> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "urlcheck_run_interrupted")
        .collect();
    assert_eq!(interrupted.len(), 1);
    assert_eq!(gauge(interrupted[0]), 1.0);

    let csv_text = read("csv");
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(reader.headers().unwrap().get(0), Some("url"));
    assert_eq!(reader.records().count(), oks.len(), "{csv_text}");

    assert!(
        read("markdown").contains("**Interrupted:**"),
        "{}",
        read("markdown")
    );
    assert!(read("human").contains("interrupted"), "{}", read("human"));
    srv.shutdown();
}

#[test]
fn sigint_writes_complete_reports_marked_interrupted_and_exits_130() {
    interrupted_reports(libc::SIGINT, 130);
}

#[test]
fn sigterm_writes_complete_reports_marked_interrupted_and_exits_143() {
    interrupted_reports(libc::SIGTERM, 143);
}

#[test]
fn a_run_that_fails_before_checking_leaves_the_old_report_alone() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("report.json");
    let old: &[u8] = b"{\"old\": true}\n\x00binary tail\xff";
    std::fs::write(&path, old).unwrap();
    let out = run(urlcheck()
        .current_dir(dir.path())
        .args([
            "--report",
            "json=report.json",
            "--report",
            "junit=junit.xml",
        ])
        .arg(srv.url(0, "/ok"))
        .arg("missing.txt"));
    out.assert_code(2);
    assert!(out.stderr.contains("missing.txt"), "{out}");
    assert_eq!(std::fs::read(&path).unwrap(), old, "byte-identical");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        [std::ffi::OsString::from("report.json")],
        "no temporary file"
    );
    assert_eq!(srv.stats().requests(), 0, "{out}");
    srv.shutdown();
}

#[test]
fn a_missing_report_folder_is_exit_2_before_any_request() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("kept.json"), "old\n").unwrap();
    let out = run(urlcheck()
        .current_dir(dir.path())
        // The first report's folder exists: its temporary file must not outlive the failure.
        .args(["--report", "json=kept.json"])
        .args(["--report", "junit=no-such-folder/junit.xml"])
        .arg(srv.url(0, "/ok")));
    out.assert_code(2);
    assert!(
        out.stderr.contains("no-such-folder"),
        "the message names the folder:\n{out}"
    );
    assert_eq!(srv.stats().requests(), 0, "no request was sent:\n{out}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("kept.json")).unwrap(),
        "old\n"
    );
    assert!(
        any_temp_files(dir.path()).is_empty(),
        "{:?}",
        any_temp_files(dir.path())
    );
    assert!(
        !dir.path().join("no-such-folder").exists(),
        "not created behind the user's back"
    );
    srv.shutdown();
}

// ---------------------------------------------------------------------------
// 4. --fail-on
// ---------------------------------------------------------------------------

#[test]
fn fail_on_decides_the_exit_code() {
    let srv = Server::start(1);
    let not_found = srv.url(0, "/status/404");
    let ok = srv.url(0, "/ok");
    let code = |args: &[&str], url: &str| run(urlcheck().args(FAST_5S).args(args).arg(url)).code;
    assert_eq!(code(&[], &not_found), Some(1), "default down,error,invalid");
    assert_eq!(code(&["--fail-on", "error"], &not_found), Some(0));
    assert_eq!(code(&["--fail-on", "down"], &not_found), Some(1));
    assert_eq!(code(&[], &ok), Some(0));
    assert_eq!(code(&["--fail-on", "up"], &ok), Some(1));
    assert_eq!(code(&["--fail-on", "bogus"], &ok), Some(2));
    srv.shutdown();
}

#[test]
fn junit_and_markdown_failures_follow_fail_on() {
    let sc = Scenario::start();
    for fail_on in [None, Some("error"), Some("up,invalid"), Some("down")] {
        let set: Vec<&str> = fail_on.unwrap_or("down,error,invalid").split(',').collect();
        let mut cmd = urlcheck();
        cmd.current_dir(sc.dir.path()).args(FAST_5S);
        if let Some(f) = fail_on {
            cmd.args(["--fail-on", f]);
        }
        let out = run(cmd
            .args([
                "--report",
                "junit=out/junit.xml",
                "--report",
                "markdown=out/report.md",
            ])
            .args(["a.txt", "b.txt"]));
        let failing = sc.lines.iter().any(|l| set.contains(&l.outcome));
        out.assert_code(i32::from(failing));

        let text = sc.read("junit");
        assert_junit_xsd(&sc.report_path("junit"));
        let xml = roxmltree::Document::parse(&text).unwrap();
        let mut failures = 0;
        for case in xml.descendants().filter(|n| n.has_tag_name("testcase")) {
            let name = case.attribute("name").unwrap();
            let line = sc.lines.iter().find(|l| l.url == name).unwrap();
            let failure = case.children().find(|n| n.has_tag_name("failure"));
            assert_eq!(
                failure.is_some(),
                set.contains(&line.outcome),
                "--fail-on {set:?}, {name} is {}:\n{text}",
                line.outcome
            );
            if let Some(f) = failure {
                failures += 1;
                assert_eq!(f.attribute("type"), Some(line.outcome));
            }
        }
        let total: u64 = xml
            .root_element()
            .attribute("failures")
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(total, failures, "{text}");

        let md = sc.read("markdown");
        let tables = markdown_tables(&md);
        let rows: Vec<&str> = tables
            .get(1)
            .map(|t| t[1..].iter().map(|r| r[0].as_str()).collect())
            .unwrap_or_default();
        let want: Vec<&str> = sc
            .lines
            .iter()
            .filter(|l| set.contains(&l.outcome))
            .map(|l| l.outcome)
            .collect();
        if set.contains(&"up") {
            // The duplicate /ok line is a row of its own or merged into the first /ok row,
            // depending on whether it was read before that check completed.
            assert!(
                rows.len() == want.len() || rows.len() == want.len() - 1,
                "--fail-on {set:?}:\n{md}"
            );
            assert!(
                rows.iter().all(|o| set.contains(o)),
                "--fail-on {set:?}:\n{md}"
            );
        } else {
            assert_eq!(rows, want, "--fail-on {set:?}:\n{md}");
        }
    }
    sc.shutdown();
}

// ---------------------------------------------------------------------------
// 5. GitHub Actions
// ---------------------------------------------------------------------------

/// A list named `a,b:c.txt` (a comma and a colon to escape) in a fresh folder: /ok,
/// /status/404, a refused port, an invalid line, /status/404 again, and a 404 with a `%` in
/// its URL (to escape in the message).
fn github_list(srv: &Server) -> (TempDir, Vec<(u64, &'static str, String)>) {
    let dir = TempDir::new().unwrap();
    let failing = vec![
        (2, "down", srv.url(0, "/status/404")),
        (3, "error", format!("http://127.0.0.1:{}/", refused_port())),
        (4, "invalid", "not a url".to_string()),
        (5, "down", srv.url(0, "/status/404")),
        (6, "down", srv.url(0, "/status/404?p=100%25")),
    ];
    let mut items = vec![srv.url(0, "/ok")];
    items.extend(failing.iter().map(|(_, _, u)| u.clone()));
    write_list(dir.path(), "a,b:c.txt", lines(&items));
    (dir, failing)
}

const PREVIOUS_SUMMARY: &str = "# An earlier step\n\nIts summary stays.\n";

fn github_run(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = urlcheck();
    cmd.current_dir(dir).args(FAST_5S).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(cmd.args(["--format", "json", "a,b:c.txt"]))
}

#[test]
fn github_actions_annotates_failing_lines_and_appends_the_step_summary() {
    let srv = Server::start(1);
    let (dir, failing) = github_list(&srv);
    let summary = dir.path().join("step_summary.md");
    std::fs::write(&summary, PREVIOUS_SUMMARY).unwrap();
    let out = github_run(
        dir.path(),
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
        &[],
    );
    out.assert_code(1);
    out.json(); // annotations stay off stdout
    let found = annotations(&out.stderr);
    assert_eq!(found.len(), failing.len(), "one per failing line:\n{out}");
    let mut got: Vec<(u64, String)> = found.iter().map(|a| (a.line, a.title.clone())).collect();
    got.sort();
    let want: Vec<(u64, String)> = failing
        .iter()
        .map(|(line, outcome, _)| (*line, format!("urlcheck: {outcome}")))
        .collect();
    assert_eq!(got, want, "{out}");
    for a in &found {
        assert_eq!(a.raw_file, "a%2Cb%3Ac.txt", "file= is escaped:\n{out}");
        assert_eq!(a.file, "a,b:c.txt");
        let url = &failing.iter().find(|f| f.0 == a.line).unwrap().2;
        assert!(a.message.contains(url.as_str()), "{a:?}");
    }
    assert!(
        out.stderr.lines().filter(|l| l.contains("::")).count() == failing.len(),
        "no other workflow commands:\n{out}"
    );

    let text = std::fs::read_to_string(&summary).unwrap();
    let appended = text
        .strip_prefix(PREVIOUS_SUMMARY)
        .unwrap_or_else(|| panic!("earlier content kept, at the start:\n{text}"));
    let total = failing.len() + 1;
    assert!(
        appended.contains(&format!("## urlcheck: {total} URLs")),
        "{appended}"
    );
    let tables = markdown_tables(appended);
    assert_eq!(tables.len(), 2, "{appended}");
    for (line, _, _) in &failing {
        assert!(
            appended.contains(&format!("a,b:c.txt:{line}")),
            "line {line} in the failures table:\n{appended}"
        );
    }
    srv.shutdown();
}

#[test]
fn github_flag_annotates_outside_actions_too() {
    let srv = Server::start(1);
    let (dir, failing) = github_list(&srv);
    let out = github_run(dir.path(), &[], &["--github"]);
    out.assert_code(1);
    let found = annotations(&out.stderr);
    let mut lines: Vec<u64> = found.iter().map(|a| a.line).collect();
    lines.sort_unstable();
    let want: Vec<u64> = failing.iter().map(|f| f.0).collect();
    assert_eq!(lines, want, "{out}");
    srv.shutdown();
}

#[test]
fn no_github_output_without_actions_or_with_no_github() {
    let srv = Server::start(1);
    let (dir, _) = github_list(&srv);
    let summary = dir.path().join("step_summary.md");
    std::fs::write(&summary, PREVIOUS_SUMMARY).unwrap();
    let summary_env = ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap());
    // (what, environment, arguments)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a [&'a str]);
    let cases: [Case; 4] = [
        (
            "--no-github",
            vec![("GITHUB_ACTIONS", "true"), summary_env],
            &["--no-github"],
        ),
        (
            "--github --no-github",
            vec![("GITHUB_ACTIONS", "true"), summary_env],
            &["--github", "--no-github"],
        ),
        ("GITHUB_ACTIONS unset", vec![summary_env], &[]),
        (
            "GITHUB_ACTIONS=false",
            vec![("GITHUB_ACTIONS", "false"), summary_env],
            &[],
        ),
    ];
    for (what, env, args) in cases {
        let out = github_run(dir.path(), &env, args);
        out.assert_code(1);
        assert!(!out.all_output().contains("::error"), "{what}:\n{out}");
        assert!(
            !out.all_output().contains("::"),
            "{what}: no workflow command:\n{out}"
        );
        assert_eq!(
            std::fs::read_to_string(&summary).unwrap(),
            PREVIOUS_SUMMARY,
            "{what}: the step summary is untouched"
        );
    }
    srv.shutdown();
}

// ---------------------------------------------------------------------------
// The validators can fail
// ---------------------------------------------------------------------------

#[test]
fn the_validators_reject_broken_reports() {
    let sc = Scenario::start();
    sc.run(&["json", "jsonl", "junit"], &[]);
    let doc: Value = serde_json::from_str(&sc.read("json")).unwrap();
    let schema = validator(None);
    assert_valid(&schema, &doc, "the real report");
    let mut missing = doc.clone();
    missing.as_object_mut().unwrap().remove("summary");
    let mut extra = doc.clone();
    extra["results"][0]["surprise"] = json!(1);
    let mut outcome = doc.clone();
    outcome["results"][0]["outcome"] = json!("fine");
    let mut stamp = doc.clone();
    stamp["started_at"] = json!("yesterday");
    for (what, broken) in [
        ("missing summary", missing),
        ("unknown result field", extra),
        ("unknown outcome", outcome),
        ("bad timestamp", stamp),
    ] {
        assert!(
            !violations(&schema, &broken).is_empty(),
            "the schema accepts a report with {what}"
        );
    }
    let lines = json_lines(&sc.read("jsonl"));
    let (summary, results) = lines.split_last().unwrap();
    assert!(!violations(&validator(Some("jsonl_result")), summary).is_empty());
    assert!(!violations(&validator(Some("jsonl_summary")), &results[0]).is_empty());

    let junit = sc.read("junit");
    let broken = sc.dir.path().join("broken.xml");
    std::fs::write(
        &broken,
        junit.replacen("<testcase name=", "<testcase title=", 1),
    )
    .unwrap();
    if let Some(result) = xsd_check(&broken) {
        assert!(result.is_err(), "the XSD accepts a testcase without a name");
    }
    std::fs::write(&broken, junit.replacen("time=\"", "time=\"-", 1)).unwrap();
    if let Some(result) = xsd_check(&broken) {
        assert!(result.is_err(), "the XSD accepts a negative time");
    }
    sc.shutdown();
}
