//! Bot walls and rate limits (issue 12): an answer that says nothing about the page is
//! `blocked`, with a reason, not `down`: Cloudflare's challenge (`cf-mitigated: challenge`),
//! an AWS WAF action (`x-amzn-waf-action`), LinkedIn's 999, and a 429 that every retry met.
//! Not a failure by default (`--fail-on blocked` makes it one); a plain 403 or 404 is still
//! `down`, which is the point: 403 can stay a failure. Against a scripted loopback server.

mod common;
mod servers;

use std::collections::HashMap;

use serde_json::Value;
use tempfile::TempDir;

use common::json::outcome;
use common::{results, run, urlcheck, write_list};
use servers::{response, Scripted};

fn server() -> Scripted {
    Scripted::start("127.0.0.1:0", |head| match head.target.as_str() {
        "/cloudflare" => response("403 Forbidden", &[("cf-mitigated", "challenge")]),
        "/waf" => response("202 Accepted", &[("x-amzn-waf-action", "captcha")]),
        "/linkedin" => response("999 Request denied", &[]),
        "/limited" => response("429 Too Many Requests", &[("Retry-After", "0")]),
        "/forbidden" => response("403 Forbidden", &[]),
        "/gone" => response("404 Not Found", &[]),
        _ => response("200 OK", &[]),
    })
    .expect("bind the server")
}

const WALLS: [&str; 4] = ["/cloudflare", "/waf", "/linkedin", "/limited"];

fn by_path<'a>(doc: &'a Value, srv: &Scripted) -> HashMap<String, &'a Value> {
    results(doc)
        .iter()
        .map(|r| {
            let url = r["url"].as_str().unwrap();
            let path = url.strip_prefix(&srv.url("")).unwrap_or(url);
            (path.to_owned(), r)
        })
        .collect()
}

#[test]
fn walls_and_spent_rate_limits_are_blocked_with_a_reason_and_real_failures_stay_down() {
    let srv = server();
    let dir = TempDir::new().unwrap();
    let paths = [
        "/ok",
        "/cloudflare",
        "/waf",
        "/linkedin",
        "/limited",
        "/forbidden",
        "/gone",
    ];
    let urls: Vec<String> = paths.iter().map(|p| srv.url(p)).collect();
    let list = write_list(dir.path(), "urls.txt", common::lines(&urls));
    let out = run(urlcheck()
        .args(["-t", "2s", "--retries", "1", "--format", "json"])
        .arg(&list));
    out.assert_code(1);
    let doc = out.json();
    let r = by_path(&doc, &srv);
    for wall in WALLS {
        assert_eq!(outcome(r[wall]), "blocked", "{wall}: {:#}", r[wall]);
        assert!(r[wall]["error"].is_null(), "{wall}: {:#}", r[wall]);
    }
    let reason = |p: &str| r[p]["reason"].as_str().unwrap().to_owned();
    assert!(reason("/cloudflare").contains("Cloudflare challenge"));
    assert!(reason("/waf").contains("AWS WAF captcha"));
    assert!(reason("/linkedin").contains("999"));
    assert_eq!(reason("/limited"), "rate limited: 429 after 2 tries");
    assert_eq!(r["/limited"]["attempts"], 2, "the retry was made first");
    for down in ["/forbidden", "/gone"] {
        assert_eq!(outcome(r[down]), "down", "{down}: {:#}", r[down]);
        assert!(r[down].get("reason").is_none(), "{down}");
    }
    assert_eq!(outcome(r["/ok"]), "up");
    let s = &doc["summary"];
    assert_eq!(
        (s["blocked"].as_u64(), s["down"].as_u64()),
        (Some(4), Some(2)),
        "{s:#}"
    );
    common::validate::assert_valid(&common::validate::validator(None), &doc, "report");
}

#[test]
fn blocked_is_no_failure_unless_fail_on_says_so() {
    let srv = server();
    let urls: Vec<String> = WALLS.iter().map(|p| srv.url(p)).collect();
    let plain = run(urlcheck().args(["-t", "2s", "--retries", "0"]).args(&urls));
    plain.assert_code(0);
    let text = plain.stdout();
    assert!(text.contains("blocked"), "{text}");
    assert!(
        text.contains("4 blocked"),
        "the summary counts them: {text}"
    );
    assert!(
        text.contains("Cloudflare challenge"),
        "the line says why: {text}"
    );
    let strict = run(urlcheck()
        .args([
            "-t",
            "2s",
            "--retries",
            "0",
            "--fail-on",
            "down,error,invalid,blocked",
            "-q",
        ])
        .args(&urls));
    strict.assert_code(1);
    assert!(
        strict.stdout().contains("blocked: a Cloudflare challenge"),
        "{strict}"
    );
}

#[test]
fn junit_skips_blocked_urls_and_the_history_does_not_record_them() {
    let srv = server();
    let dir = TempDir::new().unwrap();
    let (junit, db) = (dir.path().join("j.xml"), dir.path().join("h.db"));
    let out = run(urlcheck()
        .args(["-t", "2s", "--retries", "0", "--history"])
        .arg(&db)
        .arg("--report")
        .arg(format!("junit={}", junit.display()))
        .args([srv.url("/linkedin"), srv.url("/ok")]));
    out.assert_code(0);
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let case = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name").unwrap().ends_with("/linkedin"))
        .unwrap();
    let skipped = case
        .children()
        .find(|n| n.has_tag_name("skipped"))
        .expect("skipped");
    assert!(
        skipped.attribute("message").unwrap().contains("999"),
        "{xml}"
    );
    common::validate::assert_junit_xsd(&junit);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (blocked, recorded): (i64, i64) = conn
        .query_row("SELECT blocked, recorded FROM runs", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(
        (blocked, recorded),
        (1, 1),
        "counted in the run, not a check of the page"
    );
    let urls: i64 = conn
        .query_row("SELECT count(*) FROM urls", [], |r| r.get(0))
        .unwrap();
    assert_eq!(urls, 1);
}
