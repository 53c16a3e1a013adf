//! The run history (`--history DB`): a SQLite database (WAL, one writer at a time) that keeps
//! every run, every check's result, and per URL the state derived from them, so a run can say
//! what broke since last time, for how long, and how often (`record.rs`, with the one state
//! step in `state.rs`), and `urlcheck history` can tell it back (`show.rs`). The schema and
//! its migrations are in `schema.rs`; `docs/history.md` describes both.

mod record;
mod schema;
mod show;
mod state;
mod synth;
mod uptime;

pub(crate) use record::{Recorder, RunRecord};
pub(crate) use show::{show, Query};
pub use synth::{load_state, synthesize, Synthetic};
pub(crate) use uptime::{uptime, RunCounts, Uptime, UrlSeries, NOT_CHECKED};

use crate::model::Outcome;

/// The URL's identity in the database: the first 8 bytes of the SHA-256 of the URL as
/// reported (credentials already redacted), the same in every run and every version.
pub(crate) fn fingerprint(url: &str) -> i64 {
    let digest = ring::digest::digest(&ring::digest::SHA256, url.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest.as_ref()[..8]);
    i64::from_be_bytes(bytes)
}

/// The outcomes a history keeps, as the numbers it keeps them as: 0 is up, so a column of
/// ups costs no bytes. Invalid lines and skipped URLs were not checked, and a blocked answer
/// says nothing of the page: `None`.
pub(crate) fn outcome_code(o: Outcome) -> Option<i64> {
    match o {
        Outcome::Up => Some(0),
        Outcome::Down => Some(1),
        Outcome::Error => Some(2),
        // A blocked answer says nothing about the page: it is no check of it.
        Outcome::Invalid | Outcome::Skipped | Outcome::Blocked => None,
    }
}

/// The outcome a number in the database stands for.
pub(crate) fn outcome_from_code(n: i64) -> &'static str {
    match n {
        0 => "up",
        1 => "down",
        _ => "error",
    }
}
