//! Connections, which hold descriptors and memory: which client a request goes through, and
//! what happens when the process runs out of descriptors.
//!
//! hyper's pool keeps idle connections per host with no cap over all hosts, so a list of 5,000
//! hosts would keep 5,000 sockets open. Two clients bound that:
//! - a request the dispatcher expects its host to follow (`keep`) goes through the *kept*
//!   client, whose pool reuses connections. Its connects are counted, and once they reach the
//!   idle budget ([`crate::fdlimit::Fit::idle`]) the client is replaced by a fresh one: the old
//!   pool, and every idle connection in it, closes when its last request ends. So the kept
//!   connections never outnumber the budget, HTTP/1.1 or HTTP/2;
//! - any other request goes through the *single* client, which pools nothing: its connection
//!   closes with its response, so a host seen once costs a socket only while it is asked.
//!
//! Running out of descriptors anyway (other files, a limit lower than it said) is a local
//! fault, never the URL's: [`Pool::relieve`] flushes the kept pool, waits and lets the request
//! be sent again, and only when no request anywhere got a descriptor for a long while does the
//! run stop, with a message.

use std::error::Error as StdError;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Result;

/// How long a request waits for a descriptor before it tries again, at first and at most.
const WAIT_FIRST: Duration = Duration::from_millis(5);
const WAIT_MAX: Duration = Duration::from_millis(250);
/// Running out of descriptors halves the idle budget, down to this.
const IDLE_MIN: usize = 8;

/// The run ran out of descriptors and none came free: it cannot go on, and no URL is to blame.
#[derive(Debug, thiserror::Error)]
#[error(
    "out of file descriptors: no request could open a connection for {waited:?} (raise the \
     limit with `ulimit -n`, or lower --concurrency)"
)]
pub(crate) struct LocalFault {
    waited: Duration,
}

/// Makes a client that keeps at most `idle_per_host` idle connections per host and counts
/// every connection it opens in `connects`.
pub(crate) type Build =
    Box<dyn Fn(usize, Arc<AtomicUsize>) -> Result<reqwest::Client> + Send + Sync>;

/// One kept client and the connections it opened.
struct Generation {
    client: reqwest::Client,
    connects: Arc<AtomicUsize>,
}

pub(crate) struct Pool {
    build: Build,
    per_host: usize,
    /// Connects a kept client may make before it is replaced; lowered when descriptors run
    /// out while kept connections hold some.
    idle: AtomicUsize,
    kept: Mutex<Generation>,
    single: reqwest::Client,
    /// How many times a request found no descriptor free, for the dispatcher to see.
    pressure: AtomicU64,
    /// When the pool was made, and how long after that a request last got a connection (or
    /// an answer that was not about descriptors), in milliseconds: an atomic, as every
    /// request sets it.
    epoch: Instant,
    progress_ms: AtomicU64,
    /// No request got a descriptor for this long: the run stops.
    give_up: Duration,
}

impl Pool {
    pub(crate) fn new(
        build: Build,
        per_host: usize,
        idle: usize,
        give_up: Duration,
    ) -> Result<Pool> {
        let kept = generation(&build, per_host)?;
        let single = build(0, Arc::default())?;
        Ok(Pool {
            build,
            per_host,
            idle: AtomicUsize::new(idle.max(1)),
            kept: Mutex::new(kept),
            single,
            pressure: AtomicU64::new(0),
            epoch: Instant::now(),
            progress_ms: AtomicU64::new(0),
            give_up,
        })
    }

    /// The client for a request: the kept one when its connection is worth keeping.
    pub(crate) fn client(&self, keep: bool) -> reqwest::Client {
        if !keep {
            return self.single.clone();
        }
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.connects.load(Ordering::Relaxed) >= self.idle.load(Ordering::Relaxed) {
            self.renew(&mut kept);
        }
        kept.client.clone()
    }

    fn renew(&self, kept: &mut Generation) {
        // A client that cannot be built again keeps serving: the cap is a bound, not a need.
        if let Ok(fresh) = generation(&self.build, self.per_host) {
            *kept = fresh;
        }
    }

    /// A request got through to the network (or failed for a reason of its own).
    pub(crate) fn progressed(&self) {
        let now = self.epoch.elapsed().as_millis() as u64;
        self.progress_ms.fetch_max(now, Ordering::Relaxed);
    }

    /// Times a request found no descriptor free and no idle connection held one, so far.
    pub(crate) fn pressure(&self) -> u64 {
        self.pressure.load(Ordering::Relaxed)
    }

    /// A request found no descriptor free, for the `tries`-th time in a row: closes the idle
    /// kept connections (and keeps half as many from now on) or, when there were none, counts
    /// it as pressure for the dispatcher; then waits a little before the request is sent
    /// again. Fails when nothing got a descriptor for [`Pool::give_up`].
    pub(crate) async fn relieve(&self, tries: u32) -> Result<(), LocalFault> {
        let flushed = {
            let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
            let connects = kept.connects.load(Ordering::Relaxed);
            if connects > 0 {
                self.renew(&mut kept);
                let idle = self.idle.load(Ordering::Relaxed);
                let fewer = (idle.min(connects) / 2).max(IDLE_MIN).min(idle);
                self.idle.store(fewer, Ordering::Relaxed);
            }
            connects > 0
        };
        if !flushed {
            self.pressure.fetch_add(1, Ordering::Relaxed);
        }
        let last = Duration::from_millis(self.progress_ms.load(Ordering::Relaxed));
        let since = self.epoch.elapsed().saturating_sub(last);
        if since >= self.give_up {
            return Err(LocalFault { waited: since });
        }
        let wait = WAIT_FIRST.saturating_mul(1 << tries.min(8)).min(WAIT_MAX);
        tokio::time::sleep(wait).await;
        Ok(())
    }
}

fn generation(build: &Build, per_host: usize) -> Result<Generation> {
    let connects = Arc::new(AtomicUsize::new(0));
    let client = build(per_host, connects.clone())?;
    Ok(Generation { client, connects })
}

/// The process (EMFILE) or the system (ENFILE) has no descriptor left: somewhere in the causes
/// of a failed request, as an OS error or in the words of a library that kept only the text.
pub(crate) fn out_of_descriptors(error: &reqwest::Error) -> bool {
    const EMFILE: i32 = 24;
    const ENFILE: i32 = 23;
    let mut cause: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(io.raw_os_error(), Some(EMFILE | ENFILE)) {
                return true;
            }
        }
        let text = e.to_string();
        if text.contains("Too many open files") || text.contains("os error 24") {
            return true;
        }
        cause = e.source();
    }
    false
}

/// A connector layer that counts the connections a client opens.
#[derive(Clone)]
pub(crate) struct CountConnects(pub(crate) Arc<AtomicUsize>);

impl<S> tower_layer::Layer<S> for CountConnects {
    type Service = Counted<S>;

    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            connects: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Counted<S> {
    inner: S,
    connects: Arc<AtomicUsize>,
}

impl<S: tower_service::Service<R>, R> tower_service::Service<R> for Counted<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> S::Future {
        self.connects.fetch_add(1, Ordering::Relaxed);
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(give_up: Duration) -> Pool {
        // As `Checker::new` does: reqwest is built without a crypto provider of its own.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let build: Build = Box::new(|idle, connects| {
            Ok(reqwest::Client::builder()
                .pool_max_idle_per_host(idle)
                .connector_layer(CountConnects(connects))
                .build()?)
        });
        Pool::new(build, 4, 16, give_up).unwrap()
    }

    #[test]
    fn the_kept_client_is_replaced_once_its_connects_reach_the_budget() {
        let p = pool(Duration::from_secs(1));
        let first = p.kept.lock().unwrap().connects.clone();
        p.client(true);
        first.store(16, Ordering::Relaxed);
        p.client(true);
        let now = p.kept.lock().unwrap().connects.clone();
        assert!(
            !Arc::ptr_eq(&first, &now),
            "a new generation after the budget"
        );
        assert_eq!(now.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn running_out_with_kept_connections_flushes_them_and_keeps_fewer() {
        let p = pool(Duration::from_secs(1));
        p.kept.lock().unwrap().connects.store(12, Ordering::Relaxed);
        p.relieve(0).await.unwrap();
        assert_eq!(p.idle.load(Ordering::Relaxed), 8);
        assert_eq!(p.kept.lock().unwrap().connects.load(Ordering::Relaxed), 0);
        assert_eq!(p.pressure(), 0, "the flush was the relief");
    }

    #[tokio::test]
    async fn waiting_for_descriptors_ends_in_a_local_fault_when_none_come_free() {
        let p = pool(Duration::from_millis(30));
        assert!(p.relieve(0).await.is_ok());
        let mut tries = 1;
        let fault = loop {
            match p.relieve(tries).await {
                Ok(()) => tries += 1,
                Err(fault) => break fault,
            }
        };
        assert!(fault.to_string().contains("ulimit -n"), "{fault}");
        assert!(p.pressure() >= 2, "nothing to flush: pressure");
        // Any request that gets through starts the clock again.
        p.progressed();
        assert!(p.relieve(0).await.is_ok());
    }
}
