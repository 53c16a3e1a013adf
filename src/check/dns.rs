//! `--dns-server`: resolve names with an async resolver pointed at one server, instead of the
//! system's `getaddrinfo` on a thread pool. Lets a user (or a test) choose exactly who is asked,
//! and turns NXDOMAIN into a `dns` error as soon as the answer arrives.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use hickory_resolver::TokioAsyncResolver;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A failed lookup; its type is what the checker recognises as [`crate::model::ErrorKind::Dns`].
#[derive(Debug, thiserror::Error)]
#[error("dns error: {0}")]
pub(crate) struct DnsError(String);

pub(crate) struct Resolver {
    inner: TokioAsyncResolver,
}

impl Resolver {
    pub(crate) fn new(server: SocketAddr) -> Resolver {
        let group = NameServerConfigGroup::from_ips_clear(&[server.ip()], server.port(), true);
        let config = ResolverConfig::from_parts(None, vec![], group);
        let mut opts = ResolverOpts::default();
        opts.timeout = Duration::from_secs(2);
        opts.attempts = 1;
        Resolver {
            inner: TokioAsyncResolver::tokio(config, opts),
        }
    }
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver = self.inner.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            match resolver.lookup_ip(format!("{host}.")).await {
                Ok(ips) => {
                    let addrs: Addrs = Box::new(
                        ips.into_iter()
                            .map(|ip| SocketAddr::new(ip, 0))
                            .collect::<Vec<_>>()
                            .into_iter(),
                    );
                    Ok(addrs)
                }
                Err(e) => Err(Box::new(DnsError(format!("{host}: {e}"))) as _),
            }
        })
    }
}
