//! urlcheck.toml's `[[host]]` settings beyond headers and pace (docs/config.md): TLS settings
//! (`insecure`, `cacert`), `accept`, `method` and `timeout` belong to the host a table
//! matches and to no other; a table's header takes the place of a command-line header of the
//! same name there only; what a report records of the file (the rest: tests/config_file.rs).
//! Every server is on 127.0.0.1, started and stopped by its test; each run has a folder of
//! its own holding its urlcheck.toml.

mod common;
mod servers;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use common::json::{error_kind, message, outcome};
use common::{result, run, urlcheck, Run};
use servers::{response, Cert, Scripted, TlsServer};

/// A folder holding `toml` as its urlcheck.toml.
fn folder(toml: &str) -> TempDir {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("urlcheck.toml"), toml).unwrap();
    dir
}

/// `urlcheck --format json ARGS...` in `dir`.
fn check_in(dir: &Path, args: &[&str]) -> (Run, Value) {
    let out = run(urlcheck()
        .current_dir(dir)
        .args(["--format", "json", "--retries", "0"])
        .args(args));
    common::no_panic(&out);
    let doc = out.json();
    (out, doc)
}

fn port_of(url: &str) -> u16 {
    url::Url::parse(url).unwrap().port().unwrap()
}

#[test]
fn insecure_belongs_to_the_host_it_is_set_for() {
    let trusted = TlsServer::start(Cert::SelfSigned, |_| response("200 OK", &[]));
    let other = TlsServer::start(Cert::SelfSigned, |_| response("200 OK", &[]));
    let (a, b) = (trusted.url("/a"), other.url("/b"));
    let dir = folder(&format!(
        "[[host]]\nmatch = \"127.0.0.1:{}\"\ninsecure = true\n",
        port_of(&a)
    ));
    let (out, doc) = check_in(dir.path(), &[&a, &b]);
    out.assert_code(1);
    assert_eq!(outcome(result(&doc, &a)), "up", "{out}");
    assert_eq!(outcome(result(&doc, &b)), "error", "{out}");
    assert_eq!(error_kind(result(&doc, &b)), "tls", "{out}");
}

#[test]
fn a_private_ca_is_trusted_for_its_host_only() {
    let internal = TlsServer::start(Cert::PrivateCa, |_| response("200 OK", &[]));
    let stranger = TlsServer::start(Cert::PrivateCa, |_| response("200 OK", &[]));
    let (a, b) = (internal.url("/a"), stranger.url("/b"));
    let dir = folder(&format!(
        "[[host]]\nmatch = \"127.0.0.1:{}\"\ncacert = \"internal-ca.pem\"\n",
        port_of(&a)
    ));
    std::fs::write(dir.path().join("internal-ca.pem"), internal.ca_pem()).unwrap();
    let (out, doc) = check_in(dir.path(), &[&a, &b]);
    out.assert_code(1);
    assert_eq!(outcome(result(&doc, &a)), "up", "{out}");
    assert_eq!(error_kind(result(&doc, &b)), "tls", "{out}");
    // The same CA given to another host's table does nothing for the first.
    let dir = folder(&format!(
        "[[host]]\nmatch = \"127.0.0.1:{}\"\ncacert = \"internal-ca.pem\"\n",
        port_of(&b)
    ));
    std::fs::write(dir.path().join("internal-ca.pem"), internal.ca_pem()).unwrap();
    let (_, doc) = check_in(dir.path(), &[&a]);
    assert_eq!(error_kind(result(&doc, &a)), "tls");
}

#[test]
fn accept_and_method_follow_the_host() {
    let forbidding = || Scripted::start("127.0.0.1:0", |_| response("403 Forbidden", &[])).unwrap();
    let (cdn, plain) = (forbidding(), forbidding());
    let (a, b) = (cdn.url("/a"), plain.url("/b"));
    let dir = folder(&format!(
        "[[host]]\nmatch = \"127.0.0.1:{}\"\naccept = \"200-299,403\"\nmethod = \"head\"\n",
        cdn.port()
    ));
    let (out, doc) = check_in(dir.path(), &[&a, &b]);
    out.assert_code(1);
    assert_eq!(outcome(result(&doc, &a)), "up", "{out}");
    assert_eq!(outcome(result(&doc, &b)), "down", "{out}");
    assert!(
        cdn.head_for("/a").text.starts_with("head /a "),
        "{:?}",
        cdn.heads()
    );
    assert!(
        plain.head_for("/b").text.starts_with("get /b "),
        "{:?}",
        plain.heads()
    );
}

#[test]
fn a_hosts_timeout_lets_a_slow_host_answer() {
    // Both answer after 800 ms; the run's --timeout is 300ms, the slow host's table 10s.
    let slow = || {
        Scripted::start("127.0.0.1:0", |_| {
            std::thread::sleep(Duration::from_millis(800));
            response("200 OK", &[])
        })
        .unwrap()
    };
    let (partner, other) = (slow(), slow());
    let (a, b) = (partner.url("/a"), other.url("/b"));
    let dir = folder(&format!(
        "[[host]]\nmatch = \"127.0.0.1:{}\"\ntimeout = \"10s\"\n",
        partner.port()
    ));
    let (out, doc) = check_in(dir.path(), &["-t", "300ms", &a, &b]);
    out.assert_code(1);
    assert_eq!(outcome(result(&doc, &a)), "up", "{out}");
    assert_eq!(error_kind(result(&doc, &b)), "timeout", "{out}");
    assert!(message(result(&doc, &b)).contains("300ms"), "{out}");
}

#[test]
fn a_tables_header_replaces_the_command_lines_on_its_host_only() {
    let ok = || Scripted::start("127.0.0.1:0", |_| response("200 OK", &[])).unwrap();
    let (team, other) = (ok(), ok());
    let (a, b) = (team.url("/a"), other.url("/b"));
    let dir = folder(&format!(
        "[[host]]\nmatch = \"127.0.0.1:{}\"\nheaders = {{ X-Team = \"from-the-table\" }}\n",
        team.port()
    ));
    let (out, _) = check_in(dir.path(), &["-H", "X-Team: from-the-command-line", &a, &b]);
    out.assert_code(0);
    let seen = team.head_for("/a");
    assert_eq!(seen.header("x-team"), Some("from-the-table"), "{seen:?}");
    assert_eq!(seen.text.matches("x-team:").count(), 1, "{seen:?}");
    let seen = other.head_for("/b");
    assert_eq!(seen.header("x-team"), Some("from-the-command-line"));
}

#[test]
fn a_glob_matches_hosts_by_name_not_by_port() {
    let ok = Scripted::start("127.0.0.1:0", |_| response("200 OK", &[])).unwrap();
    let (by_ip, by_name) = (
        ok.url("/ip"),
        format!("http://localhost:{}/name", ok.port()),
    );
    let dir = folder("[[host]]\nmatch = \"local*\"\nheaders = { X-Glob = \"yes\" }\n");
    let (out, _) = check_in(dir.path(), &[&by_ip, &by_name]);
    out.assert_code(0);
    assert_eq!(ok.head_for("/name").header("x-glob"), Some("yes"));
    assert_eq!(ok.head_for("/ip").header("x-glob"), None);
}

#[test]
fn the_report_says_which_file_shaped_the_run() {
    let ok = Scripted::start("127.0.0.1:0", |_| response("200 OK", &[])).unwrap();
    let dir = folder(
        "[[host]]\nmatch = \"127.0.0.1\"\nper-host = 1\n\n\
         [[expect]]\nmatch = \".\"\nstatus = \"200\"\n",
    );
    let (out, doc) = check_in(dir.path(), &[&ok.url("/")]);
    out.assert_code(0);
    let settings = &doc["settings"];
    assert_eq!(settings["config"], "urlcheck.toml", "{settings:#}");
    assert_eq!(settings["host_tables"], 1, "{settings:#}");
    assert_eq!(settings["expect_tables"], 1, "{settings:#}");
    let (_, doc) = check_in(dir.path(), &["--no-config", &ok.url("/")]);
    assert!(doc["settings"].get("config").is_none(), "{doc:#}");
}

#[test]
fn a_tables_headers_never_follow_a_drop_to_plain_http() {
    let plain = Scripted::start("127.0.0.1:0", |_| response("200 OK", &[])).unwrap();
    let to = plain.url("/landing");
    let tls = TlsServer::start(Cert::SelfSigned, move |_| {
        response("302 Found", &[("Location", to.as_str())])
    });
    // No port in the pattern: both servers match it.
    let dir = folder(
        "[[host]]\nmatch = \"127.0.0.1\"\ninsecure = true\nheaders = { X-Secret = \"s3cr3t\" }\n",
    );
    let url = tls.url("/start");
    let (out, doc) = check_in(dir.path(), &[&url]);
    out.assert_code(0);
    assert_eq!(outcome(result(&doc, &url)), "up", "{out}");
    let landed = plain.head_for("/landing");
    assert_eq!(landed.header("x-secret"), None, "{landed:?}");
    // Listed directly, the plain host is a host the table matches like any other.
    let direct = plain.url("/direct");
    let (out, _) = check_in(dir.path(), &[&direct]);
    out.assert_code(0);
    assert_eq!(plain.head_for("/direct").header("x-secret"), Some("s3cr3t"));
}

#[test]
fn each_tls_setting_comes_from_the_first_table_that_sets_it() {
    let tls = TlsServer::start(Cert::SelfSigned, |_| response("200 OK", &[]));
    let unrelated = TlsServer::start(Cert::PrivateCa, |_| response("200 OK", &[]));
    let url = tls.url("/");
    // The first table gives a CA (of no use here), the second `insecure`: both apply.
    let dir = folder(&format!(
        "[[host]]\nmatch = \"127.0.0.1:{}\"\ncacert = \"other-ca.pem\"\n\n\
         [[host]]\nmatch = \"127.0.0.1\"\ninsecure = true\n",
        port_of(&url)
    ));
    std::fs::write(dir.path().join("other-ca.pem"), unrelated.ca_pem()).unwrap();
    let (out, doc) = check_in(dir.path(), &[&url]);
    out.assert_code(0);
    assert_eq!(outcome(result(&doc, &url)), "up", "{out}");
}

#[test]
fn a_body_expectation_reads_a_large_page_under_check_fragments_too() {
    // 9 MiB of HTML: more than --check-fragments reads for anchors, so its anchors are not
    // read; its first MiB still serves the expectation.
    let mut body = b"<p>operational</p>".to_vec();
    body.resize(9 * 1024 * 1024, b' ');
    let mut page = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    page.extend_from_slice(&body);
    let big = Scripted::start("127.0.0.1:0", move |_| page.clone()).unwrap();
    let url = big.url("/big");
    let dir = folder("[[expect]]\nmatch = \"/big$\"\nbody-contains = \"operational\"\n");
    for extra in [&[][..], &["--check-fragments"][..]] {
        let (out, doc) = check_in(dir.path(), &[extra, &[url.as_str()]].concat());
        assert_eq!(outcome(result(&doc, &url)), "up", "{extra:?}: {out}");
    }
}

#[test]
fn the_command_line_and_the_file_settle_their_flags_together() {
    let ok = Scripted::start("127.0.0.1:0", |_| response("200 OK", &[])).unwrap();
    let url = ok.url("/");
    // --fail-after needs --history, which the file gives.
    let dir = folder("history = \"links.db\"\n");
    let out = run(urlcheck()
        .current_dir(dir.path())
        .args(["--fail-after", "2", &url]));
    out.assert_code(0);
    assert!(dir.path().join("links.db").is_file(), "{out}");
    // A file switch that a command-line flag conflicts with gives way, whichever declares it.
    for (file, flag) in [
        ("verbose = true", "-q"),
        ("quiet = true", "-v"),
        ("compare = true", "--sequential"),
    ] {
        let dir = folder(file);
        let out = run(urlcheck()
            .current_dir(dir.path())
            .args(["--no-progress", flag, &url]));
        out.assert_code(0);
    }
    // --no-github on the command line wins over the file's github, and --print-config says so.
    let dir = folder("github = true\n");
    let out = run(urlcheck()
        .current_dir(dir.path())
        .args(["--print-config", "--no-github"]));
    out.assert_code(0);
    let github = out
        .stdout()
        .lines()
        .find(|l| l.starts_with("github ="))
        .unwrap()
        .to_owned();
    assert!(!github.contains("urlcheck.toml"), "{github}");
}

#[test]
fn secrets_stay_out_of_the_errors_too() {
    // A proxy URL that is no proxy URL, given on the command line: its password is not shown.
    let out = run(urlcheck().args([
        "--proxy",
        "socks5://bob:pr0xyPW@127.0.0.1:1",
        "http://127.0.0.1:1/",
    ]));
    out.assert_code(2);
    assert!(out.stderr.contains("--proxy"), "{out}");
    assert!(!out.all_output().contains("pr0xyPW"), "{out}");
    // A header whose expanded variable breaks it is refused without showing what it held.
    let dir = folder("header = [\"Authorization Basic ${UC_CREDS}\"]\n");
    let out = run(urlcheck()
        .current_dir(dir.path())
        .env("UC_CREDS", "alice:s3cr3tpw")
        .arg("http://127.0.0.1:1/"));
    out.assert_code(2);
    assert!(out.stderr.contains("urlcheck.toml:1: header"), "{out}");
    assert!(
        !out.all_output().contains("s3cr3tpw") && !out.all_output().contains("alice"),
        "{out}"
    );
}
