//! DNS (docs/usage.md, DNS): failures against a real DNS server (BIND 9's `named`, started by
//! each test on 127.0.0.1) are kind `dns` with what the server said (NXDOMAIN, SERVFAIL,
//! REFUSED, no address records), and are not retried; CNAMEs, AAAA-only names, IDN names and
//! names with a trailing dot resolve; a server that never answers is kind `dns` at the lookup's
//! deadline (`--dns-timeout`), with `--dns-server` and with the system resolver alike.
//!
//! Only DNS servers these tests start on loopback are ever asked: the system-resolver test runs
//! the binary in a private mount namespace whose resolv.conf names a silent test server.

mod common;
mod servers;

use std::net::SocketAddr;
use std::path::Path;

use serde_json::Value;
use tempfile::TempDir;

use common::json::{error_kind, message, outcome};
use common::{no_panic, result, run, urlcheck, Run};
use servers::dns::{Named, Silent};
use servers::{response, Scripted};

/// Single-shot unless a test is about retries; results as JSON.
const JSON: [&str; 3] = ["--format", "json", "--no-progress"];

/// An HTTP server on `bind` that answers every request 200.
fn ok_server(bind: &str) -> Scripted {
    Scripted::start(bind, |_| response("200 OK", &[])).expect("start the HTTP server")
}

/// Checks `urls` asking `dns` for names, plus `extra` flags.
fn check(dns: SocketAddr, urls: &[String], extra: &[&str]) -> (Run, Value) {
    let out = run(urlcheck()
        .args(JSON)
        .args(["--dns-server", &dns.to_string()])
        .args(extra)
        .args(urls));
    no_panic(&out);
    let doc = out.json();
    (out, doc)
}

/// `url` ended as an `error` of kind `dns` after one attempt, with a message that contains
/// `said` and none of the noise the old messages had.
#[track_caller]
fn assert_dns_failure(doc: &Value, url: &str, said: &str, out: &Run) {
    let r = result(doc, url);
    assert_eq!(outcome(r), "error", "{url}: {out}");
    assert_eq!(error_kind(r), "dns", "{url}: {out}");
    assert_eq!(r["attempts"], 1, "a DNS failure is not retried: {out}");
    let m = message(r);
    assert!(m.contains(said), "{url}: expected {said:?} in {m:?}");
    for noise in ["Query {", "dns error", "query_type", "proto error"] {
        assert!(!m.contains(noise), "{url}: {noise:?} in {m:?}");
    }
}

#[test]
fn failures_say_what_the_dns_server_said() {
    let dns = Named::start();
    let server = dns.addr();
    let url = |host: &str| format!("http://{host}:9/");
    let urls = [
        url("nope.test"),
        url("www.broken.test"),
        url("www.refused.test"),
        url("txt.test"),
    ];
    let (out, doc) = check(server, &urls, &["--retries", "2"]);
    out.assert_code(1);
    assert_dns_failure(&doc, &urls[0], "NXDOMAIN: no such name nope.test", &out);
    let servfail = format!("SERVFAIL from {server} for www.broken.test");
    assert_dns_failure(&doc, &urls[1], &servfail, &out);
    let refused = format!("REFUSED by {server} for www.refused.test");
    assert_dns_failure(&doc, &urls[2], &refused, &out);
    let empty = "no address records (A/AAAA) for txt.test";
    assert_dns_failure(&doc, &urls[3], empty, &out);
    // The human line carries the same words, once.
    let human = run(urlcheck()
        .args(["--no-progress", "--dns-server", &server.to_string()])
        .arg(&urls[0]));
    let text = human.stdout();
    assert!(
        text.contains("dns: NXDOMAIN: no such name nope.test"),
        "{human}"
    );
}

#[test]
fn cname_aaaa_only_idn_and_trailing_dot_names_resolve() {
    let dns = Named::start();
    let v4 = ok_server("127.0.0.1:0");
    let v6 = ok_server("[::1]:0");
    let (p4, p6) = (v4.port(), v6.port());
    let urls = [
        format!("http://www.test:{p4}/plain"),
        format!("http://alias.test:{p4}/cname"),
        format!("http://v6.test:{p6}/aaaa-only"),
        format!("http://www.test.:{p4}/trailing-dot"),
        format!("http://alias.test.:{p4}/trailing-dot-cname"),
        format!("http://bücher.test:{p4}/idn"),
    ];
    let (out, doc) = check(dns.addr(), &urls, &[]);
    out.assert_code(0);
    // The IDN host is reported, and was looked up, as its punycode.
    let idn = format!("http://xn--bcher-kva.test:{p4}/idn");
    for url in urls[..5].iter().chain([&idn]) {
        let r = result(&doc, url);
        assert_eq!(outcome(r), "up", "{url}: {out}");
    }
    let paths: Vec<String> = v4.heads().iter().map(|h| h.target.clone()).collect();
    assert!(paths.contains(&"/idn".to_string()), "{paths:?}");
    assert_eq!(
        v6.heads().len(),
        1,
        "the AAAA-only name was reached over IPv6"
    );
}

#[test]
fn a_silent_dns_server_is_a_dns_error_at_the_lookup_deadline() {
    let dns = Silent::start();
    let url = "http://www.test:9/";
    // Retries on, to show the lookup is not retried like a timeout.
    let (out, doc) = check(dns.addr(), &[url.to_owned()], &["--dns-timeout", "1s"]);
    out.assert_code(1);
    let within = format!("no answer from DNS server {} within 1s", dns.addr());
    assert_dns_failure(&doc, url, &within, &out);
    assert!(dns.queries() >= 1, "the silent server was never asked");
    eprintln!("silent --dns-server, --dns-timeout 1s: {:?}", out.elapsed);
}

/// With `--timeout` no longer than `--dns-timeout` (which is capped at it), the lookup still
/// ends first: a `dns` error, not retried, and never the attempt's `timeout` (the two used to
/// race, and a lost race was retried).
#[test]
fn a_lookup_as_long_as_the_timeout_is_still_a_dns_error() {
    let dns = Silent::start();
    let urls: Vec<String> = (0..4).map(|i| format!("http://www{i}.test:9/")).collect();
    let (out, doc) = check(dns.addr(), &urls, &["-t", "1s"]);
    out.assert_code(1);
    for url in &urls {
        let r = result(&doc, url);
        assert_eq!(error_kind(r), "dns", "{r:#}");
        assert_eq!(r["attempts"], 1, "{r:#}");
    }
}

/// Runs the binary with the system resolver pointed at `nameserver` (port 53): in a private
/// mount namespace, with a resolv.conf naming only that server and an nsswitch.conf that asks
/// files then DNS (never a resolver daemon that might forward elsewhere).
fn run_with_system_resolver(dir: &Path, nameserver: SocketAddr, args: &[&str]) -> Run {
    assert_eq!(nameserver.port(), 53, "resolv.conf takes no port");
    let resolv = dir.join("resolv.conf");
    let nsswitch = dir.join("nsswitch.conf");
    let conf = format!(
        "nameserver {}\noptions timeout:5 attempts:2\n",
        nameserver.ip()
    );
    std::fs::write(&resolv, conf).expect("write resolv.conf");
    std::fs::write(&nsswitch, "hosts: files dns\n").expect("write nsswitch.conf");
    let script = "mount --bind \"$1\" /etc/resolv.conf && mount --bind \"$2\" /etc/nsswitch.conf \
                  && shift 2 && exec \"$@\"";
    let binary = assert_cmd::cargo::cargo_bin("urlcheck");
    let mut cmd = assert_cmd::Command::new("unshare");
    cmd.args(["--mount", "--", "sh", "-c", script, "sh"])
        .arg(&resolv)
        .arg(&nsswitch)
        .arg(binary)
        .args(args)
        .timeout(common::RUN_LIMIT);
    for name in common::SCRUBBED_ENV {
        cmd.env_remove(name);
    }
    let out = run(&mut cmd);
    assert!(
        !out.stderr.contains("mount:") && !out.stderr.contains("unshare:"),
        "cannot give the binary a private resolv.conf (the test needs root and util-linux's \
         unshare):\n{out}"
    );
    out
}

#[test]
fn the_system_resolver_has_the_same_deadline() {
    let dns = Silent::start_on_port_53();
    let dir = TempDir::new().unwrap();
    let url = "http://www.test:9/";
    let args = [JSON.as_slice(), &["--dns-timeout", "1s", url]].concat();
    let out = run_with_system_resolver(dir.path(), dns.addr(), &args);
    no_panic(&out);
    out.assert_code(1);
    let doc = out.json();
    let within = "no answer from the system resolver for www.test within 1s";
    assert_dns_failure(&doc, url, within, &out);
    assert!(
        dns.queries() >= 1,
        "the system resolver never asked the test's server"
    );
    eprintln!(
        "silent system resolver, --dns-timeout 1s: {:?}",
        out.elapsed
    );
}
