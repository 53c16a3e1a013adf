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
