//! The leaf certificate of an https answer: when it expires, whom it is for and who issued it,
//! read from the DER the TLS handshake showed (reqwest's `TlsInfo`), with x509-parser.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::model::Certificate;
use crate::sanitize::escape_for_terminal;

/// What `der` says, as of `now`; `None` when it is no certificate x509-parser can read (the
/// handshake accepted it, so this is rare: then the result carries no certificate).
pub(crate) fn describe(der: &[u8], now: SystemTime) -> Option<Certificate> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let not_after_secs = cert.validity().not_after.timestamp();
    // 9999-12-31T23:59:59Z at most, the last second RFC 3339 (and X.509) can write.
    let not_after_secs = not_after_secs.clamp(0, 253_402_300_799);
    let not_after = UNIX_EPOCH + Duration::from_secs(not_after_secs as u64);
    let now_secs = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let sans = match cert.subject_alternative_name() {
        Ok(Some(ext)) => ext.value.general_names.iter().filter_map(name).collect(),
        _ => Vec::new(),
    };
    Some(Certificate {
        not_after,
        days_left: (not_after_secs - now_secs).div_euclid(86_400),
        // Names in a certificate are the server's text: escaped as any server text is.
        subject: escape_for_terminal(&cert.subject().to_string()),
        issuer: escape_for_terminal(&cert.issuer().to_string()),
        sans,
    })
}

/// Why `c` fails `--cert-expiry within`, as of `now`: it expires (or expired) before
/// `now + within`.
pub(crate) fn expires_within(c: &Certificate, within: Duration, now: SystemTime) -> Option<String> {
    let limit = humantime::format_duration(within);
    expires_before(c, within, now).map(|why| format!("{why} (--cert-expiry {limit})"))
}

/// That `c` expires (or expired) before `now + within`, said as a fact: "the certificate
/// expires on 2027-01-02T00:00:00Z, in 3 days".
pub(crate) fn expires_before(c: &Certificate, within: Duration, now: SystemTime) -> Option<String> {
    if c.not_after > now + within {
        return None;
    }
    let when = humantime::format_rfc3339_seconds(c.not_after);
    Some(match c.days_left {
        _ if c.not_after <= now => format!("the certificate expired on {when}"),
        1 => format!("the certificate expires on {when}, in 1 day"),
        d => format!("the certificate expires on {when}, in {d} days"),
    })
}

/// A subject alternative name as text: DNS names and IP addresses (others are left out).
fn name(n: &GeneralName<'_>) -> Option<String> {
    match n {
        GeneralName::DNSName(dns) => Some(escape_for_terminal(dns)),
        GeneralName::IPAddress(bytes) => match bytes.len() {
            4 => <[u8; 4]>::try_from(*bytes)
                .ok()
                .map(|b| IpAddr::from(b).to_string()),
            16 => <[u8; 16]>::try_from(*bytes)
                .ok()
                .map(|b| IpAddr::from(b).to_string()),
            _ => None,
        },
        _ => None,
    }
}
