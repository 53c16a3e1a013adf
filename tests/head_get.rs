//! `-X head,get` (issue 12): HEAD first, and the whole check again with GET when HEAD's final
//! answer is 405, 501 or not accepted; the result says which method decided, and `attempts`
//! counts the tries of both. Scripted servers count the requests of each method, so a GET
//! that should not be sent cannot hide; a real Python server (`http.server` with only a GET
//! handler, which answers HEAD with 501) shows the case the option exists for.

mod common;
mod servers;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::json::outcome;
use common::validate::{assert_valid, validator};
use common::{result, run, urlcheck, Run, FAST_5S};
use servers::{response, Head, Scripted};

/// The method of a recorded request: the first word of its (lower-cased) request line.
fn method(head: &Head) -> &str {
    head.text.split_whitespace().next().unwrap_or("")
}

/// `(method, target)` of every request the server received, in order.
fn requests(server: &Scripted) -> Vec<(String, String)> {
    server
        .heads()
        .iter()
        .map(|h| (method(h).to_owned(), h.target.clone()))
        .collect()
}

/// How many requests of `m` ("head", "get") the server received.
fn count(server: &Scripted, m: &str) -> usize {
    server.heads().iter().filter(|h| method(h) == m).count()
}

/// A server that answers HEAD with `head` and GET with `get` (status lines).
fn answering(head: &'static str, get: &'static str) -> Scripted {
    Scripted::start("127.0.0.1:0", move |h| match method(h) {
        "head" => response(head, &[]),
        _ => response(get, &[]),
    })
    .unwrap()
}

/// Checks `url` alone with `-X x` and `extra` (single-shot unless `extra` says otherwise),
/// as JSON; the run and the URL's result.
fn check(x: &str, url: &str, extra: &[&str]) -> (Run, Value) {
    let single = if extra.contains(&"--retries") {
        &FAST_5S[..2]
    } else {
        &FAST_5S[..]
    };
    let out = run(urlcheck()
        .args(single)
        .args(["--format", "json", "-X", x])
        .args(extra)
        .arg(url));
    common::no_panic(&out);
    let doc = out.json();
    assert_valid(&validator(None), &doc, "a -X head,get report");
    let r = result(&doc, url).clone();
    (out, r)
}

#[test]
fn a_head_refused_with_405_is_checked_again_with_get() {
    let server = answering("405 Method Not Allowed", "200 OK");
    let url = server.url("/page");
    let (out, r) = check("head,get", &url, &[]);
    out.assert_code(0);
    assert_eq!(outcome(&r), "up", "{out}");
    assert_eq!(r["status"], 200, "{out}");
    assert_eq!(r["method"], "GET", "{out}");
    assert_eq!(r["attempts"], 2, "one try of each method: {out}");
    assert_eq!(
        requests(&server),
        [
            ("head".into(), "/page".into()),
            ("get".into(), "/page".into())
        ]
    );
    assert_eq!(out.json()["settings"]["method"], "HEAD,GET", "{out}");
}

/// A HEAD answered 404 (a server that handles HEAD wrongly) or 501 (one that does not handle
/// it) is checked again with GET, which decides: one request of each.
#[test]
fn a_head_answered_404_or_501_is_checked_again_with_get() {
    for head in ["404 Not Found", "501 Not Implemented"] {
        let server = answering(head, "200 OK");
        let url = server.url("/page");
        let (out, r) = check("head,get", &url, &[]);
        out.assert_code(0);
        assert_eq!(outcome(&r), "up", "{head}: {out}");
        assert_eq!(r["method"], "GET", "{head}: {out}");
        assert_eq!(
            (count(&server, "head"), count(&server, "get")),
            (1, 1),
            "{head}"
        );
    }
}

/// A 405 falls back even when the user accepts it: it says nothing of the page.
#[test]
fn a_405_falls_back_even_when_accepted() {
    let server = answering("405 Method Not Allowed", "404 Not Found");
    let url = server.url("/page");
    let (out, r) = check("head,get", &url, &["--accept", "200-299,405"]);
    out.assert_code(1);
    assert_eq!(outcome(&r), "down", "{out}");
    assert_eq!(r["status"], 404, "GET decided: {out}");
    assert_eq!(r["method"], "GET", "{out}");
}

#[test]
fn an_accepted_head_decides_and_no_get_is_sent() {
    let server = answering("200 OK", "500 Internal Server Error");
    let url = server.url("/page");
    let (out, r) = check("head,get", &url, &[]);
    out.assert_code(0);
    assert_eq!(outcome(&r), "up", "{out}");
    assert_eq!(r["method"], "HEAD", "{out}");
    assert_eq!(r["attempts"], 1, "{out}");
    assert_eq!((count(&server, "head"), count(&server, "get")), (1, 0));
}

/// Both methods say the page is gone: it is down, and GET said so last.
#[test]
fn a_page_gone_for_both_methods_is_down() {
    let server = answering("404 Not Found", "410 Gone");
    let url = server.url("/page");
    let (out, r) = check("head,get", &url, &[]);
    out.assert_code(1);
    assert_eq!(outcome(&r), "down", "{out}");
    assert_eq!(r["status"], 410, "{out}");
    assert_eq!(r["method"], "GET", "{out}");
    assert_eq!(r["attempts"], 2, "{out}");
}

/// HEAD is followed through a redirect and refused at the last hop: the whole chain is
/// walked again with GET, from the URL the user gave; the hops reported are GET's.
#[test]
fn a_head_refused_at_the_last_hop_walks_the_chain_again_with_get() {
    let server = Scripted::start("127.0.0.1:0", |h| match (method(h), h.target.as_str()) {
        (_, "/start") => response("301 Moved Permanently", &[("Location", "/end")]),
        ("head", _) => response("405 Method Not Allowed", &[]),
        _ => response("200 OK", &[]),
    })
    .unwrap();
    let url = server.url("/start");
    let (out, r) = check("head,get", &url, &[]);
    out.assert_code(0);
    assert_eq!(outcome(&r), "up", "{out}");
    assert_eq!(r["method"], "GET", "{out}");
    assert_eq!(r["final_url"], server.url("/end"), "{out}");
    assert_eq!(r["redirects"].as_array().unwrap().len(), 1, "{out}");
    assert_eq!(
        r["attempts"], 2,
        "following a redirect is not a retry: {out}"
    );
    let want: Vec<(String, String)> = [
        ("head", "/start"),
        ("head", "/end"),
        ("get", "/start"),
        ("get", "/end"),
    ]
    .iter()
    .map(|(m, t)| (m.to_string(), t.to_string()))
    .collect();
    assert_eq!(requests(&server), want);
}

/// Retries of HEAD and of GET are all tries: a 503 retried once, then GET.
#[test]
fn attempts_count_the_tries_of_both_methods() {
    let server = answering("503 Service Unavailable", "200 OK");
    let url = server.url("/page");
    let (out, r) = check("head,get", &url, &["--retries", "1"]);
    out.assert_code(0);
    assert_eq!(r["method"], "GET", "{out}");
    assert_eq!(r["attempts"], 3, "two HEADs and a GET: {out}");
    assert_eq!((count(&server, "head"), count(&server, "get")), (2, 1));
}

/// The fallback shares the URL's --max-time: a GET that the budget cuts short leaves HEAD's
/// answer standing, with a note, rather than a timeout that says less.
#[test]
fn a_get_cut_short_by_the_budget_leaves_heads_answer() {
    let release = Arc::new(AtomicBool::new(false));
    let server = {
        let release = release.clone();
        Scripted::start("127.0.0.1:0", move |h| {
            if method(h) == "head" {
                return response("404 Not Found", &[]);
            }
            // GET is answered only once the run is over (or after a bound, so that a broken
            // run cannot hang the server).
            let until = Instant::now() + Duration::from_secs(20);
            while !release.load(Ordering::SeqCst) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
            response("200 OK", &[])
        })
        .unwrap()
    };
    let url = server.url("/page");
    let (out, r) = check("head,get", &url, &["--max-time", "1s"]);
    release.store(true, Ordering::SeqCst);
    out.assert_code(1);
    assert_eq!(outcome(&r), "down", "{out}");
    assert_eq!(r["status"], 404, "{out}");
    assert_eq!(r["method"], "HEAD", "{out}");
    assert_eq!(r["attempts"], 2, "{out}");
    let warnings = r["warnings"].to_string();
    assert!(warnings.contains("no time left for GET"), "{out}");
    assert_eq!((count(&server, "head"), count(&server, "get")), (1, 1));
}

/// `-X get` and `-X head` are what they were: one method, no fallback, no `method` field.
#[test]
fn get_and_head_alone_behave_as_before() {
    let server = answering("405 Method Not Allowed", "200 OK");
    let url = server.url("/page");
    let (out, r) = check("get", &url, &[]);
    out.assert_code(0);
    assert_eq!(outcome(&r), "up", "{out}");
    assert!(r.get("method").is_none(), "{out}");
    assert_eq!(out.json()["settings"]["method"], "GET");
    assert_eq!((count(&server, "head"), count(&server, "get")), (0, 1));

    let (out, r) = check("head", &url, &[]);
    out.assert_code(1);
    assert_eq!(outcome(&r), "down", "{out}");
    assert_eq!(r["status"], 405, "{out}");
    assert!(r.get("method").is_none(), "{out}");
    assert_eq!(out.json()["settings"]["method"], "HEAD");
    assert_eq!((count(&server, "head"), count(&server, "get")), (1, 1));
}

/// The human line says when GET decided, and only then; CSV has a `method` column last.
#[test]
fn human_and_csv_say_which_method_decided() {
    let refused = answering("405 Method Not Allowed", "200 OK");
    let fine = answering("200 OK", "200 OK");
    let (a, b) = (refused.url("/a"), fine.url("/b"));
    let out = run(urlcheck()
        .args(FAST_5S)
        .args(["-X", "head,get", "--sequential", &a, &b]));
    out.assert_code(0);
    let text = out.stdout();
    let line = |url: &str| {
        let found = text
            .lines()
            .find(|l| l.ends_with(url) || l.contains(&format!("{url} ")));
        found
            .unwrap_or_else(|| panic!("no line for {url}: {out}"))
            .to_owned()
    };
    assert!(line(&a).contains("(GET after HEAD)"), "{out}");
    assert!(!line(&b).contains("GET"), "{out}");

    let out = run(urlcheck().args(FAST_5S).args([
        "-X",
        "head,get",
        "--sequential",
        "--format",
        "csv",
        &a,
        &b,
    ]));
    out.assert_code(0);
    let text = out.stdout();
    let rows: Vec<&str> = text.lines().collect();
    assert!(rows[0].contains(",duplicate,method,dns_ms,"), "{out}");
    // The method is the column after `duplicate`, before the five phase columns.
    let method = |row: &str| row.split(',').rev().nth(5).unwrap_or_default().to_string();
    assert!(rows[1].starts_with(&a) && method(rows[1]) == "GET", "{out}");
    assert!(
        rows[2].starts_with(&b) && method(rows[2]) == "HEAD",
        "{out}"
    );
}

/// A HEAD that is accepted would decide without a body, leaving fragments unchecked: refused.
#[test]
fn check_fragments_refuses_head_get() {
    let out = run(urlcheck().args([
        "--check-fragments",
        "-X",
        "head,get",
        "http://127.0.0.1:9/p#a",
    ]));
    common::no_panic(&out);
    out.assert_code(2);
    assert!(
        out.stderr.contains("--check-fragments") && out.stderr.contains("head,get"),
        "{out}"
    );
}

// ---------------------------------------------------------------------------
// A real server: Python's http.server with only a GET handler
// ---------------------------------------------------------------------------

/// `BaseHTTPRequestHandler` with `do_GET` alone, as small Python services are written: the
/// standard library answers HEAD with 501. Prints its port, then `METHOD PATH` for every
/// request it parses, before answering it.
const GET_ONLY: &str = r#"
from http.server import BaseHTTPRequestHandler, HTTPServer

class GetOnly(BaseHTTPRequestHandler):
    def parse_request(self):
        ok = super().parse_request()
        if ok:
            print(self.command, self.path, flush=True)
        return ok

    def do_GET(self):
        body = b"<p>here</p>"
        self.send_response(404 if self.path == "/gone" else 200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), GetOnly)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

/// The Python server; killed and reaped when dropped.
struct GetOnly {
    child: Child,
    port: u16,
    lines: mpsc::Receiver<String>,
    reader: Option<JoinHandle<()>>,
}

impl GetOnly {
    fn start() -> GetOnly {
        let mut child = Command::new("python3")
            .args(["-c", GET_ONLY])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start python3 ({e}): this test needs python3"));
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        let port = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("python's http.server printed its port")
            .parse()
            .expect("a port number");
        GetOnly {
            child,
            port,
            lines,
            reader: Some(reader),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Stops the server and returns every request line it printed.
    fn stop(mut self) -> Vec<String> {
        self.kill();
        self.lines.try_iter().collect()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The pipe is closed now: the reader has seen everything.
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

impl Drop for GetOnly {
    fn drop(&mut self) {
        self.kill();
    }
}

#[test]
fn a_real_server_without_head_is_checked_with_get() {
    let server = GetOnly::start();
    let (page, gone) = (server.url("/page"), server.url("/gone"));
    // HEAD alone: the standard library's 501 makes a live page look down.
    let (out, r) = check("head", &page, &[]);
    out.assert_code(1);
    assert_eq!(r["status"], 501, "{out}");

    let out = run(urlcheck().args(FAST_5S).args([
        "--format",
        "json",
        "-X",
        "head,get",
        "--sequential",
        &page,
        &gone,
    ]));
    common::no_panic(&out);
    out.assert_code(1);
    let doc = out.json();
    assert_valid(&validator(None), &doc, "a -X head,get report");
    let (p, g) = (result(&doc, &page), result(&doc, &gone));
    assert_eq!(
        (outcome(p), &p["status"], &p["method"]),
        ("up", &200.into(), &"GET".into())
    );
    assert_eq!(
        (outcome(g), &g["status"], &g["method"]),
        ("down", &404.into(), &"GET".into())
    );
    assert_eq!(
        server.stop(),
        [
            "HEAD /page",
            "HEAD /page",
            "GET /page",
            "HEAD /gone",
            "GET /gone"
        ]
    );
}
