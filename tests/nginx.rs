//! Against a real nginx (README: Reliability): answers no hand-written server gives the same
//! way. Each test starts its own nginx on 127.0.0.1 with a private CA's certificate, HTTP/2 by
//! ALPN on its TLS port and HTTP/1.1 on its plain port (`servers/nginx.rs`), and checks both
//! protocols where the point is about both: many and large response headers (issue 9, point
//! 12), a private CA and TLS 1.2-only and 1.3-only servers (point 14), redirects gated by a
//! cookie (point 15), and `return 444` (point 17).

mod common;
mod servers;

use std::fmt::Write as _;

use serde_json::Value;

use common::json::{error_kind, message, outcome};
use common::{result, run, urlcheck, Run};
use servers::nginx::Nginx;

/// Checks `urls` in one run with `args`, trusting the server's CA; returns the run and each
/// URL's result, in the order given.
fn check(nginx: &Nginx, args: &[&str], urls: &[String]) -> (Run, Vec<Value>) {
    let out = run(urlcheck()
        .args(["--format", "json", "--cacert", &nginx.ca_file()])
        .args(args)
        .args(urls));
    common::no_panic(&out);
    let doc = out.json();
    let results = urls.iter().map(|u| result(&doc, u).clone()).collect();
    (out, results)
}

// ---------------------------------------------------------------------------
// Point 12: header limits no stricter than curl's
// ---------------------------------------------------------------------------

/// 150 header fields (hyper's default stops at 100 over HTTP/1.1), and a single header of
/// 96 KiB (h2's default list limit in hyper is 16 KiB); curl accepts a header of up to 100 KiB
/// and 300 KiB of them in all. nginx's config takes a value of at most about 4 KiB, so the
/// large one is built from variables.
fn header_locations() -> String {
    let mut many = String::from("location /many {\n");
    for i in 0..150 {
        writeln!(many, "    add_header X-Many-{i} \"value number {i}\";").unwrap();
    }
    many.push_str("    return 200 \"many\\n\";\n}\n");
    let chunk = "x".repeat(4000);
    let large = format!(
        "location /large {{
    set $a \"{chunk}\";
    set $b \"$a$a$a$a\";
    set $c \"$b$b$b$b\";
    add_header X-Large \"$c$b$b\";
    add_header X-Large-Too \"$b\";
    return 200 \"large\\n\";
}}\n"
    );
    many + &large
}

/// Many header fields over HTTP/1.1 and large headers over HTTP/2 were `error protocol`;
/// curl and browsers load both. Each URL is up over both protocols, and the values arrived:
/// nginx logged the 200s.
#[test]
fn many_and_large_response_headers_are_accepted_over_http1_and_http2() {
    let nginx = Nginx::start(&header_locations());
    let urls = vec![
        nginx.http("/many"),
        nginx.https("/many"),
        nginx.http("/large"),
        nginx.https("/large"),
    ];
    let (out, results) = check(&nginx, &["-t", "5s", "--retries", "0"], &urls);
    for (url, r) in urls.iter().zip(&results) {
        assert_eq!(outcome(r), "up", "{url}: {r:#}\n{out}");
        assert_eq!(r["status"], 200, "{url}: {r:#}");
    }
    out.assert_code(0);
}

// ---------------------------------------------------------------------------
// Point 15: cookies within one URL's redirect chain
// ---------------------------------------------------------------------------

/// `/gate` redirects to itself, setting a cookie, until the cookie comes back (a consent wall);
/// `/gate-elsewhere` sets its cookie for another path, and `/gate-expired` one that has
/// already expired, so neither cookie ever comes back; `/loop` redirects to itself with no
/// cookie at all; `/seen` says 500 when a consent cookie arrives.
const COOKIE_LOCATIONS: &str = r#"
        location = /gate {
            if ($cookie_consent != "yes") {
                add_header Set-Cookie "consent=yes; Path=/; HttpOnly";
                return 302 $request_uri;
            }
            return 200 "welcome\n";
        }
        location = /gate-elsewhere {
            if ($cookie_consent != "yes") {
                add_header Set-Cookie "consent=yes; Path=/elsewhere";
                return 302 $request_uri;
            }
            return 200 "welcome\n";
        }
        location = /gate-expired {
            if ($cookie_consent != "yes") {
                add_header Set-Cookie "consent=yes; Path=/; Max-Age=0";
                return 302 $request_uri;
            }
            return 200 "welcome\n";
        }
        location = /loop {
            return 302 $request_uri;
        }
        location = /seen {
            if ($cookie_consent) {
                return 500 "a cookie of another URL's check arrived\n";
            }
            return 200 "no cookie\n";
        }
"#;

/// A cookie-gated redirect loads, over HTTP/1.1 and HTTP/2, after one redirect; the cookie it
/// set stays in that URL's chain: the URLs checked after it on the same host (sequentially,
/// so they surely come after) get no cookie, and neither does the gate's own first request.
#[test]
fn a_cookie_gated_redirect_loads_and_its_cookie_stays_in_its_chain() {
    let nginx = Nginx::start(COOKIE_LOCATIONS);
    let urls = vec![
        nginx.http("/gate"),
        nginx.http("/seen"),
        nginx.https("/gate"),
        nginx.https("/seen"),
    ];
    let (out, results) = check(&nginx, &["--sequential", "-t", "5s"], &urls);
    let log = nginx.access_log();
    for (url, r) in urls.iter().zip(&results) {
        assert_eq!(outcome(r), "up", "{url}: {r:#}\n{out}\n{log}");
    }
    for r in [&results[0], &results[2]] {
        assert_eq!(r["redirects"].as_array().map(Vec::len), Some(1), "{r:#}");
    }
    let with_cookie: Vec<&str> = log.lines().filter(|l| l.contains("consent=yes")).collect();
    assert_eq!(
        with_cookie, ["GET /gate 200 \"consent=yes\""; 2],
        "the cookie went back once per chain, and nowhere else:\n{log}"
    );
    out.assert_code(0);
}

/// Cookies follow the usual rules: one set for another path, or already expired, is not sent,
/// so those gates stay loops, as a loop with no cookie at all does: `error redirects`, as
/// before. The gate that sets a proper cookie loads in the same run, its cookie sent after the
/// user's own `-H Cookie:` in one header.
#[test]
fn redirect_cookies_follow_the_cookie_rules_and_a_plain_loop_stays_a_loop() {
    let nginx = Nginx::start(COOKIE_LOCATIONS);
    let loops = [
        nginx.https("/gate-elsewhere"),
        nginx.http("/gate-expired"),
        nginx.http("/loop"),
        nginx.https("/loop"),
    ];
    let mut urls = loops.to_vec();
    urls.push(nginx.https("/gate"));
    let (out, results) = check(&nginx, &["-t", "5s", "-H", "Cookie: mine=1"], &urls);
    for (url, r) in loops.iter().zip(&results) {
        assert_eq!(outcome(r), "error", "{url}: {r:#}\n{out}");
        assert_eq!(error_kind(r), "redirects", "{url}: {r:#}");
    }
    assert_eq!(outcome(&results[4]), "up", "{:#}\n{out}", results[4]);
    let log = nginx.access_log();
    assert!(
        !log.contains("/gate-elsewhere 200") && !log.contains("/gate-expired 200"),
        "{log}"
    );
    assert!(
        log.contains("GET /gate 200 \"mine=1; consent=yes\""),
        "{log}"
    );
    out.assert_code(1);
}

// ---------------------------------------------------------------------------
// Point 17: a dropped connection is a reset, whatever the protocol
// ---------------------------------------------------------------------------

/// nginx's `return 444` closes the connection without an answer. Over HTTP/1.1 that was a
/// `reset`, retried; over HTTP/2 (nginx resets the stream) it was `protocol`, not retried.
/// Both are `reset`, and both are retried: two attempts with `--retries 1`, and nginx saw both.
#[test]
fn return_444_is_a_retried_reset_over_http1_and_http2() {
    let nginx = Nginx::start("location /drop { return 444; }");
    let urls = vec![nginx.http("/drop"), nginx.https("/drop")];
    let (out, results) = check(&nginx, &["-t", "5s", "--retries", "1"], &urls);
    for (url, r) in urls.iter().zip(&results) {
        assert_eq!(outcome(r), "error", "{url}: {r:#}\n{out}");
        assert_eq!(error_kind(r), "reset", "{url}: {r:#}\n{out}");
        assert_eq!(r["attempts"], 2, "{url}: {r:#}");
    }
    let log = nginx.access_log();
    assert_eq!(log.matches("GET /drop 444").count(), 4, "{log}");
    out.assert_code(1);
}

// ---------------------------------------------------------------------------
// Point 14: a private CA, and the TLS versions a server may insist on
// ---------------------------------------------------------------------------

/// nginx's certificate comes from a private CA: with the built-in and system roots alone it
/// is a `tls` error; `--cacert` or `SSL_CERT_FILE` trusts that CA and the site is up. The CA
/// vouches for 127.0.0.1 and localhost only: the same server under another name (via
/// `--resolve`, so no DNS is asked) is still a `tls` error with the CA trusted, and only `-k`
/// passes it.
#[test]
fn a_private_ca_is_trusted_only_for_the_names_it_signed() {
    let nginx = Nginx::start("location / { return 200 ok; }");
    let url = nginx.https("/");
    let port = url.rsplit(':').next().unwrap().trim_end_matches('/');
    let renamed = format!("https://other.test:{port}/");
    let resolve = format!("other.test:{port}:127.0.0.1");
    let json = |cmd: &mut assert_cmd::Command| {
        let out = run(cmd.args(["--retries", "0", "--format", "json"]));
        common::no_panic(&out);
        out.json()
    };
    let untrusted = json(urlcheck().arg(&url));
    assert_eq!(error_kind(result(&untrusted, &url)), "tls", "{untrusted:#}");
    let by_flag = json(urlcheck().args(["--cacert", &nginx.ca_file()]).arg(&url));
    assert_eq!(outcome(result(&by_flag, &url)), "up", "{by_flag:#}");
    let by_env = json(urlcheck().env("SSL_CERT_FILE", nginx.ca_file()).arg(&url));
    assert_eq!(outcome(result(&by_env, &url)), "up", "{by_env:#}");
    let wrong_name = json(
        urlcheck()
            .args(["--cacert", &nginx.ca_file(), "--resolve", &resolve])
            .arg(&renamed),
    );
    let r = result(&wrong_name, &renamed);
    assert_eq!(error_kind(r), "tls", "{r:#}");
    assert!(
        message(r).contains("not valid for name \"other.test\""),
        "{r:#}"
    );
    let insecure = json(urlcheck().args(["-k", "--resolve", &resolve]).arg(&renamed));
    assert_eq!(outcome(result(&insecure, &renamed)), "up", "{insecure:#}");
}

/// A server that speaks only TLS 1.2, and one that speaks only TLS 1.3, are both checked, as
/// curl checks them (the port offers HTTP/2 by ALPN, as every TLS port here does).
#[test]
fn tls_1_2_only_and_1_3_only_servers_are_both_up() {
    for version in ["TLSv1.2", "TLSv1.3"] {
        let nginx = Nginx::start(&format!(
            "ssl_protocols {version};\nlocation / {{ return 200 ok; }}"
        ));
        let urls = vec![nginx.https("/")];
        let (out, results) = check(&nginx, &["--retries", "0"], &urls);
        assert_eq!(
            outcome(&results[0]),
            "up",
            "{version}: {:#}\n{out}",
            results[0]
        );
        out.assert_code(0);
        // The handshake is timed whichever version it negotiates.
        let t = &results[0]["timings"];
        assert!(
            t["tls_ms"].as_f64().is_some_and(|ms| ms > 0.0),
            "{version}: {t:#}"
        );
    }
}

/// Over HTTP/2 with TLS, as real sites answer: a URL whose host came back goes over the kept
/// connection, with no lookup, connect or handshake of its own.
#[test]
fn a_kept_tls_connection_is_reused_with_no_handshake_of_its_own() {
    let nginx = Nginx::start("location / { return 200 ok; }");
    let urls: Vec<String> = ["/a", "/b", "/c"].iter().map(|p| nginx.https(p)).collect();
    let (out, results) = check(&nginx, &["-c", "1", "--retries", "0"], &urls);
    out.assert_code(0);
    let first = &results[0]["timings"];
    assert_eq!(first["reused"], false, "{first:#}");
    assert!(
        first["tls_ms"].as_f64().is_some_and(|ms| ms > 0.0),
        "{first:#}"
    );
    let third = &results[2]["timings"];
    assert_eq!(third["reused"], true, "{third:#}\n{out}");
    assert_eq!(third["tls_ms"], Value::Null, "{third:#}");
    assert!(third["ttfb_ms"].as_f64().is_some(), "{third:#}");
}
