//! One URL checked on its own, single-shot with a one-second deadline, and the assertion that
//! it ended as an `error` of a given kind within a bound: shared by the tests of faults on the
//! wire and of outcomes (redirects, DNS).

use std::time::Duration;

use serde_json::Value;

use super::json::{error_kind, message, outcome};
use super::{no_panic, result, run, urlcheck, Run};

/// Single-shot checks with a one-second deadline, results as JSON.
pub const FAULT: [&str; 6] = ["-t", "1s", "--retries", "0", "--format", "json"];
/// A run that has to stop at the deadline ends within this; generous for a loaded machine,
/// and still well below what any of the faults would take without a deadline.
pub const BOUND: Duration = Duration::from_secs(5);

/// Checks `url` alone with [`FAULT`] settings plus `extra`; returns the run and its result.
pub fn check_one(url: &str, extra: &[&str]) -> (Run, Value) {
    let out = run(urlcheck().args(FAULT).args(extra).arg(url));
    no_panic(&out);
    let doc = out.json();
    let r = result(&doc, url).clone();
    (out, r)
}

/// The fault ends as `error` of `kind` after one attempt, within [`BOUND`].
#[track_caller]
pub fn assert_fault(url: &str, kind: &str) -> (Run, Value) {
    let (out, r) = check_one(url, &[]);
    out.assert_code(1);
    assert_eq!(outcome(&r), "error", "{url}: {out}");
    assert_eq!(error_kind(&r), kind, "{url}: {out}");
    assert!(!message(&r).is_empty(), "{url}: {out}");
    assert_eq!(r["attempts"], 1, "{url}: {out}");
    assert!(out.elapsed < BOUND, "{url} took too long: {out}");
    (out, r)
}
