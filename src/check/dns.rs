//! Name lookups, each within one deadline (`--dns-timeout`), and failures that say what DNS
//! said. Two resolvers: [`SystemResolver`] (the default: `getaddrinfo` on tokio's blocking
//! pool, so /etc/hosts and resolv.conf apply) and [`ServerResolver`] (`--dns-server`: an async
//! resolver that asks exactly one server, UDP with TCP for truncated answers).
//!
//! The deadline is per lookup, A and AAAA together, because a silent server otherwise costs
//! every query type and transport its own wait (8 s with hickory's settings, 10 s and more with
//! glibc's), and reqwest's connect timeout would cut it first and call it a timeout worth
//! retrying. A failed lookup is a [`DnsError`], which the checker reports as kind `dns`.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures::future::Either;
use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use hickory_resolver::error::{ResolveError, ResolveErrorKind};
use hickory_resolver::proto::error::ProtoErrorKind;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::TokioAsyncResolver;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::time::Instant;

/// Once one of A and AAAA has addresses, the other gets this much longer: a healthy server
/// answers both in the same breath, and one that drops AAAA queries should not cost the whole
/// deadline of a name that has an IPv4 address.
const SECOND_FAMILY_GRACE: Duration = Duration::from_millis(100);

/// A failed lookup, already worded for the user; its type is what the checker recognises as
/// [`crate::model::ErrorKind::Dns`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct DnsError(String);

fn failed(message: String) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(DnsError(message))
}

fn addrs(ips: Vec<IpAddr>) -> Addrs {
    Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)))
}

fn seconds(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// The system's resolver (`getaddrinfo`), bounded by the deadline. A lookup that outlives it
/// is abandoned, not cancelled: its thread returns when the C library gives up.
pub(crate) struct SystemResolver {
    deadline: Duration,
}

impl SystemResolver {
    pub(crate) fn new(deadline: Duration) -> SystemResolver {
        SystemResolver { deadline }
    }
}

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let deadline = self.deadline;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let lookup = tokio::net::lookup_host((host.clone(), 0));
            match tokio::time::timeout(deadline, lookup).await {
                Err(_) => Err(failed(format!(
                    "no answer from the system resolver for {host} within {}",
                    seconds(deadline)
                ))),
                Ok(Err(e)) => {
                    let text = e.to_string();
                    let said = text
                        .strip_prefix("failed to lookup address information: ")
                        .unwrap_or(&text);
                    Err(failed(format!(
                        "the system resolver found no address for {host}: {said}"
                    )))
                }
                Ok(Ok(found)) => {
                    let ips: Vec<IpAddr> = found.map(|a| a.ip()).collect();
                    if ips.is_empty() {
                        return Err(failed(format!("no address records for {host}")));
                    }
                    Ok(addrs(ips))
                }
            }
        })
    }
}

/// `--dns-server`: every name is asked of that one server (not /etc/hosts; `localhost` is
/// answered locally, as RFC 6761 asks).
#[derive(Clone)]
pub(crate) struct ServerResolver {
    inner: TokioAsyncResolver,
    server: SocketAddr,
    deadline: Duration,
}

/// What one query type (A or AAAA) came to by the deadline.
type Found = Result<Vec<IpAddr>, Option<ResolveError>>;

impl ServerResolver {
    pub(crate) fn new(server: SocketAddr, deadline: Duration) -> ServerResolver {
        let group = NameServerConfigGroup::from_ips_clear(&[server.ip()], server.port(), true);
        let config = ResolverConfig::from_parts(None, vec![], group);
        let mut opts = ResolverOpts::default();
        // Two UDP tries within the deadline, so one lost datagram is not a failure.
        opts.timeout = deadline / 2;
        opts.attempts = 1;
        opts.use_hosts_file = false;
        ServerResolver {
            inner: TokioAsyncResolver::tokio(config, opts),
            server,
            deadline,
        }
    }

    /// A and AAAA at once, each until the deadline; `None` in an error is the deadline.
    async fn lookup(&self, name: hickory_resolver::Name) -> (Found, Found) {
        let until = Instant::now() + self.deadline;
        let v4 = bounded(until, async {
            let found = self.inner.ipv4_lookup(name.clone()).await?;
            Ok(found.iter().map(|a| IpAddr::V4(a.0)).collect())
        });
        let v6 = bounded(until, async {
            let found = self.inner.ipv6_lookup(name.clone()).await?;
            Ok(found.iter().map(|a| IpAddr::V6(a.0)).collect())
        });
        match futures::future::select(Box::pin(v4), Box::pin(v6)).await {
            Either::Left((v4, v6)) => {
                let v6 = second(&v4, until, v6).await;
                (v4, v6)
            }
            Either::Right((v6, v4)) => {
                let v4 = second(&v6, until, v4).await;
                (v4, v6)
            }
        }
    }

    /// Why neither A nor AAAA gave an address, in the words of the more telling failure.
    fn explain(&self, host: &str, v4: Found, v6: Found) -> String {
        let server = self.server;
        let worded = |found: Found| -> (u8, String) {
            let e = match found {
                Ok(_) => return (4, format!("no address records (A/AAAA) for {host}")),
                Err(None) => return (2, self.no_answer()),
                Err(Some(e)) => e,
            };
            match e.kind() {
                ResolveErrorKind::NoRecordsFound { response_code, .. } => match *response_code {
                    ResponseCode::NXDomain => (0, format!("NXDOMAIN: no such name {host}")),
                    ResponseCode::NoError => (4, format!("no address records (A/AAAA) for {host}")),
                    ResponseCode::ServFail => (1, format!("SERVFAIL from {server} for {host}")),
                    ResponseCode::Refused => (1, format!("REFUSED by {server} for {host}")),
                    code => (1, format!("{} from {server} for {host}", rcode_name(code))),
                },
                ResolveErrorKind::Timeout => (2, self.no_answer()),
                ResolveErrorKind::Proto(p) if matches!(p.kind(), ProtoErrorKind::Timeout) => {
                    (2, self.no_answer())
                }
                _ => (
                    3,
                    format!("no usable answer from DNS server {server} for {host}: {e}"),
                ),
            }
        };
        let (a, b) = (worded(v4), worded(v6));
        if b.0 < a.0 {
            b.1
        } else {
            a.1
        }
    }

    fn no_answer(&self) -> String {
        format!(
            "no answer from DNS server {} within {}",
            self.server,
            seconds(self.deadline)
        )
    }
}

/// `lookup`, or `Err(None)` when `until` comes first.
async fn bounded(
    until: Instant,
    lookup: impl Future<Output = Result<Vec<IpAddr>, ResolveError>>,
) -> Found {
    match tokio::time::timeout_at(until, lookup).await {
        Ok(found) => found.map_err(Some),
        Err(_) => Err(None),
    }
}

/// The other query type's result, given a short grace when the first already has addresses.
async fn second(first: &Found, until: Instant, rest: impl Future<Output = Found>) -> Found {
    match first {
        Ok(ips) if !ips.is_empty() => {
            let grace = until.min(Instant::now() + SECOND_FAMILY_GRACE);
            tokio::time::timeout_at(grace, rest)
                .await
                .unwrap_or(Err(None))
        }
        _ => rest.await,
    }
}

/// The mnemonic DNS people know a response code by.
fn rcode_name(code: ResponseCode) -> String {
    match code {
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::NotAuth => "NOTAUTH".into(),
        ResponseCode::NotZone => "NOTZONE".into(),
        other => format!("response code {}", u16::from(other)),
    }
}

impl Resolve for ServerResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            // A name with a trailing dot is already absolute.
            let host = name.as_str().trim_end_matches('.').to_owned();
            let fqdn = hickory_resolver::Name::from_utf8(format!("{host}."))
                .map_err(|e| failed(format!("{host} is not a name DNS can look up: {e}")))?;
            let (v4, v6) = this.lookup(fqdn).await;
            let mut ips = Vec::new();
            for found in [&v4, &v6] {
                ips.extend(found.iter().flatten());
            }
            if ips.is_empty() {
                return Err(failed(this.explain(&host, v4, v6)));
            }
            Ok(addrs(ips))
        })
    }
}
