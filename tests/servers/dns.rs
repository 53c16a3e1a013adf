//! DNS servers for the DNS tests: a real BIND 9 `named` (authoritative for `test.`, with a zone
//! that refuses every query and a secondary zone whose primary never answers, for SERVFAIL),
//! and a silent server that takes queries over UDP and TCP and never answers.
//!
//! Both bind loopback only; `named` does no recursion, has no forwarders and no control
//! channel, so no query can leave the machine. Each is stopped when dropped.

use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long `named` may take to answer its first query.
const READY_LIMIT: Duration = Duration::from_secs(20);

/// The `test.` zone. `www`, `alias` (a CNAME to `www`) and the punycode of `bücher` are
/// 127.0.0.1; `v6` is ::1 only; `txt` exists with no address; anything else is NXDOMAIN.
const TEST_ZONE: &str = "\
$TTL 60
@ IN SOA ns.test. admin.test. 1 60 60 600 60
@ IN NS ns.test.
ns IN A 127.0.0.1
www IN A 127.0.0.1
alias IN CNAME www
v6 IN AAAA ::1
txt IN TXT \"no address here\"
xn--bcher-kva IN A 127.0.0.1
";

/// A zone for names under `refused.test.` that answers nobody.
const REFUSED_ZONE: &str = "\
$TTL 60
@ IN SOA ns.test. admin.test. 1 60 60 600 60
@ IN NS ns.test.
www IN A 127.0.0.1
";

/// Where BIND's `named` is: on PATH, or in /usr/sbin, which a non-root PATH often lacks.
fn named_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("named"));
    on_path
        .chain([PathBuf::from("/usr/sbin/named")])
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "BIND's `named` is not installed; the DNS tests need a real DNS server: \
                 apt-get install bind9 (see README, Development)"
            )
        })
}

/// A port free for both UDP and TCP on 127.0.0.1 a moment ago.
fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP port on 127.0.0.1");
        let port = udp.local_addr().expect("local addr").port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// `named` from the bind9 package, on 127.0.0.1 and a random port, with its configuration
/// and zones in a temporary folder. Killed on drop.
pub struct Named {
    child: Child,
    addr: SocketAddr,
    dir: TempDir,
}

impl Named {
    /// Starts `named` and waits until it answers a query (a few tries, in case another
    /// process took the port between choosing and binding it).
    pub fn start() -> Named {
        let binary = named_binary();
        for _ in 0..3 {
            let mut named = Named::spawn(&binary, free_port());
            if named.wait_ready() {
                return named;
            }
        }
        panic!("named did not start on a free port in three tries");
    }

    fn spawn(binary: &Path, port: u16) -> Named {
        let dir = tempfile::tempdir().expect("temp dir for named");
        let d = dir.path().display();
        // The secondary zone's primary is a loopback port where nothing listens.
        let unreachable = free_port();
        let conf = format!(
            "options {{
  directory \"{d}\";
  pid-file none;
  session-keyfile \"{d}/session.key\";
  listen-on port {port} {{ 127.0.0.1; }};
  listen-on-v6 {{ none; }};
  recursion no;
  dnssec-validation no;
  notify no;
  allow-transfer {{ none; }};
}};
controls {{ }};
zone \"test.\" {{ type primary; file \"{d}/test.zone\"; }};
zone \"refused.test.\" {{ type primary; file \"{d}/refused.zone\"; allow-query {{ none; }}; }};
zone \"broken.test.\" {{ type secondary; primaries {{ 127.0.0.1 port {unreachable}; }}; }};
"
        );
        std::fs::write(dir.path().join("named.conf"), conf).expect("write named.conf");
        std::fs::write(dir.path().join("test.zone"), TEST_ZONE).expect("write test.zone");
        std::fs::write(dir.path().join("refused.zone"), REFUSED_ZONE).expect("write zone");
        let log = std::fs::File::create(dir.path().join("named.log")).expect("named.log");
        let child = Command::new(binary)
            .args(["-g", "-n", "1", "-c"])
            .arg(dir.path().join("named.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        Named {
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            dir,
        }
    }

    /// Asks for `ns.test` until the answer comes; false when `named` exited or never answered.
    fn wait_ready(&mut self) -> bool {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a query socket");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("read timeout");
        let query = a_query(0x5eed, "ns.test");
        let started = Instant::now();
        while started.elapsed() < READY_LIMIT {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            let _ = socket.send_to(&query, self.addr);
            let mut buf = [0u8; 512];
            if let Ok((n, _)) = socket.recv_from(&mut buf) {
                if n >= 12 && buf[..2] == query[..2] && buf[3] & 0x0f == 0 {
                    return true;
                }
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!(
            "named never answered within {READY_LIMIT:?}:\n{}",
            self.log()
        );
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What `named` logged, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("named.log")).unwrap_or_default()
    }
}

impl Drop for Named {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A DNS query for the A records of `name`, recursion desired.
fn a_query(id: u16, name: &str) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

/// A DNS server that never answers: a UDP socket that reads and counts queries, and a TCP
/// listener on the same port whose connections are accepted and left unanswered.
pub struct Silent {
    addr: SocketAddr,
    queries: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Silent {
    /// On 127.0.0.1 and a random port.
    pub fn start() -> Silent {
        loop {
            let udp = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP port on 127.0.0.1");
            let addr = udp.local_addr().expect("local addr");
            if let Ok(tcp) = TcpListener::bind(addr) {
                return Silent::serve(udp, tcp);
            }
        }
    }

    /// On port 53 of a random 127.x.y.z address, for a resolv.conf (which takes no port).
    /// Picking the address at random keeps two test runs on one machine apart.
    pub fn start_on_port_53() -> Silent {
        for _ in 0..50 {
            let ip = IpAddr::V4(Ipv4Addr::new(127, rand::random(), rand::random(), 2));
            let addr = SocketAddr::new(ip, 53);
            let (Ok(udp), Ok(tcp)) = (UdpSocket::bind(addr), TcpListener::bind(addr)) else {
                continue;
            };
            return Silent::serve(udp, tcp);
        }
        panic!("cannot bind port 53 on any 127.x.y.2 address (the test needs root)");
    }

    fn serve(udp: UdpSocket, tcp: TcpListener) -> Silent {
        let addr = udp.local_addr().expect("local addr");
        udp.set_read_timeout(Some(Duration::from_millis(20)))
            .expect("read timeout");
        tcp.set_nonblocking(true).expect("nonblocking listener");
        let queries = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let udp_thread = {
            let (queries, stop) = (queries.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 1500];
                while !stop.load(Ordering::SeqCst) {
                    if udp.recv_from(&mut buf).is_ok() {
                        queries.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        };
        let tcp_thread = {
            let (queries, stop) = (queries.clone(), stop.clone());
            std::thread::spawn(move || hold_tcp(tcp, &queries, &stop))
        };
        Silent {
            addr,
            queries,
            stop,
            threads: vec![udp_thread, tcp_thread],
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queries (UDP datagrams and TCP connections) received so far.
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::SeqCst)
    }
}

/// Accepts connections and keeps them open, unanswered, until `stop`.
fn hold_tcp(tcp: TcpListener, queries: &AtomicU64, stop: &AtomicBool) {
    let mut held = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match tcp.accept() {
            Ok((stream, _)) => {
                queries.fetch_add(1, Ordering::SeqCst);
                held.push(stream);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(_) => break,
        }
        // Take what was sent, and never answer.
        for stream in &mut held {
            let _ = stream.set_nonblocking(true);
            let mut buf = [0u8; 512];
            let _ = stream.read(&mut buf);
        }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A DNS server on 127.0.0.1 that answers every A query with 127.0.0.1 (and every other query
/// with no records) after `delay`: a lookup that takes a known time, for the `dns` phase. Each
/// query is answered on a thread of its own, so A and AAAA asked together come back together.
pub struct Slow {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Slow {
    pub fn start(delay: Duration) -> Slow {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the slow DNS server");
        socket
            .set_read_timeout(Some(Duration::from_millis(20)))
            .expect("read timeout");
        let addr = socket.local_addr().expect("slow DNS address");
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let socket = Arc::new(socket);
                let mut buf = [0u8; 1500];
                while !stop.load(Ordering::SeqCst) {
                    let Ok((n, from)) = socket.recv_from(&mut buf) else {
                        continue; // the read timeout: look at the stop flag again
                    };
                    let (socket, query) = (socket.clone(), buf[..n].to_vec());
                    std::thread::spawn(move || {
                        std::thread::sleep(delay);
                        if let Some(answer) = answer_loopback(&query) {
                            let _ = socket.send_to(&answer, from);
                        }
                    });
                }
            })
        };
        Slow {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Slow {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The answer to `query`: 127.0.0.1 for an A question, no records for any other.
fn answer_loopback(query: &[u8]) -> Option<Vec<u8>> {
    use hickory_resolver::proto::op::{Message, MessageType};
    use hickory_resolver::proto::rr::{rdata::A, RData, Record, RecordType};
    let query = Message::from_vec(query).ok()?;
    let mut answer = Message::new();
    answer
        .set_id(query.id())
        .set_message_type(MessageType::Response)
        .set_op_code(query.op_code())
        .set_authoritative(true)
        .set_recursion_desired(query.recursion_desired())
        .add_queries(query.queries().to_vec());
    for q in query
        .queries()
        .iter()
        .filter(|q| q.query_type() == RecordType::A)
    {
        let a = RData::A(A::new(127, 0, 0, 1));
        answer.add_answer(Record::from_rdata(q.name().clone(), 60, a));
    }
    answer.to_vec().ok()
}
