//! The run history in every format, end to end: the real binary runs twice with `--history`
//! against a loopback server whose answers change between the runs, and every format of the
//! second run says which URL broke, which recovered, which is still broken and which is new
//! to the history. (Each format's details are unit-tested in `src/report/`; the golden files
//! prove that a run without `--history` writes what it always wrote.)

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use common::{github, parse, run, urlcheck, validate, write_list, Run, FAST_5S};
use serde_json::Value;
use tempfile::TempDir;

/// The status of each path in each phase (run) of the test.
fn status(name: &str, phase: usize) -> StatusCode {
    let code = match (name, phase) {
        ("steady" | "fresh", _) => 200,
        ("stays", _) => 404,
        ("breaks", 0) => 200,
        ("breaks", _) => 500,
        ("heals", 0) => 503,
        ("heals", _) => 200,
        _ => 400,
    };
    StatusCode::from_u16(code).expect("a valid status")
}

#[derive(Clone, Default)]
struct Phase {
    now: Arc<AtomicUsize>,
    /// Requests answered in each phase.
    hits: Arc<[AtomicU64; 2]>,
}

/// A loopback HTTP server that answers by [`status`] in the phase the test sets. Stopped by
/// [`Switch::stop`], or on drop if the test panics first.
struct Switch {
    phase: Phase,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    runtime: tokio::runtime::Runtime,
}

impl Switch {
    fn start() -> Switch {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the server");
        let phase = Phase::default();
        let app = Router::new()
            .route("/:name", get(answer))
            .with_state(phase.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind the server");
        let addr = listener.local_addr().expect("the server's address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = runtime.spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Switch {
            phase,
            addr,
            stop: Some(stop),
            task: Some(task),
            runtime,
        }
    }

    fn url(&self, name: &str) -> String {
        format!("http://{}/{name}", self.addr)
    }

    fn set_phase(&self, phase: usize) {
        self.phase.now.store(phase, Ordering::SeqCst);
    }

    fn hits(&self, phase: usize) -> u64 {
        self.phase.hits[phase].load(Ordering::SeqCst)
    }

    fn stop(&mut self) {
        if let (Some(stop), Some(task)) = (self.stop.take(), self.task.take()) {
            let _ = stop.send(());
            let served = self.runtime.block_on(task).expect("the server task");
            served.expect("the server ran without an I/O error");
        }
    }
}

impl Drop for Switch {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn answer(State(phase): State<Phase>, UrlPath(name): UrlPath<String>) -> StatusCode {
    let now = phase.now.load(Ordering::SeqCst);
    phase.hits[now].fetch_add(1, Ordering::SeqCst);
    status(&name, now)
}

/// The formats the second run writes to files, and the file each goes to.
const REPORTS: [(&str, &str); 7] = [
    ("json", "report.json"),
    ("jsonl", "report.jsonl"),
    ("csv", "report.csv"),
    ("junit", "report.xml"),
    ("markdown", "report.md"),
    ("prometheus", "report.prom"),
    ("sarif", "report.sarif"),
];

/// urlcheck in `dir` with `db` as its history, single-shot, no progress bar.
fn check(dir: &Path, db: &str, extra: &[&str], lists: &[&str]) -> Run {
    let out = run(urlcheck()
        .current_dir(dir)
        .args(FAST_5S)
        .args(["--no-progress", "--color", "never", "--history", db])
        .args(extra)
        .args(lists));
    common::no_panic(&out);
    out
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}

/// The states the JSON report gives, by URL.
fn states(doc: &Value) -> HashMap<String, String> {
    common::results(doc)
        .iter()
        .map(|r| {
            let state = r["history"]["state"]
                .as_str()
                .unwrap_or_else(|| panic!("{r:#}"));
            (r["url"].as_str().unwrap().to_string(), state.to_string())
        })
        .collect()
}

#[test]
fn every_format_shows_what_changed_since_the_last_run() {
    let mut srv = Switch::start();
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let names = ["steady", "stays", "heals", "breaks"];
    write_list(d, "list.txt", common::lines(&names.map(|n| srv.url(n))));
    write_list(d, "fresh.txt", common::lines(&[srv.url("fresh")]));

    // Run 1, twice: one history for the reports, one for the quiet output.
    srv.set_phase(0);
    let first = check(d, "a.db", &["--format", "json"], &["list.txt"]);
    first.assert_code(1);
    let doc = first.json();
    assert!(states(&doc).values().all(|s| s == "first"), "{doc:#}");
    let counts = &doc["summary"]["history"];
    assert_eq!(
        (counts["newly_broken"].as_u64(), counts["first"].as_u64()),
        (Some(2), Some(2))
    );
    check(d, "b.db", &[], &["list.txt"]).assert_code(1);
    assert_eq!(srv.hits(0), 8, "each run asked each URL once");

    // Run 2: breaks is newly broken, heals recovered, stays still broken, fresh first seen.
    srv.set_phase(1);
    let summary = d.join("step-summary.md");
    let mut args = vec!["--github".to_string()];
    for (format, file) in REPORTS {
        args.extend(["--report".to_string(), format!("{format}={file}")]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let second = run(urlcheck()
        .current_dir(d)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(FAST_5S)
        .args(["--no-progress", "--color", "never", "--history", "a.db"])
        .args(&args)
        .args(["list.txt", "fresh.txt"]));
    common::no_panic(&second);
    second.assert_code(1);
    let quiet = check(d, "b.db", &["-q"], &["list.txt", "fresh.txt"]);
    quiet.assert_code(1);
    assert_eq!(srv.hits(1), 10, "each run asked each URL once");
    srv.stop();

    human(&srv, &second.stdout(), &quiet.stdout());
    json(&srv, d);
    csv(&srv, &read(d, "report.csv"));
    junit(&srv, d);
    markdown(&srv, &read(d, "report.md"));
    markdown(&srv, &read(d, "step-summary.md"));
    prometheus(&srv, &read(d, "report.prom"));
    sarif(&srv, &read(d, "report.sarif"));
    annotations(&srv, &second.stderr);
}

const HISTORY_LINE: &str = "history: 1 newly broken, 1 recovered, 1 still broken, 1 first seen";

fn human(srv: &Switch, text: &str, quiet: &str) {
    let line = |name: &str| {
        let url = format!("{} ", srv.url(name));
        let found = text
            .lines()
            .find(|l| l.contains(&url) || l.ends_with(url.trim_end()));
        found.unwrap_or_else(|| panic!("no line for {name}:\n{text}"))
    };
    assert!(line("breaks").ends_with("  [newly broken]"), "{text}");
    assert!(line("heals").ends_with("  [recovered]"), "{text}");
    assert!(
        line("stays").ends_with("  [failing 2 runs in a row]"),
        "{text}"
    );
    assert!(!line("steady").contains('['), "{text}");
    assert!(!line("fresh").contains('['), "{text}");
    for out in [text, quiet] {
        assert!(out.contains(&format!("\n{HISTORY_LINE}\n")), "{out}");
        // The newly broken first, although it is listed after the one still broken.
        let breaks = out.find(&format!("  down    {}  [newly broken]", srv.url("breaks")));
        let stays = out.find(&format!("  down    {}  [failing", srv.url("stays")));
        assert!(
            breaks.is_some() && breaks > out.find("Failures (2):"),
            "{out}"
        );
        assert!(breaks < stays, "{out}");
    }
}

fn json(srv: &Switch, d: &Path) {
    let doc: Value = serde_json::from_str(&read(d, "report.json")).unwrap();
    validate::assert_valid(&validate::validator(None), &doc, "the JSON report");
    let states = states(&doc);
    let wanted = [
        ("steady", "steady"),
        ("stays", "still"),
        ("heals", "recovered"),
        ("breaks", "new"),
        ("fresh", "first"),
    ];
    for (name, state) in wanted {
        assert_eq!(states[&srv.url(name)], state, "{name}: {doc:#}");
    }
    let stays = common::result(&doc, &srv.url("stays"));
    assert_eq!(stays["history"]["consecutive_failures"], 2, "{stays:#}");
    assert_eq!(
        stays["history"]["last_up"],
        Value::Null,
        "never up: {stays:#}"
    );
    let counts = &doc["summary"]["history"];
    let wanted = serde_json::json!({
        "newly_broken": 1, "recovered": 1, "still": 1, "flapping": 0, "steady": 1, "first": 1
    });
    assert_eq!(counts, &wanted, "{doc:#}");

    let lines = common::json::json_lines(&read(d, "report.jsonl"));
    let (result, summary) = (
        validate::validator(Some("jsonl_result")),
        validate::validator(Some("jsonl_summary")),
    );
    let (last, results) = lines.split_last().expect("JSONL lines");
    for line in results {
        validate::assert_valid(&result, line, "a JSONL result");
        assert!(line["history"]["state"].is_string(), "{line}");
    }
    validate::assert_valid(&summary, last, "the JSONL summary");
    assert_eq!(last["summary"]["history"], wanted);
}

fn csv(srv: &Switch, text: &str) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    // The history's columns come after the twelve every run has, before the phases.
    let tail: Vec<&str> = header.iter().skip(12).take(4).collect();
    assert_eq!(
        tail,
        ["state", "consecutive_failures", "failing_since", "last_up"]
    );
    let rows: HashMap<String, (String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), (r[12].to_string(), r[13].to_string()))
        })
        .collect();
    let row = |name: &str| rows[&srv.url(name)].clone();
    assert_eq!(row("breaks"), ("new".into(), "1".into()), "{text}");
    assert_eq!(row("stays"), ("still".into(), "2".into()), "{text}");
    assert_eq!(row("heals"), ("recovered".into(), "0".into()), "{text}");
    assert_eq!(row("fresh"), ("first".into(), "0".into()), "{text}");
}

fn junit(srv: &Switch, d: &Path) {
    validate::assert_junit_xsd(&d.join("report.xml"));
    let xml = read(d, "report.xml");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let message = |name: &str| {
        let url = srv.url(name);
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(url.as_str()))
            .flat_map(|n| n.children().filter(|c| c.has_tag_name("failure")))
            .find_map(|f| f.attribute("message"))
            .map(str::to_string)
    };
    let breaks = message("breaks").unwrap_or_else(|| panic!("no failure for breaks:\n{xml}"));
    assert!(breaks.ends_with(" (newly broken)"), "{breaks}");
    let stays = message("stays").unwrap_or_else(|| panic!("no failure for stays:\n{xml}"));
    assert!(stays.ends_with(" (failing 2 runs in a row)"), "{stays}");
    assert_eq!(message("heals"), None, "{xml}");
}

fn markdown(srv: &Switch, text: &str) {
    assert!(
        text.contains("**History:** 1 newly broken, 1 recovered, 1 still broken, 1 first seen."),
        "{text}"
    );
    let tables = parse::markdown_tables(text);
    let failures = tables.last().expect("a failure table");
    assert_eq!(
        failures[0].last().map(String::as_str),
        Some("history"),
        "{text}"
    );
    let code = |name: &str| format!("`{}`", srv.url(name));
    assert_eq!(
        failures[1][2],
        code("breaks"),
        "newly broken first:\n{text}"
    );
    assert_eq!(failures[1][5], "**newly broken**");
    assert_eq!(failures[2][2], code("stays"));
    assert_eq!(failures[2][5], "failing 2 runs in a row");
}

fn prometheus(srv: &Switch, text: &str) {
    let scrape = parse::prometheus(text);
    let value = |metric: &str, label: &str, value: &str| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == metric && s.labels.get(label) == Some(value))
            .map(parse::gauge)
    };
    let failures = |name| value("urlcheck_consecutive_failures", "url", &srv.url(name));
    assert_eq!(failures("stays"), Some(2.0), "{text}");
    assert_eq!(failures("breaks"), Some(1.0), "{text}");
    assert_eq!(failures("heals"), Some(0.0), "{text}");
    let last_up = |name| value("urlcheck_last_up_timestamp_seconds", "url", &srv.url(name));
    assert_eq!(last_up("stays"), None, "never up: no sample\n{text}");
    for name in ["steady", "heals", "breaks", "fresh"] {
        assert!(last_up(name).is_some_and(|t| t > 1.7e9), "{name}: {text}");
    }
    let state = |s| value("urlcheck_history_urls", "state", s);
    assert_eq!(
        ["new", "still", "recovered", "flapping", "first"].map(state),
        [Some(1.0), Some(1.0), Some(1.0), Some(0.0), Some(1.0)],
        "{text}"
    );
}

fn sarif(srv: &Switch, text: &str) {
    let doc: Value = serde_json::from_str(text).unwrap();
    validate::assert_valid(&validate::sarif_validator(), &doc, "the SARIF log");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let history = |name: &str| {
        let url = format!("{} ", srv.url(name));
        let r = results
            .iter()
            .find(|r| r["message"]["text"].as_str().unwrap().starts_with(&url))
            .unwrap_or_else(|| panic!("no result for {name}: {doc:#}"));
        r["properties"]["history"].clone()
    };
    assert_eq!(history("breaks")["state"], "new");
    assert_eq!(history("stays")["state"], "still");
    assert_eq!(history("stays")["consecutive_failures"], 2);
}

fn annotations(srv: &Switch, stderr: &str) {
    let notes = github::annotations(stderr);
    let title = |name: &str| {
        let url = format!("{} ", srv.url(name));
        let found = notes.iter().find(|a| a.message.starts_with(&url));
        found.map(|a| a.title.clone())
    };
    assert_eq!(
        title("breaks").as_deref(),
        Some("urlcheck: down (newly broken)")
    );
    assert_eq!(
        title("stays").as_deref(),
        Some("urlcheck: down (failing 2 runs in a row)")
    );
    assert_eq!(notes.len(), 2, "{stderr}");
}
