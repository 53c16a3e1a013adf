//! Output formats: what urlcheck writes, parsed back rather than string-matched (README: Output
//! formats, and Output hygiene under Options). The JSON document field by field; JSON and JSONL
//! against `schema/report.v1.json`, JUnit with roxmltree and against `tests/junit.xsd`
//! (xmllint), CSV with the `csv` crate, Prometheus with `prometheus-parse`, Markdown by its table
//! rows, each on stdout and as a report file; validators that can fail; layout pinned by insta
//! snapshots (`snapshots/formats__*.snap`) with timings, ports and paths normalised; colour only
//! when asked for or on a terminal; and no terminal escape from a server or an input file.

mod common;
mod servers;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tempfile::TempDir;

use common::json::{error_kind, json_lines, outcome};
use common::parse::{gauge, markdown_tables, prometheus};
use common::scenario::{Line, Scenario};
use common::validate::{assert_junit_xsd, assert_valid, validator, violations, xsd_check};
use common::{
    lines, no_panic_text, refused_port, results, run, sources, urlcheck, urlcheck_std, write_list,
    Server, FAST_500MS, FAST_5S,
};
use servers::{response, Scripted};

// ---------------------------------------------------------------------------
// JSON and JSONL, field by field
// ---------------------------------------------------------------------------

#[track_caller]
fn assert_utc_timestamp(v: &Value) -> std::time::SystemTime {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    assert!(s.ends_with('Z'), "not UTC: {s}");
    humantime::parse_rfc3339(s).unwrap_or_else(|e| panic!("not RFC 3339 ({e}): {s}"))
}

#[track_caller]
fn assert_number(v: &Value, what: &str) {
    assert!(v.is_number(), "{what} is not a number: {v}");
}

#[track_caller]
fn assert_keys(v: &Value, keys: &[&str], what: &str) {
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("{what} is not an object: {v}"));
    for key in keys {
        assert!(obj.contains_key(*key), "{what} lacks {key}: {v:#}");
    }
}

#[test]
fn json_document_holds_every_field() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let ok = srv.url(0, "/ok");
    let redirect = srv.url(0, "/redirect/2");
    let missing = srv.url(0, "/status/404");
    let refused = format!("http://127.0.0.1:{}/", refused_port());
    let list = write_list(
        dir.path(),
        "fields.txt",
        lines(&[&ok, &redirect, &missing, &refused, "ftp://x/"]),
    );
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["-c", "3", "--format", "json"])
        .arg(&list));
    out.assert_code(1);
    let doc = out.json();

    assert_keys(
        &doc,
        &[
            "schema_version",
            "tool",
            "version",
            "started_at",
            "finished_at",
            "mode",
            "interrupted",
            "settings",
            "summary",
            "results",
        ],
        "the document",
    );
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["tool"], "urlcheck");
    assert_eq!(doc["version"], env!("CARGO_PKG_VERSION"));
    let started = assert_utc_timestamp(&doc["started_at"]);
    let finished = assert_utc_timestamp(&doc["finished_at"]);
    assert!(started <= finished);
    assert_eq!(doc["mode"], "concurrent");
    assert_eq!(doc["interrupted"], false);
    assert!(doc["settings"].is_object());
    assert_eq!(doc["settings"]["concurrency"], 3);
    assert_eq!(doc["settings"]["timeout_ms"], 500);
    assert_eq!(doc["settings"]["retries"], 0);
    for unasked in ["cert_expiry_ms", "canaries"] {
        assert!(
            doc["settings"].get(unasked).is_none(),
            "{unasked} was not given"
        );
    }

    let s = &doc["summary"];
    assert_keys(
        s,
        &[
            "total",
            "up",
            "down",
            "error",
            "invalid",
            "skipped",
            "latency_ms",
            "wall_ms",
            "urls_per_sec",
        ],
        "summary",
    );
    assert_eq!(
        [
            &s["total"],
            &s["up"],
            &s["down"],
            &s["error"],
            &s["invalid"],
            &s["skipped"]
        ],
        [5, 2, 1, 1, 1, 0]
    );
    assert_keys(
        &s["latency_ms"],
        &["p50", "p90", "p99", "max"],
        "latency_ms",
    );
    for p in ["p50", "p90", "p99", "max"] {
        assert_number(&s["latency_ms"][p], p);
    }
    assert_number(&s["wall_ms"], "wall_ms");
    assert_number(&s["urls_per_sec"], "urls_per_sec");

    let rs = results(&doc);
    let urls: Vec<&str> = rs.iter().map(|r| r["url"].as_str().unwrap()).collect();
    assert_eq!(
        urls,
        [&*ok, &*redirect, &*missing, &*refused, "ftp://x/"],
        "input order"
    );
    let name = list.to_str().unwrap();
    for (i, r) in rs.iter().enumerate() {
        assert_keys(
            r,
            &[
                "url",
                "sources",
                "outcome",
                "status",
                "error",
                "elapsed_ms",
                "ttfb_ms",
                "attempts",
                "redirects",
                "final_url",
            ],
            "a result",
        );
        assert_eq!(sources(r), [(name.to_string(), i as u64 + 1)]);
        assert_number(&r["elapsed_ms"], "elapsed_ms");
        assert_number(&r["attempts"], "attempts");
        assert!(r["redirects"].is_array());
        match outcome(r) {
            "up" | "down" => {
                assert_eq!(r["error"], Value::Null, "{r:#}");
                assert_number(&r["status"], "status");
                assert_number(&r["ttfb_ms"], "ttfb_ms");
                assert_eq!(r["attempts"], 1);
            }
            _ => {
                assert_keys(&r["error"], &["kind", "message"], "error");
                assert!(r["error"]["kind"].is_string() && r["error"]["message"].is_string());
                assert_eq!(r["status"], Value::Null, "{r:#}");
            }
        }
    }
    assert_eq!(rs[0]["final_url"], Value::Null);
    assert_eq!(rs[0]["redirects"], serde_json::json!([]));
    let r = &rs[1];
    assert_eq!(outcome(r), "up");
    assert_eq!(r["status"], 200);
    let hops: Vec<(&str, u64)> = r["redirects"]
        .as_array()
        .expect("redirects")
        .iter()
        .map(|h| (h["url"].as_str().unwrap(), h["status"].as_u64().unwrap()))
        .collect();
    let second = srv.url(0, "/redirect/1");
    assert_eq!(hops, [(redirect.as_str(), 302), (second.as_str(), 302)]);
    // Each hop says where its request's time went, as the final request does.
    for timed in r["redirects"].as_array().unwrap().iter().chain([r]) {
        assert!(
            timed["timings"]["total_ms"].as_f64().unwrap() > 0.0,
            "{r:#}"
        );
    }
    assert_eq!(r["final_url"], srv.url(0, "/redirect/0"));
    assert_eq!(rs[2]["status"], 404);
    assert_eq!(error_kind(&rs[3]), "connect");
    assert_eq!(outcome(&rs[4]), "invalid");
    srv.shutdown();
}

#[test]
fn jsonl_streams_results_then_one_summary() {
    let srv = Server::start(1);
    let urls = [
        srv.url(0, "/ok"),
        srv.url(0, "/redirect/1"),
        srv.url(0, "/status/404"),
    ];
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["--format", "jsonl"])
        .args(&urls));
    out.assert_code(1);
    let objects = out.json_lines();
    assert_eq!(objects.len(), urls.len() + 1, "{out}");
    let (summary, rs) = objects.split_last().unwrap();
    let mut seen: Vec<&str> = Vec::new();
    for r in rs {
        assert_eq!(r["type"], "result", "{r:#}");
        assert_keys(
            r,
            &[
                "url",
                "sources",
                "outcome",
                "status",
                "attempts",
                "redirects",
            ],
            "a jsonl result",
        );
        seen.push(r["url"].as_str().unwrap());
    }
    seen.sort_unstable();
    let mut want: Vec<&str> = urls.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(seen, want);
    assert_eq!(summary["type"], "summary", "{summary:#}");
    assert_eq!(summary["schema_version"], 1);
    assert_eq!(summary["summary"]["total"], 3);
    assert_eq!(summary["summary"]["down"], 1);
    assert_eq!(summary["interrupted"], false);
    srv.shutdown();
}

// ---------------------------------------------------------------------------
// Every format, parsed back
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
                "duplicate",
                "dns_ms",
                "connect_ms",
                "tls_ms",
                "wait_ms",
                "reused"
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

/// Two URLs that differ only in their credentials are two results, one up and one down, and
/// each keeps its own series: the second also carries the line that lists it.
#[test]
fn prometheus_keeps_each_url_that_differs_only_in_credentials() {
    let gate = servers::alice_only();
    let port = gate.port();
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["--format", "prometheus"])
        .args([
            format!("http://alice:pw1@127.0.0.1:{port}/x"),
            format!("http://bob:pw2@127.0.0.1:{port}/x"),
        ]));
    out.assert_code(1);
    let text = out.stdout();
    let scrape = prometheus(&text);
    let up: Vec<(String, f64)> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "urlcheck_up")
        .map(|s| (s.labels.to_string(), gauge(s)))
        .collect();
    assert_eq!(up.len(), 2, "a series for each URL:\n{text}");
    assert_eq!(up[0].1, 1.0, "alice is let in:\n{text}");
    assert_eq!(up[1].1, 0.0, "bob is not:\n{text}");
    assert!(
        up[1].0.contains("<args>:2"),
        "the second names its line:\n{text}"
    );
    assert!(!text.contains("pw1") && !text.contains("pw2"), "{text}");
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
    let out = sc.run(&["human"], &[]);
    let file = sc.read("human");
    assert!(
        file.contains("\nFailures (4):\n"),
        "failures are listed:\n{file}"
    );
    assert_eq!(file, out.stdout());
    sc.shutdown();
}

/// `-q` is for cron, which mails whatever a job prints: a run where everything is up prints
/// nothing at all on stdout.
#[test]
fn quiet_prints_nothing_when_nothing_fails() {
    let srv = Server::start(1);
    let out = run(urlcheck().args(FAST_500MS).args([
        "-q",
        &srv.url(0, "/ok"),
        &srv.url(0, "/redirect/1"),
    ]));
    out.assert_code(0);
    assert_eq!(out.stdout(), "", "{out}");
    srv.shutdown();
}

/// With failures, `-q` prints each one once (in the list, with its file:line and reason), then
/// one summary line: no streamed copy of the same failure, no latency or error lines.
#[test]
fn quiet_prints_each_failure_once_then_one_summary_line() {
    let srv = Server::start(1);
    let missing = srv.url(0, "/status/404");
    let refused = format!("http://127.0.0.1:{}/", refused_port());
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["-q", &srv.url(0, "/ok"), &missing, &refused]));
    out.assert_code(1);
    let text = out.stdout();
    assert_eq!(text.matches(&missing).count(), 1, "{text}");
    assert_eq!(text.matches(&refused).count(), 1, "{text}");
    assert!(text.starts_with("Failures (2):\n"), "{text}");
    let last: Vec<&str> = text.lines().rev().take_while(|l| !l.is_empty()).collect();
    assert_eq!(last.len(), 1, "one summary line after the list:\n{text}");
    assert!(
        last[0].starts_with("3 URLs: 1 up, 1 down, 1 error"),
        "{text}"
    );
    srv.shutdown();
}

/// `-q` quietens stdout only: a human report file written in the same run has every line and
/// the whole summary.
#[test]
fn quiet_leaves_a_human_report_file_whole() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("run.txt");
    let ok = srv.url(0, "/ok");
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["-q", "--report"])
        .arg(format!("human={}", file.display()))
        .arg(&ok));
    out.assert_code(0);
    assert_eq!(out.stdout(), "", "{out}");
    let text = std::fs::read_to_string(&file).expect("the report file");
    assert!(
        text.lines().any(|l| l.contains("up") && l.contains(&ok)),
        "{text}"
    );
    assert!(
        text.contains("1 URLs: 1 up") || text.contains("1 URL: 1 up"),
        "{text}"
    );
    assert!(text.lines().count() >= 3, "{text}");
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
    // A link in a document: a source with a column (1-based), an error of a local file.
    let mut link = doc.clone();
    link["results"][0]["sources"][0]["column"] = json!(12);
    link["results"][0]["error"] = json!({"kind": "file", "message": "no such file"});
    assert_valid(&schema, &link, "a report with a column and error kind file");
    link["results"][0]["sources"][0]["column"] = json!(0);
    assert!(
        !violations(&schema, &link).is_empty(),
        "the schema accepts column 0"
    );
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
    assert!(
        xsd_check(&broken).is_err(),
        "the XSD accepts a testcase without a name"
    );
    std::fs::write(&broken, junit.replacen("time=\"", "time=\"-", 1)).unwrap();
    assert!(
        xsd_check(&broken).is_err(),
        "the XSD accepts a negative time"
    );
    sc.shutdown();
}

/// On a real terminal the progress bar shares the screen with the result lines. Replayed
/// through a terminal emulator, the screen after the run holds every result line and one
/// summary, and no stale line of the bar (they used to stay between the results: the lines
/// were written inside the bar's suspension but flushed outside it).
#[test]
fn the_progress_bar_leaves_no_trace_on_the_terminal() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let urls: Vec<String> = (0..60)
        .map(|i| srv.url(0, &format!("/delay/40?i={i}")))
        .collect();
    let list = write_list(dir.path(), "slow.txt", lines(&urls));
    let mut cmd = urlcheck_std();
    cmd.args([
        "-c",
        "3",
        "--per-host",
        "3",
        "-t",
        "10s",
        "--color",
        "never",
    ])
    .arg(&list);
    let (bytes, status) = common::run_on_terminal(cmd, true);
    assert_eq!(
        status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let mut screen = vt100::Parser::new(200, 120, 0);
    screen.process(&bytes);
    let text = screen.screen().contents();
    let rows: Vec<&str> = text.lines().map(str::trim_end).collect();
    let up = rows.iter().filter(|r| r.starts_with("up ")).count();
    assert_eq!(up, 60, "every result line is on the screen:\n{text}");
    let summaries = rows.iter().filter(|r| r.contains(" URLs: ")).count();
    assert_eq!(summaries, 1, "one summary:\n{text}");
    let stale: Vec<&&str> = rows
        .iter()
        .filter(|r| r.contains("concurrent") || r.contains("ETA") || r.contains("=>"))
        .collect();
    assert!(
        stale.is_empty(),
        "the bar left {} lines:\n{text}",
        stale.len()
    );
    // While it ran, the bar showed a rate with one decimal, and no rate or ETA before the
    // first result (it read `10.9488/s`, and `0/s ETA 0s` at first).
    let drawn = String::from_utf8_lossy(&bytes);
    let rate = regex::Regex::new(r"\] \d+/60 (\S+)/s ETA").unwrap();
    let rates: Vec<&str> = rate
        .captures_iter(&drawn)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert!(!rates.is_empty(), "the bar was drawn:\n{drawn}");
    let one_decimal = regex::Regex::new(r"^(-|\d+\.\d)$").unwrap();
    assert!(
        rates.iter().all(|r| one_decimal.is_match(r)),
        "rates: {rates:?}"
    );
    assert!(
        !rates.iter().any(|r| r.parse::<f64>() == Ok(0.0)),
        "a rate of 0 is no rate: {rates:?}"
    );
    srv.shutdown();
}

// ---------------------------------------------------------------------------
// Snapshots where layout matters
// ---------------------------------------------------------------------------

fn timing_filters(settings: &mut insta::Settings) {
    // Right-aligned columns change width with the number: swallow the padding too.
    settings.add_filter(r" +\d+(?:\.\d+)?(?:ms|s)\b", " [DUR]");
    settings.add_filter(r"\d+(?:\.\d+)? URLs/s", "[RATE] URLs/s");
}

fn snapshot_settings(sc: &Scenario) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    let dir = sc.dir.path().to_string_lossy().into_owned();
    settings.add_filter(&regex::escape(&dir), "[TMP]");
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
    // Which phases a URL has samples for depends on which request of a host came first (a
    // kept connection has none): tests/phases.rs checks them.
    settings.add_filter(r"(?m)^urlcheck_phase_seconds\{.*\n", "");
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
    // Quiet streams nothing: the failure list and the summary line are in input order.
    let human = out.stdout();

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
// Colour
// ---------------------------------------------------------------------------

fn has_ansi(bytes: &[u8]) -> bool {
    bytes.contains(&0x1b)
}

#[test]
fn no_ansi_escapes_unless_asked_for() {
    let srv = Server::start(1);
    let urls = [
        srv.url(0, "/ok"),
        srv.url(0, "/status/404"),
        format!("http://127.0.0.1:{}/", refused_port()),
    ];
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["--color", "auto"])
        .args(&urls));
    out.assert_code(1);
    assert!(!has_ansi(&out.stdout), "auto, not a terminal: {out}");
    assert!(out.stdout().contains("404"), "{out}");

    let out = run(urlcheck()
        .env("NO_COLOR", "1")
        .args(FAST_500MS)
        .args(["--color", "auto"])
        .args(&urls));
    assert!(!has_ansi(&out.stdout), "NO_COLOR=1: {out}");

    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["--color", "never"])
        .args(&urls));
    assert!(!has_ansi(&out.stdout), "never: {out}");

    // The check above can fail: forced colour does produce escapes.
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["--color", "always"])
        .args(&urls));
    assert!(has_ansi(&out.stdout), "always: {out}");
    srv.shutdown();
}

#[test]
fn on_a_terminal_colour_is_on_unless_no_color() {
    let srv = Server::start(1);
    let urls = [srv.url(0, "/ok"), srv.url(0, "/status/404")];
    let mut cmd = urlcheck_std();
    cmd.args(FAST_500MS).args(["--color", "auto"]).args(&urls);
    let (text, status) = common::run_on_pty(cmd);
    assert_eq!(status.code(), Some(1));
    assert!(
        has_ansi(&text),
        "auto on a terminal colours: {}",
        String::from_utf8_lossy(&text)
    );

    let mut cmd = urlcheck_std();
    cmd.env("NO_COLOR", "1")
        .args(FAST_500MS)
        .args(["--color", "auto"])
        .args(&urls);
    let (text, status) = common::run_on_pty(cmd);
    assert_eq!(status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&text).contains("404"),
        "the run printed its results: {}",
        String::from_utf8_lossy(&text)
    );
    assert!(
        !has_ansi(&text),
        "NO_COLOR=1 on a terminal: {}",
        String::from_utf8_lossy(&text)
    );
    srv.shutdown();
}

// ---------------------------------------------------------------------------
// Terminal escapes
// ---------------------------------------------------------------------------

/// Bytes that would drive a terminal: ESC, BEL, CSI (C1, as UTF-8), and the bidi override.
fn assert_inert(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for (bad, name) in [
        ("\u{1b}", "ESC"),
        ("\u{7}", "BEL"),
        ("\u{9b}", "CSI"),
        ("\u{202e}", "RLO"),
    ] {
        assert!(!text.contains(bad), "{what} holds a raw {name}:\n{text:?}");
    }
}

#[test]
fn server_and_file_text_is_escaped_before_it_reaches_a_terminal() {
    let hostile = Scripted::start("127.0.0.1:0", |head| {
        let redirect = |to: &str| response("302 Found", &[("Location", to)]);
        match head.target.as_str() {
            "/esc-location" => redirect("/x\u{1b}[2J\u{1b}]0;pwned\u{7}"),
            "/c1-location" => redirect("/x\u{9b}2J"),
            "/c1-host" => redirect("http://\u{9b}31m.test/"),
            "/bidi-location" => redirect("/\u{202e}txt.exe"),
            "/esc-scheme" => redirect("ftp://h/\u{1b}[2J"),
            "/c1-scheme" => redirect("javascript:\u{9b}2J\u{202e}"),
            "/esc-reason" => response("200 \u{1b}]0;pwned\u{7}OK", &[]),
            "/c1-reason" => response("404 \u{9b}2J gone", &[]),
            "/esc-garbage" => b"\x1b[2J\x1b]0;pwned\x07 not http\r\n\r\n".to_vec(),
            _ => response("200 OK", &[]),
        }
    })
    .unwrap();
    let targets = [
        "/esc-location",
        "/c1-location",
        "/c1-host",
        "/bidi-location",
        "/esc-scheme",
        "/c1-scheme",
        "/esc-reason",
        "/c1-reason",
        "/esc-garbage",
    ];
    let mut list: Vec<String> = targets.iter().map(|t| hostile.url(t)).collect();
    // And lines of the input file itself.
    list.push(hostile.url("/file\u{1b}[31mred"));
    list.push(format!("http://bad\u{9b}host.test:{}/", hostile.port()));
    list.push(hostile.url("/\u{202e}gpj.exe"));
    let dir = TempDir::new().unwrap();
    let file = write_list(dir.path(), "hostile.txt", lines(&list));
    for format in ["human", "jsonl"] {
        let out = run(urlcheck()
            .args(["-t", "2s", "--retries", "0", "--color", "never"])
            .args(["--format", format])
            .arg(&file));
        no_panic_text(&out.stderr);
        assert!(
            matches!(out.code, Some(1)),
            "{format}: some are errors: {out}"
        );
        assert_inert(&format!("{format} stdout"), &out.stdout);
        assert_inert(&format!("{format} stderr"), out.stderr.as_bytes());
        // Every line but the one whose host is not a URL host names the server.
        let shown = out
            .stdout()
            .lines()
            .filter(|l| l.contains("127.0.0.1"))
            .count();
        assert!(shown >= list.len() - 1, "every line has a result: {out}");
        if format == "human" {
            // Shown, but as text.
            assert!(out.stdout().contains("\\u{1b}"), "{out}");
        }
    }
    for target in targets {
        assert!(
            hostile.heads().iter().any(|h| h.target == target),
            "{target} was never asked for, so its answer was never tested"
        );
    }
}
