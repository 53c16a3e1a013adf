//! Servers the reliability tests need beyond the fixture: a scripted raw-TCP server that can
//! bind any loopback address (127.0.0.2, [::1]) and says exactly the bytes a test chooses, and
//! an HTTPS server with a self-signed or expired certificate made by rcgen, and a real nginx
//! (`nginx.rs`). Also a way to run the binary and learn its peak memory.
//!
//! DNS servers (a real `named`, a silent one) are in [`dns`].
//!
//! Every server binds loopback only, and stops when it is dropped.
#![allow(dead_code)]

pub mod dns;
pub mod nginx;
pub mod wsgi;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// Chooses the bytes to answer a request head with (the whole response, status line first).
pub type Responder = dyn Fn(&Head) -> Vec<u8> + Send + Sync;

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Head {
    /// Path and query from the request line.
    pub target: String,
    /// The whole head, lower-cased, for "was this header sent" checks.
    pub text: String,
}

impl Head {
    fn parse(raw: &[u8]) -> Head {
        let text = String::from_utf8_lossy(raw).to_ascii_lowercase();
        let target = String::from_utf8_lossy(raw)
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("")
            .to_string();
        Head { target, text }
    }

    /// The value of header `name` (lower-case), if it was sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.text.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            (n.trim() == name).then(|| v.trim())
        })
    }
}

/// Reads up to the blank line that ends a request head (64 KiB at most).
fn read_head(stream: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(head)
}

/// A raw HTTP/1.1 server on threads: every request head is recorded, then answered with the
/// bytes the responder returns, and the connection is closed.
pub struct Scripted {
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<Head>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Scripted {
    /// Binds `bind` (e.g. `127.0.0.2:0`, `[::1]:0`); an error when that address is not there.
    pub fn start(
        bind: &str,
        respond: impl Fn(&Head) -> Vec<u8> + Send + Sync + 'static,
    ) -> io::Result<Scripted> {
        let listener = TcpListener::bind(bind)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let heads = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let respond: Arc<Responder> = Arc::new(respond);
        let thread = {
            let (heads, stop) = (heads.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut conns = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (heads, respond) = (heads.clone(), respond.clone());
                            conns.push(std::thread::spawn(move || {
                                let _ = serve(stream, &heads, &*respond);
                            }));
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(_) => break,
                    }
                }
                for c in conns {
                    let _ = c.join();
                }
            })
        };
        Ok(Scripted {
            addr,
            heads,
            stop,
            thread: Some(thread),
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://{addr}{path}`, brackets included for IPv6.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Every request head received so far.
    pub fn heads(&self) -> Vec<Head> {
        self.heads.lock().unwrap().clone()
    }

    /// The one request for `target`; panics when there is not exactly one.
    #[track_caller]
    pub fn head_for(&self, target: &str) -> Head {
        let found: Vec<Head> = self
            .heads()
            .into_iter()
            .filter(|h| h.target == target)
            .collect();
        assert_eq!(found.len(), 1, "requests for {target}: {:?}", self.heads());
        found.into_iter().next().unwrap()
    }
}

fn serve(mut stream: TcpStream, heads: &Mutex<Vec<Head>>, respond: &Responder) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let raw = read_head(&mut stream)?;
    let head = Head::parse(&raw);
    heads.lock().unwrap().push(head.clone());
    stream.write_all(&respond(&head))?;
    stream.flush()?;
    stream.shutdown(std::net::Shutdown::Write)?;
    // Let the client read everything before the socket goes: drain until it closes.
    let mut sink = [0u8; 1024];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
    Ok(())
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A complete response with an empty body.
pub fn response(status_line: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status_line}\r\n").into_bytes();
    for (n, v) in headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"Content-Length: 0\r\nConnection: close\r\n\r\n");
    out
}

// ---------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------

/// Which certificate the HTTPS server shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cert {
    /// Self-signed for 127.0.0.1 and localhost, valid now.
    SelfSigned,
    /// Self-signed for 127.0.0.1 and localhost, valid only in 2000.
    Expired,
    /// For 127.0.0.1 and localhost, signed by a private CA made for this server (see
    /// [`TlsServer::ca_pem`]), as an internal site's certificate is.
    PrivateCa,
    /// As `PrivateCa`, and valid until this many hours from now.
    PrivateCaFor { hours: u64 },
}

/// Parameters of a server certificate for 127.0.0.1 and localhost.
fn server_params() -> rcgen::CertificateParams {
    rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("certificate names")
}

/// A server certificate for 127.0.0.1 and localhost signed by a private CA made for it, as an
/// internal site's certificate is: the certificate, its key, and the CA's PEM.
fn private_ca_certificate(hours: Option<u64>) -> (rcgen::Certificate, rcgen::KeyPair, String) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "urlcheck test CA");
    let ca_key = rcgen::KeyPair::generate().expect("generate the CA key");
    let ca = ca_params.self_signed(&ca_key).expect("self-sign the CA");
    let key = rcgen::KeyPair::generate().expect("generate a key");
    let mut params = server_params();
    if let Some(hours) = hours {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970");
        let epoch = rcgen::date_time_ymd(1970, 1, 1);
        params.not_before = epoch + (now - Duration::from_secs(3600));
        params.not_after = epoch + (now + Duration::from_secs(hours * 3600));
    }
    let cert = params
        .signed_by(&key, &ca, &ca_key)
        .expect("sign with the CA");
    (cert, key, ca.pem())
}

/// The server's certificate and key, and the PEM of the CA that signed it, if not itself.
fn certificate(
    kind: Cert,
) -> (
    CertificateDer<'static>,
    PrivateKeyDer<'static>,
    Option<String>,
) {
    let private = match kind {
        Cert::PrivateCa => Some(None),
        Cert::PrivateCaFor { hours } => Some(Some(hours)),
        Cert::SelfSigned | Cert::Expired => None,
    };
    let (cert, key, ca) = if let Some(hours) = private {
        let (cert, key, ca) = private_ca_certificate(hours);
        (cert, key, Some(ca))
    } else {
        let mut params = server_params();
        if kind == Cert::Expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2000, 12, 31);
        }
        let key = rcgen::KeyPair::generate().expect("generate a key");
        (params.self_signed(&key).expect("self-sign"), key, None)
    };
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    (cert.der().clone(), key, ca)
}

/// HTTPS on 127.0.0.1 port 0 with a certificate no client trusts, on a runtime of its own.
/// Each request is answered with the responder's bytes. Stopped on drop.
pub struct TlsServer {
    addr: SocketAddr,
    ca_pem: Option<String>,
    token: CancellationToken,
    runtime: Option<tokio::runtime::Runtime>,
}

/// How long a [`TlsServer`] waits, after the TCP connect, before it answers the ClientHello,
/// and after a request head before it answers it: known amounts for the phase timings to be
/// held against.
#[derive(Debug, Clone, Copy, Default)]
pub struct Delays {
    pub handshake: Duration,
    pub head: Duration,
}

impl TlsServer {
    pub fn start(cert: Cert, respond: impl Fn(&Head) -> Vec<u8> + Send + Sync + 'static) -> Self {
        TlsServer::delayed(cert, Delays::default(), respond)
    }

    /// As [`TlsServer::start`], waiting `delays` before the handshake and each answer.
    pub fn delayed(
        cert: Cert,
        delays: Delays,
        respond: impl Fn(&Head) -> Vec<u8> + Send + Sync + 'static,
    ) -> Self {
        let (chain, key, ca_pem) = certificate(cert);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![chain], key)
            .expect("server certificate");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("TLS server runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind the TLS server");
        let addr = listener.local_addr().expect("TLS server address");
        let token = CancellationToken::new();
        let respond: Arc<Responder> = Arc::new(respond);
        {
            let token = token.clone();
            runtime.spawn(async move {
                loop {
                    let (tcp, _) = tokio::select! {
                        _ = token.cancelled() => return,
                        accepted = listener.accept() => match accepted {
                            Ok(a) => a,
                            Err(_) => continue,
                        },
                    };
                    let (acceptor, respond, token) =
                        (acceptor.clone(), respond.clone(), token.clone());
                    tokio::spawn(async move {
                        tokio::select! {
                            _ = token.cancelled() => {}
                            _ = serve_tls(acceptor, tcp, delays, &*respond) => {}
                        }
                    });
                }
            });
        }
        TlsServer {
            addr,
            ca_pem,
            token,
            runtime: Some(runtime),
        }
    }

    /// `https://127.0.0.1:{port}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{}", self.addr, path)
    }

    /// The PEM of the private CA that signed a [`Cert::PrivateCa`] certificate.
    pub fn ca_pem(&self) -> &str {
        self.ca_pem
            .as_deref()
            .expect("a server with Cert::PrivateCa")
    }
}

async fn serve_tls(
    acceptor: tokio_rustls::TlsAcceptor,
    tcp: tokio::net::TcpStream,
    delays: Delays,
    respond: &Responder,
) -> io::Result<()> {
    // The ClientHello waits in the socket meanwhile: the client's handshake takes this longer.
    tokio::time::sleep(delays.handshake).await;
    // A client that rejects the certificate ends the handshake here: that is expected.
    let mut tls = acceptor.accept(tcp).await?;
    answer_one(&mut tls, delays.head, respond).await
}

/// Reads one request head and, `delay` later, answers it with the responder's bytes.
async fn answer_one(
    stream: &mut (impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin),
    delay: Duration,
    respond: &Responder,
) -> io::Result<()> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    while !raw.windows(4).any(|w| w == b"\r\n\r\n") && raw.len() < 64 * 1024 {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    tokio::time::sleep(delay).await;
    stream.write_all(&respond(&Head::parse(&raw))).await?;
    stream.shutdown().await
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.token.cancel();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

// ---------------------------------------------------------------------------
// A TCP connect that takes a known while
// ---------------------------------------------------------------------------

/// HTTP on 127.0.0.1 whose TCP connects wait: the kernel completes a handshake whatever the
/// server does, until its accept queue is full, and then drops the SYN, which the client sends
/// again after its retransmission timeout (1 s on Linux). So the listener has a backlog of 0
/// and one connection of its own queued; once a client is seen waiting in SYN_SENT (so a slow
/// start of the client cannot find the queue already free), it accepts nothing for `hold`, and
/// then everything, answering each request with the responder's bytes. That client's connect
/// takes at least `hold` (in practice the retransmission's 1 s). Stopped on drop.
pub struct FullBacklog {
    addr: SocketAddr,
    /// The connection that fills the queue, kept open until the server stops.
    _filler: TcpStream,
    token: CancellationToken,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FullBacklog {
    pub fn start(
        hold: Duration,
        respond: impl Fn(&Head) -> Vec<u8> + Send + Sync + 'static,
    ) -> FullBacklog {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("the full-backlog server's runtime");
        let listener = runtime
            .block_on(async {
                let socket = tokio::net::TcpSocket::new_v4()?;
                socket.bind("127.0.0.1:0".parse().expect("an address"))?;
                socket.listen(0)
            })
            .expect("listen with a backlog of 0");
        let addr = listener.local_addr().expect("its address");
        // Connected once it is in the accept queue: from here on, the queue is full.
        let filler = TcpStream::connect(addr).expect("fill the accept queue");
        let token = CancellationToken::new();
        let respond: Arc<Responder> = Arc::new(respond);
        let serving = token.clone();
        runtime.spawn(async move {
            let waiting = Instant::now();
            while !syn_sent_to(addr.port()) && waiting.elapsed() < SYN_LIMIT {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            tokio::time::sleep(hold).await;
            loop {
                let Ok((mut tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (respond, token) = (respond.clone(), serving.clone());
                tokio::spawn(async move {
                    tokio::select! {
                        _ = token.cancelled() => {}
                        _ = answer_one(&mut tcp, Duration::ZERO, &*respond) => {}
                    }
                });
            }
        });
        FullBacklog {
            addr,
            _filler: filler,
            token,
            runtime: Some(runtime),
        }
    }

    /// `http://127.0.0.1:{port}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

/// How long [`FullBacklog`] waits for a client's dropped SYN before it frees the queue anyway
/// (the test then fails on the connect time it asserts).
const SYN_LIMIT: Duration = Duration::from_secs(30);

/// Some socket of this machine is in SYN_SENT towards 127.0.0.1:`port`: a client whose SYN the
/// full queue dropped. Rows of /proc/net/tcp are `sl local remote state ...`, ports in hex.
fn syn_sent_to(port: u16) -> bool {
    let remote = format!(":{port:04X}");
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    table.lines().skip(1).any(|row| {
        let cols: Vec<&str> = row.split_whitespace().collect();
        cols.len() > 3 && cols[2].ends_with(&remote) && cols[3] == "02"
    })
}

impl Drop for FullBacklog {
    fn drop(&mut self) {
        self.token.cancel();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

// ---------------------------------------------------------------------------
// Peak memory of a run
// ---------------------------------------------------------------------------

/// What a run measured with [`run_measured`] left behind.
pub struct Measured {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// Peak resident set size of the child, in KiB (getrusage's ru_maxrss).
    pub max_rss_kib: i64,
}

impl std::fmt::Display for Measured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit: {:?} after {:?}, peak RSS {} KiB\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.elapsed, self.max_rss_kib, self.stdout, self.stderr
        )
    }
}

/// Runs `cmd` to completion (killing it after `limit`) and reaps it with wait4(2), which
/// reports the peak memory of exactly that child.
// The child is reaped by wait4, which clippy cannot see.
#[allow(clippy::zombie_processes)]
pub fn run_measured(mut cmd: Command, limit: Duration) -> Measured {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn urlcheck");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = r.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
    let deadline = started + limit;
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: all-zero is a valid rusage (plain integers and timevals).
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: the pointers are to live locals; pid is our own unreaped child.
        let rc = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(rc >= 0, "wait4: {}", io::Error::last_os_error());
        if rc == pid {
            break (status, usage);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            // SAFETY: as above; blocks until the killed child is reaped.
            unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            panic!("urlcheck did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Measured {
        code,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        elapsed: started.elapsed(),
        max_rss_kib: usage.ru_maxrss,
    }
}

/// A server that lets in only the user alice (HTTP basic auth; `YWxpY2U6` is base64 of
/// `alice:`), for two URLs that differ only in their credentials.
pub fn alice_only() -> Scripted {
    Scripted::start("127.0.0.1:0", |head| {
        if head.text.contains("authorization: basic ywxpy2u6") {
            response("200 OK", &[])
        } else {
            response("401 Unauthorized", &[])
        }
    })
    .unwrap()
}
