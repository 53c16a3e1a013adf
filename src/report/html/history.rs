//! The history's page (`urlcheck history DB --format html`): the window's runs as failures
//! over time, then per URL its uptime, a strip of its runs (up, down, error, not checked),
//! its latency over time, its streak and its first failure; the newly broken and flapping
//! first. A strip or a line has at most [`COLUMNS`] columns, however many runs the window
//! holds: a run's colour is folded into its column's, so the page grows with the URLs, not
//! with the runs.

use maud::{html, Markup};

use super::charts::{self, RGBColor, Series, DOWN, ERROR, UP};
use super::page::{drawn, figure, page, url_cell};
use crate::history::{Uptime, UrlSeries, NOT_CHECKED};
use crate::report::history_note;

/// Columns of a strip or a line.
const COLUMNS: usize = 80;

/// Where some of a column's runs failed, and where none checked the URL.
const SOME_FAILED: RGBColor = RGBColor(0xf9, 0xa8, 0x25);
const NONE: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);

const FAILURES: [Series; 3] = [
    Series {
        name: "down",
        color: DOWN,
    },
    Series {
        name: "error",
        color: ERROR,
    },
    Series {
        name: "blocked",
        color: charts::BLOCKED,
    },
];

/// The whole page.
pub(crate) fn render(u: &Uptime) -> Vec<u8> {
    let title = format!("urlcheck history: {}", u.db);
    let body = html! {
        (header(u))
        section #overview {
            h2 { "Failures per run" }
            (figure("runs-chart", overview(u), "Down, error and blocked answers in each run of the window (runs folded into columns)"))
        }
        (table(u))
    };
    page(&title, body).into_bytes()
}

fn header(u: &Uptime) -> Markup {
    let w = &u.window;
    let (checks, ups) = u
        .urls
        .iter()
        .fold((0, 0), |(c, k), s| (c + s.row.checks, k + s.row.ups));
    let uptime = (checks > 0).then(|| format!("{:.2}%", 100.0 * ups as f64 / checks as f64));
    let failing = u
        .urls
        .iter()
        .filter(|s| s.row.consecutive_failures > 0)
        .count();
    let news = u.urls.iter().filter(|s| s.row.history().is_news()).count();
    html! {
        header {
            h1 { "urlcheck history" }
            p { (u.db) }
            dl.facts {
                dt { "runs" } dd { (w.runs) }
                dt { "from" } dd { (w.first_run.as_deref().unwrap_or("-")) }
                dt { "to" } dd { (w.last_run.as_deref().unwrap_or("-")) }
                dt { "since" } dd { (w.since.as_deref().unwrap_or("every run kept")) }
                dt { "URLs" } dd { (u.urls.len()) }
                dt { "uptime" } dd { (uptime.unwrap_or_else(|| "-".to_string())) }
                dt { "failing now" } dd { (failing) }
                dt { "newly broken" } dd { (news) }
            }
        }
    }
}

/// The window's runs, folded into at most a few hundred columns of summed failures.
fn overview(u: &Uptime) -> charts::Svg {
    let per = u.runs.len().div_ceil(240).max(1);
    let columns: Vec<(i64, Vec<f64>)> = u
        .runs
        .chunks(per)
        .map(|c| {
            let sum = |f: fn(&crate::history::RunCounts) -> u32| {
                c.iter().map(|r| f64::from(f(r))).sum::<f64>() / c.len() as f64
            };
            (
                c[0].started,
                vec![sum(|r| r.down), sum(|r| r.error), sum(|r| r.blocked)],
            )
        })
        .collect();
    charts::time_columns(&columns, &FAILURES, "URLs a run")
}

fn table(u: &Uptime) -> Markup {
    html! {
        section #urls {
            h2 { "URLs (" (u.urls.len()) ")" }
            p.muted {
                "Newly broken first, then flapping, the longest failing streaks, the lowest uptime. "
                "Runs: green up, red down, orange error, amber some failed, grey not checked."
            }
            div.tools hidden {
                input type="search" placeholder="filter" aria-label="filter the URLs";
                output {}
            }
            table #urls-table data-sortable {
                thead { tr {
                    th { "URL" } th { "state" } th.num { "uptime" } th { "runs" } th { "latency" }
                    th.num { "mean (ms)" } th.num { "streak" } th { "failing since" } th { "first failure" }
                } }
                tbody { @for s in &u.urls { (row(u, s)) } }
            }
        }
    }
}

fn row(u: &Uptime, s: &UrlSeries) -> Markup {
    let r = &s.row;
    let note = history_note(&r.history());
    let uptime = r
        .uptime_percent
        .map_or("-".to_string(), |u| format!("{u:.2}%"));
    html! {
        tr data-state=(r.state.as_str()) {
            td.url { (url_cell(&r.url)) }
            td.when { (note.unwrap_or_else(|| r.state.as_str().to_string())) }
            td.num data-v=(r.uptime_percent.unwrap_or(-1.0)) title=(format!("{} of {} checks up", r.ups, r.checks)) { (uptime) }
            td.strip { (drawn(charts::strip((160, 14), &segments(&s.outcomes, 160)))) }
            td.strip { (drawn(charts::sparkline((120, 24), &latency_columns(&s.latency_ms)))) }
            td.num data-v=(r.mean_ms.unwrap_or(-1.0)) { (r.mean_ms.map_or("-".to_string(), |m| format!("{m:.1}"))) }
            td.num { (r.consecutive_failures) }
            (stamp_cell(r.failing_since.as_deref()))
            (stamp_cell(u.first_failure(s).as_deref()))
        }
    }
}

/// `2026-12-04 19:15`, sorting (and titled) by the full stamp.
fn stamp_cell(stamp: Option<&str>) -> Markup {
    match stamp {
        Some(t) => {
            let short = t.get(..16).unwrap_or(t).replace('T', " ");
            html! { td.when data-v=(t) { time datetime=(t) title=(t) { (short) } } }
        }
        None => html! { td.when data-v="" { "-" } },
    }
}

/// The runs folded into at most [`COLUMNS`] columns `width` pixels wide in all, neighbours of
/// one colour merged: `(from, to, colour)`.
fn segments(outcomes: &[u8], width: u32) -> Vec<(u32, u32, RGBColor)> {
    let n = outcomes.len();
    let columns = n.clamp(1, COLUMNS);
    let mut out: Vec<(u32, u32, RGBColor)> = Vec::new();
    for c in 0..columns {
        let runs = &outcomes[c * n / columns..(c + 1) * n / columns];
        let color = fold(runs);
        let (a, b) = (
            c as u32 * width / columns as u32,
            (c as u32 + 1) * width / columns as u32,
        );
        match out.last_mut() {
            Some(last) if last.2 == color => last.1 = b,
            _ => out.push((a, b, color)),
        }
    }
    out
}

/// A column's colour: up when every check in it was, down or error when every one failed,
/// amber when some did; grey with no check.
fn fold(runs: &[u8]) -> RGBColor {
    let mut count = [0usize; 4];
    runs.iter()
        .for_each(|&o| count[usize::from(o.min(NOT_CHECKED))] += 1);
    let [up, down, error, _] = count;
    match (up, down + error) {
        (0, 0) => NONE,
        (_, 0) => UP,
        (0, _) if down >= error => DOWN,
        (0, _) => ERROR,
        _ => SOME_FAILED,
    }
}

/// The mean latency of each column's checks (NaN for a column without one).
fn latency_columns(latency: &[f32]) -> Vec<f64> {
    let n = latency.len();
    let columns = n.min(COLUMNS);
    (0..columns)
        .map(|c| {
            let (sum, checked) = latency[c * n / columns..(c + 1) * n / columns]
                .iter()
                .filter(|v| v.is_finite())
                .fold((0.0, 0u32), |(sum, k), &v| (sum + f64::from(v), k + 1));
            if checked == 0 {
                f64::NAN
            } else {
                sum / f64::from(checked)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_strip_folds_runs_into_columns_and_merges_neighbours() {
        let mut runs = vec![0u8; 2000];
        runs[1000] = 1;
        let segs = segments(&runs, 240);
        assert_eq!(segs.len(), 3, "{segs:?}");
        assert_eq!((segs[0].0, segs[2].1), (0, 240));
        assert!(segs[1].2 == SOME_FAILED);
        assert!(segments(&[NOT_CHECKED, 1, 1, 2], 40)
            .iter()
            .map(|s| s.2)
            .eq([NONE, DOWN, ERROR]));
        assert!(segments(&[], 40).iter().all(|s| s.2 == NONE));
    }

    #[test]
    fn latency_columns_skip_the_runs_that_did_not_check() {
        let cols = latency_columns(&[1.0, 3.0, f32::NAN, f32::NAN]);
        assert_eq!(cols.len(), 4);
        assert_eq!(cols[0], 1.0);
        assert!(cols[2].is_nan());
        let many = latency_columns(&vec![2.0; 2000]);
        assert_eq!(many.len(), COLUMNS);
        assert!(many.iter().all(|&v| v == 2.0));
    }
}
