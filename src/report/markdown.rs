//! Markdown for people reading a pull request or `$GITHUB_STEP_SUMMARY`: a summary table and a
//! table of failures with their file:line.

use std::fmt::Write as _;

use super::{failure_reason, human_duration, urls, Options, Run};
use crate::model::{FailOn, Outcome, UrlResult};

/// `--format markdown`.
pub(super) fn render(run: &Run, options: Options) -> Vec<u8> {
    render_text(run, options.fail_on).into_bytes()
}

/// The whole Markdown report: the counts, then the failures in input order.
pub(super) fn render_text(run: &Run, fail_on: FailOn) -> String {
    let failures: Vec<&UrlResult> = run.failures(fail_on).collect();
    let s = &run.summary;
    let mut t = String::new();
    let verdict = if s.failed_empty(fail_on) {
        "nothing checked"
    } else if failures.is_empty() {
        "all good"
    } else {
        "failures"
    };
    let _ = writeln!(t, "## urlcheck: {}, {verdict}\n", urls(s.total()));
    if s.failed_empty(fail_on) {
        t.push_str("No URLs in the input, which `--fail-on empty` makes a failure.\n\n");
    }
    t.push_str("| outcome | URLs |\n|---|---:|\n");
    for o in Outcome::ALL {
        let _ = writeln!(t, "| {} | {} |", o.as_str(), s.count(o));
    }
    let _ = writeln!(t, "| **total** | **{}** |\n", s.total());
    let pct = |q| s.percentile(q).map_or("-".to_string(), human_duration);
    let _ = writeln!(
        t,
        "Checked in {} ({:.1} URLs/s, {} mode, concurrency {}, per host {}). \
         Latency p50 {}, p90 {}, p99 {}, max {}.",
        human_duration(s.wall),
        s.urls_per_sec(),
        run.info.mode.as_str(),
        run.info.settings.concurrency,
        run.info.settings.per_host,
        pct(0.5),
        pct(0.9),
        pct(0.99),
        s.max().map_or("-".to_string(), human_duration),
    );
    if s.interrupted {
        t.push_str("\n**Interrupted:** only the URLs that completed are counted.\n");
    }
    if !failures.is_empty() {
        let _ = writeln!(t, "\n### Failures ({})\n", failures.len());
        t.push_str("| outcome | status | URL | listed at | reason |\n|---|---:|---|---|---|\n");
        for r in &failures {
            let lines: Vec<String> = r.sources.iter().map(|s| s.to_string()).collect();
            let _ = writeln!(
                t,
                "| {} | {} | {} | {} | {} |",
                r.check.outcome.as_str(),
                r.check.status.map_or("-".to_string(), |s| s.to_string()),
                code(&r.url),
                cell(&lines.join(", ")),
                cell(&failure_reason(r)),
            );
        }
    }
    t
}

/// Table cells cannot hold pipes or line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Inline code; a backtick inside would end it early, so it is percent-encoded as in a URL.
fn code(text: &str) -> String {
    format!("`{}`", cell(&text.replace('`', "%60")))
}
