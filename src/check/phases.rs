//! Where a request's time went, measured where it is spent: the lookup in the resolver, the
//! TCP connect and the TLS handshake in the connector, the wait for headers around the request.
//!
//! reqwest's connector layer sees a new connection only as one span (lookup, connect and
//! handshake together) and a response never says which connection carried it, so three marks
//! are made from inside that span and tied together by two task-locals:
//! - [`send`] runs a request with its [`Sent`] in scope; the connector layer ([`TimeDials`]),
//!   called from within that request's poll, files the [`Dial`] it starts there;
//! - the layer runs the connect with its `Dial` in scope, so the resolver ([`Timed`]) and the
//!   TLS session store (`tls.rs`, asked as the ClientHello is built, the moment the TCP
//!   connect is done) mark the same `Dial`, whichever task polls it;
//! - the response's local address says whether it came over the connection this request
//!   dialed: a connection dialed for it but beaten by an idle one (hyper then finishes the
//!   dial in the background, for the pool) is not counted as its own; a kept one is `reused`.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper_util::client::legacy::connect::{Connection, HttpInfo};
use reqwest::dns::{Name, Resolve, Resolving};

use crate::model::Timings;

tokio::task_local! {
    /// The request being sent.
    static REQUEST: Arc<Sent>;
    /// The connection being opened.
    static DIAL: Arc<Dial>;
}

/// The marks of one connection being opened, each made as its phase ends.
#[derive(Default)]
struct Marks {
    /// When the lookup started and ended; none when there was none (an IP address, a name
    /// pinned with `--resolve`).
    lookup: Option<(Instant, Instant)>,
    /// When the TLS handshake began: the TCP connection was up.
    handshake: Option<Instant>,
    /// When the connector handed the connection over.
    ready: Option<Instant>,
    /// Its local address, which every response over it names.
    local: Option<SocketAddr>,
    /// It went on outside the request that asked for it: that request was served by another
    /// connection (hyper finishes such a dial in the background, for the pool).
    abandoned: bool,
}

/// One connection being opened.
pub(crate) struct Dial {
    started: Instant,
    marks: Mutex<Marks>,
}

impl Dial {
    fn marks(&self) -> MutexGuard<'_, Marks> {
        self.marks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The phases as far as they got: the lookup, the connect (to the handshake over TLS, to
    /// the connection's hand-over otherwise) and the handshake; and when it was ready.
    fn phases(&self) -> (Timings, Option<Instant>) {
        let m = self.marks();
        let connected_from = m.lookup.map_or(self.started, |(_, end)| end);
        let tcp_up = m.handshake.or(m.ready);
        let timings = Timings {
            dns: m.lookup.map(|(start, end)| end - start),
            connect: tcp_up.map(|at| at.saturating_duration_since(connected_from)),
            tls: m
                .handshake
                .zip(m.ready)
                .map(|(start, end)| end.saturating_duration_since(start)),
            ttfb: None,
            total: Duration::ZERO,
            reused: false,
        };
        (timings, m.ready)
    }
}

/// One request being sent, and the connection its connector opened for it, if it did.
#[derive(Default)]
pub(crate) struct Sent {
    dial: Mutex<Option<Arc<Dial>>>,
}

impl Sent {
    fn dial(&self) -> MutexGuard<'_, Option<Arc<Dial>>> {
        self.dial.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The timings of a request sent at `sent` that ended at `done`; `answer`, when headers
    /// came: when, and over the connection at which local address (none: it failed).
    pub(crate) fn timings(
        &self,
        sent: Instant,
        answer: Option<(Instant, Option<SocketAddr>)>,
        done: Instant,
    ) -> Timings {
        let dial = self.dial().clone();
        let own = dial.filter(|d| {
            let m = d.marks();
            match answer {
                // A response names its connection; a failure is the dial's, unless the request
                // went on without it.
                Some((_, Some(local))) => m.local == Some(local),
                Some((_, None)) | None => !m.abandoned,
            }
        });
        let (mut timings, ready) = match own {
            Some(d) => d.phases(),
            None => (Timings::reused(), None),
        };
        timings.ttfb =
            answer.map(|(headers, _)| headers.saturating_duration_since(ready.unwrap_or(sent)));
        timings.total = done.saturating_duration_since(sent);
        timings
    }
}

/// Sends a request with its [`Sent`] in scope, for the connector to file its dial in.
pub(crate) async fn send<F: Future>(request: F) -> (F::Output, Arc<Sent>) {
    let sent = Arc::new(Sent::default());
    let output = REQUEST.scope(sent.clone(), request).await;
    (output, sent)
}

/// The local address of the connection a response came over.
pub(crate) fn local_address(response: &reqwest::Response) -> Option<SocketAddr> {
    response
        .extensions()
        .get::<HttpInfo>()
        .map(HttpInfo::local_addr)
}

/// The TLS handshake of the connection being opened begins now (the first call counts).
pub(crate) fn handshake_begins() {
    let _ = DIAL.try_with(|dial| {
        dial.marks().handshake.get_or_insert_with(Instant::now);
    });
}

/// A connector layer that times each connection it opens and files it with the request
/// that asked for it.
#[derive(Clone)]
pub(crate) struct TimeDials;

impl<S> tower_layer::Layer<S> for TimeDials {
    type Service = Timing<S>;

    fn layer(&self, inner: S) -> Timing<S> {
        Timing(inner)
    }
}

#[derive(Clone)]
pub(crate) struct Timing<S>(S);

type Connecting<C, E> = Pin<Box<dyn Future<Output = Result<C, E>> + Send>>;

impl<S, R> tower_service::Service<R> for Timing<S>
where
    S: tower_service::Service<R>,
    S::Response: Connection,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Connecting<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let dial = Arc::new(Dial {
            started: Instant::now(),
            marks: Mutex::default(),
        });
        let filed = REQUEST
            .try_with(|sent| {
                *sent.dial() = Some(dial.clone());
                sent.clone()
            })
            .ok();
        let mut connecting = Box::pin(DIAL.sync_scope(dial.clone(), || self.0.call(request)));
        let watched = {
            let dial = dial.clone();
            futures::future::poll_fn(move |cx| {
                let asker = |sent: &Arc<Sent>| REQUEST.try_with(|s| Arc::ptr_eq(s, sent));
                if filed
                    .as_ref()
                    .is_some_and(|sent| !asker(sent).unwrap_or(false))
                {
                    dial.marks().abandoned = true;
                }
                connecting.as_mut().poll(cx)
            })
        };
        Box::pin(DIAL.scope(dial.clone(), async move {
            let connected = watched.await?;
            let mut extras = http::Extensions::new();
            connected.connected().get_extras(&mut extras);
            let mut marks = dial.marks();
            marks.ready = Some(Instant::now());
            marks.local = extras.get::<HttpInfo>().map(HttpInfo::local_addr);
            drop(marks);
            Ok(connected)
        }))
    }
}

/// A resolver that marks how long each lookup of a connection being opened took.
pub(crate) struct Timed(pub(crate) Arc<dyn Resolve>);

impl Resolve for Timed {
    fn resolve(&self, name: Name) -> Resolving {
        let dial = DIAL.try_with(Arc::clone).ok();
        let started = Instant::now();
        let lookup = self.0.resolve(name);
        Box::pin(async move {
            let found = lookup.await;
            if let Some(dial) = dial {
                dial.marks().lookup = Some((started, Instant::now()));
            }
            found
        })
    }
}
