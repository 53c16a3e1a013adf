//! Issue 5, nothing lost and nothing leaked: a signal mid-run keeps every finished result (on
//! stdout and in report files), a second Ctrl-C exits at once, a reader that goes away is no
//! crash; credentials and header values appear in no output, sensitive headers do not follow
//! a redirect to another host, and no server can put a terminal escape on the screen.

mod common;
mod servers;

use std::path::PathBuf;

use tempfile::TempDir;

use common::scenario::FORMATS;
use common::{lines, no_panic_text, refused_port, run, urlcheck, write_list, NxDomain, Server};
use servers::{response, Cert, Scripted, TlsServer};

// ---------------------------------------------------------------------------
// Nothing leaked
// ---------------------------------------------------------------------------

/// Texts that must never appear: the password, the username, header values, and Basic auth.
const SECRETS: [&str; 6] = [
    "secret",
    "alice",
    "leakpw",
    "bob",
    "YWxpY2U6c2VjcmV0", // base64("alice:secret")
    "tok-",
];

#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    let lower = text.to_ascii_lowercase();
    for secret in SECRETS {
        assert!(
            !lower.contains(&secret.to_ascii_lowercase()),
            "{what} shows {secret:?}:\n{text}"
        );
    }
}

#[test]
fn credentials_and_header_values_appear_in_no_output_and_no_error_message() {
    let srv = Server::start(1);
    let dns = NxDomain::start();
    let tls = TlsServer::start(Cert::SelfSigned, |_| response("200 OK", &[]));
    let port = srv.http_port();
    // A server whose redirect targets carry credentials of their own: one to follow, one
    // that is not a URL, one that is not followed.
    let creds_location = format!("http://bob:leakpw@127.0.0.1:{port}/ok?from=location");
    let redirector = Scripted::start("127.0.0.1:0", move |head| {
        let location = match head.target.as_str() {
            "/to-creds" => creds_location.as_str(),
            "/to-bad-creds" => "http://bob:leakpw@bad host/",
            _ => "ftp://bob:leakpw@127.0.0.1/pub",
        };
        response("302 Found", &[("Location", location)])
    })
    .unwrap();
    let with_creds = |url: String| url.replacen("://", "://alice:secret@", 1);
    let refused = refused_port();
    let list = [
        with_creds(srv.url(0, "/ok")),
        with_creds(srv.url(0, "/redirect/2")),
        with_creds(srv.url(0, "/status/404")),
        with_creds(redirector.url("/to-creds")),
        with_creds(redirector.url("/to-bad-creds")),
        with_creds(redirector.url("/to-ftp-creds")),
        with_creds(srv.raw_url(0, "/hang")),
        format!("http://alice:secret@127.0.0.1:{refused}/refused"),
        format!("http://alice:secret@nowhere.test:{refused}/dns"),
        with_creds(tls.url("/tls")),
        "http://alice:secret@bad host/".to_string(),
        "http://alice:secret@127.0.0.1:0/".to_string(),
    ];
    let dir = TempDir::new().unwrap();
    let file = write_list(dir.path(), "creds.txt", lines(&list));
    let step_summary = dir.path().join("step-summary.md");
    for format in ["human", "json", "jsonl"] {
        let reports: Vec<(&str, PathBuf)> = FORMATS
            .iter()
            .map(|f| (*f, dir.path().join(format!("report.{f}"))))
            .collect();
        let mut cmd = urlcheck();
        cmd.args(["-t", "500ms", "--retries", "0", "--color", "never"])
            .args(["--format", format, "--github"])
            .env("GITHUB_STEP_SUMMARY", &step_summary)
            .args(["--dns-server", &dns.addr().to_string()])
            .args(["-H", "Authorization: Bearer tok-auth"])
            .args(["-H", "Cookie: sid=tok-cookie"])
            .args(["-H", "X-Api-Key: tok-key"]);
        for (f, path) in &reports {
            cmd.arg("--report").arg(format!("{f}={}", path.display()));
        }
        let out = run(cmd.arg(&file));
        out.assert_code(1);
        no_panic_text(&out.stderr);
        assert_no_secret(&format!("{format} on stdout and stderr"), &out.all_output());
        for (f, path) in &reports {
            let text = std::fs::read_to_string(path).unwrap();
            assert_no_secret(&format!("the {f} report"), &text);
            assert!(text.contains("127.0.0.1"), "{f} lists the URLs:\n{text}");
        }
        assert_no_secret(
            "the step summary",
            &std::fs::read_to_string(&step_summary).unwrap(),
        );
        if format == "json" {
            // Every kind of failure really happened, so its message was really checked.
            let doc = out.json();
            let kinds = &doc["summary"]["errors_by_kind"];
            for (kind, n) in [("timeout", 1), ("connect", 1), ("dns", 1), ("tls", 1)] {
                assert_eq!(kinds[kind], n, "{kind}: {kinds:#}");
            }
            assert_eq!(kinds["redirects"], 2, "{kinds:#}");
            assert_eq!(doc["summary"]["invalid"], 2, "{doc:#}");
        }
    }
    assert!(dns.queries() >= 1);
    assert_eq!(srv.stats().hits("/ok?from=location"), 3);
    srv.shutdown();
}

#[test]
fn a_rejected_header_is_not_echoed_in_the_error() {
    // A secret with a stray control character, or a header missing its colon: both are
    // refused (exit 2), and the message must say which --header without repeating it.
    for header in [
        "Authorization: Bearer tok-ctl\u{1}x",
        "Authorization Bearer tok-nocolon",
    ] {
        let out = run(urlcheck().args(["-H", header, "http://127.0.0.1:1/"]));
        no_panic_text(&out.stderr);
        out.assert_code(2);
        assert!(out.stderr.contains("--header"), "{out}");
        assert_no_secret("the error for a bad --header", &out.all_output());
    }
}

#[test]
fn credentials_in_an_argument_that_cannot_be_checked_are_not_echoed() {
    for arg in [
        "ftp://alice:secret@127.0.0.1/pub",
        " http://alice:secret@127.0.0.1/",
    ] {
        let out = run(urlcheck().arg(arg));
        no_panic_text(&out.stderr);
        out.assert_code(2);
        assert!(out.stderr.contains("127.0.0.1"), "names the input: {out}");
        assert_no_secret("the error for an unusable argument", &out.all_output());
    }
}

const SENSITIVE: [&str; 6] = [
    "-H",
    "Authorization: Bearer tok",
    "-H",
    "Cookie: sid=c",
    "-H",
    "X-Trace: t1",
];

#[test]
fn authorization_and_cookie_do_not_follow_a_redirect_to_another_host() {
    let srv = Server::start(1);
    let other_ip = Scripted::start("127.0.0.2:0", |_| response("200 OK", &[])).unwrap();
    let other_port = Scripted::start("127.0.0.1:0", |_| response("200 OK", &[])).unwrap();
    let cross_ip = srv
        .url(
            0,
            &format!("/redirect-to?url={}", other_ip.url("/cross-ip")),
        )
        .replacen("://", "://alice:secret@", 1);
    let cross_port = srv.url(
        0,
        &format!("/redirect-to?url={}", other_port.url("/cross-port")),
    );
    let out = run(urlcheck()
        .args(["-t", "2s", "--retries", "0"])
        .args(SENSITIVE)
        .args([&cross_ip, &cross_port]));
    out.assert_code(0);
    for head in [
        other_ip.head_for("/cross-ip"),
        other_port.head_for("/cross-port"),
    ] {
        assert_eq!(head.header("authorization"), None, "{}", head.text);
        assert_eq!(head.header("cookie"), None, "{}", head.text);
        // Headers that are not secrets still go along.
        assert_eq!(head.header("x-trace"), Some("t1"), "{}", head.text);
    }
    srv.shutdown();
}

#[test]
fn authorization_and_cookie_do_follow_a_redirect_on_the_same_host() {
    let server = Scripted::start("127.0.0.1:0", |head| {
        if head.target == "/start" {
            response("302 Found", &[("Location", "/same")])
        } else {
            response("200 OK", &[])
        }
    })
    .unwrap();
    let out = run(urlcheck()
        .args(["-t", "2s", "--retries", "0"])
        .args(SENSITIVE)
        .arg(server.url("/start")));
    out.assert_code(0);
    let head = server.head_for("/same");
    assert_eq!(
        head.header("authorization"),
        Some("bearer tok"),
        "{}",
        head.text
    );
    assert_eq!(head.header("cookie"), Some("sid=c"), "{}", head.text);
}

// ---------------------------------------------------------------------------
// No one fooled: terminal escapes
// ---------------------------------------------------------------------------

/// Bytes that would drive a terminal: ESC, BEL, CSI (C1, as UTF-8), and the bidi override.
fn assert_inert(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for (bad, name) in [
        ("\u{1b}", "ESC"),
        ("\u{7}", "BEL"),
        ("\u{9b}", "CSI"),
        ("\u{202e}", "RLO"),
    ] {
        assert!(!text.contains(bad), "{what} holds a raw {name}:\n{text:?}");
    }
}

#[test]
fn server_and_file_text_is_escaped_before_it_reaches_a_terminal() {
    let hostile = Scripted::start("127.0.0.1:0", |head| {
        let redirect = |to: &str| response("302 Found", &[("Location", to)]);
        match head.target.as_str() {
            "/esc-location" => redirect("/x\u{1b}[2J\u{1b}]0;pwned\u{7}"),
            "/c1-location" => redirect("/x\u{9b}2J"),
            "/c1-host" => redirect("http://\u{9b}31m.test/"),
            "/bidi-location" => redirect("/\u{202e}txt.exe"),
            "/esc-scheme" => redirect("ftp://h/\u{1b}[2J"),
            "/c1-scheme" => redirect("javascript:\u{9b}2J\u{202e}"),
            "/esc-reason" => response("200 \u{1b}]0;pwned\u{7}OK", &[]),
            "/c1-reason" => response("404 \u{9b}2J gone", &[]),
            "/esc-garbage" => b"\x1b[2J\x1b]0;pwned\x07 not http\r\n\r\n".to_vec(),
            _ => response("200 OK", &[]),
        }
    })
    .unwrap();
    let targets = [
        "/esc-location",
        "/c1-location",
        "/c1-host",
        "/bidi-location",
        "/esc-scheme",
        "/c1-scheme",
        "/esc-reason",
        "/c1-reason",
        "/esc-garbage",
    ];
    let mut list: Vec<String> = targets.iter().map(|t| hostile.url(t)).collect();
    // And lines of the input file itself.
    list.push(hostile.url("/file\u{1b}[31mred"));
    list.push(format!("http://bad\u{9b}host.test:{}/", hostile.port()));
    list.push(hostile.url("/\u{202e}gpj.exe"));
    let dir = TempDir::new().unwrap();
    let file = write_list(dir.path(), "hostile.txt", lines(&list));
    for format in ["human", "jsonl"] {
        let out = run(urlcheck()
            .args(["-t", "2s", "--retries", "0", "--color", "never"])
            .args(["--format", format])
            .arg(&file));
        no_panic_text(&out.stderr);
        assert!(
            matches!(out.code, Some(1)),
            "{format}: some are errors: {out}"
        );
        assert_inert(&format!("{format} stdout"), &out.stdout);
        assert_inert(&format!("{format} stderr"), out.stderr.as_bytes());
        // Every line but the one whose host is not a URL host names the server.
        let shown = out
            .stdout()
            .lines()
            .filter(|l| l.contains("127.0.0.1"))
            .count();
        assert!(shown >= list.len() - 1, "every line has a result: {out}");
        if format == "human" {
            // Shown, but as text.
            assert!(out.stdout().contains("\\u{1b}"), "{out}");
        }
    }
    for target in targets {
        assert!(
            hostile.heads().iter().any(|h| h.target == target),
            "{target} was never asked for, so its answer was never tested"
        );
    }
}
