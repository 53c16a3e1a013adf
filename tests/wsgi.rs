//! Against a real Python web stack: httpbin (the WSGI test application) under gunicorn. Its
//! verdicts agree with curl's, a body that drips in is not waited for (issue 9, point 16), and
//! the credentials of a URL go on to the same origin after an absolute redirect and to no other
//! (point 18).

mod common;
mod servers;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::json::outcome;
use common::{no_panic, result, results, run, urlcheck, urlcheck_std, wait_child};
use servers::wsgi::Httpbin;

/// Paths whose verdict must be curl's: statuses, redirects of each kind, encodings, streams,
/// auth walls and cookies. Retries are off on both sides, so a 5xx is the first answer.
const AGREE_WITH_CURL: &[&str] = &[
    "/status/200",
    "/status/204",
    "/status/301",
    "/status/404",
    "/status/418",
    "/status/500",
    "/status/503",
    "/redirect/3",
    "/absolute-redirect/2",
    "/relative-redirect/2",
    "/redirect-to?url=/status/201&status_code=307",
    "/redirect-to?url=/status/410&status_code=308",
    "/gzip",
    "/deflate",
    "/bytes/2048",
    "/stream/5",
    "/stream-bytes/100000",
    "/html",
    "/json",
    "/xml",
    "/encoding/utf8",
    "/response-headers?X-One=1&X-Two=2",
    "/cache",
    "/etag/abc",
    "/basic-auth/u/p",
    "/hidden-basic-auth/u/p",
    "/bearer",
    "/cookies/set?a=1",
    "/links/3/0",
    "/range/100",
    "/image/png",
    "/anything/x?y=z",
    "/robots.txt",
    "/deny",
    "/base64/aGVsbG8=",
    "/delay/1",
];

/// The final status curl reports for `url`, following redirects as urlcheck does.
fn curl_status(url: &str) -> u16 {
    // Straight to the loopback server, as urlcheck's runs are: no proxy from the environment.
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-L",
            "--noproxy",
            "*",
        ])
        .args(["--max-redirs", "10", "--max-time", "10", url])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run curl ({e}): install curl"));
    let code = String::from_utf8_lossy(&out.stdout);
    code.trim()
        .parse()
        .unwrap_or_else(|_| panic!("curl printed {code:?} for {url}"))
}

#[test]
fn verdicts_agree_with_curl() {
    let bin = Httpbin::start();
    let urls: Vec<String> = AGREE_WITH_CURL.iter().map(|p| bin.url(p)).collect();
    let out = run(urlcheck()
        .args(["-t", "10s", "--retries", "0", "--format", "json"])
        .args(&urls));
    no_panic(&out);
    let doc = out.json();
    assert_eq!(results(&doc).len(), urls.len(), "{out}");
    let mut disagree = Vec::new();
    for url in &urls {
        let r = result(&doc, url);
        let curl = curl_status(url);
        let want = if (200..300).contains(&curl) {
            "up"
        } else {
            "down"
        };
        if r["status"] != curl || outcome(r) != want {
            disagree.push(format!("{url}: curl {curl}, urlcheck {r}"));
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}

/// A body that drips in (1,000 bytes over 30 s) is not waited for: the verdict is known at
/// the headers. The run must end well before the first drip does; it used to read the body
/// until the timeout.
#[test]
fn a_dripping_body_is_not_waited_for() {
    let bin = Httpbin::start();
    let urls: Vec<String> = (0..16)
        .map(|i| {
            bin.url(&format!(
                "/drip?duration=30&numbytes=1000&delay=0&code=200&i={i}"
            ))
        })
        .collect();
    let mut child = urlcheck_std()
        .args(["-t", "60s", "--format", "json"])
        .args(&urls)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start urlcheck");
    // Half the drip: an urlcheck that waits for the bodies is killed here and fails the test.
    let status = wait_child(&mut child, Duration::from_secs(15));
    assert_eq!(status.code(), Some(0));
    let mut text = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut text).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).expect("a JSON report");
    for url in &urls {
        assert_eq!(outcome(result(&doc, url)), "up", "{url}: {doc:#}");
    }
}

/// httpbin's `/redirect-to` sends an absolute Location; `/basic-auth/alice/pw1` wants those
/// credentials. Back to the same origin they go on (as curl's do); to the same server under
/// another name (another origin) they do not.
#[test]
fn url_credentials_go_on_to_the_same_origin_only() {
    let bin = Httpbin::start();
    let port = bin.port();
    let to = |host: &str| {
        format!(
            "http://alice:pw1@127.0.0.1:{port}/redirect-to?url=http%3A%2F%2F{host}%3A{port}\
             %2Fbasic-auth%2Falice%2Fpw1"
        )
    };
    let (same, renamed) = (to("127.0.0.1"), to("localhost"));
    let out = run(urlcheck()
        .args(["-t", "5s", "--retries", "0", "--format", "json"])
        .args([&same, &renamed]));
    no_panic(&out);
    let doc = out.json();
    let shown = |url: &str| url.replace("alice:pw1@", "***@");
    let inside = result(&doc, &shown(&same));
    assert_eq!(outcome(inside), "up", "{inside:#}");
    assert_eq!(inside["redirects"].as_array().map(Vec::len), Some(1));
    let outside = result(&doc, &shown(&renamed));
    assert_eq!(outside["status"], 401, "{outside:#}");
    // The password is in httpbin's path too; what must not show is the userinfo.
    assert!(!out.all_output().contains("alice:pw1"), "{out}");
}
