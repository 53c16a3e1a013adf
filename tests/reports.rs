//! Report files and CI (README: Report files, GitHub Actions). `--report FORMAT=PATH` files
//! are replaced atomically: SIGKILL mid-run leaves the old report intact, SIGINT and SIGTERM
//! write every report complete and marked interrupted, a run that fails before checking leaves
//! the old report alone, and a missing report folder is exit 2 before any request. `--fail-on`
//! decides the exit code and which failures the human list, JUnit and Markdown show. GitHub
//! Actions: an annotation per failing line, and the step summary appended.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use common::github::annotations;
use common::json::json_lines;
use common::parse::{gauge, markdown_tables, prometheus};
use common::scenario::{report_name, Scenario, FORMATS};
use common::validate::{assert_junit_xsd, assert_valid, sarif_validator, validator};
use common::{
    lines, refused_port, run, send_signal, urlcheck, urlcheck_std, wait_child, wait_until,
    write_list, Run, Server, FAST_500MS, FAST_5S,
};

/// Bounded waits for a run to reach a state before a signal is sent.
const REACH: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------
// Atomic report files
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

    let html = read("html");
    assert!(
        html.trim_end().ends_with("</html>"),
        "the HTML report is complete"
    );
    assert!(
        html.contains("<span class=\"verdict other\">interrupted</span>"),
        "{html}"
    );
    assert_eq!(
        html.matches("<tr class=\"result\"").count(),
        oks.len(),
        "{html}"
    );

    let sarif: Value = serde_json::from_str(&read("sarif")).expect("the SARIF report is complete");
    assert_valid(&sarif_validator(), &sarif, "the interrupted SARIF report");
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false, "{sarif:#}");
    assert_eq!(
        sarif["runs"][0]["results"],
        Value::Array(Vec::new()),
        "{sarif:#}"
    );
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
fn a_report_folder_that_cannot_be_made_is_exit_2_before_any_request() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("kept.json"), "old\n").unwrap();
    // A file where the folder should be: no folder can be made there.
    std::fs::write(dir.path().join("not-a-folder"), "").unwrap();
    let out = run(urlcheck()
        .current_dir(dir.path())
        // The first report's folder exists: its temporary file must not outlive the failure.
        .args(["--report", "json=kept.json"])
        .args(["--report", "junit=not-a-folder/no-such-folder/junit.xml"])
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
        dir.path().join("not-a-folder").is_file(),
        "what stood in the way is left alone"
    );
    srv.shutdown();
}

/// The README's CI step writes `--report junit=reports/links.xml` on a fresh checkout, where
/// `reports/` does not exist: the folder is made, as `mkdir -p` would.
#[test]
fn a_missing_report_folder_is_made() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let out = run(urlcheck()
        .current_dir(dir.path())
        .args(["--report", "junit=reports/ci/links.xml"])
        .arg(srv.url(0, "/ok")));
    out.assert_code(0);
    let junit = std::fs::read_to_string(dir.path().join("reports/ci/links.xml"))
        .unwrap_or_else(|e| panic!("the report was written ({e}):\n{out}"));
    assert!(junit.contains("<testsuites"), "{junit}");
    assert_eq!(srv.stats().hits("/ok"), 1);
    srv.shutdown();
}

// ---------------------------------------------------------------------------
// --fail-on
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

// ---------------------------------------------------------------------------
// GitHub Actions
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
