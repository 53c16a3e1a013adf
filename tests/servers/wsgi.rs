//! httpbin, the WSGI test application, served by gunicorn: a server nobody on this project
//! wrote, for checking urlcheck's verdicts against what a real Python web stack sends (and
//! against curl's). `pip install httpbin gunicorn` (`.ci/run` does it); a missing gunicorn
//! fails the test that needs it, naming what to install.
//!
//! The test binds the listening socket itself on 127.0.0.1 port 0 and hands it to gunicorn
//! (`--bind fd://N`), so there is no race for a port; gunicorn and its worker are killed
//! when dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long gunicorn may take to load the app and answer its first request.
const READY_LIMIT: Duration = Duration::from_secs(30);

pub struct Httpbin {
    child: Child,
    port: u16,
}

impl Httpbin {
    /// Starts gunicorn with httpbin on a fresh loopback port and waits until it answers.
    pub fn start() -> Httpbin {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port for gunicorn");
        let port = listener.local_addr().unwrap().port();
        let fd = listener.as_raw_fd();
        let mut cmd = Command::new("python3");
        cmd.args([
            "-m",
            "gunicorn",
            "--bind",
            &format!("fd://{fd}"),
            "--workers",
            "1",
        ])
        .args(["--worker-class", "gthread", "--threads", "32"])
        .args(["--log-level", "error", "--graceful-timeout", "1"])
        .arg("httpbin:app")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group, so that the master and its worker go down together.
        .process_group(0);
        // SAFETY: between fork and exec only fcntl(2) runs, which is async-signal-safe; it
        // clears close-on-exec on the listening socket so that gunicorn inherits it.
        unsafe {
            cmd.pre_exec(move || {
                let flags = libc::fcntl(fd, libc::F_GETFD);
                if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start python3 -m gunicorn ({e}): these tests need httpbin under \
                 gunicorn; install them with `python3 -m pip install httpbin gunicorn` \
                 (.ci/run does)"
            )
        });
        drop(listener);
        let mut server = Httpbin { child, port };
        server.wait_ready();
        server
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_LIMIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll gunicorn") {
                panic!(
                    "gunicorn exited ({status}) before it answered: are httpbin and gunicorn \
                     installed? python3 -m pip install httpbin gunicorn (.ci/run does)"
                );
            }
            if self.answers() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "gunicorn did not answer within {READY_LIMIT:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// One plain request for `/status/200`, answered with a 200.
    fn answers(&self) -> bool {
        let Ok(mut conn) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
        let request = "GET /status/200 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        let mut head = [0u8; 12];
        conn.write_all(request.as_bytes()).is_ok()
            && conn.read_exact(&mut head).is_ok()
            && head.ends_with(b" 200")
    }
}

impl Drop for Httpbin {
    fn drop(&mut self) {
        if let Ok(group) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) has no memory-safety preconditions; the group is the one this
            // test made for gunicorn (its pid is our unreaped child's).
            unsafe { libc::kill(-group, libc::SIGKILL) };
        }
        let _ = self.child.wait();
    }
}
