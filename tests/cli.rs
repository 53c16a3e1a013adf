//! Acceptance tests of issue 2, driving the built `urlcheck` binary against servers each test
//! starts on loopback: the fixture (HTTP and raw-TCP fault listeners) and, for DNS, a stub
//! that answers NXDOMAIN. Nothing here leaves 127.0.0.0/8.

mod common;

use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use common::json::{error_kind, outcome};
use common::{
    lines, refused_port, result, results, run, send_signal, sources, urlcheck, urlcheck_std,
    wait_child, wait_until, write_list, HeadRecorder, Server, FAST_500MS,
};

fn has_ansi(bytes: &[u8]) -> bool {
    bytes.contains(&0x1b)
}

// ---------------------------------------------------------------------------
// 2. Exit codes
// ---------------------------------------------------------------------------

/// Starts a run with two hanging URLs around three quick ones, on one host with two slots,
/// so that the second hang is admitted only after the last quick one has been reported.
/// Once the server sees it, the signal goes out.
fn interrupt_with(signal: libc::c_int, expected_code: i32) {
    let srv = Server::start(1);
    let oks: Vec<String> = (1..=3)
        .map(|i| srv.raw_url(0, &format!("/ok?i={i}")))
        .collect();
    let mut args = vec![srv.raw_url(0, "/hang?i=1")];
    args.extend(oks.iter().cloned());
    args.push(srv.raw_url(0, "/hang?i=2"));
    let mut child = urlcheck_std()
        .args(["-c", "2", "-t", "30s", "--retries", "0", "--format", "json"])
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn urlcheck");
    let stats = srv.stats();
    wait_until(
        "the second hang to reach the server",
        Duration::from_secs(20),
        || stats.hits("/hang?i=2") == 1,
    );
    for i in 1..=3 {
        assert_eq!(stats.hits(&format!("/ok?i={i}")), 1);
    }
    let signalled = std::time::Instant::now();
    send_signal(&child, signal);
    let status = wait_child(&mut child, Duration::from_secs(10));
    let waited = signalled.elapsed();
    let mut stdout = Vec::new();
    let mut stderr = String::new();
    std::io::Read::read_to_end(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let context = format!(
        "status {status:?}\n--- stdout ---\n{}\n--- stderr ---\n{stderr}",
        String::from_utf8_lossy(&stdout)
    );
    assert_eq!(status.code(), Some(expected_code), "{context}");
    assert!(
        waited < Duration::from_secs(10),
        "stops without waiting for the hangs: {context}"
    );
    let doc: Value = serde_json::from_slice(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {context}"));
    assert_eq!(doc["interrupted"], true, "{context}");
    for ok in &oks {
        assert_eq!(outcome(result(&doc, ok)), "up", "{context}");
    }
    for r in results(&doc) {
        let url = r["url"].as_str().unwrap();
        assert!(
            !(url.contains("/hang") && outcome(r) == "up"),
            "a hang cannot have completed: {context}"
        );
    }
    srv.shutdown();
}

#[test]
fn sigint_reports_what_completed_and_exits_130() {
    interrupt_with(libc::SIGINT, 130);
}

#[test]
fn sigterm_reports_what_completed_and_exits_143() {
    interrupt_with(libc::SIGTERM, 143);
}

// ---------------------------------------------------------------------------
// 9. Colour
// ---------------------------------------------------------------------------

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
// 10. JSON and JSONL
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
    assert_eq!(
        r["redirects"],
        serde_json::json!([
            {"url": redirect, "status": 302},
            {"url": srv.url(0, "/redirect/1"), "status": 302},
        ])
    );
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
// 11. Credentials
// ---------------------------------------------------------------------------

#[test]
fn credentials_and_header_values_never_reach_the_output() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let port = srv.http_port();
    let with_creds = |path: &str| format!("http://user:secret@127.0.0.1:{port}{path}");
    let list = write_list(
        dir.path(),
        "creds.txt",
        lines(&[
            with_creds("/ok"),
            with_creds("/redirect/1"),
            with_creds("/status/404"),
            format!("http://user:secret@127.0.0.1:{}/", refused_port()),
            "http://user:secret@bad host/".to_string(),
        ]),
    );
    for format in ["human", "json", "jsonl"] {
        let out = run(urlcheck()
            .args(FAST_500MS)
            .args(["-H", "X-Token: hunter2", "--format", format])
            .arg(&list));
        out.assert_code(1);
        let all = out.all_output();
        assert!(
            !all.contains("secret"),
            "{format} shows the password:\n{out}"
        );
        assert!(
            !all.contains("hunter2"),
            "{format} shows the header:\n{out}"
        );
        assert!(all.contains("127.0.0.1"), "{format} shows the URLs:\n{out}");
    }
    assert_eq!(srv.stats().hits("/ok"), 3);
    srv.shutdown();

    // Kept out of the output, yet really sent.
    let recorder = HeadRecorder::start();
    let url = format!("http://user:secret@127.0.0.1:{}/ok", recorder.port());
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["-H", "X-Token: hunter2", &url]));
    let head = recorder.head().to_ascii_lowercase();
    out.assert_code(0);
    assert!(head.contains("x-token: hunter2"), "{head}");
    // user:secret in Basic auth
    assert!(
        head.contains("authorization: basic dxnlcjpzzwnyzxq="),
        "{head}"
    );
    assert!(!out.all_output().contains("secret"), "{out}");
}

// ---------------------------------------------------------------------------
// Found in review
// ---------------------------------------------------------------------------

#[test]
fn a_closed_stderr_does_not_turn_failures_into_success() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let urls: Vec<String> = (0..200)
        .map(|i| srv.url(0, &format!("/status/404?i={i}")))
        .collect();
    let list = write_list(dir.path(), "dead.txt", lines(&urls));
    let report = dir.path().join("r.json");
    // stderr is a pipe whose reader is gone before urlcheck writes its annotations.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = common::urlcheck_std()
        .args(FAST_500MS)
        .args(["--github", "-q", "--report"])
        .arg(format!("json={}", report.display()))
        .arg(&list)
        .stdout(std::process::Stdio::null())
        .stderr(writer)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(doc["summary"]["down"], 200);
    srv.shutdown();
}

#[test]
fn compare_stops_reading_stdin_on_ctrl_c() {
    let dir = TempDir::new().unwrap();
    let report = dir.path().join("c.json");
    let mut child = common::urlcheck_std()
        .args(["--compare", "-", "--report"])
        .arg(format!("json={}", report.display()))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // stdin stays open: urlcheck is waiting for more of the list.
    let stdin = child.stdin.take().unwrap();
    let temp_exists = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".tmp"))
    };
    common::wait_until(
        "the report's temporary file",
        Duration::from_secs(10),
        temp_exists,
    );
    common::send_signal(&child, libc::SIGINT);
    let status = common::wait_child(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(130));
    assert!(!temp_exists(), "no temporary file is left behind");
    assert!(
        !report.exists(),
        "nothing completed, so no report replaces anything"
    );
    drop(stdin);
}

#[test]
fn the_human_failure_list_follows_fail_on() {
    let srv = Server::start(1);
    let missing = srv.url(0, "/status/404");
    let refused = format!("http://127.0.0.1:{}/", refused_port());
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["-q", "--fail-on", "error"])
        .args([&missing, &refused]));
    out.assert_code(1);
    let text = out.stdout();
    assert!(text.contains("Failures (1)"), "{text}");
    assert!(text.contains(&refused), "{text}");
    // A 404 is not a failure under --fail-on error: -q does not show it.
    assert!(!text.contains(&missing), "{text}");
    srv.shutdown();
}
