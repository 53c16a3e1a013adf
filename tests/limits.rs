//! Limits: how much urlcheck asks of the servers at once (README: Why concurrency, and Limits
//! under Options). The global `--concurrency` and the `--per-host` bound, as the fixture server
//! measures them, up to 10,000 URLs over 16 hosts; `--sequential`, the same checker with one
//! slot; and `--compare`, which runs the list both ways and prints the speedup. (Lowering the
//! concurrency to fit the open-file limit is exercised by `bench/soak`, not by this suite.)

mod common;
mod servers;

use tempfile::TempDir;

use common::{lines, no_panic, results, run, urlcheck, write_list, Server, FAST_500MS};
use servers::alice_only;

// ---------------------------------------------------------------------------
// --concurrency and --per-host
// ---------------------------------------------------------------------------

#[test]
fn global_and_per_host_limits_hold() {
    let srv = Server::start(4);
    let dir = TempDir::new().unwrap();
    let urls: Vec<String> = (0..80)
        .map(|i| srv.url(i % 4, &format!("/delay/100?i={i}")))
        .collect();
    let list = write_list(dir.path(), "many.txt", lines(&urls));
    let out = run(urlcheck()
        .args(["-t", "10s", "--retries", "0", "-c", "6", "--per-host", "2"])
        .arg(&list));
    out.assert_code(0);
    let stats = srv.stats();
    assert_eq!(stats.requests(), 80);
    common::assert_limits_held(&stats, 6, 2, 4);
    srv.shutdown();
}

#[test]
fn per_host_limit_binds_below_the_global_one() {
    let srv = Server::start(1);
    let urls: Vec<String> = (0..12)
        .map(|i| srv.url(0, &format!("/delay/100?i={i}")))
        .collect();
    let out = run(urlcheck()
        .args(["-t", "10s", "--retries", "0", "-c", "64", "--per-host", "3"])
        .args(&urls));
    out.assert_code(0);
    let max = srv.stats().max_in_flight();
    assert!((2..=3).contains(&max), "per-host 3, got {max} in flight");
    srv.shutdown();
}

#[test]
fn global_and_per_host_limits_hold_for_10000_urls_over_16_hosts() {
    let srv = Server::start(16);
    let dir = TempDir::new().unwrap();
    // A short delay keeps requests in flight long enough for the server to see the overlap.
    let urls: Vec<String> = (0..10_000)
        .map(|i| srv.url(i % 16, &format!("/delay/5?i={i}")))
        .collect();
    let list = write_list(dir.path(), "10k.txt", lines(&urls));
    let out = run(urlcheck()
        .args(["-c", "64", "--per-host", "4", "--retries", "0"])
        .args(["--format", "json"])
        .arg(&list));
    no_panic(&out);
    out.assert_code(0);
    let doc = out.json();
    assert_eq!(doc["summary"]["up"], 10_000, "{:#}", doc["summary"]);
    let stats = srv.stats();
    assert_eq!(stats.requests(), 10_000);
    // 16 hosts at 4 each can fill the pool of 64; 16 at once shows real overlap even on a
    // loaded machine.
    common::assert_limits_held(&stats, 64, 4, 16);
    eprintln!(
        "10,000 URLs in {:?}: at most {} in flight, {} on one host",
        out.elapsed,
        stats.max_in_flight(),
        stats.max_in_flight_per_host()
    );
    srv.shutdown();
}

// ---------------------------------------------------------------------------
// --sequential
// ---------------------------------------------------------------------------

#[test]
fn sequential_runs_one_request_at_a_time() {
    let srv = Server::start(2);
    let urls: Vec<String> = (0..10)
        .map(|i| srv.url(i % 2, &format!("/delay/20?i={i}")))
        .collect();
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["--sequential", "--format", "json"])
        .args(&urls));
    out.assert_code(0);
    assert_eq!(srv.stats().requests(), 10);
    assert_eq!(srv.stats().max_in_flight(), 1);
    let doc = out.json();
    assert_eq!(doc["mode"], "sequential");
    assert_eq!(doc["settings"]["concurrency"], 1);
    srv.shutdown();
}

// ---------------------------------------------------------------------------
// --compare
// ---------------------------------------------------------------------------

fn compare_list(srv: &Server) -> Vec<String> {
    let mut urls: Vec<String> = (0..4).map(|i| srv.url(0, &format!("/ok?i={i}"))).collect();
    urls.push(srv.url(0, "/status/404"));
    urls.extend((0..3).map(|i| srv.url(0, &format!("/delay/50?i={i}"))));
    urls
}

/// Two URLs that differ only in their credentials (one let in, one not) are different URLs:
/// `--compare` matches each to itself, not to the other, and finds no difference.
#[test]
fn compare_tells_apart_urls_that_differ_only_in_credentials() {
    let gate = alice_only();
    let port = gate.port();
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["--compare", "--format", "json"])
        .args([
            format!("http://alice:pw1@127.0.0.1:{port}/x"),
            format!("http://bob:pw2@127.0.0.1:{port}/x"),
        ]));
    out.assert_code(1);
    let doc = out.json();
    assert_eq!(doc["differences"], serde_json::json!([]), "{doc:#}");
    for half in ["sequential", "concurrent"] {
        assert_eq!(doc[half]["summary"]["up"], 1, "{doc:#}");
        assert_eq!(doc[half]["summary"]["down"], 1, "{doc:#}");
    }
}

#[test]
fn compare_prints_both_runs_and_the_speedup() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let list = write_list(dir.path(), "compare.txt", lines(&compare_list(&srv)));
    let out = run(urlcheck().args(FAST_500MS).arg("--compare").arg(&list));
    out.assert_code(1); // the 404
    let text = out.stdout();
    let header = text
        .lines()
        .find(|l| l.contains("sequential"))
        .unwrap_or_else(|| panic!("no column header: {out}"));
    assert!(header.contains("concurrent"), "{out}");
    let row = |name: &str| -> Vec<String> {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} row: {out}"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(row("up"), ["up", "7", "7"], "{out}");
    assert_eq!(row("down"), ["down", "1", "1"], "{out}");
    assert_eq!(row("error"), ["error", "0", "0"], "{out}");
    let speedup = text
        .lines()
        .find(|l| l.starts_with("speedup:"))
        .unwrap_or_else(|| panic!("no speedup line: {out}"));
    let factor = speedup
        .trim_start_matches("speedup:")
        .split_whitespace()
        .next()
        .and_then(|x| x.strip_suffix('x'))
        .and_then(|x| x.parse::<f64>().ok());
    assert!(factor.is_some_and(|x| x > 0.0), "{speedup}");
    // Each half fetched every URL.
    assert_eq!(srv.stats().hits("/status/404"), 2);
    assert_eq!(srv.stats().hits("/delay/50?i=0"), 2);
    srv.shutdown();
}

#[test]
fn compare_json_holds_both_documents() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let list = write_list(dir.path(), "compare.txt", lines(&compare_list(&srv)));
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["--compare", "--format", "json"])
        .arg(&list));
    out.assert_code(1);
    let doc = out.json();
    assert_eq!(doc["mode"], "compare");
    let (seq, con) = (&doc["sequential"], &doc["concurrent"]);
    assert_eq!(seq["mode"], "sequential");
    assert_eq!(con["mode"], "concurrent");
    assert_eq!(seq["settings"]["concurrency"], 1);
    for key in ["total", "up", "down", "error", "invalid", "skipped"] {
        assert_eq!(seq["summary"][key], con["summary"][key], "{key}: {doc:#}");
    }
    assert_eq!(seq["summary"]["total"], 8);
    assert_eq!(seq["summary"]["up"], 7);
    assert_eq!(results(seq).len(), 8);
    assert_eq!(results(con).len(), 8);
    assert!(doc["speedup"].as_f64().is_some_and(|x| x > 0.0), "{doc:#}");
    assert_eq!(doc["differences"], serde_json::json!([]), "{doc:#}");
    srv.shutdown();
}
