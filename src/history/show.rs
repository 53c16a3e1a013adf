//! `urlcheck history DB [URL]`: what the database knows, read-only. Every URL with its state,
//! uptime, failing streak, last failure and latency; or one URL's timeline, its changes
//! between up and failing and its days. Uptime over a window is summed from the daily
//! roll-ups (and each URL's current day, kept in its row), with the window's first, partial
//! day counted from its runs' results.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{bail, Result};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::state::{state_from_code, time, unix};
use super::{fingerprint, outcome_from_code, schema};
use crate::exit::ExitCode;
use crate::model::{History, State};
use crate::sanitize::redact_url;

/// What `urlcheck history` was asked.
pub(crate) struct Query {
    pub db: PathBuf,
    /// One URL's timeline instead of every URL.
    pub url: Option<String>,
    /// Only runs that started this long ago or later.
    pub since: Option<Duration>,
    /// Only URLs whose last check was in one of these states (all when empty).
    pub states: Vec<State>,
    pub json: bool,
}

/// Checks, ups and latency of one URL over the window.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Stats {
    checks: i64,
    ups: i64,
    elapsed_us: i64,
    max_us: i64,
}

impl Stats {
    fn add(&mut self, o: Stats) {
        self.checks = self.checks.saturating_add(o.checks);
        self.ups = self.ups.saturating_add(o.ups);
        self.elapsed_us = self.elapsed_us.saturating_add(o.elapsed_us);
        self.max_us = self.max_us.max(o.max_us);
    }

    fn uptime(&self) -> Option<f64> {
        (self.checks > 0).then(|| 100.0 * self.ups as f64 / self.checks as f64)
    }

    fn mean_ms(&self) -> Option<f64> {
        (self.checks > 0).then(|| self.elapsed_us as f64 / self.checks as f64 / 1000.0)
    }
}

/// One URL as the table and the JSON list show it.
#[derive(Debug, Serialize)]
pub(crate) struct Row {
    pub(crate) url: String,
    pub(crate) state: State,
    pub(crate) consecutive_failures: u32,
    pub(crate) failing_since: Option<String>,
    pub(crate) last_up: Option<String>,
    pub(crate) last_failure: Option<String>,
    pub(crate) first_seen: String,
    pub(crate) last_seen: String,
    pub(crate) checks: i64,
    pub(crate) ups: i64,
    pub(crate) uptime_percent: Option<f64>,
    pub(crate) mean_ms: Option<f64>,
    pub(crate) max_ms: Option<f64>,
    #[serde(skip)]
    pub(crate) id: i64,
}

impl Row {
    /// What the history says of the URL, as a run's result carries it (for its words and
    /// whether it is news).
    pub(crate) fn history(&self) -> History {
        History {
            state: self.state,
            consecutive_failures: self.consecutive_failures,
            failing_since: None,
            last_up: None,
        }
    }
}

/// The window the numbers cover.
#[derive(Debug, Serialize)]
pub(crate) struct Window {
    pub(crate) since: Option<String>,
    pub(crate) runs: i64,
    pub(crate) first_run: Option<String>,
    pub(crate) last_run: Option<String>,
    #[serde(skip)]
    pub(crate) first_started: Option<i64>,
}

/// Answers `query` on `out`. A reader that goes away (`| head`) ends it quietly: what it
/// wanted, it has.
pub(crate) fn show(query: &Query, out: &mut dyn Write) -> Result<ExitCode> {
    match answer(query, out) {
        Err(e) if closed_pipe(&e) => Ok(ExitCode::Success),
        done => done.map(|()| ExitCode::Success),
    }
}

fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        let kind = match cause.downcast_ref::<serde_json::Error>() {
            Some(json) => json.io_error_kind(),
            None => cause.downcast_ref::<std::io::Error>().map(|io| io.kind()),
        };
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// A history opened read-only, with the window a query asked for and what each URL did in it:
/// what the table, the JSON and the HTML page all start from.
pub(super) struct Opened {
    pub conn: Connection,
    /// `--since`, as a time.
    pub since: Option<i64>,
    pub window: Window,
    /// Where the window's numbers begin: `--since`, or the oldest run kept.
    pub from: Option<i64>,
    pub stats: HashMap<i64, Stats>,
}

pub(super) fn open(db: &Path, since: Option<Duration>) -> Result<Opened> {
    let conn = schema::open_read_only(db)?;
    let since = since.map(|d| unix(SystemTime::now()).saturating_sub(d.as_secs() as i64));
    let window = window(&conn, since)?;
    // Without --since, the window begins with the oldest run kept: the part of its day that
    // `--history-keep` forgot is counted from the results that remain, not from the day's sums.
    let from = since.or(window.first_started);
    let stats = window_stats(&conn, from)?;
    Ok(Opened {
        conn,
        since,
        window,
        from,
        stats,
    })
}

fn answer(query: &Query, out: &mut dyn Write) -> Result<()> {
    let Opened {
        conn,
        since,
        window,
        from,
        stats,
    } = open(&query.db, query.since)?;
    match &query.url {
        Some(url) => timeline(&conn, url, from, &stats, &window, query.json, out),
        None => {
            let rows = rows(&conn, &stats, since.is_some(), &query.states)?;
            if query.json {
                serde_json::to_writer_pretty(
                    &mut *out,
                    &serde_json::json!({"window": window, "urls": rows}),
                )?;
                writeln!(out)?;
            } else {
                table(&rows, &window, out)?;
            }
            Ok(())
        }
    }
}

fn window(conn: &Connection, since: Option<i64>) -> Result<Window> {
    let (runs, first, last): (i64, Option<i64>, Option<i64>) = conn.query_row(
        "SELECT count(*), min(started), max(started) FROM runs WHERE started >= ?1",
        [since.unwrap_or(i64::MIN)],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    Ok(Window {
        since: since.map(stamp),
        runs,
        first_run: first.map(stamp),
        last_run: last.map(stamp),
        first_started: first,
    })
}

/// Per URL id, what the runs since `since` found: whole days from the roll-ups, the first
/// (partial) day from its runs' results.
fn window_stats(conn: &Connection, since: Option<i64>) -> Result<HashMap<i64, Stats>> {
    let first_whole_day = since.map_or(i64::MIN, |s| s.div_euclid(86_400) + 1);
    let mut stats: HashMap<i64, Stats> = HashMap::new();
    let mut add = |sql: &str, args: &[i64]| -> Result<()> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                Stats {
                    checks: r.get(1)?,
                    ups: r.get(2)?,
                    elapsed_us: r.get(3)?,
                    max_us: r.get(4)?,
                },
            ))
        })?;
        for row in rows {
            let (id, s) = row?;
            stats.entry(id).or_default().add(s);
        }
        Ok(())
    };
    add(
        "SELECT url, sum(checks), sum(ups), sum(elapsed_us), max(max_us) FROM daily \
         WHERE day >= ?1 GROUP BY url",
        &[first_whole_day],
    )?;
    // Each URL's last day is still in its row.
    add(
        "SELECT id, day_checks, day_ups, day_elapsed_us, day_max_us FROM urls \
         WHERE day >= ?1 AND day_checks > 0",
        &[first_whole_day],
    )?;
    if let Some(since) = since {
        add(
            "SELECT r.url, count(*), sum(r.outcome = 0), sum(r.elapsed_us), max(r.elapsed_us) \
             FROM runs JOIN results r ON r.run = runs.id \
             WHERE runs.started >= ?1 AND runs.started < ?2 GROUP BY r.url",
            &[since, first_whole_day.saturating_mul(86_400)],
        )?;
    }
    Ok(stats)
}

const URL_COLUMNS: &str = "id, url, state, consecutive_failures, failing_since, last_up, \
                           last_failure, first_seen, last_seen";

fn row(r: &rusqlite::Row<'_>, stats: &HashMap<i64, Stats>) -> rusqlite::Result<Row> {
    let id: i64 = r.get(0)?;
    let s = stats.get(&id).copied().unwrap_or_default();
    Ok(Row {
        id,
        url: r.get(1)?,
        state: state_from_code(r.get(2)?),
        consecutive_failures: r.get(3)?,
        failing_since: r.get::<_, Option<i64>>(4)?.map(stamp),
        last_up: r.get::<_, Option<i64>>(5)?.map(stamp),
        last_failure: r.get::<_, Option<i64>>(6)?.map(stamp),
        first_seen: stamp(r.get(7)?),
        last_seen: stamp(r.get(8)?),
        checks: s.checks,
        ups: s.ups,
        uptime_percent: s.uptime().map(round2),
        mean_ms: s.mean_ms().map(round2),
        max_ms: (s.checks > 0).then(|| round2(s.max_us as f64 / 1000.0)),
    })
}

/// Every URL (checked in the window, when there is one), failing first, longest streak
/// first, then flapping, then by URL.
pub(super) fn rows(
    conn: &Connection,
    stats: &HashMap<i64, Stats>,
    windowed: bool,
    states: &[State],
) -> Result<Vec<Row>> {
    let mut stmt = conn.prepare(&format!("SELECT {URL_COLUMNS} FROM urls"))?;
    let mut rows = stmt
        .query_map([], |r| row(r, stats))?
        .collect::<rusqlite::Result<Vec<Row>>>()?;
    rows.retain(|r| {
        (!windowed || r.checks > 0) && (states.is_empty() || states.contains(&r.state))
    });
    rows.sort_by(|a, b| {
        (b.consecutive_failures, b.state == State::Flapping, &a.url).cmp(&(
            a.consecutive_failures,
            a.state == State::Flapping,
            &b.url,
        ))
    });
    Ok(rows)
}

fn table(rows: &[Row], window: &Window, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "{:<10} {:>8} {:>7} {:>7}  {:<20}  {:>9}  URL",
        "STATE", "UPTIME", "CHECKS", "STREAK", "LAST FAILURE", "MEAN"
    )?;
    for r in rows {
        writeln!(
            out,
            "{:<10} {:>8} {:>7} {:>7}  {:<20}  {:>9}  {}",
            r.state.as_str(),
            r.uptime_percent.map_or("-".into(), |u| format!("{u:.2}%")),
            r.checks,
            r.consecutive_failures,
            r.last_failure.as_deref().unwrap_or("-"),
            r.mean_ms.map_or("-".into(), ms),
            r.url
        )?;
    }
    writeln!(out, "{}", describe(rows.len(), window))?;
    Ok(())
}

fn describe(urls: usize, w: &Window) -> String {
    let span = match (&w.first_run, &w.last_run) {
        (Some(a), Some(b)) => format!(" from {a} to {b}"),
        _ => String::new(),
    };
    format!("{urls} URLs, {} runs{span}", w.runs)
}

/// One change between up and failing, as the timeline shows it.
#[derive(Debug, Serialize)]
struct Change {
    at: String,
    outcome: &'static str,
    status: Option<u16>,
    error: Option<String>,
    /// Until the next change, or until the last run (for the latest).
    lasted_s: i64,
}

/// One day of a URL's checks.
#[derive(Debug, Serialize)]
struct Day {
    day: String,
    checks: i64,
    ups: i64,
    uptime_percent: f64,
    mean_ms: f64,
    max_ms: f64,
}

fn timeline(
    conn: &Connection,
    url: &str,
    since: Option<i64>,
    stats: &HashMap<i64, Stats>,
    window: &Window,
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let Some(row) = find(conn, url, stats)? else {
        bail!("{}", not_held(url));
    };
    let changes = changes(conn, row.id, since)?;
    let days = days(conn, row.id, since)?;
    if json {
        let value =
            serde_json::json!({"window": window, "url": row, "changes": changes, "days": days});
        serde_json::to_writer_pretty(&mut *out, &value)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "{}", row.url)?;
    let streak = match &row.failing_since {
        Some(t) => format!(
            ", failing {} runs in a row since {t}",
            row.consecutive_failures
        ),
        None => String::new(),
    };
    writeln!(
        out,
        "  state {}{streak}; first seen {}",
        row.state.as_str(),
        row.first_seen
    )?;
    writeln!(
        out,
        "  {} checks, {} up, mean {}, max {}",
        row.checks,
        row.uptime_percent
            .map_or("-".into(), |u| format!("{u:.2}%")),
        row.mean_ms.map_or("-".into(), ms),
        row.max_ms.map_or("-".into(), ms),
    )?;
    writeln!(out, "changes:")?;
    for c in &changes {
        let answer = match (c.status, &c.error) {
            (Some(s), _) => s.to_string(),
            (None, Some(e)) => e.clone(),
            (None, None) => String::new(),
        };
        writeln!(
            out,
            "  {}  {:<5} {:<9} for {}",
            c.at,
            c.outcome,
            answer,
            humantime::format_duration(Duration::from_secs(c.lasted_s.max(0) as u64))
        )?;
    }
    writeln!(out, "days:")?;
    for d in &days {
        writeln!(
            out,
            "  {}  {:>6} checks  {:>7.2}% up  mean {}  max {}",
            d.day,
            d.checks,
            d.uptime_percent,
            ms(d.mean_ms),
            ms(d.max_ms)
        )?;
    }
    Ok(())
}

/// The URL's row: as given, or as urlcheck reports it (parsed, credentials redacted).
pub(super) fn find(
    conn: &Connection,
    url: &str,
    stats: &HashMap<i64, Stats>,
) -> Result<Option<Row>> {
    let mut candidates = vec![url.to_owned()];
    if let Ok(parsed) = url::Url::parse(url) {
        candidates.push(redact_url(parsed.as_str()).into_owned());
    }
    candidates.push(redact_url(url).into_owned());
    let mut stmt = conn.prepare(&format!(
        "SELECT {URL_COLUMNS} FROM urls WHERE fingerprint = ?1"
    ))?;
    for c in candidates {
        if let Some(row) = stmt
            .query_row([fingerprint(&c)], |r| row(r, stats))
            .optional()?
        {
            return Ok(Some(row));
        }
    }
    Ok(None)
}

fn changes(conn: &Connection, id: i64, since: Option<i64>) -> Result<Vec<Change>> {
    let mut stmt = conn.prepare(
        "SELECT runs.started, c.outcome, c.status, c.error FROM changes c \
         JOIN runs ON runs.id = c.run WHERE c.url = ?1 ORDER BY runs.started",
    )?;
    let found = stmt
        .query_map([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<u16>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let last_seen = conn.query_row("SELECT last_seen FROM urls WHERE id = ?1", [id], |r| {
        r.get::<_, i64>(0)
    })?;
    let mut list = Vec::with_capacity(found.len());
    for (i, (at, outcome, status, error)) in found.iter().enumerate() {
        let until = found.get(i + 1).map_or(last_seen, |next| next.0);
        if since.is_some_and(|s| until < s) {
            continue;
        }
        list.push(Change {
            at: stamp(*at),
            outcome: outcome_from_code(*outcome),
            status: *status,
            error: error.clone(),
            lasted_s: until - at,
        });
    }
    Ok(list)
}

fn days(conn: &Connection, id: i64, since: Option<i64>) -> Result<Vec<Day>> {
    let mut stmt = conn.prepare(
        "SELECT day, checks, ups, elapsed_us, max_us FROM daily WHERE url = ?1 AND day >= ?2 \
         UNION ALL SELECT day, day_checks, day_ups, day_elapsed_us, day_max_us FROM urls \
         WHERE id = ?1 AND day >= ?2 AND day_checks > 0 ORDER BY 1",
    )?;
    let from = since.map_or(i64::MIN, |s| s.div_euclid(86_400));
    let days = stmt
        .query_map(params![id, from], |r| {
            let s = Stats {
                checks: r.get(1)?,
                ups: r.get(2)?,
                elapsed_us: r.get(3)?,
                max_us: r.get(4)?,
            };
            Ok(Day {
                day: stamp(r.get::<_, i64>(0)?.saturating_mul(86_400))[..10].to_owned(),
                checks: s.checks,
                ups: s.ups,
                uptime_percent: round2(s.uptime().unwrap_or(0.0)),
                mean_ms: round2(s.mean_ms().unwrap_or(0.0)),
                max_ms: round2(s.max_us as f64 / 1000.0),
            })
        })?
        .collect::<rusqlite::Result<Vec<Day>>>()?;
    Ok(days)
}

/// `URL: not in this history`, the URL's credentials redacted.
pub(super) fn not_held(url: &str) -> String {
    format!(
        "{}: not in this history (`urlcheck history DB` lists the URLs it holds)",
        redact_url(url)
    )
}

pub(super) fn stamp(secs: i64) -> String {
    humantime::format_rfc3339_seconds(time(secs)).to_string()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn ms(x: f64) -> String {
    if x >= 1000.0 {
        format!("{:.2} s", x / 1000.0)
    } else {
        format!("{x:.1} ms")
    }
}
