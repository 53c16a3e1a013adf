//! TLS certificates (issue 12): every https result reports its leaf certificate (expiry, days
//! left, subject, issuer, names), in JSON, JSONL, CSV and Prometheus; `--cert-expiry AGE`
//! makes a URL whose certificate expires within AGE `down`, of kind `cert-expiry`, and says
//! the server answered. Certificates are made in the test (rcgen), signed by a private CA the
//! run trusts with `--cacert`, or self-signed and expired (then only `-k` gets an answer).

mod common;
mod servers;

use std::path::PathBuf;

use serde_json::Value;
use tempfile::TempDir;

use common::check::{check_one, FAULT};
use common::json::{error_kind, message, outcome};
use common::parse::{gauge, prometheus};
use common::{run, urlcheck};
use servers::{response, Cert, TlsServer};

/// An https server whose certificate expires `hours` from now, and the CA file that trusts it.
fn server(hours: u64) -> (TlsServer, TempDir, PathBuf) {
    let tls = TlsServer::start(Cert::PrivateCaFor { hours }, |_| response("200 OK", &[]));
    let dir = TempDir::new().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, tls.ca_pem()).unwrap();
    (tls, dir, ca)
}

fn unix(text: &str) -> u64 {
    humantime::parse_rfc3339(text)
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn an_https_result_reports_its_certificate() {
    // 30 days and an hour: 30 whole days left at the check.
    let (tls, _dir, ca) = server(30 * 24 + 1);
    let url = tls.url("/ok");
    let (out, r) = check_one(&url, &["--cacert", ca.to_str().unwrap()]);
    out.assert_code(0);
    assert_eq!(outcome(&r), "up", "{r:#}");
    let c = &r["certificate"];
    assert_eq!(c["days_left"], 30, "{r:#}");
    let expires = unix(c["not_after"].as_str().unwrap());
    let wanted = now() + (30 * 24 + 1) * 3600;
    assert!(
        expires.abs_diff(wanted) < 120,
        "{expires} vs {wanted}: {r:#}"
    );
    let sans: Vec<&str> = c["sans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(sans, ["127.0.0.1", "localhost"], "{r:#}");
    assert!(
        c["issuer"].as_str().unwrap().contains("urlcheck test CA"),
        "{r:#}"
    );
    assert!(c["subject"].is_string(), "{r:#}");
}

#[test]
fn a_plain_http_result_has_no_certificate() {
    let srv = servers::Scripted::start("127.0.0.1:0", |_| response("200 OK", &[])).unwrap();
    let (out, r) = check_one(&srv.url("/ok"), &[]);
    out.assert_code(0);
    assert!(r.get("certificate").is_none(), "{r:#}");
}

#[test]
fn cert_expiry_makes_a_soon_expiring_certificate_down_and_says_both() {
    // A day and an hour left: within 14 days, so down; a URL of 30 days stays up.
    let (soon, _d1, ca_soon) = server(25);
    let (later, _d2, ca_later) = server(30 * 24 + 1);
    let run_one = |url: &str, ca: &PathBuf| {
        let args = ["--cacert", ca.to_str().unwrap(), "--cert-expiry", "14d"];
        check_one(url, &args)
    };
    let (out, r) = run_one(&soon.url("/ok"), &ca_soon);
    out.assert_code(1);
    let fourteen_days = 14 * 86_400 * 1000;
    assert_eq!(
        out.json()["settings"]["cert_expiry_ms"],
        fourteen_days,
        "{out}"
    );
    assert_eq!(outcome(&r), "down", "{r:#}");
    assert_eq!(error_kind(&r), "cert-expiry", "{r:#}");
    assert_eq!(r["status"], 200, "the server answered: {r:#}");
    let m = message(&r);
    assert!(m.contains("in 1 day") && m.contains("14days"), "{m}");
    assert!(m.contains("answered 200"), "{m}");
    let (out, r) = run_one(&later.url("/ok"), &ca_later);
    out.assert_code(0);
    assert_eq!(outcome(&r), "up", "{r:#}");
    // Without --cert-expiry the soon-expiring one is up: the certificate is only reported.
    let (out, r) = check_one(&soon.url("/ok"), &["--cacert", ca_soon.to_str().unwrap()]);
    out.assert_code(0);
    assert_eq!(r["certificate"]["days_left"], 1, "{r:#}");
}

#[test]
fn an_expired_certificate_is_a_tls_error_and_with_insecure_it_is_told_expired() {
    let tls = TlsServer::start(Cert::Expired, |_| response("200 OK", &[]));
    let url = tls.url("/ok");
    let (out, r) = check_one(&url, &["--cert-expiry", "14d"]);
    out.assert_code(1);
    assert_eq!(error_kind(&r), "tls", "{r:#}");
    // -k accepts it; --cert-expiry still sees the date.
    let (out, r) = check_one(&url, &["-k", "--cert-expiry", "14d"]);
    out.assert_code(1);
    assert_eq!(error_kind(&r), "cert-expiry", "{r:#}");
    assert!(message(&r).contains("expired on 2000-12-31"), "{r:#}");
    assert!(
        r["certificate"]["days_left"].as_i64().unwrap() < -9000,
        "{r:#}"
    );
    let (out, r) = check_one(&url, &["-k"]);
    out.assert_code(0);
    assert_eq!(outcome(&r), "up", "{r:#}");
}

#[test]
fn csv_and_prometheus_carry_the_expiry() {
    let (tls, dir, ca) = server(30 * 24 + 1);
    let url = tls.url("/ok");
    let (csv, prom) = (dir.path().join("r.csv"), dir.path().join("r.prom"));
    let out = run(urlcheck()
        .args(FAULT)
        .args(["--cacert", ca.to_str().unwrap(), "--cert-expiry", "7d"])
        .arg("--report")
        .arg(format!("csv={}", csv.display()))
        .arg("--report")
        .arg(format!("prometheus={}", prom.display()))
        .arg(&url));
    out.assert_code(0);
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let header = rows.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let row = rows.records().next().unwrap().unwrap();
    assert_eq!(&row[at("cert_days_left")], "30", "{text}");
    let json_expiry = {
        let doc: Value = out.json();
        doc["results"][0]["certificate"]["not_after"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(&row[at("cert_not_after")], json_expiry, "{text}");
    let scrape = prometheus(&std::fs::read_to_string(&prom).unwrap());
    let sample = scrape
        .samples
        .iter()
        .find(|s| s.metric == "urlcheck_cert_expiry_timestamp_seconds")
        .expect("the expiry metric");
    assert_eq!(sample.labels.get("url"), Some(url.as_str()));
    assert_eq!(gauge(sample) as u64, unix(&json_expiry));
    // A run without --cert-expiry keeps the CSV columns it always had.
    let out = run(urlcheck()
        .args([
            "-t",
            "1s",
            "--format",
            "csv",
            "--cacert",
            ca.to_str().unwrap(),
        ])
        .arg(&url));
    out.assert_code(0);
    assert!(
        !out.stdout().lines().next().unwrap().contains("cert_"),
        "{out}"
    );
}

#[test]
fn a_cacert_whose_certificate_is_no_usable_ca_is_exit_2_naming_the_file() {
    let dir = TempDir::new().unwrap();
    let bad = dir.path().join("broken-ca.pem");
    // Valid PEM around bytes that are no certificate: it must not be left out silently.
    std::fs::write(
        &bad,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let out = run(urlcheck()
        .args(["--cacert", bad.to_str().unwrap()])
        .arg("https://127.0.0.1:9/"));
    out.assert_code(2);
    let said = out.all_output();
    assert!(
        said.contains("broken-ca.pem") && said.contains("not usable as a CA"),
        "{out}"
    );
}

/// `openssl s_server` with a 1024-bit RSA key, self-signed, as old routers and printers
/// still show: killed on drop.
struct OldDevice(std::process::Child, u16);

impl OldDevice {
    fn start(dir: &std::path::Path) -> OldDevice {
        let (key, cert) = (dir.join("k.pem"), dir.join("c.pem"));
        let made = std::process::Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:1024", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=127.0.0.1", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("openssl is needed for this test; .ci/run installs it");
        assert!(made.status.success(), "{made:?}");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let mut child = std::process::Command::new("openssl")
            .args(["s_server", "-www", "-cipher", "DEFAULT@SECLEVEL=0"])
            .arg("-accept")
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start openssl s_server");
        // Its readiness line; a server that dies first ends the read with EOF.
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while std::io::BufRead::read_line(&mut out, &mut line).unwrap_or(0) > 0 {
            if line.contains("ACCEPT") {
                return OldDevice(child, port);
            }
            line.clear();
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("openssl s_server did not start");
    }
}

impl Drop for OldDevice {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn insecure_accepts_an_old_device_s_1024_bit_key_as_curl_k_does() {
    let dir = TempDir::new().unwrap();
    let device = OldDevice::start(dir.path());
    let url = format!("https://127.0.0.1:{}/", device.1);
    let (out, r) = check_one(&url, &["-k"]);
    out.assert_code(0);
    assert_eq!(outcome(&r), "up", "{r:#}");
    let (_, r) = check_one(&url, &[]);
    assert_eq!(error_kind(&r), "tls", "untrusted without -k: {r:#}");
}
