//! A real nginx for tests of behaviour that only a real server shows (HTTP/2 over TLS with
//! ALPN, `return 444`, `add_header`, cookies set with `if`): started in the foreground, with
//! its config, certificate, pid, logs and temporary files in a folder of its own, listening on
//! 127.0.0.1 only, and killed when dropped.
//!
//! Each test hands in the inside of the one `server { }` block (its `location`s). The server
//! listens twice: TLS with HTTP/2 offered by ALPN ([`Nginx::https`]) and plain HTTP/1.1
//! ([`Nginx::http`]). Its certificate, for 127.0.0.1 and localhost, is signed by a private CA
//! made for it; pass [`Nginx::ca_file`] to `--cacert`.
//!
//! nginx missing is a failure that says how to install it, never a skip.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long nginx may take to start accepting connections on a loaded machine.
const START_LIMIT: Duration = Duration::from_secs(20);

/// A running nginx; killed (by its own pid) and reaped on drop.
pub struct Nginx {
    dir: tempfile::TempDir,
    child: Child,
    https_port: u16,
    http_port: u16,
}

impl Nginx {
    /// Starts nginx with `locations` inside its `server` block, and waits until both ports
    /// accept connections. The ports are free when chosen, but another process may take one
    /// before nginx binds it: then nginx exits, and it is started again on other ports (three
    /// tries). Panics with nginx's error log when it does not start.
    #[track_caller]
    pub fn start(locations: &str) -> Nginx {
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Nginx::try_start(locations) {
                Ok(nginx) => return nginx,
                Err(log) => failures.push(log),
            }
        }
        panic!("nginx did not start:\n{}", failures.join("\n---\n"));
    }

    fn try_start(locations: &str) -> Result<Nginx, String> {
        let binary = binary();
        let dir = tempfile::TempDir::new().expect("a folder for nginx");
        write_certificate(dir.path());
        let (https_port, http_port) = free_ports();
        let conf = config(dir.path(), https_port, http_port, locations);
        std::fs::write(dir.path().join("nginx.conf"), conf).expect("write nginx.conf");
        let child = Command::new(&binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut nginx = Nginx {
            dir,
            child,
            https_port,
            http_port,
        };
        nginx.wait_accepting()?;
        Ok(nginx)
    }

    /// `https://127.0.0.1:{port}{path}`: TLS, HTTP/2 by ALPN.
    pub fn https(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.https_port)
    }

    /// `http://127.0.0.1:{port}{path}`: plain HTTP/1.1.
    pub fn http(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }

    /// The PEM file of the private CA that signed the server's certificate.
    pub fn ca_file(&self) -> String {
        self.dir.path().join("ca.pem").display().to_string()
    }

    /// The access log so far, one line a request: `METHOD URI STATUS "COOKIE-HEADER"`.
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    /// nginx's error log so far.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// Until both ports accept; the error log when nginx exits first or takes too long.
    fn wait_accepting(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_LIMIT;
        for port in [self.https_port, self.http_port] {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                if let Some(status) = self.child.try_wait().expect("poll nginx") {
                    return Err(format!("nginx exited ({status}):\n{}", self.error_log()));
                }
                if Instant::now() >= deadline {
                    return Err(format!(
                        "nginx did not accept on port {port} within {START_LIMIT:?}:\n{}",
                        self.error_log()
                    ));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        Ok(())
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx from PATH or the Debian location; a clear failure when it is not installed.
fn binary() -> PathBuf {
    let on_path = std::env::var_os("PATH").into_iter().flat_map(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("nginx"))
            .collect::<Vec<_>>()
    });
    on_path
        .chain([PathBuf::from("/usr/sbin/nginx")])
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "nginx is not installed; these tests need a real nginx: \
                 `apt-get install nginx` (see README, Development)"
            )
        })
}

/// Two distinct ports nobody listens on now (both held at once while they are chosen, so
/// they differ). nginx binds them a moment later; a clash makes it exit, and `start` tries
/// again.
fn free_ports() -> (u16, u16) {
    let bind = || TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let (a, b) = (bind(), bind());
    let port = |l: &TcpListener| l.local_addr().expect("port").port();
    (port(&a), port(&b))
}

/// The whole config: one process in the foreground, everything it writes in `dir`.
fn config(dir: &Path, https_port: u16, http_port: u16, locations: &str) -> String {
    let d = dir.display();
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    log_format urlcheck '$request_method $request_uri $status "$http_cookie"';
    access_log {d}/access.log urlcheck;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    default_type text/plain;
    server {{
        listen 127.0.0.1:{https_port} ssl http2;
        listen 127.0.0.1:{http_port};
        server_name localhost;
        ssl_certificate {d}/cert.pem;
        ssl_certificate_key {d}/key.pem;
{locations}
    }}
}}
"#
    )
}

/// The server's certificate and key, and the private CA that signed them, as PEM files.
fn write_certificate(dir: &Path) {
    let write = |name: &str, pem: String| -> io::Result<()> { std::fs::write(dir.join(name), pem) };
    let (cert, key, ca) = super::private_ca_certificate(None);
    write("cert.pem", cert.pem()).expect("write cert.pem");
    write("key.pem", key.serialize_pem()).expect("write key.pem");
    write("ca.pem", ca).expect("write ca.pem");
}
