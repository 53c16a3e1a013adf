//! Outcomes: what each check ends as, and the exit code that follows (README: Outcomes, Exit
//! codes, and Retries, Redirects and DNS under Options). `up`, `down`, `error`, `invalid` and
//! `skipped`, and every error kind; exit codes 0 and 1; retries and `Retry-After`, which holds
//! back the whole host; redirects followed, limited and refused, and an https -> http downgrade
//! reported; names that do not resolve, and `--resolve`.

mod common;
mod servers;

use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use common::check::{assert_fault, check_one, BOUND, FAULT};
use common::json::{error_kind, message, outcome};
use common::{
    lines, no_panic, refused_port, result, results, run, urlcheck, write_list, NxDomain, Server,
    FAST_500MS,
};
use servers::{response, Cert, Scripted, TlsServer};

// ---------------------------------------------------------------------------
// Every outcome and error kind
// ---------------------------------------------------------------------------

#[test]
fn every_outcome_up_down_error_invalid() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let refused = format!("http://127.0.0.1:{}/", refused_port());
    let list = write_list(
        dir.path(),
        "urls.txt",
        lines(&[
            srv.url(0, "/ok"),
            srv.url(0, "/status/404"),
            refused.clone(),
            "not a url".into(),
        ]),
    );
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["--format", "json"])
        .arg(&list));
    out.assert_code(1);
    let doc = out.json();
    assert_eq!(outcome(result(&doc, &srv.url(0, "/ok"))), "up");
    let down = result(&doc, &srv.url(0, "/status/404"));
    assert_eq!(outcome(down), "down");
    assert_eq!(down["status"], 404);
    assert_eq!(down["error"], Value::Null);
    let error = result(&doc, &refused);
    assert_eq!(outcome(error), "error");
    assert_eq!(error["status"], Value::Null);
    assert_eq!(outcome(&results(&doc)[3]), "invalid");
    let s = &doc["summary"];
    assert_eq!(
        [
            &s["total"],
            &s["up"],
            &s["down"],
            &s["error"],
            &s["invalid"]
        ],
        [4, 1, 1, 1, 1],
        "{s:#}"
    );
    srv.shutdown();
}

#[test]
fn excluded_urls_are_skipped_and_never_requested() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let list = write_list(
        dir.path(),
        "urls.txt",
        lines(&[srv.url(0, "/ok"), srv.url(0, "/status/500?private=1")]),
    );
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["--exclude", "private=", "--format", "json"])
        .arg(&list));
    // The one URL that would have failed was skipped: everything checked is up.
    out.assert_code(0);
    let doc = out.json();
    let skipped = result(&doc, &srv.url(0, "/status/500?private=1"));
    assert_eq!(outcome(skipped), "skipped");
    assert_eq!(skipped["attempts"], 0);
    assert_eq!(doc["summary"]["skipped"], 1);
    assert_eq!(
        srv.stats().hits("/status/500?private=1"),
        0,
        "skipped URLs are not requested"
    );
    assert_eq!(srv.stats().hits("/ok"), 1);
    // The human line of a skipped URL says where it was listed, as every other line does.
    let human = run(urlcheck()
        .args(FAST_500MS)
        .args(["--exclude", "private=", "--color", "never"])
        .arg(&list));
    human.assert_code(0);
    let line = human
        .stdout()
        .lines()
        .find(|l| l.starts_with("skipped"))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("a skipped line:\n{human}"));
    assert!(line.contains("urls.txt:2"), "{line}");
    // --fail-on can make skipped URLs count.
    let strict = run(urlcheck()
        .args(FAST_500MS)
        .args(["--exclude", "private=", "--fail-on", "skipped"])
        .arg(&list));
    strict.assert_code(1);
    let bad = run(urlcheck().args(["--exclude", "(unclosed"]).arg(&list));
    bad.assert_code(2);
    assert!(
        bad.all_output().contains("--exclude"),
        "{}",
        bad.all_output()
    );
    srv.shutdown();
}

#[test]
fn every_error_kind_is_classified() {
    let srv = Server::start(1);
    let connect = format!("http://127.0.0.1:{}/", refused_port());
    let timeout = srv.raw_url(0, "/hang");
    let reset = srv.raw_url(0, "/reset");
    let redirect_loop = srv.url(0, "/loop");
    let too_many = srv.url(0, "/redirect/5");
    let protocol = srv.raw_url(0, "/garbage");
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["--max-redirects", "2", "--format", "json"])
        .args([
            &connect,
            &timeout,
            &reset,
            &redirect_loop,
            &too_many,
            &protocol,
        ]));
    out.assert_code(1);
    let doc = out.json();
    for (url, kind) in [
        (&connect, "connect"),
        (&timeout, "timeout"),
        (&reset, "reset"),
        (&redirect_loop, "redirects"),
        (&too_many, "redirects"),
        (&protocol, "protocol"),
    ] {
        let r = result(&doc, url);
        assert_eq!(outcome(r), "error", "{url}: {r:#}");
        assert_eq!(error_kind(r), kind, "{url}: {r:#}");
        assert!(
            !r["error"]["message"].as_str().unwrap_or("").is_empty(),
            "{url}: an error needs a message: {r:#}"
        );
        assert_eq!(r["attempts"], 1, "--retries 0: {r:#}");
    }
    let message = |url: &str| {
        result(&doc, url)["error"]["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(message(&redirect_loop).contains("loop"), "{doc:#}");
    assert!(message(&too_many).contains('2'), "{doc:#}");
    let hops = result(&doc, &too_many)["redirects"]
        .as_array()
        .unwrap()
        .len();
    assert!(
        hops >= 2,
        "the hops seen before giving up are recorded: {doc:#}"
    );
    let by_kind = &doc["summary"]["errors_by_kind"];
    assert_eq!(by_kind["redirects"], 2, "{by_kind:#}");
    // The hang is bounded by the timeout (one 500ms attempt), with a generous margin.
    assert!(out.elapsed < Duration::from_millis(500 + 5000), "{out}");
    assert!(srv.stats().hits("/hang") >= 1 && srv.stats().hits("/reset") == 1);
    srv.shutdown();
}

// ---------------------------------------------------------------------------
// Exit codes
// ---------------------------------------------------------------------------

#[test]
fn exit_0_when_every_url_is_up() {
    let srv = Server::start(1);
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args([srv.url(0, "/ok?i=1"), srv.url(0, "/redirect/1")]));
    out.assert_code(0);
    assert_eq!(srv.stats().hits("/ok?i=1"), 1);
    srv.shutdown();
}

#[test]
fn exit_1_for_down_for_error_and_for_invalid() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let ok = srv.url(0, "/ok");
    let down = srv.url(0, "/status/500");
    let error = format!("http://127.0.0.1:{}/", refused_port());
    let invalid = write_list(dir.path(), "invalid.txt", lines(&[&ok, "ftp://x/"]));
    for (what, failing) in [("down", down), ("error", error)] {
        let out = run(urlcheck().args(FAST_500MS).args([&ok, &failing]));
        assert_eq!(out.code, Some(1), "{what}:\n{out}");
    }
    let out = run(urlcheck().args(FAST_500MS).arg(&invalid));
    assert_eq!(out.code, Some(1), "invalid:\n{out}");
    srv.shutdown();
}

// ---------------------------------------------------------------------------
// Retries and Retry-After
// ---------------------------------------------------------------------------

#[test]
fn retry_after_is_honoured() {
    let srv = Server::start(1);
    let url = srv.url(0, "/retry-after/1?key=honoured&times=1");
    let out = run(urlcheck()
        .args(["-t", "5s", "--retries", "2", "--format", "json"])
        .arg(&url));
    out.assert_code(0);
    let doc = out.json();
    let r = result(&doc, &url);
    assert_eq!(outcome(r), "up", "{r:#}");
    assert_eq!(r["status"], 200);
    assert_eq!(r["attempts"], 2, "{r:#}");
    let arrivals = srv.stats().arrivals("honoured");
    assert_eq!(arrivals.len(), 2);
    let gap = arrivals[1] - arrivals[0];
    assert!(
        gap >= Duration::from_millis(950),
        "the retry came {gap:?} after a Retry-After of 1s"
    );
    assert!(r["elapsed_ms"].as_f64().unwrap() >= 950.0, "{r:#}");
    srv.shutdown();
}

#[test]
fn retry_after_without_retries_is_blocked_after_one_attempt() {
    let srv = Server::start(1);
    let url = srv.url(0, "/retry-after/1?key=once&times=1");
    let out = run(urlcheck()
        .args(["-t", "5s", "--retries", "0", "--format", "json"])
        .arg(&url));
    // A 429 that every retry (none) met says nothing of the page: blocked, no failure.
    out.assert_code(0);
    let doc = out.json();
    let r = result(&doc, &url);
    assert_eq!(outcome(r), "blocked", "{r:#}");
    assert_eq!(r["reason"], "rate limited: 429 after 1 try", "{r:#}");
    assert_eq!(r["status"], 429);
    assert_eq!(r["attempts"], 1);
    assert_eq!(srv.stats().arrivals("once").len(), 1);
    srv.shutdown();
}

/// Steps of a scripted exchange, for responders on their own threads to wait on.
#[derive(Default)]
struct Steps {
    done: std::sync::Mutex<Vec<&'static str>>,
    changed: std::sync::Condvar,
}

impl Steps {
    fn mark(&self, step: &'static str) {
        self.done.lock().unwrap().push(step);
        self.changed.notify_all();
    }

    /// Waits (at most 10 s: the test then fails on what it sees) until `step` is done.
    fn wait(&self, step: &'static str) {
        let done = self.done.lock().unwrap();
        let _ = self
            .changed
            .wait_timeout_while(done, Duration::from_secs(10), |d| !d.contains(&step));
    }
}

/// A retry that cannot finish within `--max-time` is not made, and the answer so far stands
/// with a note saying why: for a Retry-After longer than the budget, and for a URL of the same
/// host held at the host's gate by that pause (it used to wait there and then time out, so a
/// 503 became `error timeout`). The server orders the exchange: `/told` answers its 429 (a
/// pause of 3 s) only once `/held` has passed the gate and arrived, and `/held` answers its 503
/// only after that, so the retry of `/held` meets the pause.
#[test]
fn a_retry_that_the_budget_cannot_hold_keeps_the_answer_so_far() {
    let steps = std::sync::Arc::new(Steps::default());
    let script = steps.clone();
    let server = Scripted::start("127.0.0.1:0", move |head| match head.target.as_str() {
        "/told" => {
            script.wait("held arrived");
            script.mark("told answered");
            response("429 Too Many Requests", &[("Retry-After", "3")])
        }
        _ => {
            script.mark("held arrived");
            script.wait("told answered");
            response("503 Service Unavailable", &[])
        }
    })
    .unwrap();
    let (held, told) = (server.url("/held"), server.url("/told"));
    let out = run(urlcheck()
        .args(["-t", "1s", "--retries", "2", "--max-time", "2s"])
        .args(["--format", "json"])
        .args([&held, &told]));
    no_panic(&out);
    out.assert_code(1);
    let doc = out.json();
    for (url, status, verdict) in [(&told, 429, "blocked"), (&held, 503, "down")] {
        let r = result(&doc, url);
        assert_eq!(outcome(r), verdict, "{r:#}");
        assert_eq!(r["status"], status, "{r:#}");
        assert_eq!(r["attempts"], 1, "{r:#}");
        let warnings = r["warnings"].to_string();
        assert!(
            warnings.contains(&format!("{status} answered; no time left for a retry")),
            "{r:#}"
        );
    }
}

/// A retry that the budget cuts short (the server hangs on it) leaves the answer before it
/// standing: the URL is down with its 503, not an `error timeout` that says less.
#[test]
fn a_retry_cut_short_by_the_budget_keeps_the_answer_before_it() {
    let release = std::sync::Arc::new(Steps::default());
    let hold = release.clone();
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let count = asked.clone();
    let server = Scripted::start("127.0.0.1:0", move |_| {
        if count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) > 0 {
            // The retry: no answer until the test is over.
            hold.wait("test over");
        }
        response("503 Service Unavailable", &[])
    })
    .unwrap();
    let url = server.url("/flaky");
    let out = run(urlcheck()
        .args(["-t", "5s", "--retries", "2", "--max-time", "1s"])
        .args(["--format", "json"])
        .arg(&url));
    release.mark("test over");
    no_panic(&out);
    let doc = out.json();
    let r = result(&doc, &url);
    assert_eq!(outcome(r), "down", "{r:#}");
    assert_eq!(r["status"], 503, "{r:#}");
    assert_eq!(r["attempts"], 2, "{r:#}");
    assert!(
        r["warnings"]
            .to_string()
            .contains("503 answered; its retry was cut short"),
        "{r:#}"
    );
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 2);
}

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
    // Without retries, each of the first 8 URLs is done (blocked) as soon as its 429 arrives,
    // which frees its slot at once. The URLs admitted into those slots are new to the host,
    // and must still wait for the pause the host asked for.
    let out = run(urlcheck()
        .args(["--retries", "0", "--format", "json"])
        .args(&urls));
    no_panic(&out);
    out.assert_code(0);
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

/// `attempts` counts tries: 1, plus every retry on any hop of the redirect chain. Here the
/// first hop is told to wait once (429 with `Retry-After: 0`) before it redirects, and the
/// hop it redirects to is told the same before it answers 200: two retries, one redirect,
/// three tries. Following the redirect is not a retry.
#[test]
fn attempts_count_retries_on_every_hop_of_a_redirect_chain() {
    let srv = Server::start(1);
    let to = "%2Fretry-after%2F0%3Fkey%3Dattempts-final%26times%3D1";
    let url = srv.url(
        0,
        &format!("/retry-after-redirect/0?key=attempts-hop&times=1&to={to}"),
    );
    let out = run(urlcheck().args(["-t", "5s", "--retries", "2", "--format", "json", &url]));
    out.assert_code(0);
    let doc = out.json();
    let r = result(&doc, &url);
    assert_eq!(r["outcome"], "up", "{r:#}");
    assert_eq!(r["status"], 200, "{r:#}");
    assert_eq!(r["redirects"].as_array().map(Vec::len), Some(1), "{r:#}");
    assert_eq!(r["attempts"], 3, "{r:#}");
    let stats = srv.stats();
    assert_eq!(
        stats.hits(&format!(
            "/retry-after-redirect/0?key=attempts-hop&times=1&to={to}"
        )),
        2
    );
    assert_eq!(stats.hits("/retry-after/0?key=attempts-final&times=1"), 2);
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
// DNS
// ---------------------------------------------------------------------------

#[test]
fn dns_failure_is_reported_as_soon_as_the_answer_comes() {
    let dns = NxDomain::start();
    let url = format!("http://no-such-host.test:{}/", refused_port());
    let out = run(urlcheck()
        .args(["-t", "10s", "--retries", "0", "--format", "json"])
        .args(["--dns-server", &dns.addr().to_string()])
        .arg(&url));
    out.assert_code(1);
    let doc = out.json();
    let r = result(&doc, &url);
    assert_eq!(outcome(r), "error");
    assert_eq!(error_kind(r), "dns", "{r:#}");
    assert!(dns.queries() >= 1, "the stub DNS server was never asked");
    assert!(
        out.elapsed < Duration::from_secs(5),
        "NXDOMAIN must end the check, not the 10s timeout: {out}"
    );
}

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
