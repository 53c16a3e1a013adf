//! Proxies (issue 13): `--proxy URL` sends every request through the proxy, with its
//! credentials as Proxy-Authorization and never in any output; HTTP_PROXY is honoured as it
//! always was, NO_PROXY exempts its hosts, `--no-proxy` connects directly whatever the
//! environment says. The proxy is a local HTTP/1.1 server that records the request lines it
//! gets (a forward proxy receives the absolute URL) and answers them itself.

mod common;
mod servers;

use common::json::outcome;
use common::{refused_port, result, run, urlcheck, FAST_2S};
use servers::{response, Scripted};

fn proxy() -> Scripted {
    Scripted::start("127.0.0.1:0", |_| response("200 OK", &[])).expect("start the proxy")
}

/// A URL nothing listens on: only a proxy can answer it.
fn unreachable() -> String {
    format!("http://127.0.0.1:{}/through", refused_port())
}

#[test]
fn proxy_sends_the_request_through_with_its_credentials_and_never_shows_them() {
    let p = proxy();
    let url = unreachable();
    let with_credentials = format!("http://scout:s3cr3t-pw@127.0.0.1:{}", p.port());
    let out = run(urlcheck()
        .args(FAST_2S)
        .args(["--format", "json", "--proxy", &with_credentials])
        .arg(&url));
    out.assert_code(0);
    assert_eq!(outcome(result(&out.json(), &url)), "up", "{out}");
    // A forward proxy is asked for the absolute URL.
    let head = p.head_for(&url);
    let auth = head
        .header("proxy-authorization")
        .expect("proxy credentials");
    // The recorded head is lower-cased: scout:s3cr3t-pw in base64.
    assert_eq!(auth, "basic c2NvdXQ6czNjcjN0LXB3".to_lowercase());
    assert!(!out.all_output().contains("s3cr3t-pw"), "{out}");
}

#[test]
fn the_environment_s_proxy_is_honoured_and_no_proxy_ignores_it() {
    let p = proxy();
    let url = unreachable();
    let env_proxy = p.url("");
    let through = run(urlcheck()
        .args(FAST_2S)
        .env("HTTP_PROXY", &env_proxy)
        .arg(&url));
    through.assert_code(0);
    assert_eq!(p.heads().len(), 1, "{through}");
    let direct = run(urlcheck()
        .args(FAST_2S)
        .args(["--format", "json", "--no-proxy"])
        .env("HTTP_PROXY", &env_proxy)
        .arg(&url));
    direct.assert_code(1);
    assert_eq!(outcome(result(&direct.json(), &url)), "error", "{direct}");
    assert_eq!(
        p.heads().len(),
        1,
        "--no-proxy went through the proxy: {direct}"
    );
}

#[test]
fn no_proxy_names_the_hosts_that_go_direct_even_with_proxy() {
    let p = proxy();
    let url = unreachable();
    let out = run(urlcheck()
        .args(FAST_2S)
        .args(["--proxy", &p.url("")])
        .env("NO_PROXY", "127.0.0.1")
        .arg(&url));
    out.assert_code(1);
    assert!(
        p.heads().is_empty(),
        "NO_PROXY's host went through the proxy: {out}"
    );
}

#[test]
fn a_proxy_that_is_no_http_url_is_refused_before_any_request() {
    for bad in ["socks5://127.0.0.1:1080", "not a url"] {
        let out = run(urlcheck().args(["--proxy", bad, "http://127.0.0.1:9/"]));
        out.assert_code(2);
        assert!(out.all_output().contains("--proxy"), "{out}");
    }
    let both = run(urlcheck().args(["--proxy", "http://127.0.0.1:1", "--no-proxy", "x"]));
    both.assert_code(2);
}
