//! Input: what urlcheck is given and how it reads it (README: Input). URL lists in files, on
//! stdin and as arguments, each result remembering its file:line; blank lines, comments, CRLF
//! and a byte-order mark; lines that are not URLs (bad syntax, other schemes, invalid UTF-8, NUL
//! bytes, 1 MiB lines, binary files, spaces, ports 0 and 70000) reported `invalid` with their
//! file:line while the rest is checked; the same URL on several lines fetched once; IDN and IPv6
//! hosts; and input or flag values that cannot be used at all, which are exit 2 before any
//! request. Then property tests of the parsers: the line parser, `--accept` and durations.

mod common;
mod servers;

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

use common::json::outcome;
use common::{
    lines, no_panic, refused_port, result, results, run, sources, urlcheck, write_list,
    HeadRecorder, NxDomain, Run, Server, FAST_2S, FAST_500MS,
};
use servers::{response, Scripted};
use urlcheck::cli::parse_duration;
use urlcheck::input::{parse_all, parse_line, Item};
use urlcheck::model::{Source, StatusSet};

/// A run over the list at `path`: human output on stdout (no colour), and the same results as
/// a JSON report, which is returned.
fn check_list(path: &Path, extra: &[&str]) -> (Run, Value) {
    let report = path.with_extension("report.json");
    let out = run(urlcheck()
        .args(FAST_2S)
        .args(["--color", "never"])
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .args(extra)
        .arg(path));
    no_panic(&out);
    let text = std::fs::read(&report).unwrap_or_else(|e| panic!("no report ({e}): {out}"));
    let doc = serde_json::from_slice(&text).expect("the report is JSON");
    (out, doc)
}

/// The one result whose first source is line `line`.
#[track_caller]
fn at_line(doc: &Value, line: u64) -> &Value {
    let found: Vec<&Value> = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["sources"][0]["line"] == line)
        .collect();
    assert_eq!(found.len(), 1, "one result for line {line} in {doc:#}");
    found[0]
}

/// Line `line` of `file` is reported invalid, saying `why`, in the report and (with its
/// file:line) on stdout.
#[track_caller]
fn assert_invalid(out: &Run, doc: &Value, file: &Path, line: u64, why: &str) {
    let r = at_line(doc, line);
    assert_eq!(r["outcome"], "invalid", "line {line}: {r:#}");
    assert_eq!(r["error"]["kind"], "input", "line {line}: {r:#}");
    let message = r["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(why),
        "line {line}: expected {why:?} in {message:?}"
    );
    let place = format!("{}:{line}", file.display());
    assert!(out.stdout().contains(&place), "{place} not shown: {out}");
}

#[track_caller]
fn assert_up(doc: &Value, line: u64) {
    let r = at_line(doc, line);
    assert_eq!(r["outcome"], "up", "line {line}: {r:#}");
}

/// `urlcheck example.com` is a URL without its scheme far more often than a missing file: the
/// error says how to write it. A missing file that looks like a list says only that.
#[test]
fn a_host_without_a_scheme_is_told_how_to_write_the_url() {
    let dir = TempDir::new().unwrap();
    for (arg, hint) in [
        ("example.com", Some("urlcheck https://example.com")),
        (
            "www.example.org/docs",
            Some("urlcheck https://www.example.org/docs"),
        ),
        ("urls.txt", None),
        ("localhost:8080", Some("urlcheck http://localhost:8080")),
        ("127.0.0.1:3000/x", Some("urlcheck http://127.0.0.1:3000/x")),
        ("links", None),
    ] {
        let out = run(urlcheck().current_dir(dir.path()).arg(arg));
        out.assert_code(2);
        assert!(out.stderr.contains(arg), "names the input: {out}");
        match hint {
            Some(hint) => assert!(out.stderr.contains(hint), "{out}"),
            None => assert!(!out.stderr.contains("https://"), "{out}"),
        }
    }
}

/// An input with no URL at all (blank lines and comments) is said on stderr; it passes unless
/// `--fail-on` holds `empty`, which a CI step uses to catch a list that went missing.
#[test]
fn an_input_without_urls_says_so_and_can_fail() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let empty = write_list(dir.path(), "empty.txt", "# nothing yet\n\n   \n");
    let lenient = run(urlcheck().arg(&empty));
    lenient.assert_code(0);
    assert!(lenient.stderr.contains("no URLs in the input"), "{lenient}");
    let strict = ["--fail-on", "down,error,invalid,empty"];
    let failed = run(urlcheck().args(strict).arg(&empty));
    failed.assert_code(1);
    assert!(failed.stderr.contains("no URLs in the input"), "{failed}");
    let one = write_list(dir.path(), "one.txt", lines(&[srv.url(0, "/ok")]));
    let fine = run(urlcheck().args(FAST_2S).args(strict).arg(&one));
    fine.assert_code(0);
    assert!(!fine.stderr.contains("no URLs"), "{fine}");
    srv.shutdown();
}

/// Every report that gives a verdict says that an empty input failed, when `--fail-on empty`
/// made it one: Markdown (and so the step summary) does not read "all good", JUnit holds one
/// failed test (a CI system shows a report without one as green), GitHub gets an annotation.
#[test]
fn an_empty_input_that_fails_is_a_failure_in_every_report() {
    let dir = TempDir::new().unwrap();
    let empty = write_list(dir.path(), "empty.txt", "# nothing yet\n");
    let (md, xml) = (dir.path().join("r.md"), dir.path().join("r.xml"));
    let out = run(urlcheck()
        .args(["--fail-on", "down,error,invalid,empty", "--github"])
        .arg("--report")
        .arg(format!("markdown={}", md.display()))
        .arg("--report")
        .arg(format!("junit={}", xml.display()))
        .arg(&empty));
    out.assert_code(1);
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(!md.contains("all good"), "{md}");
    assert!(md.contains("--fail-on empty"), "{md}");
    common::validate::assert_junit_xsd(&xml);
    let xml = std::fs::read_to_string(&xml).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().attribute("failures"), Some("1"), "{xml}");
    let failure = doc.descendants().find(|n| n.has_tag_name("failure"));
    assert_eq!(
        failure.and_then(|f| f.attribute("type")),
        Some("empty"),
        "{xml}"
    );
    assert!(
        out.stderr.contains("::error title=urlcheck: empty::"),
        "{out}"
    );
    // Without `empty` in --fail-on, nothing failed, and no report says otherwise.
    let lenient = run(urlcheck().arg("--github").arg(&empty));
    lenient.assert_code(0);
    assert!(!lenient.stderr.contains("::error"), "{lenient}");
}

// ---------------------------------------------------------------------------
// Lists: files, stdin and arguments
// ---------------------------------------------------------------------------

#[test]
fn stdin_dash_piped_stdin_and_url_arguments() {
    let srv = Server::start(1);
    let a = srv.url(0, "/ok?from=dash");
    let b = srv.url(0, "/ok?from=pipe");
    let c = srv.url(0, "/ok?from=arg1");
    let d = srv.url(0, "/ok?from=arg2");

    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["--format", "json", "-"])
        .write_stdin(lines(&["# a comment", "", &a])));
    out.assert_code(0);
    assert_eq!(
        sources(result(&out.json(), &a)),
        [("<stdin>".to_string(), 3)]
    );

    // No inputs at all, and stdin is a pipe: stdin is read.
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["--format", "json"])
        .write_stdin(lines(&[&b])));
    out.assert_code(0);
    assert_eq!(
        sources(result(&out.json(), &b)),
        [("<stdin>".to_string(), 1)]
    );

    // URLs as arguments, next to stdin.
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["--format", "json", &c, "-", &d])
        .write_stdin(lines(&[&a])));
    out.assert_code(0);
    let doc = out.json();
    assert_eq!(sources(result(&doc, &c)), [("<args>".to_string(), 1)]);
    assert_eq!(sources(result(&doc, &d)), [("<args>".to_string(), 3)]);
    assert_eq!(sources(result(&doc, &a)), [("<stdin>".to_string(), 1)]);
    assert_eq!(doc["summary"]["total"], 3);

    for (path, n) in [
        ("/ok?from=dash", 2),
        ("/ok?from=pipe", 1),
        ("/ok?from=arg1", 1),
        ("/ok?from=arg2", 1),
    ] {
        assert_eq!(srv.stats().hits(path), n, "{path}");
    }
    srv.shutdown();
}

#[test]
fn crlf_and_a_byte_order_mark_are_not_part_of_the_urls() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let data = format!(
        "\u{feff}{}\r\n\r\n# comment\r\n{}\r\n",
        srv.url(0, "/ok?bom=1"),
        srv.url(0, "/ok?crlf=1")
    );
    let file = write_list(dir.path(), "crlf.txt", data);
    let (out, doc) = check_list(&file, &[]);
    out.assert_code(0);
    assert_eq!(at_line(&doc, 1)["url"], srv.url(0, "/ok?bom=1"));
    assert_eq!(at_line(&doc, 4)["url"], srv.url(0, "/ok?crlf=1"));
    assert_eq!(srv.stats().hits("/ok?bom=1"), 1);
    assert_eq!(srv.stats().hits("/ok?crlf=1"), 1);
    srv.shutdown();
}

#[test]
fn an_empty_file_is_a_run_of_nothing() {
    let dir = TempDir::new().unwrap();
    let file = write_list(dir.path(), "empty.txt", "");
    let (out, doc) = check_list(&file, &[]);
    out.assert_code(0);
    assert_eq!(doc["summary"]["total"], 0, "{doc:#}");
}

// ---------------------------------------------------------------------------
// Lines that are not URLs
// ---------------------------------------------------------------------------

#[test]
fn invalid_lines_are_reported_with_file_and_line_and_the_rest_is_checked() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let first = srv.url(0, "/ok?line=1");
    let last = srv.url(0, "/ok?line=7");
    let mut content = Vec::new();
    content.extend_from_slice(format!("{first}\nnot a url\nftp://x/\n").as_bytes());
    content.extend_from_slice(b"http://bad.test/\xff\xfe\n\n# comment\n");
    content.extend_from_slice(format!("{last}\n").as_bytes());
    let list = write_list(dir.path(), "mixed.txt", content);
    let name = list.to_str().unwrap().to_string();

    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["--format", "json"])
        .arg(&list));
    out.assert_code(1);
    let doc = out.json();
    let rs = results(&doc);
    assert_eq!(rs.len(), 5, "{doc:#}");
    let expect = [
        ("up", 1, ""),
        ("invalid", 2, ""),
        ("invalid", 3, "ftp"),
        ("invalid", 4, "UTF-8"),
        ("up", 7, ""),
    ];
    for (r, (want, line, why)) in rs.iter().zip(expect) {
        assert_eq!(outcome(r), want, "{r:#}");
        assert_eq!(sources(r), [(name.clone(), line)], "{r:#}");
        if want == "invalid" {
            let message = r["error"]["message"].as_str().unwrap_or("");
            assert!(message.contains(why), "line {line}: {r:#}");
        }
    }
    assert_eq!(srv.stats().hits("/ok?line=1"), 1);
    assert_eq!(srv.stats().hits("/ok?line=7"), 1);
    assert_eq!(doc["summary"]["invalid"], 3);
    assert_eq!(doc["summary"]["up"], 2);

    // A person sees file:line too.
    let out = run(urlcheck().args(FAST_500MS).arg(&list));
    out.assert_code(1);
    let text = out.stdout();
    for line in [2, 3, 4] {
        assert!(text.contains(&format!("{name}:{line}")), "{out}");
    }
    srv.shutdown();
}

#[test]
fn invalid_utf8_is_reported_with_its_line_and_the_rest_is_checked() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let mut data = format!("{}\n", srv.url(0, "/ok?n=1")).into_bytes();
    data.extend_from_slice(srv.url(0, "/ok?n=2").as_bytes());
    data.extend_from_slice(b"\xff\xfe\n");
    data.extend_from_slice(format!("{}\n", srv.url(0, "/ok?n=3")).as_bytes());
    let file = write_list(dir.path(), "utf8.txt", &data);
    let (out, doc) = check_list(&file, &[]);
    out.assert_code(1);
    assert_up(&doc, 1);
    assert_invalid(&out, &doc, &file, 2, "UTF-8");
    assert_up(&doc, 3);
    assert_eq!(srv.stats().hits("/ok?n=3"), 1);
    srv.shutdown();
}

#[test]
fn nul_bytes_are_reported_with_their_line() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let data = format!(
        "{}\0tail\n\0\n{}\n",
        srv.url(0, "/ok?n=1"),
        srv.url(0, "/ok?n=3")
    );
    let file = write_list(dir.path(), "nul.txt", data);
    let (out, doc) = check_list(&file, &[]);
    out.assert_code(1);
    assert_invalid(&out, &doc, &file, 1, "control character");
    assert_invalid(&out, &doc, &file, 2, "control character");
    assert_up(&doc, 3);
    assert_eq!(
        srv.stats().hits("/ok?n=1"),
        0,
        "nothing of line 1 is requested"
    );
    srv.shutdown();
}

#[test]
fn a_one_mebibyte_line_is_reported_without_being_echoed() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let long = format!("{}{}", srv.url(0, "/ok?long="), "a".repeat(1024 * 1024));
    let data = lines(&[long, srv.url(0, "/ok?n=2")]);
    let file = write_list(dir.path(), "long.txt", data);
    let (out, doc) = check_list(&file, &[]);
    out.assert_code(1);
    assert_invalid(&out, &doc, &file, 1, "bytes long");
    assert_up(&doc, 2);
    assert!(
        out.stdout.len() < 16 * 1024,
        "the line is not printed whole ({} bytes of output)",
        out.stdout.len()
    );
    srv.shutdown();
}

#[test]
fn a_binary_file_is_all_invalid_lines_except_the_good_one() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    // 64 KiB from a fixed xorshift: the same bytes every run.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut data: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    data.push(b'\n');
    let good_line = data.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    data.extend_from_slice(format!("{}\n", srv.url(0, "/ok?after=binary")).as_bytes());
    let file = write_list(dir.path(), "binary.bin", &data);
    let (out, doc) = check_list(&file, &["-q"]);
    out.assert_code(1);
    assert_up(&doc, good_line);
    let results = doc["results"].as_array().unwrap();
    assert!(results.len() > 100, "{} results", results.len());
    for r in results {
        if r["sources"][0]["line"] != good_line {
            assert_eq!(r["outcome"], "invalid", "{r:#}");
            assert!(r["sources"][0]["line"].as_u64().unwrap() < good_line);
        }
    }
    assert_eq!(srv.stats().hits("/ok?after=binary"), 1);
    assert_eq!(srv.stats().requests(), 1);
    srv.shutdown();
}

#[test]
fn port_0_and_port_70000_are_invalid_with_their_lines() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let data = lines(&[
        "http://127.0.0.1:0/".to_string(),
        "http://127.0.0.1:70000/".to_string(),
        srv.url(0, "/ok"),
    ]);
    let file = write_list(dir.path(), "ports.txt", data);
    let (out, doc) = check_list(&file, &[]);
    out.assert_code(1);
    assert_invalid(&out, &doc, &file, 1, "port 0");
    assert_invalid(&out, &doc, &file, 2, "port");
    assert_up(&doc, 3);
    srv.shutdown();
}

#[test]
fn spaces_and_tabs_inside_a_line_are_invalid_but_around_it_are_not() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let data = format!(
        "{0}/a b\n{0}/a\tb\n  \t{1}  \t\n",
        srv.url(0, "/ok"),
        srv.url(0, "/ok?padded=1")
    );
    let file = write_list(dir.path(), "spaces.txt", data);
    let (out, doc) = check_list(&file, &[]);
    out.assert_code(1);
    assert_invalid(&out, &doc, &file, 1, "whitespace");
    let tab = at_line(&doc, 2);
    assert_eq!(tab["outcome"], "invalid", "{tab:#}");
    assert_up(&doc, 3);
    assert_eq!(srv.stats().hits("/ok?padded=1"), 1);
    srv.shutdown();
}

// ---------------------------------------------------------------------------
// Duplicates
// ---------------------------------------------------------------------------

#[test]
fn duplicates_are_fetched_once_and_list_every_line() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    // Concurrent (the repeats arrive while the first is in flight, typically) and sequential
    // (the repeats arrive after it completed): both must merge.
    for mode in ["concurrent", "sequential"] {
        let dup = srv.url(0, &format!("/delay/50?dup={mode}"));
        let list = write_list(
            dir.path(),
            &format!("{mode}.txt"),
            lines(&[
                dup.clone(),
                srv.url(0, &format!("/ok?{mode}=2")),
                dup.clone(),
                srv.url(0, &format!("/ok?{mode}=4")),
                dup.clone(),
            ]),
        );
        let name = list.to_str().unwrap().to_string();
        let mut cmd = urlcheck();
        cmd.args(FAST_500MS).args(["--format", "json"]).arg(&list);
        if mode == "sequential" {
            cmd.arg("--sequential");
        }
        let out = run(&mut cmd);
        out.assert_code(0);
        let doc = out.json();
        assert_eq!(
            srv.stats().hits(&format!("/delay/50?dup={mode}")),
            1,
            "{mode}: fetched once"
        );
        let r = result(&doc, &dup);
        assert_eq!(outcome(r), "up");
        assert_eq!(
            sources(r),
            [(name.clone(), 1), (name.clone(), 3), (name.clone(), 5)],
            "{mode}: {r:#}"
        );
        assert_eq!(results(&doc).len(), 3, "{mode}: {doc:#}");
        assert_eq!(doc["summary"]["total"], 5, "{mode}: lines are counted");
        assert_eq!(doc["summary"]["up"], 5, "{mode}");
    }
    srv.shutdown();
}

/// A failing URL listed again after its check finished is reported on its own line as it
/// arrives (a stream shows what happened), but the failure list at the end has it once, with
/// both lines, as the JSON report does. The second line is written only after the first
/// result was read, so the repeat really arrives after the check completed.
#[test]
fn a_repeat_after_completion_joins_its_url_in_the_failure_list() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    use std::sync::mpsc;

    let srv = Server::start(1);
    let url = srv.url(0, "/status/404");
    let mut child = common::urlcheck_std()
        .args(["-t", "5s", "--retries", "0", "--color", "never", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start urlcheck");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    writeln!(stdin, "{url}").unwrap();
    stdin.flush().unwrap();
    let first = rx
        .recv_timeout(common::RUN_LIMIT)
        .expect("the first result streams before more input");
    assert!(first.starts_with("down") && first.contains(&url), "{first}");
    writeln!(stdin, "{url}").unwrap();
    drop(stdin);
    let status = common::wait_child(&mut child, common::RUN_LIMIT);
    reader.join().unwrap();
    let rest: Vec<String> = rx.try_iter().collect();
    let text = rest.join("\n");
    assert_eq!(status.code(), Some(1), "{first}\n{text}");
    assert!(text.contains("(duplicate at <stdin>:2)"), "{text}");
    assert!(text.contains("Failures (1):"), "{text}");
    assert!(text.contains("<stdin>:1, <stdin>:2"), "{text}");
    assert_eq!(srv.stats().hits("/status/404"), 1, "fetched once");
    srv.shutdown();
}

#[test]
fn a_repeated_line_of_a_failed_url_keeps_its_error_kind() {
    let srv = Server::start(1);
    let refused = format!("http://127.0.0.1:{}/x", refused_port());
    // The repeat arrives after the first check completed: wait for its line on stdout.
    let mut child = common::urlcheck_std()
        .args(FAST_500MS)
        .args(["--format", "jsonl", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    writeln!(stdin, "{refused}").unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert!(first.contains("\"connect\""), "{first}");
    writeln!(stdin, "{refused}").unwrap();
    drop(stdin);
    let rest: Vec<Value> = std::io::BufRead::lines(stdout)
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    common::wait_child(&mut child, Duration::from_secs(20));
    let repeat = &rest[0];
    assert_eq!(repeat["duplicate"], true, "{repeat:#}");
    assert_eq!(repeat["error"]["kind"], "connect", "{repeat:#}");
    let summary = &rest[1]["summary"];
    assert_eq!(summary["error"], 2);
    assert_eq!(summary["errors_by_kind"]["connect"], 2, "{summary:#}");
    srv.shutdown();
}

// ---------------------------------------------------------------------------
// Hosts: IDN and IPv6
// ---------------------------------------------------------------------------

#[test]
fn idn_hosts_are_checked_via_punycode() {
    let rec = HeadRecorder::start();
    let dns = NxDomain::start();
    let port = rec.port();
    let url = format!("http://bücher.test:{port}/idn");
    let out = run(urlcheck()
        .args(FAST_2S)
        .args(["--format", "json", "--dns-server", &dns.addr().to_string()])
        .args(["--resolve", &format!("xn--bcher-kva.test:{port}:127.0.0.1")])
        .arg(&url));
    no_panic(&out);
    let head = rec.head().to_ascii_lowercase();
    out.assert_code(0);
    assert!(
        head.contains(&format!("\r\nhost: xn--bcher-kva.test:{port}\r\n")),
        "{head}"
    );
    let doc = out.json();
    assert_eq!(doc["results"][0]["outcome"], "up", "{doc:#}");
    assert_eq!(dns.queries(), 0);
}

#[test]
fn ipv6_literals_are_checked() {
    let server = match Scripted::start("[::1]:0", |_| response("200 OK", &[])) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("SKIPPED: this machine has no IPv6 loopback ([::1]: {e})");
            return;
        }
    };
    let url = server.url("/v6");
    assert!(url.starts_with("http://[::1]:"), "{url}");
    let out = run(urlcheck()
        .args(FAST_2S)
        .args(["--format", "json"])
        .arg(&url));
    no_panic(&out);
    out.assert_code(0);
    assert_eq!(out.json()["results"][0]["outcome"], "up", "{out}");
    let head = server.head_for("/v6");
    assert_eq!(
        head.header("host"),
        Some(format!("[::1]:{}", server.port()).as_str())
    );
}

// ---------------------------------------------------------------------------
// Input that cannot be used: exit 2
// ---------------------------------------------------------------------------

#[test]
fn exit_2_for_a_missing_input_file_before_any_request() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("no-such-list.txt");
    let out = run(urlcheck()
        .args(FAST_500MS)
        .arg(srv.url(0, "/ok"))
        .arg(&missing));
    out.assert_code(2);
    assert!(
        out.stderr.contains("no-such-list.txt"),
        "the message names the file: {out}"
    );
    assert!(out.stdout.is_empty(), "{out}");
    assert_eq!(srv.stats().requests(), 0, "no request may be sent: {out}");
    srv.shutdown();
}

/// Runs with one good URL besides `input`: exit 2, a message naming the input, no request.
#[track_caller]
fn assert_unusable(input: &Path, says: &str) {
    let srv = Server::start(1);
    let out = run(urlcheck().args(FAST_2S).arg(srv.url(0, "/ok")).arg(input));
    no_panic(&out);
    out.assert_code(2);
    let name = input.file_name().unwrap().to_string_lossy().into_owned();
    assert!(out.stderr.contains(&name), "names {name}: {out}");
    assert!(out.stderr.contains(says), "says {says:?}: {out}");
    assert!(out.stdout.is_empty(), "{out}");
    assert_eq!(srv.stats().requests(), 0, "nothing is checked: {out}");
    srv.shutdown();
}

/// A folder is walked for documents; one holding only URL lists says how to read those
/// instead of checking nothing in silence.
#[test]
fn a_folder_without_documents_says_how_to_read_its_lists() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let sub = dir.path().join("lists");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("urls.txt"), srv.url(0, "/ok") + "\n").unwrap();
    let out = run(urlcheck().args(FAST_2S).arg(&sub));
    no_panic(&out);
    out.assert_code(0);
    assert!(out.stderr.contains("lists"), "names the folder: {out}");
    assert!(out.stderr.contains("no Markdown or HTML"), "{out}");
    assert!(out.stderr.contains("urls.txt"), "suggests the list: {out}");
    assert_eq!(
        srv.stats().requests(),
        0,
        "a list in a folder is not read: {out}"
    );
    srv.shutdown();
}

#[test]
fn a_missing_file_is_exit_2() {
    let dir = TempDir::new().unwrap();
    assert_unusable(&dir.path().join("missing.txt"), "cannot read");
}

#[test]
fn a_file_without_read_permission_is_exit_2() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = TempDir::new().unwrap();
    // Others may enter the folder; only the file is closed to them.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let url = format!("http://127.0.0.1:{}/\n", refused_port());
    let file = write_list(dir.path(), "secret.txt", url);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    let srv = Server::start(1);
    let mut cmd = common::urlcheck_std();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // Root reads a mode-000 file anyway: run urlcheck as nobody, for whom it is closed,
        // from a copy in the open folder (the build folder may be closed to nobody).
        let exe = dir.path().join("urlcheck");
        std::fs::copy(cmd.get_program(), &exe).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let envs: Vec<_> = cmd
            .get_envs()
            .map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned())))
            .collect();
        cmd = std::process::Command::new(&exe);
        for (k, v) in envs {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd.uid(65534).gid(65534).current_dir(dir.path());
    }
    cmd.args(FAST_2S).arg(srv.url(0, "/ok")).arg(&file);
    let out = run(&mut assert_cmd::Command::from_std(cmd));
    no_panic(&out);
    out.assert_code(2);
    assert!(out.stderr.contains("secret.txt"), "names the file: {out}");
    assert!(out.stderr.contains("ermission denied"), "says why: {out}");
    assert!(out.stdout.is_empty(), "{out}");
    assert_eq!(srv.stats().requests(), 0, "nothing is checked: {out}");
    srv.shutdown();
}

#[test]
fn exit_2_for_bad_flags() {
    let srv = Server::start(1);
    let url = srv.url(0, "/ok");
    for (args, flag) in [
        (vec!["--concurrency", "0"], "--concurrency"),
        (vec!["--timeout=-1s"], "--timeout"),
        (vec!["--timeout", "-1s"], "-1"),
        (vec!["--accept", "999-100"], "--accept"),
    ] {
        let out = run(urlcheck().args(&args).arg(&url));
        assert_eq!(out.code, Some(2), "{args:?}:\n{out}");
        assert!(out.stderr.contains(flag), "{args:?} names {flag}:\n{out}");
    }
    assert_eq!(srv.stats().requests(), 0);
    srv.shutdown();
}

#[test]
fn impossible_flag_values_are_clap_errors() {
    let srv = Server::start(1);
    let url = srv.url(0, "/ok");
    for (args, names) in [
        (&["--concurrency", "0"][..], "--concurrency"),
        // clap takes a lone "-1s" for a flag of its own: still its error, naming it.
        (&["--timeout", "-1s"], "'-1"),
        (&["--timeout=-1s"], "--timeout"),
        (&["--accept", "999-100"], "--accept"),
    ] {
        let out = run(urlcheck().args(args).arg(&url));
        no_panic(&out);
        assert_eq!(out.code, Some(2), "{args:?}: {out}");
        assert!(out.stderr.starts_with("error:"), "clap's message: {out}");
        assert!(out.stderr.contains(names), "{args:?}: {out}");
    }
    assert_eq!(srv.stats().requests(), 0);
    srv.shutdown();
}

// ---------------------------------------------------------------------------
// Properties of the parsers
// ---------------------------------------------------------------------------

fn source() -> Source {
    Source::line(Arc::from("prop.txt"), 7)
}

/// Text that is URL-like often enough to reach every branch of the line parser.
fn url_like() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            Just(""),
            Just("http://"),
            Just("https://"),
            Just("HTTP://"),
            Just("ftp://"),
            Just("file:///"),
            Just("http:"),
            Just("//"),
        ],
        "([a-z0-9.-]{0,12}@)?",
        prop_oneof![
            "[a-zA-Z0-9.-]{0,16}",
            "\\[[0-9a-f:]{0,12}\\]",
            "[0-9.]{0,15}",
            Just("bücher.test".to_string()),
        ],
        "(:[0-9]{0,6})?",
        "[ -~\t\u{80}-\u{10ffff}]{0,24}",
    )
        .prop_map(|(scheme, user, host, port, rest)| {
            format!("{scheme}{user}{host}{port}{rest}").into_bytes()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_line_accepts_only_checkable_urls(
        raw in prop_oneof![proptest::collection::vec(any::<u8>(), 0..200), url_like()]
    ) {
        match parse_line(&raw, source()) {
            Item::Target(t) => {
                prop_assert!(matches!(t.url.scheme(), "http" | "https"), "{}", t.url);
                prop_assert!(t.url.host_str().is_some_and(|h| !h.is_empty()), "{}", t.url);
                prop_assert_eq!(t.url.fragment(), None);
                prop_assert_ne!(t.url.port(), Some(0));
                prop_assert_eq!(t.source, source());
            }
            Item::Invalid { text, source: s, reason } => {
                prop_assert!(!reason.is_empty());
                prop_assert_eq!(s, source());
                // What is shown of a bad line cannot drive a terminal.
                prop_assert!(!text.chars().any(char::is_control), "{:?}", text);
            }
            other => prop_assert!(false, "parse_line applies no --exclude: {:?}", other),
        }
    }

    /// A line holding `user:pass@`, with whitespace anywhere around the password or before the
    /// `:`, an `@` in the user name or the password, never shows the password when it is
    /// echoed as an invalid line.
    #[test]
    fn a_bad_line_never_shows_the_password_of_its_userinfo(
        user in "[a-z]{1,8}(@[a-z]{1,6}\\.com)?",
        pass in "Pw[0-9]{3}Q[A-Z0-9]{4,8}",
        before in prop_oneof![Just(""), Just(" "), Just("\t")],
        colon in prop_oneof![Just(""), Just(" ")],
        after in prop_oneof![Just(""), Just(" "), Just("  ")],
        inside in prop_oneof![Just(""), Just(" "), Just("@"), Just("@ "), Just(" @")],
        tail in "(/[a-z ]{0,8})?",
    ) {
        let (a, b) = pass.split_at(4);
        let line = format!("http://{before}{user}{colon}:{a}{inside}{b}{after}@127.0.0.1{tail}");
        if let Item::Invalid { text, .. } = parse_line(line.as_bytes(), source()) {
            prop_assert!(!text.contains(a) && !text.contains(b.trim()), "{line:?} -> {text:?}");
        }
    }

    #[test]
    fn reading_arbitrary_bytes_keeps_line_numbers_in_order(
        data in proptest::collection::vec(
            prop_oneof![any::<u8>(), Just(b'\n'), Just(b'\r'), Just(b'#')], 0..600)
    ) {
        let lines = data.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let mut last = 0;
        for item in parse_all(&data[..], "bytes") {
            let line = match item {
                Item::Target(t) => t.source.line,
                Item::Invalid { source, .. } | Item::Skipped { source, .. } => source.line,
                other => panic!("a list holds no {other:?}"),
            };
            prop_assert!(line > last && line <= lines, "line {} after {}", line, last);
            last = line;
        }
    }

    #[test]
    fn accept_parser_never_panics(s in prop_oneof![any::<String>(), "[0-9, -]{0,24}"]) {
        let _ = s.parse::<StatusSet>();
    }

    #[test]
    fn accept_sets_hold_exactly_their_ranges(
        ranges in proptest::collection::vec((100u16..=599, 100u16..=599), 1..6)
    ) {
        let ranges: Vec<(u16, u16)> = ranges.into_iter().map(|(a, b)| (a.min(b), a.max(b))).collect();
        let text: Vec<String> = ranges
            .iter()
            .map(|&(lo, hi)| if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") })
            .collect();
        let text = text.join(",");
        let set: StatusSet = text.parse().map_err(TestCaseError::fail)?;
        for code in 0..=700u16 {
            let inside = ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&code));
            prop_assert_eq!(set.contains(code), inside, "code {} in {}", code, text);
        }
        let shown = set.to_string();
        let again: StatusSet = shown.parse().map_err(TestCaseError::fail)?;
        prop_assert_eq!(&again, &set);
        prop_assert_eq!(again.to_string(), shown);
    }

    #[test]
    fn backwards_ranges_are_refused(lo in 100u16..599, step in 1u16..100) {
        let hi = (lo + step).min(599);
        prop_assume!(hi > lo);
        let backwards = format!("{hi}-{lo}");
        prop_assert!(backwards.parse::<StatusSet>().is_err(), "{} accepted", backwards);
    }

    #[test]
    fn duration_parser_never_panics(s in prop_oneof![any::<String>(), "-?[0-9]{0,22}(ns|us|ms|s|m|h|d)?"]) {
        let _ = parse_duration(&s);
    }

    #[test]
    fn milliseconds_parse_to_milliseconds(n in 1u64..1_000_000) {
        prop_assert_eq!(parse_duration(&format!("{n}ms")), Ok(Duration::from_millis(n)));
        let negative = format!("-{n}ms");
        prop_assert!(parse_duration(&negative).is_err(), "{} accepted", negative);
    }
}
