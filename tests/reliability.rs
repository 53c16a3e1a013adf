//! Issue 5, faults from servers and politeness under load: every fault the network can throw
//! ends in the right outcome and error kind within the timeout and a margin; a busy host is
//! paused as a whole; the limits hold at 10,000 URLs. Servers are the fixture (HTTP and raw
//! TCP), and for TLS and hand-made answers the servers in `servers/`; all on loopback.

mod common;
mod servers;

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::check::{assert_fault, check_one, BOUND, FAULT};
use common::json::{error_kind, message, outcome};
use common::{
    no_panic, refused_port, result, run, send_signal, urlcheck, urlcheck_std, wait_child,
    wait_until, NxDomain, Server,
};
use servers::{response, run_measured, Cert, Scripted, TlsServer};

/// The per-attempt deadline of the fault tests.
const TIMEOUT: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------------------
// Faults on the wire
// ---------------------------------------------------------------------------

#[test]
fn a_server_that_accepts_and_never_answers_times_out() {
    let srv = Server::start(1);
    let (out, r) = assert_fault(&srv.raw_url(0, "/hang"), "timeout");
    assert!(out.elapsed >= TIMEOUT, "cannot time out early: {out}");
    assert!(message(&r).contains("1s"), "{r:#}");
    assert_eq!(srv.stats().hits("/hang"), 1);
    srv.shutdown();
}

#[test]
fn the_deadline_is_total_even_while_header_bytes_keep_coming() {
    let srv = Server::start(1);
    // 66 bytes of head and body, one every 100ms: 6.6s in all, never 100ms idle.
    let url = srv.raw_url(0, "/trickle?ms=100");
    let (out, _) = assert_fault(&url, "timeout");
    assert!(out.elapsed >= TIMEOUT, "{out}");
    assert_eq!(srv.stats().hits("/trickle?ms=100"), 1);
    srv.shutdown();
}

#[test]
fn a_reset_before_or_after_the_status_line_is_kind_reset() {
    let srv = Server::start(1);
    assert_fault(&srv.raw_url(0, "/reset"), "reset");
    assert_fault(&srv.raw_url(0, "/reset-after-status"), "reset");
    srv.shutdown();
}

#[test]
fn an_answer_that_is_not_http_is_kind_protocol() {
    let srv = Server::start(1);
    assert_fault(&srv.raw_url(0, "/garbage"), "protocol");
    srv.shutdown();
}

#[test]
fn a_mebibyte_of_headers_is_kind_protocol() {
    let srv = Server::start(1);
    let (_, r) = assert_fault(&srv.raw_url(0, "/big-headers"), "protocol");
    assert!(r["status"].is_null(), "{r:#}");
    srv.shutdown();
}

#[test]
fn connection_refused_is_kind_connect() {
    let url = format!("http://127.0.0.1:{}/", refused_port());
    assert_fault(&url, "connect");
}

#[test]
fn an_endless_body_is_not_read_to_its_end() {
    let srv = Server::start(1);
    let body = srv.url(0, "/big-body");
    // The hang keeps urlcheck running after the body's check, so the fixture can watch
    // urlcheck itself (not its exit) close the endless response.
    let hang = srv.raw_url(0, "/hang");
    let mut child = urlcheck_std()
        .args(["-t", "30s", "--retries", "0", "--format", "json"])
        .args([&body, &hang])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn urlcheck");
    let stats = srv.stats();
    wait_until(
        "urlcheck to close the endless body",
        Duration::from_secs(20),
        || stats.endless_started() == 1 && stats.endless_open() == 0,
    );
    assert!(
        child.try_wait().expect("poll the child").is_none(),
        "urlcheck must still be running (waiting for the hang)"
    );
    wait_until(
        "the hang to reach the server",
        Duration::from_secs(20),
        || stats.hits("/hang") == 1,
    );
    send_signal(&child, libc::SIGINT);
    let status = wait_child(&mut child, Duration::from_secs(10));
    let mut stdout = Vec::new();
    std::io::Read::read_to_end(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    assert_eq!(status.code(), Some(130));
    let doc: Value = serde_json::from_slice(&stdout).expect("JSON on stdout");
    let r = result(&doc, &body);
    assert_eq!(outcome(r), "up", "{r:#}");
    assert_eq!(r["status"], 200, "{r:#}");
    srv.shutdown();
}

#[test]
fn an_endless_body_and_a_gzip_bomb_leave_memory_bounded() {
    let srv = Server::start(1);
    let body = srv.url(0, "/big-body");
    let bomb = srv.url(0, "/gzip-bomb");
    let mut cmd = urlcheck_std();
    cmd.args(FAULT).args([&body, &bomb]);
    let out = run_measured(cmd, Duration::from_secs(60));
    assert_eq!(out.code, Some(0), "{out}");
    assert!(!out.stderr.contains("panicked"), "{out}");
    let doc: Value = serde_json::from_str(&out.stdout).expect("JSON on stdout");
    for url in [&body, &bomb] {
        let r = result(&doc, url);
        assert_eq!(outcome(r), "up", "{url}: {r:#}");
    }
    // Every 64 KiB of the bomb unpack to 64 MiB: one decompressed chunk would exceed this.
    assert!(
        out.max_rss_kib < 64 * 1024,
        "peak RSS {} KiB: {out}",
        out.max_rss_kib
    );
    assert_eq!(srv.stats().endless_started(), 2);
    wait_until(
        "both endless bodies to be closed",
        Duration::from_secs(10),
        || srv.stats().endless_open() == 0,
    );
    srv.shutdown();
}

#[test]
fn no_compressed_encoding_is_asked_for() {
    // urlcheck enables no decompression: it must not invite a server to compress.
    let rec = Scripted::start("127.0.0.1:0", |_| response("200 OK", &[])).unwrap();
    let url = rec.url("/encoding");
    let (out, r) = check_one(&url, &[]);
    out.assert_code(0);
    assert_eq!(outcome(&r), "up");
    let head = rec.head_for("/encoding");
    if let Some(accepted) = head.header("accept-encoding") {
        for coding in ["gzip", "br", "deflate", "zstd"] {
            assert!(!accepted.contains(coding), "{}", head.text);
        }
    }
}

// ---------------------------------------------------------------------------
// Redirects
// ---------------------------------------------------------------------------

#[test]
fn a_redirect_loop_is_kind_redirects() {
    let srv = Server::start(1);
    let (_, r) = assert_fault(&srv.url(0, "/loop"), "redirects");
    assert!(message(&r).contains("loop"), "{r:#}");
    // /loop -> /loop2 -> /loop: detected on the way back, not after --max-redirects hops.
    assert_eq!(srv.stats().hits("/loop"), 1);
    assert_eq!(srv.stats().hits("/loop2"), 1);
    srv.shutdown();
}

#[test]
fn a_chain_of_20_hops_needs_max_redirects_20() {
    let srv = Server::start(1);
    let url = srv.url(0, "/redirect/20");
    let (out, r) = check_one(&url, &[]);
    out.assert_code(1);
    assert_eq!(outcome(&r), "error", "{r:#}");
    assert_eq!(error_kind(&r), "redirects", "{r:#}");
    assert!(message(&r).contains("10"), "names the limit: {r:#}");
    // Ten redirects are followed; the eleventh is the error.
    assert_eq!(srv.stats().hits("/redirect/10"), 1);
    assert_eq!(srv.stats().hits("/redirect/9"), 0);

    let (out, r) = check_one(&url, &["--max-redirects", "20"]);
    out.assert_code(0);
    assert_eq!(outcome(&r), "up", "{r:#}");
    assert_eq!(r["redirects"].as_array().unwrap().len(), 20, "{r:#}");
    assert_eq!(srv.stats().hits("/redirect/0"), 1);
    srv.shutdown();
}

#[test]
fn redirects_to_ftp_and_file_are_not_followed() {
    let srv = Server::start(1);
    for target in ["ftp://127.0.0.1/pub/x", "file:///etc/passwd"] {
        let url = srv.url(0, &format!("/redirect-to?url={target}"));
        let (_, r) = assert_fault(&url, "redirects");
        assert_eq!(r["status"], 302, "{r:#}");
        let scheme = target.split(':').next().unwrap();
        assert!(message(&r).contains(scheme), "{r:#}");
        assert!(message(&r).contains("not followed"), "{r:#}");
    }
    srv.shutdown();
}

#[test]
fn an_https_to_http_downgrade_is_reported() {
    let srv = Server::start(1);
    let plain = srv.url(0, "/ok?downgraded=1");
    let location = plain.clone();
    let tls = TlsServer::start(Cert::SelfSigned, move |_| {
        response("302 Found", &[("Location", &location)])
    });
    let url = tls.url("/secure");
    let (out, r) = check_one(&url, &["--insecure"]);
    out.assert_code(0);
    assert_eq!(outcome(&r), "up", "{r:#}");
    let warnings = r["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("no warnings: {r:#}"));
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().is_some_and(|w| w.contains("http://127.0.0.1"))),
        "{r:#}"
    );
    assert_eq!(srv.stats().hits("/ok?downgraded=1"), 1);

    // And a person sees it too.
    let out = run(urlcheck()
        .args([
            "-t",
            "1s",
            "--retries",
            "0",
            "--insecure",
            "--color",
            "never",
        ])
        .arg(&url));
    out.assert_code(0);
    assert!(out.stdout().contains("warning"), "{out}");
    srv.shutdown();
}

// ---------------------------------------------------------------------------
// Names and certificates
// ---------------------------------------------------------------------------

#[test]
fn a_name_that_does_not_resolve_fails_fast_without_leaving_the_machine() {
    let dns = NxDomain::start();
    let url = format!("http://no-such-host.test:{}/", refused_port());
    let out = run(urlcheck()
        .args(["-t", "10s", "--retries", "0", "--format", "json"])
        .args(["--dns-server", &dns.addr().to_string()])
        .arg(&url));
    no_panic(&out);
    out.assert_code(1);
    let doc = out.json();
    let r = result(&doc, &url);
    assert_eq!(error_kind(r), "dns", "{r:#}");
    assert!(dns.queries() >= 1, "the stub was never asked");
    assert!(
        out.elapsed < BOUND,
        "NXDOMAIN ends the check, not the 10s timeout: {out}"
    );
}

#[test]
fn resolve_overrides_need_no_dns_at_all() {
    let srv = Server::start(1);
    let dns = NxDomain::start();
    let port = srv.http_port();
    let url = format!("http://name.test:{port}/ok?resolved=1");
    let out = run(urlcheck()
        .args(FAULT)
        .args(["--dns-server", &dns.addr().to_string()])
        .args(["--resolve", &format!("name.test:{port}:127.0.0.1")])
        .arg(&url));
    no_panic(&out);
    out.assert_code(0);
    assert_eq!(outcome(result(&out.json(), &url)), "up");
    assert_eq!(srv.stats().hits("/ok?resolved=1"), 1);
    assert_eq!(dns.queries(), 0, "an overridden name is not looked up");
    srv.shutdown();
}

#[test]
fn a_self_signed_certificate_is_kind_tls_and_up_with_insecure() {
    let tls = TlsServer::start(Cert::SelfSigned, |_| response("200 OK", &[]));
    let url = tls.url("/ok");
    let (_, r) = assert_fault(&url, "tls");
    assert!(r["status"].is_null(), "{r:#}");
    for flag in ["--insecure", "-k"] {
        let (out, r) = check_one(&url, &[flag]);
        out.assert_code(0);
        assert_eq!(outcome(&r), "up", "{flag}: {r:#}");
    }
}

#[test]
fn an_expired_certificate_says_expired() {
    let tls = TlsServer::start(Cert::Expired, |_| response("200 OK", &[]));
    let url = tls.url("/ok");
    let (_, r) = assert_fault(&url, "tls");
    assert!(
        message(&r).to_ascii_lowercase().contains("expired"),
        "{r:#}"
    );
    let (out, r) = check_one(&url, &["--insecure"]);
    out.assert_code(0);
    assert_eq!(outcome(&r), "up", "{r:#}");
}

#[test]
fn a_tls_handshake_that_never_completes_times_out() {
    let srv = Server::start(1);
    // The raw listener waits for an HTTP head that a ClientHello never completes.
    let url = srv.raw_url(0, "/hang").replacen("http://", "https://", 1);
    let (out, _) = assert_fault(&url, "timeout");
    assert!(out.elapsed >= TIMEOUT, "{out}");
    srv.shutdown();
}

// ---------------------------------------------------------------------------
// Politeness
// ---------------------------------------------------------------------------

/// Arrivals (sorted) and the time of the first 429 answer for `key` on the busy endpoint.
fn busy_log(srv: &Server, key: &str) -> (Vec<Instant>, Instant) {
    let stats = srv.stats();
    let mut arrivals = stats.arrivals(key);
    arrivals.sort();
    let first_429 = *stats
        .refusals(key)
        .iter()
        .min()
        .expect("the host answered 429 at least once");
    (arrivals, first_429)
}

/// Requests that arrived before the pause the first 429 asked for was over. Only requests
/// that had passed the host's gate before any 429 was received may be among them, and there
/// are at most `--per-host` of those: the first wave.
fn arrived_during_the_pause(arrivals: &[Instant], first_429: Instant, pause: Duration) -> usize {
    arrivals.iter().filter(|&&a| a < first_429 + pause).count()
}

#[test]
fn a_busy_host_is_left_alone_for_its_retry_after_and_every_url_ends_up() {
    let srv = Server::start(1);
    // 429 with Retry-After: 2 to everything for 3s after the first request.
    let urls: Vec<String> = (0..20)
        .map(|i| srv.url(0, &format!("/busy/2?key=busy&for=3000&i={i}")))
        .collect();
    // Defaults: --per-host 8, --retries 2.
    let out = run(urlcheck().args(["--format", "json"]).args(&urls));
    no_panic(&out);
    out.assert_code(0);
    let doc = out.json();
    for url in &urls {
        assert_eq!(outcome(result(&doc, url)), "up", "{url}: {out}");
    }
    let (arrivals, first_429) = busy_log(&srv, "busy");
    let during = arrived_during_the_pause(&arrivals, first_429, Duration::from_secs(2));
    assert!(
        during <= 8,
        "{during} requests arrived within 2s of the first 429; only the first wave of 8 may"
    );
    assert!(
        arrivals.len() <= 3 * urls.len(),
        "{} requests for {} URLs",
        arrivals.len(),
        urls.len()
    );
    assert_eq!(arrivals.len() as u64, srv.stats().requests());
    srv.shutdown();
}

#[test]
fn a_retry_after_pauses_the_whole_host_not_only_the_url_that_was_told() {
    let srv = Server::start(1);
    let urls: Vec<String> = (0..20)
        .map(|i| srv.url(0, &format!("/busy/2?key=host&for=3000&i={i}")))
        .collect();
    // Without retries, each of the first 8 URLs is done (down) as soon as its 429 arrives,
    // which frees its slot at once. The URLs admitted into those slots are new to the host,
    // and must still wait for the pause the host asked for.
    let out = run(urlcheck()
        .args(["--retries", "0", "--format", "json"])
        .args(&urls));
    no_panic(&out);
    out.assert_code(1);
    let doc = out.json();
    for url in &urls {
        assert_eq!(result(&doc, url)["attempts"], 1, "{url}: {out}");
    }
    let (arrivals, first_429) = busy_log(&srv, "host");
    assert_eq!(arrivals.len(), urls.len());
    let during = arrived_during_the_pause(&arrivals, first_429, Duration::from_secs(2));
    assert!(
        during <= 8,
        "{during} requests arrived within 2s of the first 429; only the first wave of 8 may"
    );
    srv.shutdown();
}
