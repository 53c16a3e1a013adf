//! Acceptance tests of issue 2, driving the built `urlcheck` binary against servers each test
//! starts on loopback: the fixture (HTTP and raw-TCP fault listeners) and, for DNS, a stub
//! that answers NXDOMAIN. Nothing here leaves 127.0.0.0/8.

mod common;

use serde_json::Value;
use tempfile::TempDir;

use common::json::{error_kind, outcome};
use common::{
    lines, refused_port, results, run, sources, urlcheck, urlcheck_std, write_list, Server,
    FAST_500MS,
};

fn has_ansi(bytes: &[u8]) -> bool {
    bytes.contains(&0x1b)
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
// Found in review
// ---------------------------------------------------------------------------

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
