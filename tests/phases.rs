//! Phase timings (issue 12): every fetched result and every redirect hop says where its
//! request's time went, measured at the connector. Servers here delay one phase each by a
//! known amount (the lookup, the TCP connect, the TLS handshake, the headers), and each phase
//! is asserted to be at least its delay, the phases together at most the request's total.
//! Timings are checked as lower bounds only: this machine is shared, so an upper bound would
//! be a timed assertion.

mod common;
mod servers;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use common::parse::prometheus;
use common::{result, results, run, urlcheck, Server, FAST_5S};
use servers::{response, Cert, Delays, FullBacklog, TlsServer};

/// Each delay is long next to a loopback phase (well under a millisecond) and short next to
/// the run's budget.
const HANDSHAKE: Duration = Duration::from_millis(300);
const HEAD: Duration = Duration::from_millis(200);
const ACCEPT: Duration = Duration::from_millis(300);
const LOOKUP: Duration = Duration::from_millis(250);

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A phase of `timings`, which must be a number.
#[track_caller]
fn phase(timings: &Value, name: &str) -> f64 {
    timings[name]
        .as_f64()
        .unwrap_or_else(|| panic!("{name} is no number: {timings:#}"))
}

/// The phases that happened add up to at most the total, and none is negative.
#[track_caller]
fn assert_adds_up(timings: &Value) {
    let phases: Vec<f64> = ["dns_ms", "connect_ms", "tls_ms", "ttfb_ms"]
        .iter()
        .filter_map(|p| timings[*p].as_f64())
        .collect();
    assert!(phases.iter().all(|p| *p >= 0.0), "{timings:#}");
    let total = phase(timings, "total_ms");
    assert!(phases.iter().sum::<f64>() <= total, "{timings:#}");
}

/// A TLS server whose handshake and headers are delayed, and the CA file that trusts it.
fn slow_tls() -> (TlsServer, TempDir, PathBuf) {
    let delays = Delays {
        handshake: HANDSHAKE,
        head: HEAD,
    };
    let tls = TlsServer::delayed(Cert::PrivateCa, delays, |_| response("200 OK", &[]));
    let dir = TempDir::new().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, tls.ca_pem()).unwrap();
    (tls, dir, ca)
}

fn json_of<U: AsRef<std::ffi::OsStr>>(args: &[&str], urls: impl IntoIterator<Item = U>) -> Value {
    let out = run(urlcheck()
        .args(FAST_5S)
        .args(["--format", "json"])
        .args(args)
        .args(urls));
    out.json()
}

#[test]
fn the_handshake_and_the_headers_take_at_least_what_the_server_made_them_wait() {
    let (tls, _dir, ca) = slow_tls();
    let url = tls.url("/slow");
    let doc = json_of(&["--cacert", ca.to_str().unwrap()], [&url]);
    let r = result(&doc, &url);
    assert_eq!(r["outcome"], "up", "{r:#}");
    let t = &r["timings"];
    assert_eq!(t["reused"], false, "{t:#}");
    assert_eq!(
        t["dns_ms"],
        Value::Null,
        "an IP address is not looked up: {t:#}"
    );
    assert!(phase(t, "connect_ms") >= 0.0, "{t:#}");
    assert!(phase(t, "tls_ms") >= ms(HANDSHAKE), "{t:#}");
    assert!(phase(t, "ttfb_ms") >= ms(HEAD), "{t:#}");
    // The handshake's wait is the handshake's, not the connect's nor the headers'.
    assert!(phase(t, "connect_ms") < ms(HANDSHAKE), "{t:#}");
    assert!(phase(t, "ttfb_ms") < ms(HANDSHAKE + HEAD), "{t:#}");
    assert_adds_up(t);
    assert!(r["elapsed_ms"].as_f64().unwrap() >= phase(t, "total_ms"));
}

#[test]
fn a_connect_that_waits_for_a_full_accept_queue_is_the_connect_phase() {
    let server = FullBacklog::start(ACCEPT, |_| response("200 OK", &[]));
    let url = server.url("/held");
    let doc = json_of(&[], [&url]);
    let r = result(&doc, &url);
    assert_eq!(r["outcome"], "up", "{r:#}");
    let t = &r["timings"];
    assert!(phase(t, "connect_ms") >= ms(ACCEPT), "{t:#}");
    assert_eq!(t["tls_ms"], Value::Null, "plain http: {t:#}");
    assert!(phase(t, "ttfb_ms") < ms(ACCEPT), "{t:#}");
    assert_adds_up(t);
}

#[test]
fn a_slow_lookup_is_the_dns_phase() {
    let dns = servers::dns::Slow::start(LOOKUP);
    let server = Server::start(1);
    let port = server.http_port();
    let url = format!("http://www.slow.test:{port}/ok");
    let doc = json_of(&["--dns-server", &dns.addr().to_string()], [&url]);
    let r = result(&doc, &url);
    assert_eq!(r["outcome"], "up", "{r:#}");
    let t = &r["timings"];
    assert!(phase(t, "dns_ms") >= ms(LOOKUP), "{t:#}");
    assert!(
        phase(t, "connect_ms") < ms(LOOKUP),
        "the connect is after it: {t:#}"
    );
    assert_adds_up(t);
    server.shutdown();
}

/// Three URLs of one host, checked one at a time: the first may close its connection (the
/// list is read as it is checked, so the second may not be known yet), the second's is kept
/// (its host came back), and the third finds it idle.
fn three_of_one_host(server: &Server) -> [String; 3] {
    ["a", "b", "c"].map(|q| server.url(0, &format!("/ok?{q}")))
}

#[test]
fn a_kept_connection_is_reused_and_has_no_connect_phases() {
    let server = Server::start(1);
    let [first, _, third] = three_of_one_host(&server);
    let doc = json_of(&["-c", "1"], three_of_one_host(&server));
    let t = &result(&doc, &first)["timings"];
    assert_eq!(t["reused"], false, "{t:#}");
    assert!(phase(t, "connect_ms") >= 0.0, "{t:#}");
    assert_adds_up(t);
    let t = &result(&doc, &third)["timings"];
    assert_eq!(t["reused"], true, "{t:#}");
    for none in ["dns_ms", "connect_ms", "tls_ms"] {
        assert_eq!(t[none], Value::Null, "{none}: {t:#}");
    }
    assert!(phase(t, "ttfb_ms") >= 0.0, "{t:#}");
    assert_adds_up(t);
    server.shutdown();
}

#[test]
fn each_redirect_hop_has_its_own_timings_and_the_totals_add_up() {
    let server = Server::start(1);
    let url = server.url(0, "/redirect/2");
    // After another URL of the host, so that the chain's connection is kept from hop to hop.
    let doc = json_of(&["-c", "1"], [&server.url(0, "/ok"), &url]);
    let r = result(&doc, &url);
    assert_eq!(r["outcome"], "up", "{r:#}");
    let hops = r["redirects"].as_array().unwrap();
    assert_eq!(hops.len(), 2, "{r:#}");
    // The first request opens a connection; the hops after it go over the same one.
    assert_eq!(hops[0]["timings"]["reused"], false, "{r:#}");
    assert_eq!(hops[1]["timings"]["reused"], true, "{r:#}");
    assert_eq!(r["timings"]["reused"], true, "{r:#}");
    let mut totals = 0.0;
    for t in hops.iter().map(|h| &h["timings"]).chain([&r["timings"]]) {
        assert_adds_up(t);
        totals += phase(t, "total_ms");
    }
    assert!(r["elapsed_ms"].as_f64().unwrap() >= totals, "{r:#}");
    server.shutdown();
}

#[test]
fn a_failed_request_says_how_far_it_got_and_a_line_never_fetched_has_none() {
    let refused = format!("http://127.0.0.1:{}/", common::refused_port());
    let dir = TempDir::new().unwrap();
    let list = common::write_list(dir.path(), "urls.txt", format!("{refused}\nnot a url\n"));
    let doc = json_of(&[], [&list]);
    let t = &result(&doc, &refused)["timings"];
    assert_eq!(
        t["connect_ms"],
        Value::Null,
        "the connect never completed: {t:#}"
    );
    assert_eq!(t["ttfb_ms"], Value::Null, "no headers came: {t:#}");
    assert_eq!(t["reused"], false, "a connection was dialed for it: {t:#}");
    assert!(phase(t, "total_ms") > 0.0, "{t:#}");
    let invalid = results(&doc)
        .iter()
        .find(|r| r["outcome"] == "invalid")
        .expect("the invalid line");
    assert_eq!(invalid["timings"], Value::Null, "{invalid:#}");
}

#[test]
fn csv_prometheus_and_verbose_human_output_show_the_phases() {
    let (tls, _dir, ca) = slow_tls();
    let url = tls.url("/slow");
    let args = ["--cacert", ca.to_str().unwrap()];
    let csv = run(urlcheck()
        .args(FAST_5S)
        .args(["--format", "csv"])
        .args(args)
        .arg(&url));
    let text = csv.stdout();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let row = reader.records().next().unwrap().unwrap();
    let tls_ms: f64 = row[col("tls_ms")].parse().unwrap();
    let wait_ms: f64 = row[col("wait_ms")].parse().unwrap();
    assert!(tls_ms >= ms(HANDSHAKE) && wait_ms >= ms(HEAD), "{csv}");
    assert_eq!(&row[col("dns_ms")], "", "{csv}");
    assert_eq!(&row[col("reused")], "false", "{csv}");

    let prom = run(urlcheck()
        .args(FAST_5S)
        .args(["--format", "prometheus"])
        .args(args)
        .arg(&url));
    let samples = prometheus(&prom.stdout()).samples;
    let seconds = |phase: &str| {
        samples
            .iter()
            .find(|s| s.metric == "urlcheck_phase_seconds" && s.labels.get("phase") == Some(phase))
            .map(|s| match s.value {
                prometheus_parse::Value::Gauge(v) => v,
                ref other => panic!("no gauge: {other:?}"),
            })
    };
    assert!(seconds("tls").unwrap() >= HANDSHAKE.as_secs_f64(), "{prom}");
    assert!(seconds("ttfb").unwrap() >= HEAD.as_secs_f64(), "{prom}");
    assert_eq!(seconds("dns"), None, "no lookup, no sample: {prom}");

    let human = |verbose: bool| {
        let mut cmd = urlcheck();
        cmd.args(FAST_5S).args(args).arg(&url);
        if verbose {
            cmd.arg("-v");
        }
        run(&mut cmd).stdout()
    };
    let plain = human(false);
    let verbose = human(true);
    let line = verbose
        .lines()
        .skip_while(|l| !l.contains("/slow"))
        .nth(1)
        .expect("a line under the result");
    for word in ["connect ", "tls ", "ttfb ", "total "] {
        assert!(line.contains(word), "{word} in {line:?}:\n{verbose}");
    }
    assert!(!plain.contains("ttfb"), "{plain}");
}

#[test]
fn verbose_output_says_when_a_connection_was_reused() {
    let server = Server::start(1);
    let [first, _, third] = three_of_one_host(&server);
    let out = run(urlcheck()
        .args(FAST_5S)
        .args(["-c", "1", "-v"])
        .args(three_of_one_host(&server)));
    let text = out.stdout();
    let under = |url: &str| {
        let mut lines = text.lines().skip_while(|l| !l.ends_with(url));
        lines.nth(1).unwrap_or_default().to_string()
    };
    assert!(under(&first).contains("connect "), "{text}");
    assert!(under(&third).contains("reused connection"), "{text}");
    server.shutdown();
}

#[test]
fn a_name_pinned_with_resolve_is_not_looked_up() {
    let server = Server::start(1);
    let port = server.http_port();
    let url = format!("http://www.pinned.test:{port}/ok");
    let pin = format!("www.pinned.test:{port}:127.0.0.1");
    let doc = json_of(&["--resolve", &pin], [&url]);
    let t = &result(&doc, &url)["timings"];
    assert_eq!(t["dns_ms"], Value::Null, "{t:#}");
    assert!(phase(t, "connect_ms") >= 0.0, "{t:#}");
    server.shutdown();
}

#[test]
fn a_request_that_times_out_after_the_handshake_has_its_phases_and_no_ttfb() {
    let delays = Delays {
        handshake: Duration::ZERO,
        head: Duration::from_secs(5),
    };
    let tls = TlsServer::delayed(Cert::SelfSigned, delays, |_| response("200 OK", &[]));
    let url = tls.url("/never");
    let out = run(urlcheck()
        .args(["-t", "500ms", "--retries", "0", "-k", "--format", "json"])
        .arg(&url));
    let doc = out.json();
    let r = result(&doc, &url);
    assert_eq!(r["error"]["kind"], "timeout", "{r:#}");
    let t = &r["timings"];
    assert!(phase(t, "connect_ms") >= 0.0, "{t:#}");
    assert!(phase(t, "tls_ms") >= 0.0, "{t:#}");
    assert_eq!(t["ttfb_ms"], Value::Null, "{t:#}");
    assert!(phase(t, "total_ms") >= 450.0, "{t:#}");
    assert_adds_up(t);
}
