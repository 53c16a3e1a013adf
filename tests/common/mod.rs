//! Shared pieces of the command-line tests: the fixture server on a runtime the test owns, the
//! built binary with a clean environment, a stub DNS server that answers NXDOMAIN, a
//! pseudo-terminal for colour tests, and small JSON helpers.
//!
//! Helpers that more than one test file uses live here once: [`json`] (fields of a result),
//! [`check`] (one URL checked single-shot against a fault), [`scenario`] (the deterministic
//! run of the report tests), [`validate`] (JSON Schema and JUnit XSD), [`parse`] (Markdown
//! tables, Prometheus text), [`github`] (workflow-command annotations) and [`browser`]
//! (headless Chromium on a local HTML file: console, requests, DOM, screenshots).
//!
//! Tests are plain `#[test]` functions: the fixture runs on a multi-threaded runtime held by
//! [`Server`], while the binary runs as an ordinary child process on the test's own thread.
#![allow(dead_code)]

pub mod browser;
pub mod check;
#[path = "../../examples/fixture/mod.rs"]
pub mod fixture;
pub mod github;
pub mod json;
pub mod parse;
pub mod scenario;
pub mod validate;

use std::fs::File;
use std::io::{self, Read};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

pub use fixture::{refused_port, Fixture, Stats};

/// Environment variables that would send loopback requests elsewhere, change colour, or (when
/// the tests themselves run in GitHub Actions) turn on annotations and write to the real
/// step summary.
pub const SCRUBBED_ENV: &[&str] = &[
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "NO_COLOR",
    "GITHUB_ACTIONS",
    "GITHUB_STEP_SUMMARY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// No run of the binary in these tests should come near this; it only turns a hang into a
/// failure instead of a stuck test suite.
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

// Single-shot settings for runs that are not about timeouts or retries. The test files these
// came from each had a `FAST` of their own, with different deadlines; they keep distinct names
// here so that every test runs with exactly the deadline it was written with.

/// Settings for tests that are not about timeouts or retries: quick and single-shot.
pub const FAST_500MS: [&str; 4] = ["-t", "500ms", "--retries", "0"];

/// Single-shot with a two-second deadline: the bad-input tests.
pub const FAST_2S: [&str; 4] = ["-t", "2s", "--retries", "0"];

/// Settings for runs that are not about timeouts: single-shot, with a timeout no healthy
/// loopback request comes near.
pub const FAST_5S: [&str; 4] = ["-t", "5s", "--retries", "0"];

/// The fixture server, running on a runtime that belongs to the test. Shut down by
/// [`Server::shutdown`], or on drop if the test panics first.
pub struct Server {
    fixture: Option<Fixture>,
    runtime: tokio::runtime::Runtime,
}

impl Server {
    /// Starts the fixture on `127.0.0.1..=127.0.0.{hosts}`.
    pub fn start(hosts: usize) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("build the fixture's runtime");
        let fixture = runtime
            .block_on(Fixture::start(hosts, 0))
            .expect("start the fixture server");
        Server {
            fixture: Some(fixture),
            runtime,
        }
    }

    fn fx(&self) -> &Fixture {
        self.fixture.as_ref().expect("server is running")
    }

    /// A URL on the HTTP listener of `host` (0-based).
    pub fn url(&self, host: usize, path: &str) -> String {
        self.fx().url(host, path)
    }

    /// A URL on the raw (fault-injecting) listener of `host`.
    pub fn raw_url(&self, host: usize, path: &str) -> String {
        self.fx().raw_url(host, path)
    }

    pub fn http_port(&self) -> u16 {
        self.fx().http_addrs()[0].port()
    }

    pub fn stats(&self) -> Arc<Stats> {
        self.fx().stats()
    }

    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(fixture) = self.fixture.take() {
            self.runtime.block_on(fixture.shutdown());
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn scrub(cmd: &mut std::process::Command) {
    for name in SCRUBBED_ENV {
        cmd.env_remove(name);
    }
}

/// The built binary with proxies and NO_COLOR removed from its environment.
pub fn urlcheck() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("urlcheck").expect("the urlcheck binary");
    for name in SCRUBBED_ENV {
        cmd.env_remove(name);
    }
    cmd.timeout(RUN_LIMIT);
    cmd
}

/// The same as a `std::process::Command`, for tests that need the child itself (signals,
/// a terminal on stdout).
pub fn urlcheck_std() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("urlcheck"));
    scrub(&mut cmd);
    cmd
}

/// What a finished run left behind.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Everything the process printed, for "never appears" checks and failure messages.
    pub fn all_output(&self) -> String {
        format!("{}{}", self.stdout(), self.stderr)
    }

    /// Stdout parsed as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{self}"))
    }

    /// Stdout parsed as JSON lines.
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout()
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("line is not JSON ({e}): {l:?}\n{self}"))
            })
            .collect()
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "unexpected exit code\n{self}");
        self
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit: {:?} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code,
            self.elapsed,
            self.stdout(),
            self.stderr
        )
    }
}

/// The run did not panic: no panic message on its stderr.
#[track_caller]
pub fn no_panic(out: &Run) {
    assert!(!out.stderr.contains("panicked"), "{out}");
}

/// The same for text read from a child's stderr.
#[track_caller]
pub fn no_panic_text(text: &str) {
    assert!(!text.contains("panicked"), "{text}");
}

/// Runs the command to completion and records what it printed.
pub fn run(cmd: &mut assert_cmd::Command) -> Run {
    let started = Instant::now();
    let out = cmd.output().expect("run urlcheck");
    Run {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// Writes `content` to `dir/name` and returns the path.
pub fn write_list(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write the URL list");
    path
}

/// Lines joined with newlines, for a URL list.
pub fn lines<S: AsRef<str>>(items: &[S]) -> String {
    let mut s = String::new();
    for i in items {
        s.push_str(i.as_ref());
        s.push('\n');
    }
    s
}

/// The results array of a JSON document.
#[track_caller]
pub fn results(doc: &Value) -> &Vec<Value> {
    doc["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results array in {doc:#}"))
}

/// The one result for `url`.
#[track_caller]
pub fn result<'a>(doc: &'a Value, url: &str) -> &'a Value {
    let found: Vec<&Value> = results(doc).iter().filter(|r| r["url"] == url).collect();
    assert_eq!(found.len(), 1, "expected one result for {url} in {doc:#}");
    found[0]
}

/// `(file, line)` of every source of a result.
pub fn sources(result: &Value) -> Vec<(String, u64)> {
    result["sources"]
        .as_array()
        .unwrap_or_else(|| panic!("no sources in {result:#}"))
        .iter()
        .map(|s| {
            (
                s["file"].as_str().expect("file is a string").to_string(),
                s["line"].as_u64().expect("line is a number"),
            )
        })
        .collect()
}

/// The server never had more than `global` requests in flight, nor more than `per_host` to
/// one host, and the limits were really reached (at least `filled` at once), so a run that
/// never overlapped anything cannot pass.
#[track_caller]
pub fn assert_limits_held(stats: &Stats, global: u64, per_host: u64, filled: u64) {
    let (max, max_host) = (stats.max_in_flight(), stats.max_in_flight_per_host());
    assert!(
        max <= global,
        "global limit {global} broken: {max} in flight"
    );
    assert!(
        max_host <= per_host,
        "per-host limit {per_host} broken: {max_host} in flight"
    );
    assert!(
        max >= filled,
        "the pool never filled: at most {max} in flight"
    );
}

/// Polls `done` until it holds, or panics after `limit` naming `what`.
#[track_caller]
pub fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits for a child we started; kills it (by its own handle) and panics after `limit`.
pub fn wait_child(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("urlcheck did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sends `signal` to a child this test started.
pub fn send_signal(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is our own child, not yet
    // reaped, so it cannot name another process.
    let rc = unsafe { libc::kill(pid, signal) };
    assert_eq!(rc, 0, "kill: {}", io::Error::last_os_error());
}

/// Runs `cmd` with stdout on a fresh pseudo-terminal (stderr piped, stdin null) and returns
/// everything it wrote to the terminal, and its exit status.
pub fn run_on_pty(cmd: std::process::Command) -> (Vec<u8>, ExitStatus) {
    run_on_terminal(cmd, false)
}

/// Like [`run_on_pty`], with stderr on the same 120-column terminal as stdout, as in a person's
/// shell: the progress bar is drawn between the result lines.
pub fn run_on_terminal(mut cmd: std::process::Command, stderr_too: bool) -> (Vec<u8>, ExitStatus) {
    let (mut master, mut slave): (libc::c_int, libc::c_int) = (-1, -1);
    let size = libc::winsize {
        ws_row: 40,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: the out-pointers point at live c_ints and a live winsize; the name may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", io::Error::last_os_error());
    // SAFETY: openpty succeeded, so both are open descriptors that nothing else owns.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let stderr = if stderr_too {
        Stdio::from(slave.try_clone().expect("a second handle on the pty"))
    } else {
        Stdio::piped()
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(slave))
        .stderr(stderr);
    let mut child = cmd.spawn().expect("spawn urlcheck on a pty");
    // The command holds the slave end; once it and the child are gone, reads on the master
    // end with EIO, which is how the reader knows the output is complete.
    drop(cmd);
    let reader = std::thread::spawn(move || {
        let mut terminal = File::from(master);
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match terminal.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        out
    });
    let status = wait_child(&mut child, RUN_LIMIT);
    let out = reader.join().expect("pty reader");
    (out, status)
}

/// Accepts one connection on 127.0.0.1, keeps the request head, answers `200 OK`. For checking
/// what a client really sent, which the fixture does not record.
pub struct HeadRecorder {
    addr: SocketAddr,
    thread: Option<JoinHandle<io::Result<String>>>,
}

impl HeadRecorder {
    pub fn start() -> HeadRecorder {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the recorder");
        let addr = listener.local_addr().expect("recorder address");
        let thread = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept()?;
            stream.set_read_timeout(Some(Duration::from_secs(10)))?;
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                head.extend_from_slice(&buf[..n]);
            }
            io::Write::write_all(
                &mut stream,
                b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )?;
            Ok(String::from_utf8_lossy(&head).into_owned())
        });
        HeadRecorder {
            addr,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The request head received (waits for the one connection to have been served).
    pub fn head(mut self) -> String {
        self.thread
            .take()
            .expect("not yet joined")
            .join()
            .expect("recorder thread")
            .expect("recorder I/O")
    }
}

impl Drop for HeadRecorder {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            // Unblock a recorder still waiting in accept, then let it finish.
            let _ = std::net::TcpStream::connect(self.addr);
            let _ = t.join();
        }
    }
}

/// A DNS server on 127.0.0.1 that answers every query with NXDOMAIN, echoing the ID and the
/// question. Stopped on drop.
pub struct NxDomain {
    addr: SocketAddr,
    queries: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl NxDomain {
    pub fn start() -> NxDomain {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the DNS stub");
        socket
            .set_read_timeout(Some(Duration::from_millis(20)))
            .expect("read timeout");
        let addr = socket.local_addr().expect("DNS stub address");
        let queries = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (queries, stop) = (queries.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 1500];
                while !stop.load(Ordering::SeqCst) {
                    match socket.recv_from(&mut buf) {
                        Ok((n, from)) => {
                            if let Some(answer) = nxdomain(&buf[..n]) {
                                queries.fetch_add(1, Ordering::SeqCst);
                                let _ = socket.send_to(&answer, from);
                            }
                        }
                        // The read timeout: look at the stop flag again.
                        Err(e)
                            if matches!(
                                e.kind(),
                                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                            ) => {}
                        Err(_) => break,
                    }
                }
            })
        };
        NxDomain {
            addr,
            queries,
            stop,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queries answered so far.
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::SeqCst)
    }
}

impl Drop for NxDomain {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The NXDOMAIN answer to a query: same ID, opcode and RD; QR, RA and RCODE 3 set; the first
/// question echoed; no records. `None` for what is not a query.
fn nxdomain(query: &[u8]) -> Option<Vec<u8>> {
    if query.len() < 12 || query[2] & 0x80 != 0 {
        return None;
    }
    let qdcount = u16::from_be_bytes([query[4], query[5]]);
    let mut end = 12;
    if qdcount > 0 {
        loop {
            let len = usize::from(*query.get(end)?);
            end += 1;
            if len == 0 {
                break;
            }
            if len & 0xc0 != 0 {
                return None; // compression pointers do not occur in a question we sent for
            }
            end += len;
        }
        end += 4; // QTYPE, QCLASS
        if end > query.len() {
            return None;
        }
    }
    let mut answer = Vec::with_capacity(end);
    answer.extend_from_slice(&query[..2]);
    answer.push(0x80 | (query[2] & 0x79));
    answer.push(0x80 | 3);
    answer.extend_from_slice(&[0, u8::from(qdcount > 0), 0, 0, 0, 0, 0, 0]);
    answer.extend_from_slice(&query[12..end]);
    Some(answer)
}
