//! The offline guard: `--canary URL` checked before the list (no canary up: exit 3, nothing of
//! the list requested, reported, written or recorded), and without a canary the summary's
//! note that the machine looks offline when every request failed to resolve or connect.

mod common;

use std::path::Path;

use common::json::outcome;
use common::validate::{assert_valid, validator};
use common::*;
use rusqlite::Connection;

fn refused() -> String {
    format!("http://127.0.0.1:{}/", refused_port())
}

/// The runs recorded, and the checks and failing streaks of every URL together.
fn recorded(db: &Path) -> (i64, i64, i64) {
    let conn = Connection::open(db).unwrap();
    let runs = conn
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .unwrap();
    let (checks, streaks) = conn
        .query_row(
            "SELECT sum(checks), sum(consecutive_failures) FROM urls",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    (runs, checks, streaks)
}

#[test]
fn no_canary_up_stops_the_run_before_the_list_with_exit_3() {
    let server = Server::start(1);
    let dir = tempfile::tempdir().unwrap();
    let list = write_list(
        dir.path(),
        "urls.txt",
        lines(&[server.url(0, "/ok"), server.url(0, "/status/500")]),
    );
    let report = dir.path().join("report.json");
    std::fs::write(&report, "the previous report\n").unwrap();
    let (first, second) = (refused(), refused());
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["--canary", &first, "--canary", &second])
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .arg(&list));
    out.assert_code(3);
    assert_eq!(
        server.stats().requests(),
        0,
        "the list was requested: {out}"
    );
    assert_eq!(out.stdout(), "", "no result of the list is reported");
    for canary in [&first, &second] {
        assert!(
            out.stderr.contains(&format!("{canary}: error (connect)")),
            "each canary is named with what it got: {out}"
        );
    }
    assert!(
        out.stderr.contains("network looks down, not the list"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(&report).unwrap(),
        "the previous report\n",
        "the previous report stays in place"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 2, "no temporary file is left: {left:?}");
    no_panic(&out);
    server.shutdown();
}

#[test]
fn one_canary_up_is_enough_and_canaries_are_not_results() {
    let server = Server::start(1);
    let canary = server.url(0, "/ok?canary");
    let url = server.url(0, "/ok");
    let refused_canary = refused();
    let out = run(urlcheck()
        .args(FAST_5S)
        .args([
            "--format",
            "json",
            "--canary",
            &refused_canary,
            "--canary",
            &canary,
        ])
        .arg(&url));
    out.assert_code(0);
    assert_eq!(
        server.stats().hits("/ok?canary"),
        1,
        "the canary was checked"
    );
    let doc = out.json();
    let urls: Vec<&str> = results(&doc)
        .iter()
        .map(|r| r["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls, [url.as_str()], "only the list's URLs are results");
    assert_eq!(doc["summary"]["total"], 1);
    // The report says which canaries vouched for the network, as it says every other setting.
    assert_eq!(
        doc["settings"]["canaries"],
        serde_json::json!([refused_canary, canary]),
        "{doc:#}"
    );
    assert_valid(&validator(None), &doc, "a report with canaries");
    server.shutdown();
}

#[test]
fn a_canary_up_and_a_url_of_the_list_down_is_exit_1() {
    let server = Server::start(1);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let down = refused();
    let cmd = |canary: &str| {
        let mut cmd = urlcheck();
        cmd.args(FAST_500MS)
            .arg("--history")
            .arg(&db)
            .args(["--format", "json", "--canary", canary])
            .args([server.url(0, "/ok"), down.clone()]);
        cmd
    };
    let out = run(&mut cmd(&server.url(0, "/ok?canary")));
    out.assert_code(1);
    let doc = out.json();
    assert_eq!(outcome(result(&doc, &down)), "error");
    assert!(
        doc["summary"].get("offline_suspected").is_none(),
        "a canary was up: the network works: {doc:#}"
    );
    let once = recorded(&db);
    assert_eq!(once, (1, 2, 1), "one run, two URLs, one of them failing");
    let requests = server.stats().requests();

    // The canary stop records nothing: the history does not see the list as down.
    let stopped = run(&mut cmd(&refused()));
    stopped.assert_code(3);
    assert_eq!(server.stats().requests(), requests, "{stopped}");
    assert_eq!(recorded(&db), once, "the stopped run was recorded");
    server.shutdown();
}

#[test]
fn every_url_refused_or_unresolved_says_the_machine_looks_offline() {
    let dns = NxDomain::start();
    let names = format!("http://no-such-host.test:{}/", refused_port());
    let list = [refused(), refused(), names];
    let base = |format: &str| {
        let mut cmd = urlcheck();
        cmd.args(FAST_500MS)
            .args(["--dns-server", &dns.addr().to_string(), "--format", format])
            .args(&list);
        cmd
    };
    let human = run(&mut base("human"));
    human.assert_code(1);
    assert!(
        human.stdout().contains("the machine looks offline"),
        "{human}"
    );
    let json = run(&mut base("json"));
    json.assert_code(1);
    let doc = json.json();
    assert_eq!(doc["summary"]["offline_suspected"], true, "{doc:#}");
    assert_eq!(doc["summary"]["errors_by_kind"]["dns"], 1, "{doc:#}");
    assert_valid(&validator(None), &doc, "an offline report");
    let jsonl = run(&mut base("jsonl"));
    let last = jsonl.json_lines().pop().unwrap();
    assert_eq!(last["summary"]["offline_suspected"], true, "{last:#}");
    assert_valid(
        &validator(Some("jsonl_summary")),
        &last,
        "its jsonl summary",
    );
    let quiet = run(base("human").arg("-q"));
    assert!(quiet.stdout().contains("looks offline"), "{quiet}");
    // In GitHub Actions, the log says it once, as a warning on the run, beside each line's
    // error.
    let github = run(base("human").arg("--github"));
    let said = &github.stderr;
    assert_eq!(
        said.matches("::warning title=urlcheck: offline?::").count(),
        1,
        "{github}"
    );
    assert_eq!(said.matches("::error ").count(), 3, "{github}");
    assert!(dns.queries() >= 1);
}

#[test]
fn one_url_up_means_no_offline_note() {
    let server = Server::start(1);
    let list = [refused(), server.url(0, "/ok")];
    let human = run(urlcheck().args(FAST_5S).args(&list));
    human.assert_code(1);
    assert!(!human.stdout().contains("offline"), "{human}");
    let json = run(urlcheck()
        .args(FAST_5S)
        .args(["--format", "json"])
        .args(&list));
    json.assert_code(1);
    let doc = json.json();
    assert!(doc["summary"].get("offline_suspected").is_none(), "{doc:#}");
    server.shutdown();
}

#[test]
fn compare_checks_the_canaries_once_before_both_passes() {
    let server = Server::start(1);
    let list = [server.url(0, "/ok")];
    let stopped = run(urlcheck()
        .args(FAST_500MS)
        .args(["--compare", "--canary", &refused()])
        .args(&list));
    stopped.assert_code(3);
    assert_eq!(server.stats().requests(), 0, "{stopped}");
    assert_eq!(stopped.stdout(), "");
    let canary = server.url(0, "/ok?canary");
    let out = run(urlcheck()
        .args(FAST_5S)
        .args(["--compare", "--canary", &canary])
        .args(&list));
    out.assert_code(0);
    assert_eq!(server.stats().hits("/ok?canary"), 1, "once, not per pass");
    assert_eq!(server.stats().hits("/ok"), 2, "the list, once per pass");
    server.shutdown();
}
