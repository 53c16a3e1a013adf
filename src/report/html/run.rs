//! The page of one run (`--format html`): what was checked and how it went, the failures
//! first (grouped by outcome and error kind, each with its sources, status, message and
//! redirect chain), the charts, then every result in a table that sorts and filters once the
//! script runs and reads as a plain table when it does not.

use maud::{html, Markup};

use super::page::{figure, page, url_cell};
use super::stats;
use crate::exit::ExitCode;
use crate::model::{Outcome, UrlResult};
use crate::report::{
    failure_reason, history_counts_text, history_note, human_duration, is_news, listed_at, rfc3339,
    status_text, urls, Options, Run,
};

/// `--format html`.
pub(in crate::report) fn render(run: &Run, options: Options) -> Vec<u8> {
    let s = &run.summary;
    let (verdict, class) = verdict(run, options);
    let title = format!("urlcheck: {}, {verdict}", urls(s.total()));
    let body = html! {
        (header(run, options, verdict, class))
        (counts(run))
        (failures(run, options))
        (charts_section(run))
        (results(run, options))
    };
    page(&title, body).into_bytes()
}

/// In a few words, and the badge's class.
fn verdict(run: &Run, options: Options) -> (&'static str, &'static str) {
    let s = &run.summary;
    if s.interrupted {
        ("interrupted", "other")
    } else if s.failed_empty(options.fail_on) {
        ("nothing checked", "bad")
    } else if run.failures(options.fail_on).next().is_some() {
        ("failures", "bad")
    } else {
        ("all good", "good")
    }
}

/// The exit code and what it means. A report does not know what stopped its run early, so
/// an interrupted one names the codes it may have ended with.
fn exit_status(run: &Run, options: Options) -> String {
    if run.summary.interrupted {
        let (int, term) = (ExitCode::Interrupted.code(), ExitCode::Terminated.code());
        return format!(
            "interrupted: {int} after Ctrl-C, {term} after SIGTERM, 0 when stdout's reader \
             left; only the URLs that completed are counted"
        );
    }
    match run.summary.exit_code(options.fail_on) {
        ExitCode::Success => "0 (every checked URL passed)".to_string(),
        code => format!("{} (failures, as --fail-on counts them)", code.code()),
    }
}

fn header(run: &Run, options: Options, verdict: &str, class: &str) -> Markup {
    let s = &run.summary;
    let i = &run.info;
    let pct = |q| s.percentile(q).map_or("-".to_string(), human_duration);
    html! {
        header {
            h1 { "urlcheck report " span class={"verdict " (class)} { (verdict) } }
            p {
                (urls(s.total())) " checked in " (human_duration(s.wall))
                " (" (format!("{:.1}", s.urls_per_sec())) " URLs/s); latency p50 " (pct(0.5))
                ", p90 " (pct(0.9)) ", p99 " (pct(0.99)) "."
            }
            dl.facts {
                dt { "started" } dd { time { (rfc3339(i.started_at)) } }
                dt { "finished" } dd { time { (rfc3339(i.finished_at)) } }
                dt { "exit status" } dd { (exit_status(run, options)) }
                @for (name, value) in settings(run, options) {
                    dt { (name) } dd { (value) }
                }
            }
        }
    }
}

/// What decided the verdicts: the settings a reader needs to know what "down" meant.
fn settings(run: &Run, options: Options) -> Vec<(&'static str, String)> {
    let st = &run.info.settings;
    let ms = |n: u128| human_duration(std::time::Duration::from_millis(n as u64));
    let mut out = vec![
        (
            "mode",
            format!(
                "{}, concurrency {}, per host {}",
                run.info.mode.as_str(),
                st.concurrency,
                st.per_host
            ),
        ),
        ("fails on", options.fail_on.to_string()),
        ("accepted statuses", st.accept.clone()),
        ("method", st.method.clone()),
        (
            "timeouts",
            format!(
                "{} a request, {} a URL, connect {}, dns {}",
                ms(st.timeout_ms),
                ms(st.max_time_ms),
                ms(st.connect_timeout_ms),
                ms(st.dns_timeout_ms)
            ),
        ),
        (
            "retries, redirects",
            format!(
                "{} retries, at most {} redirects",
                st.retries, st.max_redirects
            ),
        ),
    ];
    if st.insecure {
        out.push(("certificates", "not verified (--insecure)".to_string()));
    }
    if let Some(days) = st.cert_expiry_ms {
        out.push(("--cert-expiry", ms(days)));
    }
    if !st.headers.is_empty() {
        out.push(("headers sent", st.headers.join(", ")));
    }
    if let Some(config) = &st.config {
        let tables = format!(
            "{config} ({} [[host]], {} [[expect]])",
            st.host_tables, st.expect_tables
        );
        out.push(("config", tables));
    }
    if let Some(shard) = &run.info.shard {
        out.push(("shard", format!("{} of {}", shard.index, shard.count)));
    }
    if let Some(m) = &run.info.merged {
        let missing = if m.missing.is_empty() {
            String::new()
        } else {
            format!(", missing {:?}", m.missing)
        };
        out.push((
            "merged",
            format!("{} of {} shards{missing}", m.shards.len(), m.count),
        ));
    }
    out
}

fn counts(run: &Run) -> Markup {
    let s = &run.summary;
    html! {
        ul.counts {
            @for o in Outcome::ALL {
                li class={"o-" (o.as_str())} { b { (s.count(o)) } (o.as_str()) }
            }
        }
        @if let Some(history) = &s.history {
            p { strong { "History: " } (history_counts_text(history)) "." }
        }
        @if !s.errors().is_empty() {
            p.muted {
                "Errors by kind: "
                @for (i, (kind, n)) in s.errors().iter().enumerate() {
                    @if i > 0 { ", " }
                    (kind.as_str()) " " (n)
                }
            }
        }
    }
}

/// The failures, grouped by outcome and kind, the largest group first in each outcome.
fn failures(run: &Run, options: Options) -> Markup {
    let groups = stats::failure_groups(run.failures_news_first(options.fail_on));
    let total: usize = groups.iter().map(|g| g.results.len()).sum();
    html! {
        section #failures {
            h2 { "Failures (" (total) ")" }
            @if groups.is_empty() {
                p { "None: every result passed, as --fail-on counts them." }
            }
            @if !groups.is_empty() {
                table.failures {
                    thead { tr { th { "URL" } th.num { "status" } th { "why" } th { "listed at" } } }
                    @for g in &groups {
                        tbody {
                            tr.group { th colspan="4" { (g.outcome.as_str()) ": " (g.kind) " (" (g.results.len()) ")" } }
                            @for r in &g.results { (failure_row(r)) }
                        }
                    }
                }
            }
        }
    }
}

fn failure_row(r: &UrlResult) -> Markup {
    let note = r.history.as_ref().and_then(history_note);
    html! {
        tr class={"failure o-" (r.check.outcome.as_str())} data-outcome=(r.check.outcome.as_str()) {
            td.url {
                (url_cell(&r.url))
                @if !r.check.redirects.is_empty() {
                    ol.chain {
                        @for hop in &r.check.redirects { li { (hop.status) " " (hop.url) } }
                        @if let Some(last) = &r.check.final_url { li { (last) } }
                    }
                }
            }
            td.num { (status_text(r)) }
            td {
                (failure_reason(r))
                @if let Some(note) = note {
                    br; span class=[is_news(r).then_some("news")] { (note) }
                }
            }
            td { (listed_at(r)) }
        }
    }
}

fn charts_section(run: &Run) -> Markup {
    let figures = stats::figures(run);
    html! {
        section #charts {
            h2 { "Where the time went" }
            div.charts {
                @for f in figures { (figure(f.id, f.svg, &f.caption)) }
            }
        }
    }
}

/// Every result, in input order.
fn results(run: &Run, options: Options) -> Markup {
    let history = options.history;
    html! {
        section #results {
            h2 { "Every result (" (run.results.len()) ")" }
            div.tools hidden {
                input type="search" placeholder="filter" aria-label="filter the results";
                select aria-label="only this outcome" {
                    option value="" { "every outcome" }
                    @for o in Outcome::ALL { option value=(o.as_str()) { (o.as_str()) } }
                }
                output {}
            }
            table #results-table data-sortable {
                thead { tr {
                    th { "URL" } th { "outcome" } th.num { "status" } th.num { "time (ms)" }
                    th.num { "tries" } th { "listed at" } th { "details" }
                    @if history { th { "history" } }
                } }
                tbody {
                    @for r in &run.results { (result_row(r, history)) }
                }
            }
        }
    }
}

fn result_row(r: &UrlResult, history: bool) -> Markup {
    let o = r.check.outcome.as_str();
    let ms = r.check.elapsed.as_secs_f64() * 1000.0;
    let details = match r.check.outcome {
        Outcome::Up if r.check.redirects.is_empty() => String::new(),
        Outcome::Up => format!("{} redirects", r.check.redirects.len()),
        _ => failure_reason(r),
    };
    html! {
        tr.result data-outcome=(o) {
            td.url { (url_cell(&r.url)) }
            td class={"outcome " (o)} { (o) }
            td.num data-v=(r.check.status.map_or(String::new(), |s| s.to_string())) { (status_text(r)) }
            td.num data-v=(format!("{ms:.3}")) { (format!("{ms:.1}")) }
            td.num { (r.check.attempts) }
            td { (listed_at(r)) }
            td { (details) }
            @if history {
                td { (r.history.as_ref().and_then(history_note).unwrap_or_default()) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use html5gum::{Token, Tokenizer};

    use super::*;
    use crate::model::{CheckError, ErrorKind, Hop, Source, Timings};
    use crate::report::testing::{self, options, source};

    /// Values that would run a script if they reached the page unescaped.
    const HOSTILE: [&str; 4] = [
        "<script>document.title='pwned'</script>",
        "\"onerror=\"document.title='pwned'",
        "javascript:document.title='pwned'",
        "'><img src=x onerror=document.title='pwned'>",
    ];

    /// A run whose every server- or input-supplied text is hostile.
    pub(crate) fn hostile_run() -> Run {
        let r = testing::result;
        let mut results = Vec::new();
        for (i, evil) in HOSTILE.iter().enumerate() {
            let at = vec![Source::line(Arc::from(format!("{evil}.md")), i as u64 + 1)];
            results.push(r(
                evil,
                Outcome::Invalid,
                None,
                Some(ErrorKind::Input),
                at.clone(),
            ));
            let mut down = r(
                &format!("https://h{i}.test/{evil}"),
                Outcome::Down,
                Some(404),
                None,
                at.clone(),
            );
            down.check.error = Some(CheckError::new(ErrorKind::Other, evil));
            down.check.reason = Some(evil.to_string());
            down.check.redirects.push(Hop {
                url: format!("https://h{i}.test/?next={evil}"),
                status: 302,
                timings: Timings::reused(),
            });
            down.check.final_url = Some(evil.to_string());
            results.push(down);
        }
        results.push(r(
            "https://ok.test/",
            Outcome::Up,
            Some(200),
            None,
            vec![source("ok.md", 1, None)],
        ));
        testing::run(results)
    }

    /// Every element the page may hold: an injected one would be another (or an attribute).
    const ELEMENTS: &[&str] = &[
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "header",
        "h1",
        "h2",
        "h3",
        "span",
        "p",
        "dl",
        "dt",
        "dd",
        "time",
        "ul",
        "li",
        "b",
        "strong",
        "section",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "a",
        "ol",
        "br",
        "div",
        "input",
        "select",
        "option",
        "output",
        "figure",
        "figcaption",
        "footer",
        "script",
        "svg",
        "rect",
        "line",
        "polyline",
        "text",
        "circle",
        "path",
        "g",
    ];

    #[test]
    fn server_and_input_values_are_escaped_and_nothing_can_run() {
        let page = String::from_utf8(render(&hostile_run(), options())).unwrap();
        let mut scripts = 0;
        for token in Tokenizer::new(&page) {
            let Ok(Token::StartTag(tag)) = token else {
                continue;
            };
            let name = String::from_utf8_lossy(&tag.name).to_string();
            assert!(ELEMENTS.contains(&name.as_str()), "<{name}> in the page");
            scripts += usize::from(name == "script");
            for (key, value) in &tag.attributes {
                let key = String::from_utf8_lossy(key).to_lowercase();
                let value = String::from_utf8_lossy(value).to_lowercase();
                assert!(!key.starts_with("on"), "<{name} {key}={value}>");
                assert!(
                    !value.trim_start().starts_with("javascript:"),
                    "<{name} {key}={value}>"
                );
            }
        }
        assert_eq!(scripts, 1, "only urlcheck's own script");
        // Every hostile value is on the page, as text.
        assert!(
            page.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;.md:1"),
            "{page}"
        );
        assert!(page.contains("&quot;onerror=&quot;document.title='pwned'"));
        assert!(page.contains(">javascript:document.title='pwned'<"));
    }

    #[test]
    fn failures_come_grouped_before_every_result() {
        let page = String::from_utf8(render(&hostile_run(), options())).unwrap();
        let failures = page.find("id=\"failures\"").unwrap();
        let all = page.find("id=\"results\"").unwrap();
        assert!(failures < all);
        assert_eq!(page.matches("<tr class=\"failure").count(), 8);
        assert_eq!(page.matches("<tr class=\"result\"").count(), 9);
        assert!(page.contains("down: blocked (4)"), "{page}");
        assert!(page.contains("invalid: input (4)"), "{page}");
    }
}
