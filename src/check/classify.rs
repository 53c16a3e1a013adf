//! What went wrong, in a word a machine can match: a failed request sorted into an
//! [`ErrorKind`] by walking its chain of causes, and a message without the URL's credentials.

use std::error::Error as StdError;
use std::io;

use crate::check::dns;
use crate::model::{CheckError, ErrorKind};

/// Sorts a failed request into an [`ErrorKind`] by walking its chain of causes.
pub(crate) fn classify(error: &reqwest::Error) -> CheckError {
    let chain: Vec<&(dyn StdError + 'static)> =
        std::iter::successors(Some(error as &(dyn StdError + 'static)), |e| (*e).source())
            .collect();
    // A failed lookup is worded already; the layers around it only repeat "dns error".
    let message = match chain.iter().find_map(|e| e.downcast_ref::<dns::DnsError>()) {
        Some(dns) => dns.to_string(),
        None => describe(&chain),
    };
    let kind = chain.iter().find_map(|e| kind_of(*e)).unwrap_or_else(|| {
        let lower = message.to_ascii_lowercase();
        if lower.contains("dns error") || lower.contains("failed to lookup address") {
            ErrorKind::Dns
        } else if error.is_timeout() {
            ErrorKind::Timeout
        } else if error.is_connect() {
            ErrorKind::Connect
        } else if error.is_redirect() {
            ErrorKind::Redirects
        } else if error.is_request() || error.is_body() || error.is_decode() {
            ErrorKind::Protocol
        } else {
            ErrorKind::Other
        }
    });
    CheckError::new(kind, message)
}

fn kind_of(e: &(dyn StdError + 'static)) -> Option<ErrorKind> {
    if e.downcast_ref::<dns::DnsError>().is_some() {
        return Some(ErrorKind::Dns);
    }
    if e.downcast_ref::<rustls::Error>().is_some() {
        return Some(ErrorKind::Tls);
    }
    if let Some(h) = e.downcast_ref::<hyper::Error>() {
        if h.is_incomplete_message() {
            return Some(ErrorKind::Reset);
        }
        if h.is_parse() || h.is_parse_status() {
            return Some(ErrorKind::Protocol);
        }
        if h.is_timeout() {
            return Some(ErrorKind::Timeout);
        }
    }
    if let Some(h2) = e.downcast_ref::<h2::Error>() {
        // A stream reset or GOAWAY from the server is the HTTP/2 form of a dropped connection
        // (nginx's `return 444`, a restart), whatever reason code it gives. One our own side
        // sent, because the server broke the protocol, stays `protocol`.
        if let Some(io) = h2.get_io() {
            return kind_of(io);
        }
        return (h2.is_remote() && (h2.is_reset() || h2.is_go_away())).then_some(ErrorKind::Reset);
    }
    if let Some(io) = e.downcast_ref::<io::Error>() {
        // An io::Error's source() skips the error it wraps, and TLS failures arrive as an
        // io::Error wrapping an io::Error wrapping the rustls error: look inside first.
        if let Some(kind) = io.get_ref().and_then(|inner| kind_of(inner)) {
            return Some(kind);
        }
        return match io.kind() {
            io::ErrorKind::ConnectionRefused
            | io::ErrorKind::AddrNotAvailable
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable => Some(ErrorKind::Connect),
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => Some(ErrorKind::Reset),
            io::ErrorKind::TimedOut => Some(ErrorKind::Timeout),
            _ => None,
        };
    }
    None
}

/// The causes, with reqwest's outermost level (which carries the URL and its credentials)
/// left out and repeats removed.
fn describe(chain: &[&(dyn StdError + 'static)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in chain.iter().skip(1) {
        let text = e.to_string();
        if text.starts_with("client error (") || parts.iter().any(|p| p.contains(&text)) {
            continue;
        }
        parts.push(text);
    }
    if parts.is_empty() {
        return chain[0].to_string();
    }
    parts.join(": ")
}
