//! What the history's HTML page shows, read in one pass over the window's results: per URL,
//! its row (state, streak, uptime), the outcome and latency of every run of the window, and
//! its first failure in it; per run, its counts (blocked answers among them, which the
//! history keeps per run, not per URL). Ordered as a person triages: newly broken first, then
//! flapping, then the longest failing streaks, then the lowest uptime.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, Result};
use rusqlite::Connection;

use super::show::{find, not_held, open, rows, stamp, Opened, Row, Window};
use crate::model::State;

/// An outcome in [`UrlSeries::outcomes`]: the history's own codes (0 up, 1 down, 2 error),
/// and this for a run that did not check the URL (not listed, skipped, blocked, invalid).
pub(crate) const NOT_CHECKED: u8 = 3;

/// The page's data.
pub(crate) struct Uptime {
    /// The database, as named.
    pub db: String,
    pub window: Window,
    /// The window's runs, oldest first.
    pub runs: Vec<RunCounts>,
    pub urls: Vec<UrlSeries>,
}

/// One run's counts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunCounts {
    pub id: i64,
    pub started: i64,
    pub down: u32,
    pub error: u32,
    pub blocked: u32,
}

/// One URL over the window.
pub(crate) struct UrlSeries {
    pub row: Row,
    /// Per run of the window, in order: 0 up, 1 down, 2 error, or [`NOT_CHECKED`].
    pub outcomes: Vec<u8>,
    /// Per run: the check's time in milliseconds (NaN when not checked).
    pub latency_ms: Vec<f32>,
}

impl Uptime {
    /// When the first run of the window that found `s` failing started.
    pub(crate) fn first_failure(&self, s: &UrlSeries) -> Option<String> {
        let run = s.outcomes.iter().position(|&o| o == 1 || o == 2)?;
        Some(stamp(self.runs[run].started))
    }
}

/// Reads the page of `db` over runs since `since` (every run kept when `None`), for `url`
/// alone when one is given.
pub(crate) fn uptime(
    db: &Path,
    since: Option<Duration>,
    url: Option<&str>,
    states: &[State],
) -> Result<Uptime> {
    let Opened {
        conn,
        since,
        window,
        from,
        stats,
    } = open(db, since)?;
    // A URL asked for by name is shown whatever the window and the states say of it.
    let rows = match url {
        Some(url) => vec![find(&conn, url, &stats)?.ok_or_else(|| anyhow!("{}", not_held(url)))?],
        None => rows(&conn, &stats, since.is_some(), states)?,
    };
    let runs = runs(&conn, from)?;
    let mut urls = series(&conn, rows, &runs)?;
    urls.sort_by(|a, b| {
        let (ga, sa, ua) = triage(a);
        let (gb, sb, ub) = triage(b);
        (ga, sa)
            .cmp(&(gb, sb))
            .then(ua.total_cmp(&ub))
            .then_with(|| a.row.url.cmp(&b.row.url))
    });
    Ok(Uptime {
        db: db.display().to_string(),
        window,
        runs,
        urls,
    })
}

/// The order of the page: newly broken, flapping, failing (longest streak first), then by
/// uptime, lowest first.
fn triage(u: &UrlSeries) -> (u8, i64, f64) {
    let r = &u.row;
    let group = match r.state {
        _ if r.history().is_news() => 0,
        State::Flapping => 1,
        _ if r.consecutive_failures > 0 => 2,
        _ => 3,
    };
    (
        group,
        -i64::from(r.consecutive_failures),
        r.uptime_percent.unwrap_or(100.0),
    )
}

fn runs(conn: &Connection, from: Option<i64>) -> Result<Vec<RunCounts>> {
    let mut stmt = conn.prepare("SELECT id, started, down, error, blocked FROM runs WHERE started >= ?1 ORDER BY started, id")?;
    let runs = stmt
        .query_map([from.unwrap_or(i64::MIN)], |r| {
            Ok(RunCounts {
                id: r.get(0)?,
                started: r.get(1)?,
                down: r.get(2)?,
                error: r.get(3)?,
                blocked: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(runs)
}

/// Every result of the window, in one scan, into the series of the URLs in `rows`.
fn series(conn: &Connection, rows: Vec<Row>, runs: &[RunCounts]) -> Result<Vec<UrlSeries>> {
    let n = runs.len();
    let index: HashMap<i64, usize> = rows.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    let mut urls: Vec<UrlSeries> = rows
        .into_iter()
        .map(|row| UrlSeries {
            row,
            outcomes: vec![NOT_CHECKED; n],
            latency_ms: vec![f32::NAN; n],
        })
        .collect();
    // One range scan of the results' key (run, url) from the window's first run: no join, no
    // sort. A run in that range but outside the window (an older start recorded later) is
    // skipped.
    let run_index: HashMap<i64, usize> = runs.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    let first = runs.iter().map(|r| r.id).min().unwrap_or(i64::MAX);
    let mut stmt =
        conn.prepare("SELECT run, url, outcome, elapsed_us FROM results WHERE run >= ?1")?;
    let mut found = stmt.query([first])?;
    let mut last: Option<(i64, Option<usize>)> = None;
    while let Some(r) = found.next()? {
        let id: i64 = r.get(0)?;
        let run = match last {
            Some((l, run)) if l == id => run,
            _ => run_index.get(&id).copied(),
        };
        last = Some((id, run));
        let (Some(run), Some(&u)) = (run, index.get(&r.get::<_, i64>(1)?)) else {
            continue;
        };
        let s = &mut urls[u];
        s.outcomes[run] = r.get::<_, i64>(2)?.clamp(0, 2) as u8;
        s.latency_ms[run] = r.get::<_, i64>(3)? as f32 / 1000.0;
    }
    Ok(urls)
}
