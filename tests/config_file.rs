//! urlcheck.toml: the file in the current folder (or `--config PATH`, or none with
//! `--no-config`) whose top-level keys are the long flags, with `[[host]]` tables (headers,
//! politeness and trust for matching hosts only) and `[[expect]]` tables (what a page must
//! say to be up), overridden key by key by the command line, and shown by `--print-config`.
//!
//! Every run has a temporary folder of its own as its current folder, holding the file, and
//! talks to servers on 127.0.0.1 that record what they were sent, so a header that went to
//! the wrong host, or a request made before an error, cannot hide.

mod common;
mod servers;

use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use common::json::{error_kind, message, outcome};
use common::{refused_port, result, run, urlcheck, Run, Server, FAST_5S};
use servers::{response, Cert, Head, Scripted, TlsServer};

/// The secret of the header tests: lower case, because recorded heads are lower-cased.
const TOKEN: &str = "tok-5ecr3t-71d";

/// A temporary folder holding `urlcheck.toml` with `text`, to run in.
fn folder(text: &str) -> TempDir {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("urlcheck.toml"), text).unwrap();
    dir
}

/// The binary with `dir` as its current folder.
fn uc(dir: &TempDir) -> assert_cmd::Command {
    let mut cmd = urlcheck();
    cmd.current_dir(dir.path());
    cmd
}

/// The line (from 1) of the first line of `text` containing `needle`.
#[track_caller]
fn line_of(text: &str, needle: &str) -> usize {
    1 + text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} is not in\n{text}"))
}

/// The line of the `[[...]]` header of the table that line `line` belongs to.
fn table_line(text: &str, line: usize) -> usize {
    let above: Vec<&str> = text.lines().take(line).collect();
    1 + above.iter().rposition(|l| l.starts_with("[[")).unwrap_or(0)
}

/// A server answering 200 to everything.
fn ok_server() -> Scripted {
    Scripted::start("127.0.0.1:0", |_| response("200 OK", &[])).unwrap()
}

/// A complete response with `body`.
fn page(status_line: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status_line}\r\n").into_bytes();
    for (n, v) in headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    let len = body.len();
    out.extend_from_slice(format!("Content-Length: {len}\r\nConnection: close\r\n\r\n").as_bytes());
    out.extend_from_slice(body.as_bytes());
    out
}

/// The method of a recorded request, lower case.
fn method(head: &Head) -> &str {
    head.text.split_whitespace().next().unwrap_or("")
}

/// The run stopped with exit 2 before doing anything, saying `path:line: ...` and `key`.
#[track_caller]
fn assert_config_error(out: &Run, path: &str, line: usize, key: &str) {
    common::no_panic(out);
    out.assert_code(2);
    assert!(out.stderr.contains("urlcheck: error:"), "{out}");
    assert!(
        out.stderr.contains(&format!("{path}:{line}:")),
        "no {path}:{line}: {out}"
    );
    assert!(
        out.stderr.contains(key),
        "the key {key} is not named: {out}"
    );
}

// ---------------------------------------------------------------------------
// [[host]] headers and ${VAR}
// ---------------------------------------------------------------------------

#[test]
fn host_headers_go_to_matching_hosts_only_even_across_redirects_and_never_into_output() {
    // B is reached as localhost: no table matches it. /bounce?to=PORT sends the client to A.
    let b = Scripted::start("127.0.0.1:0", |h| {
        match h.target.strip_prefix("/bounce?to=") {
            Some(port) => {
                let back = format!("http://127.0.0.1:{port}/back");
                response("302 Found", &[("Location", back.as_str())])
            }
            None => response("200 OK", &[]),
        }
    })
    .unwrap();
    let on_b = |path: &str| format!("http://localhost:{}{path}", b.port());
    let landing = on_b("/landed");
    let a = Scripted::start("127.0.0.1:0", move |h| match h.target.as_str() {
        "/jump" => response("302 Found", &[("Location", landing.as_str())]),
        _ => response("200 OK", &[]),
    })
    .unwrap();
    let text = format!(
        "[[host]]\nmatch = \"127.0.0.1:{}\"\nheaders = {{ X-Token = \"${{UC_TEST_TOKEN}}\" }}\n",
        a.port()
    );
    let dir = folder(&text);
    let urls = [
        a.url("/page"),
        a.url("/jump"),
        on_b("/direct"),
        on_b(&format!("/bounce?to={}", a.port())),
    ];
    let out = run(uc(&dir)
        .args(FAST_5S)
        .args(["-v", "--report", "json=report.json"])
        .env("UC_TEST_TOKEN", TOKEN)
        .args(&urls));
    common::no_panic(&out);
    out.assert_code(0);
    for target in ["/page", "/jump", "/back"] {
        let head = a.head_for(target);
        assert_eq!(
            head.header("x-token"),
            Some(TOKEN),
            "A{target}: {}",
            head.text
        );
    }
    let bounce = format!("/bounce?to={}", a.port());
    for target in ["/direct", "/landed", bounce.as_str()] {
        let head = b.head_for(target);
        assert_eq!(head.header("x-token"), None, "B{target}: {}", head.text);
    }
    let report = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
    let doc: Value = serde_json::from_str(&report).unwrap();
    for url in &urls {
        assert_eq!(outcome(result(&doc, url)), "up", "{report}");
    }
    assert!(!out.all_output().contains(TOKEN), "{out}");
    assert!(!report.contains(TOKEN), "{report}");
}

#[test]
fn an_unset_variable_is_exit_2_naming_line_key_and_variable_before_any_request() {
    let srv = ok_server();
    let in_host = format!(
        "# the API\nretries = 0\n\n[[host]]\nmatch = \"127.0.0.1:{}\"\n\
         headers = {{ X-Team = \"web\", X-Token = \"${{UC_TEST_UNSET}}\" }}\n",
        srv.port()
    );
    let top = "retries = 0\nheader = [\"X-A: 1\", \"X-B: ${UC_TEST_UNSET}\"]\n".to_owned();
    let proxy = "\n\nproxy = \"http://127.0.0.1:${UC_TEST_UNSET}\"\n".to_owned();
    for (text, key, needle) in [
        (in_host, "X-Token", "headers ="),
        (top, "header", "header ="),
        (proxy, "proxy", "proxy ="),
    ] {
        let dir = folder(&text);
        let out = run(uc(&dir)
            .args(FAST_5S)
            .env_remove("UC_TEST_UNSET")
            .arg(srv.url("/x")));
        assert_config_error(&out, "urlcheck.toml", line_of(&text, needle), key);
        assert!(out.stderr.contains("UC_TEST_UNSET"), "{out}");
    }
    assert!(
        srv.heads().is_empty(),
        "requests were made: {:?}",
        srv.heads()
    );
}

#[test]
fn variables_expand_in_header_and_proxy_and_double_dollar_is_a_dollar() {
    let srv = ok_server();
    let proxy = ok_server();
    let text = "header = [\"X-Price: $$5 ${UC_TEST_WORD}\"]\n\
                proxy = \"http://127.0.0.1:${UC_TEST_PORT}\"\n";
    let dir = folder(text);
    // Nothing listens on the URL itself: only the proxy can answer it.
    let url = format!("http://127.0.0.1:{}/through", refused_port());
    let out = run(uc(&dir)
        .args(FAST_5S)
        .env("UC_TEST_WORD", "each")
        .env("UC_TEST_PORT", proxy.port().to_string())
        .arg(&url));
    out.assert_code(0);
    let head = proxy.head_for(&url);
    assert_eq!(head.header("x-price"), Some("$5 each"), "{}", head.text);
    assert!(srv.heads().is_empty());
}

// ---------------------------------------------------------------------------
// Errors in the file
// ---------------------------------------------------------------------------

#[test]
fn unknown_keys_and_bad_values_are_exit_2_with_their_line_before_any_request() {
    let srv = ok_server();
    let cases = [
        ("# settings\nretries = 0\nconcurency = 3\n", "concurency"),
        (
            "retries = 0\n\n[[host]]\nmatch = \"127.0.0.1\"\nheders = { X-A = \"1\" }\n",
            "heders",
        ),
        (
            "[[expect]]\nmatch = \"/x\"\nstatus = \"200\"\nbody-contain = \"x\"\n",
            "body-contain",
        ),
        ("retries = 0\ntimeout = \"soon\"\n", "timeout"),
        ("\n\nconcurrency = 0\n", "concurrency"),
        (
            "[[host]]\nmatch = \"127.0.0.1\"\n\ninterval = \"often\"\n",
            "interval",
        ),
        ("retries = 0\nprint-config = true\n", "print-config"),
    ];
    // No flags: a key that the command line gives is not read from the file at all.
    for (text, key) in cases {
        let dir = folder(text);
        let out = run(uc(&dir).arg(srv.url("/x")));
        let line = line_of(text, &format!("{key} ="));
        assert_config_error(&out, "urlcheck.toml", line, key);
    }
    // A top-level key is said as `PATH:LINE: KEY: ...`.
    let dir = folder("retries = 0\n\n\nconcurency = 3\n");
    let out = run(uc(&dir).arg(srv.url("/x")));
    assert!(out.stderr.contains("urlcheck.toml:4: concurency:"), "{out}");
    // A table without `match` is an error at its table.
    let text = "retries = 0\n\n[[host]]\nper-host = 2\n";
    let out = run(uc(&folder(text)).arg(srv.url("/x")));
    assert_config_error(&out, "urlcheck.toml", 3, "match");
    assert!(
        srv.heads().is_empty(),
        "requests were made: {:?}",
        srv.heads()
    );
}

// ---------------------------------------------------------------------------
// [[expect]]
// ---------------------------------------------------------------------------

const STATUS_BODY: &str = "all systems operational, up since 1712345678\n";

/// `/gone` is a 404, `/slow` answers after 300 ms, everything else is the status page with
/// `X-Ok: yes` and `X-Frame-Options: DENY`.
fn pages() -> Scripted {
    Scripted::start("127.0.0.1:0", |h| match h.target.split('?').next() {
        Some("/gone") => page("404 Not Found", &[], "no such page\n"),
        Some("/slow") => {
            std::thread::sleep(Duration::from_millis(300));
            page("200 OK", &[], "late\n")
        }
        _ => page(
            "200 OK",
            &[("X-Ok", "yes"), ("X-Frame-Options", "DENY")],
            STATUS_BODY,
        ),
    })
    .unwrap()
}

#[test]
fn expectations_that_hold_leave_urls_up_a_404_included() {
    let srv = pages();
    let text = "[[expect]]\nmatch = \"/gone$\"\nstatus = \"404\"\n\n\
                [[expect]]\nmatch = \"/status$\"\nbody-contains = \"operational\"\n\
                body-regex = 'up since \\d+'\nheader = [\"X-Frame-Options\", \"X-Ok: yes\"]\n\n\
                [[expect]]\nmatch = '/slow[?]lax$'\nmax-latency = \"10s\"\n";
    let dir = folder(text);
    let urls = [srv.url("/gone"), srv.url("/status"), srv.url("/slow?lax")];
    // -X head: the URL with body expectations is fetched with GET all the same.
    let out = run(uc(&dir)
        .args(FAST_5S)
        .args(["--format", "json", "-X", "head"])
        .args(&urls));
    common::no_panic(&out);
    out.assert_code(0);
    let doc = out.json();
    for url in &urls {
        assert_eq!(outcome(result(&doc, url)), "up", "{url}: {out}");
    }
    assert_eq!(result(&doc, &urls[0])["status"], 404, "{out}");
    assert_eq!(method(&srv.head_for("/status")), "get", "{out}");
    assert_eq!(method(&srv.head_for("/gone")), "head", "{out}");
}

/// The URL's result is down of kind expectation, its message naming `key` with the file and
/// the line of its table (or of the key), and saying each of `said`.
#[track_caller]
fn assert_failed(doc: &Value, url: &str, text: &str, key: &str, said: &[&str]) {
    let r = result(doc, url);
    assert_eq!(outcome(r), "down", "{r:#}");
    assert_eq!(error_kind(r), "expectation", "{r:#}");
    let m = message(r);
    let key_line = line_of(text, &format!("{key} ="));
    let at =
        [key_line, table_line(text, key_line)].map(|line| format!("{key} (urlcheck.toml:{line})"));
    assert!(at.iter().any(|a| m.contains(a)), "expected {at:?} in {m:?}");
    for s in said {
        assert!(
            m.to_lowercase().contains(&s.to_lowercase()),
            "{s:?} not in {m:?}"
        );
    }
}

#[test]
fn each_expectation_that_fails_makes_the_url_down_saying_what_was_expected() {
    let srv = pages();
    let text = "[[expect]]\nmatch = \"want404\"\nstatus = \"404\"\n\n\
                [[expect]]\nmatch = \"words\"\nbody-contains = \"maintenance\"\n\n\
                [[expect]]\nmatch = \"regex$\"\nbody-regex = 'down since \\d+'\n\n\
                [[expect]]\nmatch = '/slow[?]strict$'\nmax-latency = \"100ms\"\n\n\
                [[expect]]\nmatch = \"headers$\"\nheader = [\"X-Missing\", \"X-Ok: no\"]\n";
    let dir = folder(text);
    let url = |q: &str| srv.url(&format!("/status?{q}"));
    let slow = srv.url("/slow?strict");
    let out = run(uc(&dir)
        .args(FAST_5S)
        .args(["--format", "json"])
        .args([url("want404"), url("words"), url("regex"), url("headers")])
        .args([url("want404-words"), slow.clone()]));
    common::no_panic(&out);
    out.assert_code(1);
    let doc = out.json();
    assert_failed(&doc, &url("want404"), text, "status", &["404", "200"]);
    assert_eq!(result(&doc, &url("want404"))["status"], 200, "{out}");
    assert_failed(
        &doc,
        &url("words"),
        text,
        "body-contains",
        &["\"maintenance\""],
    );
    assert_failed(&doc, &url("regex"), text, "body-regex", &["down since"]);
    assert_failed(&doc, &slow, text, "max-latency", &["100ms"]);
    let said = ["x-missing", "x-ok", "\"no\""];
    assert_failed(&doc, &url("headers"), text, "header", &said);
    // Every matching table applies; the failures are joined with "; ".
    let both = url("want404-words");
    assert_failed(&doc, &both, text, "status", &["; "]);
    assert_failed(&doc, &both, text, "body-contains", &[]);
}

#[test]
fn cert_expiry_expectations_hold_the_certificate_to_their_age() {
    // A day and an hour left: under 14 days, over 12 hours.
    let tls = TlsServer::start(Cert::PrivateCaFor { hours: 25 }, |_| {
        response("200 OK", &[])
    });
    let text = "[[expect]]\nmatch = \"/strict$\"\ncert-expiry = \"14d\"\n\n\
                [[expect]]\nmatch = \"/lax$\"\ncert-expiry = \"12h\"\n";
    let dir = folder(text);
    std::fs::write(dir.path().join("ca.pem"), tls.ca_pem()).unwrap();
    let (strict, lax) = (tls.url("/strict"), tls.url("/lax"));
    let out = run(uc(&dir)
        .args(FAST_5S)
        .args(["--format", "json", "--cacert", "ca.pem", &strict, &lax]));
    common::no_panic(&out);
    out.assert_code(1);
    let doc = out.json();
    assert_failed(&doc, &strict, text, "cert-expiry", &["14d"]);
    assert_eq!(outcome(result(&doc, &lax)), "up", "{out}");
}

// ---------------------------------------------------------------------------
// [[host]] politeness
// ---------------------------------------------------------------------------

#[test]
fn a_host_interval_spaces_the_starts_of_its_requests() {
    let srv = Server::start(1);
    let text = format!(
        "[[host]]\nmatch = \"127.0.0.1:{}\"\ninterval = \"200ms\"\n",
        srv.http_port()
    );
    let dir = folder(&text);
    let urls: Vec<String> = (0..5)
        .map(|i| srv.url(0, &format!("/ok?key=iv&i={i}")))
        .collect();
    let out = run(uc(&dir).args(FAST_5S).args(["-c", "8"]).args(&urls));
    out.assert_code(0);
    let mut arrivals: Vec<Instant> = srv.stats().arrivals("iv");
    arrivals.sort();
    assert_eq!(arrivals.len(), 5, "{out}");
    let gaps: Vec<Duration> = arrivals.windows(2).map(|w| w[1] - w[0]).collect();
    // The starts are 200 ms apart at least; the arrivals may differ from them by the jitter
    // of a loopback connect.
    assert!(
        gaps.iter().all(|g| *g >= Duration::from_millis(180)),
        "gaps {gaps:?}: {out}"
    );
    srv.shutdown();
}

#[test]
fn a_host_per_host_limit_replaces_the_flag_for_that_host() {
    let srv = Server::start(1);
    let text = format!(
        "[[host]]\nmatch = \"127.0.0.1:{}\"\nper-host = 1\n",
        srv.http_port()
    );
    let dir = folder(&text);
    let urls: Vec<String> = (0..6)
        .map(|i| srv.url(0, &format!("/delay/100?i={i}")))
        .collect();
    let out = run(uc(&dir)
        .args(FAST_5S)
        .args(["-c", "8", "--per-host", "4"])
        .args(&urls));
    out.assert_code(0);
    let stats = srv.stats();
    assert_eq!(stats.requests(), 6, "{out}");
    assert_eq!(stats.max_in_flight_per_host(), 1, "{out}");
    srv.shutdown();
}

// ---------------------------------------------------------------------------
// The command line and the file
// ---------------------------------------------------------------------------

#[test]
fn the_command_line_replaces_the_file_key_by_key() {
    let srv = ok_server();
    let text = "concurrency = 1\nformat = \"jsonl\"\nheader = [\"X-A: file\"]\nretries = 0\n";
    let dir = folder(text);
    let out = run(uc(&dir).args([srv.url("/file1"), srv.url("/file2")]));
    out.assert_code(0);
    let lines = out.json_lines();
    let results = lines.iter().filter(|l| l["type"] == "result").count();
    assert_eq!(results, 2, "the file's jsonl: {out}");
    for target in ["/file1", "/file2"] {
        assert_eq!(srv.head_for(target).header("x-a"), Some("file"));
    }
    let out = run(uc(&dir)
        .args(["--format", "json", "-c", "4", "-H", "X-A: cli"])
        .args([srv.url("/cli1"), srv.url("/cli2")]));
    out.assert_code(0);
    let doc = out.json();
    assert_eq!(common::results(&doc).len(), 2, "{out}");
    assert_eq!(doc["settings"]["concurrency"], 4, "{out}");
    for target in ["/cli1", "/cli2"] {
        let head = srv.head_for(target);
        assert_eq!(head.header("x-a"), Some("cli"), "{}", head.text);
        assert!(!head.text.contains("file"), "{}", head.text);
    }
}

#[test]
fn no_config_ignores_the_file_and_subcommands_never_read_it() {
    let srv = ok_server();
    let dir = folder("retries = 0\nconcurency = 3\n");
    let out = run(uc(&dir).arg(srv.url("/read")));
    assert_config_error(&out, "urlcheck.toml", 2, "concurency");
    let out = run(uc(&dir)
        .args(FAST_5S)
        .arg("--no-config")
        .arg(srv.url("/ignored")));
    out.assert_code(0);
    assert_eq!(srv.head_for("/ignored").target, "/ignored");
    for sub in [&["man"][..], &["completions", "bash"]] {
        let out = run(uc(&dir).args(sub));
        out.assert_code(0);
    }
}

#[test]
fn config_names_the_file_to_read_instead() {
    let srv = ok_server();
    let dir = folder("concurency = 3\n");
    std::fs::write(dir.path().join("other.toml"), "header = [\"X-A: other\"]\n").unwrap();
    let out = run(uc(&dir)
        .args(FAST_5S)
        .args(["--config", "other.toml"])
        .arg(srv.url("/other")));
    out.assert_code(0);
    assert_eq!(srv.head_for("/other").header("x-a"), Some("other"));
    let bad = "retries = 0\n\ntimeout = \"soon\"\n";
    std::fs::write(dir.path().join("bad.toml"), bad).unwrap();
    let out = run(uc(&dir).args(["--config", "bad.toml"]).arg(srv.url("/bad")));
    assert_config_error(&out, "bad.toml", 3, "timeout");
    let out = run(uc(&dir)
        .args(["--config", "missing.toml"])
        .arg(srv.url("/missing")));
    out.assert_code(2);
    assert!(out.stderr.contains("missing.toml"), "{out}");
    assert_eq!(srv.heads().len(), 1, "{:?}", srv.heads());
}

// ---------------------------------------------------------------------------
// --print-config
// ---------------------------------------------------------------------------

/// A TOML value as the text it stands for: a string's contents, a number's digits.
fn scalar(v: &toml::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// The printed line that sets `key` at the top level.
#[track_caller]
fn key_line<'a>(printed: &'a str, key: &str) -> &'a str {
    printed
        .lines()
        .find(|l| l.starts_with(&format!("{key} =")) || l.starts_with(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} line in\n{printed}"))
}

#[test]
fn print_config_shows_each_value_and_its_origin_with_secrets_hidden() {
    let srv = ok_server();
    let text = format!(
        "# team settings\nconcurrency = 3\nheader = [\"X-Secret: ${{UC_TEST_TOKEN}}\"]\n\n\
         [[host]]\nmatch = \"127.0.0.1:{}\"\nheaders = {{ X-Token = \"${{UC_TEST_TOKEN}}\" }}\n\n\
         [[expect]]\nmatch = \"/x$\"\nstatus = \"200\"\n",
        srv.port()
    );
    let dir = folder(&text);
    // An input that does not exist: it is not opened.
    let out = run(uc(&dir)
        .args(["--print-config", "-t", "7s", "missing-list.txt"])
        .env("UC_TEST_TOKEN", TOKEN)
        .arg(srv.url("/x")));
    common::no_panic(&out);
    out.assert_code(0);
    assert!(srv.heads().is_empty(), "requests were made: {out}");
    assert!(!out.all_output().contains(TOKEN), "{out}");
    let printed = out.stdout();
    let doc: toml::Table = toml::from_str(&printed)
        .unwrap_or_else(|e| panic!("--print-config is not TOML ({e}):\n{printed}"));
    assert_eq!(scalar(&doc["timeout"]), "7s", "{printed}");
    assert!(
        key_line(&printed, "timeout").contains("# command line"),
        "{printed}"
    );
    assert_eq!(scalar(&doc["concurrency"]), "3", "{printed}");
    let from_file = format!("# urlcheck.toml:{}", line_of(&text, "concurrency ="));
    assert!(
        key_line(&printed, "concurrency").contains(&from_file),
        "{printed}"
    );
    assert!(
        key_line(&printed, "retries").contains("# default"),
        "{printed}"
    );
    let header = doc["header"].as_array().expect("header is an array");
    assert_eq!(header.len(), 1, "{printed}");
    assert_eq!(scalar(&header[0]), "X-Secret: ***", "{printed}");
    let hosts = doc["host"].as_array().expect("the [[host]] tables");
    assert_eq!(hosts.len(), 1, "{printed}");
    // Header names are case-insensitive: any spelling of X-Token will do.
    let headers = hosts[0]["headers"].as_table().expect("the host's headers");
    let token = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-token"));
    assert_eq!(
        token.map(|(_, v)| scalar(v)).as_deref(),
        Some("***"),
        "{printed}"
    );
    let expects = doc["expect"].as_array().expect("the [[expect]] tables");
    assert_eq!(scalar(&expects[0]["match"]), "/x$", "{printed}");
    // What it printed is a urlcheck.toml itself.
    std::fs::write(dir.path().join("printed.toml"), &printed).unwrap();
    let again = run(uc(&dir).args(["--config", "printed.toml", "--print-config"]));
    again.assert_code(0);
    assert!(srv.heads().is_empty(), "requests were made: {again}");
}
