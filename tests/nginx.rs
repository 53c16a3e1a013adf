//! Against a real nginx (README: Reliability): answers no hand-written server gives the same
//! way. Each test starts its own nginx on 127.0.0.1 with a private CA's certificate, HTTP/2 by
//! ALPN on its TLS port and HTTP/1.1 on its plain port (`servers/nginx.rs`), and checks both
//! protocols where the point is about both: many and large response headers (issue 9, point
//! 12), redirects gated by a cookie (point 15), and `return 444` (point 17).

mod common;
mod servers;

use serde_json::Value;

use common::json::{error_kind, outcome};
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
