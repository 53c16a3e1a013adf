//! One run into the database: each result is annotated as it completes (from the state read
//! when the run began) and kept in a compact form; when the run ends, all of it is written in
//! one transaction, so a run is recorded whole or not at all.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use rusqlite::{params, Connection, OptionalExtension, ToSql, TransactionBehavior};
use rustc_hash::FxHashMap;

use super::state::{state_code, state_from_code, step, unix, unix_ms, Day, Known};
use super::{fingerprint, outcome_code, schema};
use crate::model::{History, State, UrlResult};
use crate::summary::StateCounts;

/// A result as the database keeps it.
struct Pending {
    fingerprint: i64,
    /// The URL as reported: credentials redacted.
    url: String,
    outcome: i64,
    status: Option<u16>,
    error: Option<&'static str>,
    elapsed_us: i64,
    ttfb_us: Option<i64>,
}

/// What a finished run says of itself in the `runs` table.
pub(crate) struct RunRecord {
    pub finished: SystemTime,
    /// The settings that change verdicts, as JSON.
    pub settings: String,
    /// Lines per outcome: up, down, error, invalid, skipped, blocked.
    pub counts: [u64; 6],
    pub interrupted: bool,
}

/// The history of one run, from its start to its recording.
pub(crate) struct Recorder {
    conn: Connection,
    path: PathBuf,
    /// Every URL the database knew when the run began, by fingerprint (already a hash: the
    /// map's hasher need not be a strong one).
    known: FxHashMap<i64, Known>,
    /// `PRAGMA data_version` when `known` was read: another run's commit changes it.
    data_version: i64,
    started: i64,
    /// The same, in milliseconds.
    started_ms: i64,
    /// The failing `page#fragment` URLs the database knows: (fingerprint, its page's, URL).
    fragments: Vec<(i64, i64, String)>,
    /// What this run said of each URL it checked, for its repeats, and where its check is in
    /// `pending`.
    said: FxHashMap<i64, (History, usize)>,
    pending: Vec<Pending>,
    tally: StateCounts,
}

impl Recorder {
    /// Opens (creating or migrating) the database at `path` and reads what it knows, for a
    /// run that started at `started`. Every refusal comes before the first request.
    pub(crate) fn open(path: &Path, started: SystemTime) -> Result<Recorder> {
        let conn = schema::open(path)?;
        let unreadable = || format!("--history {}: cannot read it", path.display());
        let (known, data_version) = read_known(&conn).with_context(unreadable)?;
        let fragments = read_fragments(&conn).with_context(unreadable)?;
        Ok(Recorder {
            conn,
            path: path.to_owned(),
            known,
            data_version,
            started: unix(started),
            started_ms: unix_ms(started),
            fragments,
            said: FxHashMap::default(),
            pending: Vec::new(),
            tally: StateCounts::default(),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn tally(&self) -> StateCounts {
        self.tally
    }

    /// URLs the database knew when the run began.
    pub(super) fn known_urls(&self) -> usize {
        self.known.len()
    }

    /// Results held for the recording.
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Says what the history knows of `r`'s URL, and keeps `r` for the recording. Only checks
    /// are history (up, down, error): invalid lines and skipped URLs are not.
    pub(crate) fn annotate(&mut self, r: &mut UrlResult) {
        let Some(outcome) = outcome_code(r.check.outcome) else {
            return;
        };
        let fp = fingerprint(&r.url);
        let said = self.said.get(&fp).copied();
        if let (Some((h, _)), true) = (said, r.duplicate) {
            r.history = Some(h);
            return;
        }
        let h = step(self.known.get(&fp), outcome != 0, self.started).view();
        r.history = Some(h);
        let pending = Pending {
            fingerprint: fp,
            url: r.url.clone(),
            outcome,
            status: r.check.status,
            error: r.check.error.as_ref().map(|e| e.kind.as_str()),
            elapsed_us: micros(r.check.elapsed),
            ttfb_us: r.check.ttfb.map(micros),
        };
        match said {
            None => {
                *slot(&mut self.tally, &h) += 1;
                self.said.insert(fp, (h, self.pending.len()));
                self.pending.push(pending);
            }
            // Another check of what is one URL once its credentials are redacted
            // (`https://a:x@h/`, `https://b:y@h/`): each is told its own state, and the
            // history keeps one check of the URL, a failing one if there is one.
            Some((earlier, at)) if outcome != 0 && self.pending[at].outcome == 0 => {
                *slot(&mut self.tally, &earlier) -= 1;
                *slot(&mut self.tally, &h) += 1;
                self.said.insert(fp, (h, at));
                self.pending[at] = pending;
            }
            Some(_) => {}
        }
    }

    /// Writes the run and its results in one transaction, then forgets runs older than
    /// `keep`. Waits (up to the busy timeout) while another run records.
    pub(crate) fn commit(&mut self, run: &RunRecord, keep: Option<Duration>) -> Result<()> {
        self.settle_fragments();
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        // Another run recorded since this one began: step from what it wrote, not from what
        // was read at the start, so neither run's checks are lost.
        let version: i64 = tx.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        if version != self.data_version {
            self.known = read_known(&tx)?.0;
        }
        let c = run.counts;
        tx.execute(
            "INSERT INTO runs (started, finished, host, version, settings, up, down, error, \
             invalid, skipped, recorded, interrupted, blocked) VALUES (?1, ?2, ?3, ?4, ?5, ?6, \
             ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                self.started,
                unix(run.finished),
                gethostname::gethostname().to_string_lossy(),
                env!("CARGO_PKG_VERSION"),
                run.settings,
                c[0] as i64,
                c[1] as i64,
                c[2] as i64,
                c[3] as i64,
                c[4] as i64,
                self.pending.len() as i64,
                run.interrupted,
                c[5] as i64,
            ],
        )?;
        let run_id = tx.last_insert_rowid();
        let at = (self.started, self.started_ms);
        write_results(&tx, run_id, at, &self.pending, &mut self.known)?;
        if let Some(keep) = keep {
            // Measured from the run's end, but never so short as to forget the run itself.
            let cutoff = unix(run.finished).saturating_sub(keep.as_secs() as i64);
            prune(&tx, cutoff.min(self.started))?;
        }
        tx.commit()?;
        self.data_version = self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?;
        self.pending.clear();
        self.said.clear();
        Ok(())
    }

    /// A `page#fragment` is a result of its own only while the page lacks the anchor; once it
    /// has it, the line rides on the page's result. So a failing `page#fragment` this run did
    /// not report, whose page it found up, is recorded up: its anchor is back (or its link is
    /// gone from the inputs that still link to the page).
    fn settle_fragments(&mut self) {
        for (fp, page, url) in std::mem::take(&mut self.fragments) {
            let Some(&(_, at)) = self.said.get(&page) else {
                continue;
            };
            if self.said.contains_key(&fp) || self.pending[at].outcome != 0 {
                continue;
            }
            let status = self.pending[at].status;
            self.pending.push(Pending {
                fingerprint: fp,
                url,
                outcome: 0,
                status,
                error: None,
                elapsed_us: 0,
                ttfb_us: None,
            });
        }
    }

    /// Starts the next run on the same connection (what the benchmark's synthetic history
    /// does: thousands of runs, one process).
    pub(super) fn next_run(&mut self, started: SystemTime) {
        self.started = unix(started);
        self.started_ms = unix_ms(started);
        self.tally = StateCounts::default();
    }
}

/// The count a URL in state `h` adds to.
fn slot<'t>(t: &'t mut StateCounts, h: &History) -> &'t mut u64 {
    match h.state {
        State::New => &mut t.newly_broken,
        _ if h.is_news() => &mut t.newly_broken,
        State::Still => &mut t.still,
        State::Recovered => &mut t.recovered,
        State::Flapping => &mut t.flapping,
        State::First => &mut t.first,
        State::Steady => &mut t.steady,
    }
}

/// The failing URLs with a `#fragment`, with their page's fingerprint.
fn read_fragments(conn: &Connection) -> rusqlite::Result<Vec<(i64, i64, String)>> {
    let mut stmt = conn.prepare(
        "SELECT fingerprint, url FROM urls WHERE consecutive_failures > 0 AND instr(url, '#') > 0",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    let mut list = Vec::new();
    for row in rows {
        let (fp, url) = row?;
        let page = url.split_once('#').map_or(url.as_str(), |(page, _)| page);
        list.push((fp, fingerprint(page), url.clone()));
    }
    Ok(list)
}

/// Every URL's derived state, and the data version it was read at.
fn read_known(conn: &Connection) -> rusqlite::Result<(FxHashMap<i64, Known>, i64)> {
    let version: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
    let mut stmt = conn.prepare(
        "SELECT id, fingerprint, first_seen, last_seen, last_up, last_failure, last_change, \
         failing_since, consecutive_failures, recent, checks, state, day, day_checks, day_ups, \
         day_elapsed_us, day_max_us, seen_ms FROM urls",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(1)?,
            Known {
                id: r.get(0)?,
                first_seen: r.get(2)?,
                last_seen: r.get(3)?,
                last_up: r.get(4)?,
                last_failure: r.get(5)?,
                last_change: r.get(6)?,
                failing_since: r.get(7)?,
                consecutive_failures: r.get(8)?,
                recent: r.get::<_, i64>(9)? as u64,
                checks: r.get(10)?,
                state: state_from_code(r.get(11)?),
                day: Day {
                    day: r.get(12)?,
                    checks: r.get(13)?,
                    ups: r.get(14)?,
                    elapsed_us: r.get(15)?,
                    max_us: r.get(16)?,
                },
                seen_ms: r.get(17)?,
            },
        ))
    })?;
    Ok((rows.collect::<rusqlite::Result<_>>()?, version))
}

/// The statements a recording runs once per result, prepared once.
struct Writes<'c> {
    insert_url: rusqlite::Statement<'c>,
    update_url: rusqlite::Statement<'c>,
    result: rusqlite::Statement<'c>,
    change: rusqlite::Statement<'c>,
    daily: rusqlite::Statement<'c>,
}

impl<'c> Writes<'c> {
    fn prepare(conn: &'c Connection) -> rusqlite::Result<Writes<'c>> {
        Ok(Writes {
            insert_url: conn.prepare(
                "INSERT INTO urls (fingerprint, url, first_seen, last_seen, last_change, \
                 consecutive_failures, recent, checks, state, last_up, last_failure, \
                 failing_since, day, day_checks, day_ups, day_elapsed_us, day_max_us, seen_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
                 ?17, ?18)",
            )?,
            update_url: conn.prepare(
                "UPDATE urls SET last_seen = ?2, last_change = ?3, consecutive_failures = ?4, \
                 recent = ?5, checks = ?6, state = ?7, last_up = ?8, last_failure = ?9, \
                 failing_since = ?10, day = ?11, day_checks = ?12, day_ups = ?13, \
                 day_elapsed_us = ?14, day_max_us = ?15, seen_ms = ?16 WHERE id = ?1",
            )?,
            result: conn.prepare(
                "INSERT INTO results (run, url, outcome, status, error, elapsed_us, ttfb_us) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?,
            change: conn.prepare(
                "INSERT OR REPLACE INTO changes (url, run, outcome, status, error) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
            // A day is written once, when the URL's next day begins; another run that
            // recorded late may have written it already: then its sums are added.
            daily: conn.prepare(
                "INSERT INTO daily (day, url, checks, ups, elapsed_us, max_us) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (day, url) DO UPDATE SET \
                 checks = checks + excluded.checks, ups = ups + excluded.ups, \
                 elapsed_us = elapsed_us + excluded.elapsed_us, \
                 max_us = max(max_us, excluded.max_us)",
            )?,
        })
    }

    fn result(&mut self, run_id: i64, url: i64, p: &Pending) -> rusqlite::Result<usize> {
        let row = params![
            run_id,
            url,
            p.outcome,
            p.status,
            p.error,
            p.elapsed_us,
            p.ttfb_us
        ];
        self.result.execute(row)
    }

    /// Writes a URL's new state: a new row for a URL never seen, else its row updated.
    /// Returns the row's id.
    fn save_url(&mut self, conn: &Connection, next: &Known, p: &Pending) -> rusqlite::Result<i64> {
        let (n, d) = (next, &next.day);
        let (recent, code) = (n.recent as i64, state_code(n.state));
        // In the order both statements take them, after the row's key.
        let state: [&dyn ToSql; 15] = [
            &n.last_seen,
            &n.last_change,
            &n.consecutive_failures,
            &recent,
            &n.checks,
            &code,
            &n.last_up,
            &n.last_failure,
            &n.failing_since,
            &d.day,
            &d.checks,
            &d.ups,
            &d.elapsed_us,
            &d.max_us,
            &n.seen_ms,
        ];
        if n.id != 0 {
            let key: [&dyn ToSql; 1] = [&n.id];
            let all = key.into_iter().chain(state);
            self.update_url.execute(rusqlite::params_from_iter(all))?;
            return Ok(n.id);
        }
        let key: [&dyn ToSql; 3] = [&p.fingerprint, &p.url, &n.first_seen];
        let all = key.into_iter().chain(state);
        self.insert_url.execute(rusqlite::params_from_iter(all))?;
        Ok(conn.last_insert_rowid())
    }
}

/// The results of run `run_id`, each URL's new state (with its day's sums), the day that
/// finished when a new one began, and a change row when it went from up to failing or back
/// (or was checked for the first time).
fn write_results(
    conn: &Connection,
    run_id: i64,
    (started, started_ms): (i64, i64),
    pending: &[Pending],
    known: &mut FxHashMap<i64, Known>,
) -> rusqlite::Result<()> {
    let mut writes = Writes::prepare(conn)?;
    let day = started.div_euclid(86_400);
    for p in pending {
        let failed = p.outcome != 0;
        let prior = known.get(&p.fingerprint);
        if let Some(k) = prior.filter(|k| k.seen_ms > started_ms) {
            // Another run that started later recorded first: this older check is kept as a
            // result and in its day's sums, but it cannot undo the newer one's state.
            let id = k.id;
            writes.result(run_id, id, p)?;
            let row = params![day, id, 1, i64::from(!failed), p.elapsed_us, p.elapsed_us];
            writes.daily.execute(row)?;
            continue;
        }
        let changed = prior.is_none_or(|k| (k.recent & 1 == 1) != failed);
        let mut next = step(prior, failed, started);
        next.seen_ms = started_ms;
        if let Some(d) = next.day.add(day, !failed, p.elapsed_us) {
            let row = params![d.day, next.id, d.checks, d.ups, d.elapsed_us, d.max_us];
            writes.daily.execute(row)?;
        }
        next.id = writes.save_url(conn, &next, p)?;
        writes.result(run_id, next.id, p)?;
        if changed {
            writes
                .change
                .execute(params![next.id, run_id, p.outcome, p.status, p.error])?;
        }
        known.insert(p.fingerprint, next);
    }
    Ok(())
}

/// Forgets the runs that started before `cutoff` (unix seconds), their results, roll-ups and
/// changes, and the URLs last seen before it; returns how many runs.
fn prune(conn: &Connection, cutoff: i64) -> rusqlite::Result<usize> {
    let oldest: Option<i64> = conn
        .query_row("SELECT min(started) FROM runs", [], |r| r.get(0))
        .optional()?
        .flatten();
    if oldest.is_none_or(|t| t >= cutoff) {
        return Ok(0);
    }
    conn.execute(
        "DELETE FROM results WHERE run IN (SELECT id FROM runs WHERE started < ?1)",
        [cutoff],
    )?;
    conn.execute(
        "DELETE FROM changes WHERE run IN (SELECT id FROM runs WHERE started < ?1)",
        [cutoff],
    )?;
    conn.execute(
        "DELETE FROM daily WHERE day < ?1",
        [cutoff.div_euclid(86_400)],
    )?;
    conn.execute("DELETE FROM urls WHERE last_seen < ?1", [cutoff])?;
    conn.execute("DELETE FROM runs WHERE started < ?1", [cutoff])
}

fn micros(d: Duration) -> i64 {
    d.as_micros().min(i64::MAX as u128) as i64
}
