//! `--canary`: URLs checked before the list, with the run's own checker and settings, to tell
//! a network that is down from a list that is. When none is up, the run stops before the
//! list's first request (exit 3): no URL of the list is requested, reported, written into a
//! report file or recorded in the history. Canaries are never results of the run.

use std::io::{self, Write};

use anyhow::Result;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::check::{Checker, HostGate};
use crate::exit::ExitCode;
use crate::model::{Check, Outcome};
use crate::sanitize::{escape_for_terminal, redact};

/// Checks every canary at once. `None`: go on with the list (no canary given, or one is up).
/// `Some(code)`: stop now, with `Inconclusive` when none was up (said on stderr), or with
/// `Success` when a signal came first (the caller adds the signal's code).
pub(crate) async fn guard(
    canaries: &[Url],
    checker: &Checker,
    cancel: &CancellationToken,
) -> Result<Option<ExitCode>> {
    if canaries.is_empty() {
        return Ok(None);
    }
    let checks = futures::future::join_all(canaries.iter().map(|url| async move {
        // Each canary is its own host as far as politeness goes; the list's hosts start
        // with fresh gates.
        let gate = HostGate::default();
        checker.check(url, &gate, false).await
    }));
    let checks = tokio::select! {
        _ = cancel.cancelled() => return Ok(Some(ExitCode::Success)),
        checks = checks => checks,
    };
    let mut seen = Vec::with_capacity(canaries.len());
    for (url, check) in canaries.iter().zip(checks) {
        let check = check?;
        if check.outcome == Outcome::Up {
            return Ok(None);
        }
        seen.push(format!(
            "  {}: {}",
            redact(url),
            escape_for_terminal(&what(&check))
        ));
    }
    let _ = writeln!(
        io::stderr(),
        "urlcheck: no --canary was up: the network looks down, not the list; nothing of the \
         list was checked (exit 3, report files and --history left as they were)\n{}",
        seen.join("\n")
    );
    Ok(Some(ExitCode::Inconclusive))
}

/// What a canary that is not up got: `down (HTTP 503)` or `error (connect): refused...`.
fn what(check: &Check) -> String {
    match (&check.error, check.status) {
        (Some(e), _) => format!("error ({}): {}", e.kind.as_str(), e.message),
        (None, Some(status)) => format!("{} (HTTP {status})", check.outcome.as_str()),
        (None, None) => check.outcome.as_str().to_owned(),
    }
}
