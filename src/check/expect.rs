//! urlcheck.toml's `[[expect]]` tables, judged: what the final answer showed (its headers,
//! a bounded prefix of its body) against what the tables that match the URL ask of it. Every
//! failed expectation is named, with where its table was written and what was seen.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use crate::config::{ExpectTable, Expectation};
use crate::model::{Certificate, StatusSet};
use crate::sanitize::escape_for_terminal;

use super::cert;

/// What the expectations of a URL need of its final answer.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Wants {
    /// Its headers, kept.
    pub headers: bool,
    /// Its body's first bytes (`config::BODY_LIMIT`).
    pub body: bool,
}

impl Wants {
    pub(super) fn of(tables: &[&ExpectTable]) -> Wants {
        let all = || tables.iter().flat_map(|t| &t.expectations);
        Wants {
            headers: all().any(|e| matches!(e, Expectation::Header(..))),
            body: all().any(Expectation::reads_body),
        }
    }

    pub(super) fn any(self) -> bool {
        self.headers || self.body
    }
}

/// What the final answer showed of itself, for the expectations.
#[derive(Debug, Default)]
pub(super) struct Seen {
    pub headers: HeaderMap,
    /// The body's first bytes, up to 1 MiB (`config::BODY_LIMIT`), as far as they came in
    /// time; empty unless a body expectation wants it.
    pub body: Vec<u8>,
}

/// The statuses the tables accept, when one of them sets `status`: the first such wins.
pub(super) fn status<'a>(tables: &[&'a ExpectTable]) -> Option<&'a StatusSet> {
    tables
        .iter()
        .flat_map(|t| &t.expectations)
        .find_map(|e| match e {
            Expectation::Status(set) => Some(set),
            _ => None,
        })
}

/// What the final answer showed, and when.
pub(super) struct Answered<'a> {
    pub status: u16,
    pub seen: Option<&'a Seen>,
    pub elapsed: Duration,
    pub certificate: Option<&'a Certificate>,
    pub https: bool,
    pub now: SystemTime,
}

/// Each expectation of `tables` that `answered` fails, said as `key (file:line): why`.
pub(super) fn judge(tables: &[&ExpectTable], answered: &Answered<'_>) -> Vec<String> {
    let mut failed = Vec::new();
    for table in tables {
        for expectation in &table.expectations {
            if let Some(why) = fails(expectation, answered) {
                failed.push(format!("{} ({}): {why}", expectation.key(), table.origin));
            }
        }
    }
    failed
}

/// Why `answered` fails `expectation`, if it does.
fn fails(expectation: &Expectation, a: &Answered<'_>) -> Option<String> {
    let body = a.seen.map_or(&[][..], |s| &s.body[..]);
    let read = || format!("the body's first {} bytes", body.len());
    match expectation {
        Expectation::Status(set) => {
            (!set.contains(a.status)).then(|| format!("expected {set}, got {}", a.status))
        }
        Expectation::BodyContains(text) => (memchr::memmem::find(body, text.as_bytes()))
            .is_none()
            .then(|| format!("{text:?} not in {}", read())),
        Expectation::BodyRegex(regex) => (!regex.is_match(&String::from_utf8_lossy(body)))
            .then(|| format!("no match for {:?} in {}", regex.as_str(), read())),
        Expectation::MaxLatency(max) => (a.elapsed > *max).then(|| {
            format!(
                "took {}, expected at most {}",
                humantime::format_duration(round_ms(a.elapsed)),
                humantime::format_duration(*max)
            )
        }),
        Expectation::Header(name, value) => {
            let got = a.seen.and_then(|s| s.headers.get(name));
            match (got, value) {
                (None, _) => Some(format!("no {name} header")),
                (Some(got), Some(want)) if got.as_bytes() != want.as_bytes() => Some(format!(
                    "{name} is {:?}, expected {want:?}",
                    escape_for_terminal(&String::from_utf8_lossy(got.as_bytes()))
                )),
                _ => None,
            }
        }
        Expectation::CertExpiry(within) => match a.certificate {
            None if !a.https => Some("the URL is not https: there is no certificate".into()),
            None => Some("the answer showed no readable certificate".into()),
            Some(c) => cert::expires_before(c, *within, a.now).map(|why| {
                format!(
                    "{why}, expected at least {}",
                    humantime::format_duration(*within)
                )
            }),
        },
    }
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}
