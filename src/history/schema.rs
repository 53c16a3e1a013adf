//! The database file: what it must be before a run may use it, and the schema's versions.
//! A file that is not a SQLite database, is another program's, or was written by a newer
//! urlcheck is refused before anything writes to it; an older schema is migrated forward, one
//! version at a time, in one transaction.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

/// `PRAGMA application_id` of every urlcheck history: "urlc".
pub(crate) const APPLICATION_ID: i32 = 0x7572_6c63;

/// How long a run waits for another one that is recording into the same file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// The schema's versions: `MIGRATIONS[n]` takes a database from version `n` to `n + 1`.
/// Released versions are never edited: a change is a new entry, tested from every earlier one
/// (`tests/history.rs`).
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: runs, the derived state of each URL (with its current day's sums), every result,
    // the finished days' roll-ups and state changes.
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started INTEGER NOT NULL,
        finished INTEGER NOT NULL,
        host TEXT NOT NULL,
        version TEXT NOT NULL,
        settings TEXT NOT NULL,
        up INTEGER NOT NULL,
        down INTEGER NOT NULL,
        error INTEGER NOT NULL,
        invalid INTEGER NOT NULL,
        skipped INTEGER NOT NULL,
        recorded INTEGER NOT NULL,
        interrupted INTEGER NOT NULL
    );
    CREATE INDEX runs_started ON runs (started);
    CREATE TABLE urls (
        id INTEGER PRIMARY KEY,
        fingerprint INTEGER NOT NULL UNIQUE,
        url TEXT NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        last_up INTEGER,
        last_failure INTEGER,
        last_change INTEGER NOT NULL,
        failing_since INTEGER,
        consecutive_failures INTEGER NOT NULL,
        recent INTEGER NOT NULL,
        checks INTEGER NOT NULL,
        state INTEGER NOT NULL,
        day INTEGER NOT NULL,
        day_checks INTEGER NOT NULL,
        day_ups INTEGER NOT NULL,
        day_elapsed_us INTEGER NOT NULL,
        day_max_us INTEGER NOT NULL
    );
    CREATE TABLE results (
        run INTEGER NOT NULL,
        url INTEGER NOT NULL,
        outcome INTEGER NOT NULL,
        status INTEGER,
        error TEXT,
        elapsed_us INTEGER NOT NULL,
        ttfb_us INTEGER,
        PRIMARY KEY (run, url)
    ) WITHOUT ROWID;
    CREATE TABLE daily (
        day INTEGER NOT NULL,
        url INTEGER NOT NULL,
        checks INTEGER NOT NULL,
        ups INTEGER NOT NULL,
        elapsed_us INTEGER NOT NULL,
        max_us INTEGER NOT NULL,
        PRIMARY KEY (day, url)
    ) WITHOUT ROWID;
    CREATE TABLE changes (
        url INTEGER NOT NULL,
        run INTEGER NOT NULL,
        outcome INTEGER NOT NULL,
        status INTEGER,
        error TEXT,
        PRIMARY KEY (url, run)
    ) WITHOUT ROWID;",
];

/// The version this urlcheck writes.
pub(crate) const CURRENT: i64 = MIGRATIONS.len() as i64;

/// Opens `path` for recording: created when missing, migrated when older. Every refusal
/// happens before the file is written to.
pub(crate) fn open(path: &Path) -> Result<Connection> {
    let name = path.display();
    if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
        inspect(path)?;
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("--history {name}: cannot open it for writing"))?;
    if conn.is_readonly("main")? {
        bail!("--history {name}: the file is read-only, so this run could not be recorded");
    }
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let unwritable = || format!("--history {name}: cannot write to it (or to its folder)");
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .with_context(unwritable)?;
    if !mode.eq_ignore_ascii_case("wal") {
        bail!("--history {name}: this file system cannot keep a write-ahead log (journal mode {mode})");
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", -65_536)?;
    migrate(&conn).with_context(unwritable)?;
    Ok(conn)
}

/// Opens `path` to read it (`urlcheck history`): it must exist and be a urlcheck database this
/// urlcheck can read.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection> {
    if !path.exists() {
        bail!("{}: no such history database", path.display());
    }
    let version = inspect(path)?;
    let conn = read_only(path)?;
    if version < CURRENT {
        bail!(
            "{}: an older history (schema {version}); a run with --history brings it to \
             schema {CURRENT}",
            path.display()
        );
    }
    Ok(conn)
}

fn read_only(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("{}: cannot open it", path.display()))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// Looks at an existing file without writing to it; returns its schema version.
fn inspect(path: &Path) -> Result<i64> {
    let name = path.display();
    let not_sqlite = || format!("{name}: not a SQLite database, or a damaged one");
    let conn = read_only(path)?;
    let app: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .with_context(not_sqlite)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .with_context(not_sqlite)?;
    if app != APPLICATION_ID && (app != 0 || tables > 0) {
        bail!("{name}: a SQLite database, but not a urlcheck history; it was left as it is");
    }
    if version > CURRENT {
        bail!(
            "{name}: written by a newer urlcheck (schema {version}; this one knows up to \
             {CURRENT}); it was left as it is"
        );
    }
    if app == APPLICATION_ID {
        // Reading the tables a run needs finds most damage before the run starts.
        conn.query_row("SELECT count(*) FROM urls", [], |r| r.get::<_, i64>(0))
            .with_context(not_sqlite)?;
    }
    Ok(version)
}

/// Brings the schema to [`CURRENT`], one version at a time, in one transaction (another run
/// may be doing the same: the version is read again once the write lock is held).
fn migrate(conn: &Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version == CURRENT {
        return Ok(());
    }
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(sql)
            .with_context(|| format!("migrating the history from schema {from}"))?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.pragma_update(None, "user_version", CURRENT)?;
    tx.commit()?;
    Ok(())
}
