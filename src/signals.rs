//! Clean cancellation: the first Ctrl-C (or SIGTERM) stops new requests and lets the run
//! report what completed, marked interrupted; a second one exits at once.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::exit::ExitCode;

const NONE: u8 = 0;
const INT: u8 = 1;
const TERM: u8 = 2;

pub(crate) struct Signals {
    /// Cancelled on the first signal.
    pub(crate) token: CancellationToken,
    received: Arc<AtomicU8>,
}

impl Signals {
    /// Listens for SIGINT and SIGTERM for the rest of the process. `cleanup` runs before a
    /// second signal ends the process at once, skipping destructors: it removes what must not
    /// outlive the process (temporary report files).
    pub(crate) fn install(cleanup: impl FnOnce() + Send + 'static) -> Signals {
        let token = CancellationToken::new();
        let received = Arc::new(AtomicU8::new(NONE));
        let (t, r) = (token.clone(), received.clone());
        let mut listener = Listener::new();
        tokio::spawn(async move {
            let first = listener.next().await;
            r.store(first, Ordering::SeqCst);
            t.cancel();
            let _ = writeln!(
                std::io::stderr(),
                "urlcheck: interrupted; reporting what completed (again to exit at once)"
            );
            // The same listeners: a second signal that arrives before this line is not lost.
            let second = listener.next().await;
            cleanup();
            std::process::exit(code_of(second).code());
        });
        Signals { token, received }
    }

    /// Interrupted (130), terminated (143), or success when no signal came.
    pub(crate) fn exit_code(&self) -> ExitCode {
        code_of(self.received.load(Ordering::SeqCst))
    }
}

fn code_of(signal: u8) -> ExitCode {
    match signal {
        INT => ExitCode::Interrupted,
        TERM => ExitCode::Terminated,
        _ => ExitCode::Success,
    }
}

/// SIGINT and SIGTERM, listened for from creation on.
#[cfg(unix)]
struct Listener {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Listener {
    fn new() -> Listener {
        use tokio::signal::unix::{signal, SignalKind};
        Listener {
            int: signal(SignalKind::interrupt()).expect("SIGINT handler"),
            term: signal(SignalKind::terminate()).expect("SIGTERM handler"),
        }
    }

    async fn next(&mut self) -> u8 {
        tokio::select! {
            _ = self.int.recv() => INT,
            _ = self.term.recv() => TERM,
        }
    }
}

#[cfg(not(unix))]
struct Listener;

#[cfg(not(unix))]
impl Listener {
    fn new() -> Listener {
        Listener
    }

    async fn next(&mut self) -> u8 {
        let _ = tokio::signal::ctrl_c().await;
        INT
    }
}
