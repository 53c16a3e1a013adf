//! Clean cancellation: the first Ctrl-C (or SIGTERM) stops new requests and lets the run
//! report what completed, marked interrupted; a second one exits at once.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::exit::ExitCode;

const NONE: u8 = 0;
const INT: u8 = 1;
const TERM: u8 = 2;

pub struct Signals {
    /// Cancelled on the first signal.
    pub token: CancellationToken,
    received: Arc<AtomicU8>,
}

impl Signals {
    /// Listens for SIGINT and SIGTERM for the rest of the process.
    pub fn install() -> Signals {
        let token = CancellationToken::new();
        let received = Arc::new(AtomicU8::new(NONE));
        let (t, r) = (token.clone(), received.clone());
        tokio::spawn(async move {
            let first = next_signal().await;
            r.store(first, Ordering::SeqCst);
            t.cancel();
            eprintln!("urlcheck: interrupted; reporting what completed (again to exit at once)");
            let second = next_signal().await;
            std::process::exit(code_of(second).code());
        });
        Signals { token, received }
    }

    /// Interrupted (130), terminated (143), or success when no signal came.
    pub fn exit_code(&self) -> ExitCode {
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

#[cfg(unix)]
async fn next_signal() -> u8 {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = int.recv() => INT,
        _ = term.recv() => TERM,
    }
}

#[cfg(not(unix))]
async fn next_signal() -> u8 {
    let _ = tokio::signal::ctrl_c().await;
    INT
}
