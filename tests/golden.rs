//! Golden files: one fixed list, run against the local fixture server, in every format
//! (human with colour off, quiet human, json, jsonl, csv, junit, markdown, prometheus, sarif,
//! GitHub annotations and step summary, and `--compare` as a table, as JSON and as a document
//! format). The output is compared byte for byte with files under `tests/golden/`, after
//! timings, timestamps, ports and temporary paths are masked. They pin what users see, so a
//! refactor that changes any of it fails here.
//!
//! Streamed formats arrive in completion order, which varies from run to run: their lines are
//! sorted before the comparison (what follows them, in input order, is not).
//!
//! To accept a deliberate change: `INSTA_UPDATE=always cargo test --test golden`, then review
//! the diff of `tests/golden/` like any other code.

mod common;

use std::path::{Path, PathBuf};

use common::{refused_port, run, urlcheck, write_list, Run, Server};
use tempfile::TempDir;

/// The per-attempt timeout the `/delay` URL runs into; short so the run is quick.
const TIMEOUT: &str = "300ms";

struct Golden {
    srv: Server,
    dir: TempDir,
    refused: u16,
}

impl Golden {
    fn start() -> Golden {
        let srv = Server::start(1);
        let dir = TempDir::new().unwrap();
        let refused = refused_port();
        let port = srv.http_port();
        let main = [
            srv.url(0, "/ok"),
            srv.url(0, "/redirect/2"),
            srv.url(0, "/status/404"),
            format!("http://127.0.0.1:{refused}/"),
            "not a url".to_string(),
            "   ".to_string(),
            "# a comment".to_string(),
            srv.url(0, "/loop"),
            format!("http://user:secret@127.0.0.1:{port}/ok?who=creds"),
            srv.url(0, "/skip/me"),
            srv.url(0, "/delay/5000"),
            "ftp://127.0.0.1/file".to_string(),
        ];
        write_list(dir.path(), "main.txt", common::lines(&main));
        let other = [srv.url(0, "/status/410"), srv.url(0, "/ok?second")];
        write_list(dir.path(), "other.txt", common::lines(&other));
        Golden { srv, dir, refused }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    /// Runs urlcheck over both lists with the fixed flags plus `extra`, in the temp folder.
    fn run(&self, extra: &[&str]) -> Run {
        let out = run(urlcheck()
            .current_dir(self.dir.path())
            .args(["-t", TIMEOUT, "--color", "never", "--no-progress"])
            .args(["--exclude", "/skip/", "-H", "X-Token: sekrit-value"])
            .args(extra)
            .args(["main.txt", "other.txt"]));
        assert!(!out.stderr.contains("panicked"), "{out}");
        assert!(!out.all_output().contains("sekrit"), "{out}");
        assert!(!out.all_output().contains("user:secret"), "{out}");
        out
    }

    /// Where the golden files live.
    fn settings(&self) -> insta::Settings {
        let mut s = insta::Settings::clone_current();
        s.set_snapshot_path("golden");
        s.set_prepend_module_to_snapshot(false);
        s.set_omit_expression(true);
        s
    }

    /// `text` with everything that differs between runs replaced by a placeholder: done
    /// before streamed lines are sorted, so the order does not depend on a timing.
    fn mask(&self, text: &str) -> String {
        let dir = self.dir.path().to_string_lossy().into_owned();
        let mut rules: Vec<(String, String)> = vec![(regex::escape(&dir), "[TMP]".into())];
        for (port, name) in [
            (self.srv.http_port(), "[PORT]"),
            (self.refused, "[REFUSED]"),
        ] {
            rules.push((
                format!(r"127\.0\.0\.1:{port}\b"),
                format!("127.0.0.1:{name}"),
            ));
        }
        let fixed = [
            // A request's phases, and whether it went over a kept connection, depend on
            // which request of a host got there first: the whole object is masked (its
            // values are tested in tests/phases.rs).
            (r#""timings":( ?)\{[^}]*\}"#, r#""timings":$1[TIMINGS]"#),
            // JSON numbers that are timings or rates, with or without a space after the colon.
            (
                r#""(elapsed_ms|ttfb_ms|wall_ms|urls_per_sec|p50|p90|p95|p99|max|speedup)":( ?)[0-9][0-9.e+-]*"#,
                r#""$1":$2[N]"#,
            ),
            (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIMESTAMP]"),
            (r#""version": "[^"]+""#, r#""version": "[VERSION]""#),
            (r#""version":"[^"]+""#, r#""version":"[VERSION]""#),
            (
                r#""semanticVersion": "[^"]+""#,
                r#""semanticVersion": "[VERSION]""#,
            ),
            // SARIF fingerprints hash the URL, whose port differs from run to run.
            (
                r#""urlcheck/v1": "[0-9a-f]{32}""#,
                r#""urlcheck/v1": "[FINGERPRINT]""#,
            ),
            (r"urlcheck/\d+\.\d+\.\d+", "urlcheck/[VERSION]"),
            // Human durations, with the padding of right-aligned columns.
            (r" +\d+(?:\.\d+)?(?:ms|s)\b", " [DUR]"),
            (r"\b\d+m\d\ds\b", "[DUR]"),
            (r"\d+(?:\.\d+)? URLs/s", "[RATE] URLs/s"),
            (r"speedup: [0-9.]+x \(\S+ ->", "speedup: [X]x ([DUR] ->"),
            (r"(?m)^URLs/s .*$", "URLs/s [RATES]"),
            (r#"time="[0-9.]+""#, r#"time="[TIME]""#),
            // As in JSON, which phases a URL has samples for depends on the order of requests.
            (r"(?m)^urlcheck_phase_seconds\{.*\n", ""),
            (
                r"(?m)^(urlcheck_duration_seconds\{[^}]*\}|urlcheck_run_duration_seconds|urlcheck_last_run_timestamp_seconds) \S+$",
                "$1 [VALUE]",
            ),
        ];
        rules.extend(fixed.iter().map(|(a, b)| (a.to_string(), b.to_string())));
        let mut text = text.to_string();
        for (pattern, replacement) in rules {
            let re = regex::Regex::new(&pattern).expect("a valid mask");
            text = re.replace_all(&text, replacement.as_str()).into_owned();
        }
        text
    }
}

/// The human output with its streamed block (everything before the first blank line) sorted.
fn sorted_stream(text: &str) -> String {
    let (streamed, rest) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines: Vec<&str> = streamed.lines().collect();
    lines.sort_unstable();
    format!("{}\n\n{rest}", lines.join("\n"))
}

/// Lines written as results complete, sorted.
fn sorted_lines(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines.join("\n") + "\n"
}

/// JSON lines: results sorted, the summary line (last) kept last.
fn sorted_jsonl(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let summary = lines.pop().expect("a summary line");
    assert!(summary.starts_with(r#"{"type":"summary""#), "{summary}");
    lines.sort_unstable();
    lines.push(summary);
    lines.join("\n") + "\n"
}

/// CSV: the header, then the records sorted; the timing columns masked field by field (a
/// regular expression cannot tell a timing from a status in a row of bare numbers).
fn masked_csv(text: &str) -> String {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let header = rows.remove(0);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let timed = [column("elapsed_ms"), column("ttfb_ms")];
    // The phases, and whether a kept connection carried the request, depend on which request
    // of a host got there first: masked in every fetched row.
    let phases = ["dns_ms", "connect_ms", "tls_ms", "wait_ms", "reused"].map(column);
    let fetched = column("reused");
    let mut out = Vec::new();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(&header).unwrap();
        let mut masked: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                let fetched = !r[fetched].is_empty();
                r.iter()
                    .enumerate()
                    .map(|(i, f)| {
                        if phases.contains(&i) && fetched {
                            "[T]".to_string()
                        } else if timed.contains(&i) && !f.is_empty() {
                            "[MS]".to_string()
                        } else {
                            f.to_string()
                        }
                    })
                    .collect()
            })
            .collect();
        masked.sort();
        for r in masked {
            w.write_record(&r).unwrap();
        }
    }
    String::from_utf8(out).unwrap()
}

fn report_flags(dir: &Path) -> Vec<String> {
    [
        "json",
        "jsonl",
        "csv",
        "junit",
        "markdown",
        "prometheus",
        "sarif",
    ]
    .iter()
    .map(|f| format!("--report={f}={}", dir.join(format!("report.{f}")).display()))
    .collect()
}

#[test]
fn every_format_matches_its_golden_file() {
    let g = Golden::start();
    let flags = report_flags(g.dir.path());
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let out = g.run(&flags);
    out.assert_code(1);
    let quiet = g.run(&["-q", "--github", "--report", "human=quiet.txt"]);
    quiet.assert_code(1);
    let json_stdout = g.run(&["--format", "json"]);
    json_stdout.assert_code(1);

    g.settings().bind(|| {
        insta::assert_snapshot!("human", sorted_stream(&g.mask(&out.stdout())));
        insta::assert_snapshot!("json", g.mask(&g.read("report.json")));
        insta::assert_snapshot!("jsonl", sorted_jsonl(&g.mask(&g.read("report.jsonl"))));
        insta::assert_snapshot!("csv", masked_csv(&g.mask(&g.read("report.csv"))));
        insta::assert_snapshot!("junit", g.mask(&g.read("report.junit")));
        insta::assert_snapshot!("markdown", g.mask(&g.read("report.markdown")));
        insta::assert_snapshot!("prometheus", g.mask(&g.read("report.prometheus")));
        insta::assert_snapshot!("sarif", g.mask(&g.read("report.sarif")));
        // Quiet streams nothing: what it prints is in input order.
        insta::assert_snapshot!("human_quiet", g.mask(&quiet.stdout()));
        insta::assert_snapshot!("github_annotations", sorted_lines(&g.mask(&quiet.stderr)));
        insta::assert_snapshot!("json_stdout", g.mask(&json_stdout.stdout()));
    });
    // `-q` quietens stdout only: the human report file of that run has every line.
    assert_eq!(
        sorted_stream(&g.mask(&g.read("quiet.txt"))),
        sorted_stream(&g.mask(&out.stdout()))
    );
    g.srv.shutdown();
}

#[test]
fn github_step_summary_matches_its_golden_file() {
    let g = Golden::start();
    let summary = g.path("step-summary.md");
    let out = run(urlcheck()
        .current_dir(g.dir.path())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["-t", TIMEOUT, "--color", "never", "--no-progress", "-q"])
        .args(["--exclude", "/skip/", "main.txt", "other.txt"]));
    out.assert_code(1);
    g.settings().bind(|| {
        insta::assert_snapshot!("github_step_summary", g.mask(&g.read("step-summary.md")));
    });
    g.srv.shutdown();
}

#[test]
fn compare_matches_its_golden_files() {
    let g = Golden::start();
    let table = g.run(&["--compare", "--report", "json=compare-report.json"]);
    table.assert_code(1);
    let json = g.run(&["--compare", "--format", "json"]);
    json.assert_code(1);
    let markdown = g.run(&["--compare", "--format", "markdown"]);
    markdown.assert_code(1);
    g.settings().bind(|| {
        insta::assert_snapshot!("compare_table", g.mask(&table.stdout()));
        insta::assert_snapshot!("compare_json", g.mask(&json.stdout()));
        insta::assert_snapshot!("compare_markdown", g.mask(&markdown.stdout()));
        insta::assert_snapshot!(
            "compare_report_json",
            g.mask(&g.read("compare-report.json"))
        );
    });
    g.srv.shutdown();
}

/// A URL listed twice (in two files) is one result with both sources, whichever way the
/// repeat arrived (while the first was in flight or after it completed). Documents only:
/// streamed formats show the repeat as it happened.
#[test]
fn duplicates_merge_in_documents() {
    let g = Golden::start();
    let list = [g.srv.url(0, "/ok"), g.srv.url(0, "/status/404")];
    write_list(g.dir.path(), "again.txt", common::lines(&list));
    let reports = ["json", "junit", "prometheus"].map(|f| format!("--report={f}=dup.{f}"));
    let out = run(urlcheck()
        .current_dir(g.dir.path())
        .args(["-t", TIMEOUT, "--color", "never", "--no-progress"])
        .args(["--exclude", "/skip/"])
        .args(&reports)
        .args(["main.txt", "again.txt", "other.txt"]));
    out.assert_code(1);
    g.settings().bind(|| {
        insta::assert_snapshot!("dup_json", g.mask(&g.read("dup.json")));
        insta::assert_snapshot!("dup_junit", g.mask(&g.read("dup.junit")));
        insta::assert_snapshot!("dup_prometheus", g.mask(&g.read("dup.prometheus")));
    });
    g.srv.shutdown();
}
