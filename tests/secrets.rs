//! Secrets (README: Secrets under Options, and "Nothing leaks" under Reliability). Credentials
//! in URLs and the values of `-H` headers appear in no output, report file, annotation, step
//! summary or error message, also when a server's redirect carries credentials of its own, and
//! yet they are really sent; `Authorization` and `Cookie` do not follow a redirect to another
//! host, and do follow one on the same host.

mod common;
mod servers;

use std::path::PathBuf;

use tempfile::TempDir;

use common::github::annotations;
use common::scenario::{report_name, FORMATS};
use common::{
    lines, no_panic_text, refused_port, run, urlcheck, write_list, HeadRecorder, NxDomain, Server,
    FAST_500MS, FAST_5S,
};
use servers::{response, Cert, Scripted, TlsServer};

// ---------------------------------------------------------------------------
// Credentials and header values
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
fn credentials_and_header_values_appear_in_no_format() {
    const PASSWORD: &str = "s3cretpw";
    const TOKEN: &str = "t0psecret";
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let port = srv.http_port();
    let creds = |path: &str| format!("http://user:{PASSWORD}@127.0.0.1:{port}{path}");
    write_list(
        dir.path(),
        "secrets.txt",
        lines(&[
            creds("/status/404"),
            creds("/ok"),
            creds("/redirect/1"),
            format!("http://user:{PASSWORD}@127.0.0.1:{}/", refused_port()),
            format!("http://user:{PASSWORD}@bad host/"),
            // A redirect whose Location carries credentials: the list holds the password
            // only percent-encoded, the server's Location header holds it in clear.
            srv.url(
                0,
                &format!(
                    "/redirect-to?url={}",
                    percent_encode_all(&creds("/ok?via=redirect"))
                ),
            ),
        ]),
    );
    let summary = dir.path().join("step_summary.md");
    let header = format!("Authorization: Bearer {TOKEN}");
    let check = |what: &str, text: &str| {
        assert!(
            !text.contains(PASSWORD),
            "{what} shows the password:\n{text}"
        );
        assert!(
            !text.contains(TOKEN),
            "{what} shows the header value:\n{text}"
        );
    };
    let mut all_formats: Vec<&str> = FORMATS.to_vec();
    all_formats.push("human");
    for format in &all_formats {
        let mut cmd = urlcheck();
        cmd.current_dir(dir.path())
            .args(FAST_5S)
            .args(["-H", &header, "--format", format])
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", &summary);
        for f in &all_formats {
            cmd.arg("--report")
                .arg(format!("{f}=out/{}", report_name(f)));
        }
        let out = run(cmd.arg("secrets.txt"));
        out.assert_code(1);
        check(
            &format!("--format {format} (stdout, stderr)"),
            &out.all_output(),
        );
        assert!(
            out.stdout().contains("***@127.0.0.1"),
            "--format {format} shows the redacted URL:\n{out}"
        );
        if *format == "json" {
            let doc = out.json();
            let via = common::results(&doc)
                .iter()
                .find(|r| r["url"].as_str().unwrap().contains("/redirect-to?"))
                .expect("the redirect's result");
            assert_eq!(via["outcome"], "up", "{via:#}");
            assert_eq!(
                via["final_url"],
                format!("http://***@127.0.0.1:{port}/ok?via=redirect"),
                "{via:#}"
            );
        }
        assert_eq!(
            annotations(&out.stderr).len(),
            3,
            "annotations were written:\n{out}"
        );
        for f in &all_formats {
            let text =
                std::fs::read_to_string(dir.path().join("out").join(report_name(f))).unwrap();
            check(&format!("--report {f}"), &text);
            assert!(text.contains("***@127.0.0.1"), "--report {f}:\n{text}");
        }
    }
    let step_summary = std::fs::read_to_string(&summary).unwrap();
    check("the step summary", &step_summary);
    assert!(step_summary.contains("***@127.0.0.1"), "{step_summary}");
    // The requests were really made, the credentialed redirect followed.
    let stats = srv.stats();
    assert!(stats.hits("/status/404") >= 1 && stats.hits("/redirect/0") >= 1);
    assert!(stats.hits("/ok?via=redirect") >= 1);
    srv.shutdown();
}

/// Every byte as `%XX`, so a secret inside is not spelled out in the text.
fn percent_encode_all(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
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
        // Without a scheme: the hint that shows how to write the URL masks it too.
        "alice:secret@127.0.0.1:8080",
        "alice:secret@127.0.0.1",
    ] {
        let out = run(urlcheck().arg(arg));
        no_panic_text(&out.stderr);
        out.assert_code(2);
        assert!(out.stderr.contains("127.0.0.1"), "names the input: {out}");
        assert_no_secret("the error for an unusable argument", &out.all_output());
    }
}

/// An invalid line whose password is followed (or preceded) by whitespace before the `@`
/// still looks like a user and a password: it is masked in every format and annotation,
/// as the line is echoed with its file:line.
#[test]
fn a_password_before_whitespace_and_an_at_is_masked_in_every_output() {
    let dir = TempDir::new().unwrap();
    let list = write_list(
        dir.path(),
        "bad.txt",
        lines(&[
            "http://alice:s3cr3t @127.0.0.1:1/x",
            "http:// bob:hunter22@127.0.0.1:1/y",
        ]),
    );
    let reports: Vec<String> = ["json", "jsonl", "csv", "junit", "markdown", "prometheus"]
        .iter()
        .map(|f| {
            format!(
                "--report={f}={}",
                dir.path().join(format!("r.{f}")).display()
            )
        })
        .collect();
    let summary = dir.path().join("summary.md");
    let out = run(urlcheck()
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["--github", "--color", "never"])
        .args(&reports)
        .arg(&list));
    out.assert_code(1);
    assert!(
        out.stdout().contains("bad.txt:1"),
        "the line is reported: {out}"
    );
    let mut texts = vec![("output".to_string(), out.all_output())];
    for f in ["json", "jsonl", "csv", "junit", "markdown", "prometheus"] {
        let text = std::fs::read_to_string(dir.path().join(format!("r.{f}"))).unwrap();
        texts.push((format!("the {f} report"), text));
    }
    texts.push((
        "the step summary".into(),
        std::fs::read_to_string(&summary).unwrap(),
    ));
    for (what, text) in texts {
        for secret in ["s3cr3t", "hunter22"] {
            assert!(!text.contains(secret), "{secret} in {what}:\n{text}");
        }
    }
}

// ---------------------------------------------------------------------------
// Sensitive headers and redirects
// ---------------------------------------------------------------------------

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

/// `user:password@` in the URL goes on after an absolute redirect back to the same origin
/// (scheme, host and port), as curl does, and never to another origin.
#[test]
fn url_credentials_follow_an_absolute_redirect_to_the_same_origin_only() {
    let other = servers::alice_only();
    let elsewhere = other.url("/elsewhere");
    let server = Scripted::start("127.0.0.1:0", move |head| match head.target.as_str() {
        "/start" => {
            // An absolute Location naming this very server, as the Host header says.
            let inside = format!("http://{}/inside", head.header("host").unwrap_or(""));
            response("302 Found", &[("Location", inside.as_str())])
        }
        "/away" => response("302 Found", &[("Location", elsewhere.as_str())]),
        // The same address and port under another name is another origin.
        "/renamed" => {
            let port = head
                .header("host")
                .and_then(|h| h.rsplit(':').next())
                .unwrap_or("");
            let renamed = format!("http://localhost:{port}/inside");
            response("302 Found", &[("Location", renamed.as_str())])
        }
        _ if head.text.contains("authorization: basic ywxpy2u6") => response("200 OK", &[]),
        _ => response("401 Unauthorized", &[]),
    })
    .unwrap();
    let port = server.port();
    let start = format!("http://alice:pw1@127.0.0.1:{port}/start");
    let away = format!("http://alice:pw1@127.0.0.1:{port}/away");
    let renamed = format!("http://alice:pw1@127.0.0.1:{port}/renamed");
    let out = run(urlcheck()
        .args(["-t", "2s", "--retries", "0", "--format", "json"])
        .args([&start, &away, &renamed]));
    out.assert_code(1);
    let doc = out.json();
    let shown = |url: &str| url.replace("alice:pw1@", "***@");
    let inside = common::result(&doc, &shown(&start));
    assert_eq!(inside["outcome"], "up", "{inside:#}");
    assert_eq!(
        inside["redirects"].as_array().map(Vec::len),
        Some(1),
        "{inside:#}"
    );
    for url in [&away, &renamed] {
        let outside = common::result(&doc, &shown(url));
        assert_eq!(outside["status"], 401, "{outside:#}");
    }
    let heads = other.heads();
    assert!(!heads.is_empty(), "the other origin was asked");
    assert!(
        heads.iter().all(|h| h.header("authorization").is_none()),
        "credentials went to another origin"
    );
    assert!(!out.all_output().contains("pw1"), "{out}");
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
