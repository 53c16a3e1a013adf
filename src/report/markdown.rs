//! Markdown for people reading a pull request or `$GITHUB_STEP_SUMMARY`: a summary table and a
//! table of failures with their file:line. With `--history`, the history counts come first and
//! the newly broken failures head the table, which gains a `history` column.

use std::fmt::Write as _;

use super::{
    failure_reason, history_counts_text, history_note, human_duration, is_news, listed_at,
    status_text, urls, Options, Run,
};
use crate::model::{FailOn, Outcome, UrlResult};

/// `--format markdown`.
pub(super) fn render(run: &Run, options: Options) -> Vec<u8> {
    render_text(run, options.fail_on).into_bytes()
}

/// The whole Markdown report: the counts, then the failures in input order (the newly broken
/// first).
pub(super) fn render_text(run: &Run, fail_on: FailOn) -> String {
    let failures = run.failures_news_first(fail_on);
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
    if let Some(counts) = &s.history {
        let _ = writeln!(t, "**History:** {}.\n", history_counts_text(counts));
    }
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
        failure_table(&mut t, &failures, s.history.is_some());
    }
    t
}

/// `### Failures (N)` and its table; with a history, a last column says what it says.
fn failure_table(t: &mut String, failures: &[&UrlResult], history: bool) {
    let _ = writeln!(t, "\n### Failures ({})\n", failures.len());
    t.push_str("| outcome | status | URL | listed at | reason |");
    t.push_str(if history { " history |\n" } else { "\n" });
    t.push_str("|---|---:|---|---|---|");
    t.push_str(if history { "---|\n" } else { "\n" });
    for r in failures {
        let _ = write!(
            t,
            "| {} | {} | {} | {} | {} |",
            r.check.outcome.as_str(),
            status_text(r),
            code(&r.url),
            cell(&listed_at(r)),
            cell(&failure_reason(r)),
        );
        if history {
            let note = match r.history.as_ref().and_then(history_note) {
                Some(note) if is_news(r) => format!("**{note}**"),
                Some(note) => note,
                None => "-".to_string(),
            };
            let _ = write!(t, " {note} |");
        }
        t.push('\n');
    }
}

/// Table cells cannot hold pipes or line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Inline code; a backtick inside would end it early, so it is percent-encoded as in a URL.
fn code(text: &str) -> String {
    format!("`{}`", cell(&text.replace('`', "%60")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::options;
    use crate::report::tests::history_run;

    #[test]
    fn history_counts_come_first_and_the_newly_broken_head_the_failures() {
        let text = render_text(&history_run(), options().fail_on);
        let history = "**History:** 1 newly broken, 1 recovered, 1 still broken, 1 flapping, \
                       1 first seen.\n";
        assert!(text.contains(history), "{text}");
        assert!(
            text.find(history) < text.find("| outcome | URLs |"),
            "{text}"
        );
        let rows: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("### Failures"))
            .collect();
        assert_eq!(
            rows[2],
            "| outcome | status | URL | listed at | reason | history |"
        );
        assert_eq!(rows[3], "|---|---:|---|---|---|---|");
        assert_eq!(
            rows[4],
            "| down | 500 | `https://x/new` | list.txt:3 | HTTP 500 Internal Server Error | \
             **newly broken** |"
        );
        assert!(rows[5].ends_with("| failing 3 runs in a row |"), "{text}");
        assert!(rows[6].ends_with("| flapping |"), "{text}");
    }

    #[test]
    fn without_a_history_the_failure_table_is_unchanged() {
        let mut run = history_run();
        run.results.iter_mut().for_each(|r| r.history = None);
        run.summary.history = None;
        let text = render_text(&run, options().fail_on);
        assert!(!text.contains("istory"), "{text}");
        assert!(text.contains("| outcome | status | URL | listed at | reason |\n|---|---:|---|---|---|\n| down | 404 | `https://x/long`"), "{text}");
    }
}
