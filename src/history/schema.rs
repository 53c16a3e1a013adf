//! The database file: what it must be before a run may use it, and the schema's versions.
//! A file that is not a SQLite database, is another program's, or was written by a newer
//! urlcheck is refused before anything writes to it; an older schema is migrated forward, one
//! version at a time, in one transaction.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

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
        day INTEGER NOT NULL DEFAULT 0,
        day_checks INTEGER NOT NULL DEFAULT 0,
        day_ups INTEGER NOT NULL DEFAULT 0,
        day_elapsed_us INTEGER NOT NULL DEFAULT 0,
        day_max_us INTEGER NOT NULL DEFAULT 0,
        seen_ms INTEGER NOT NULL DEFAULT 0
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
    // 2: blocked answers (bot walls, rate limits), counted per run; never a URL's check.
    "ALTER TABLE runs ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0;",
];

/// The version this urlcheck writes.
pub(crate) const CURRENT: i64 = MIGRATIONS.len() as i64;

/// Opens `path` for recording: created when missing, migrated when older. Every refusal
/// happens before the file is written to, and leaves no file beside it.
pub(crate) fn open(path: &Path) -> Result<Connection> {
    let name = path.display();
    if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
        let app = check_header(path)?;
        refuse_read_only(path)?;
        if app != APPLICATION_ID {
            // Application id 0: an empty database, or another program's. Only SQLite can
            // tell, and it must not be opened for writing to find out.
            inspect(path)?;
        }
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
    // Asked again of SQLite, which also sees what the write-ahead log holds; the refusals of
    // this connection leave nothing behind, since closing it removes its log files.
    identify(&conn, path)?;
    let unwritable = || format!("--history {name}: cannot write to it (or to its folder)");
    let mode = into_wal(&conn).with_context(unwritable)?;
    if !mode.eq_ignore_ascii_case("wal") {
        bail!("--history {name}: this file system cannot keep a write-ahead log (journal mode {mode})");
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", -65_536)?;
    migrate(&conn).with_context(unwritable)?;
    Ok(conn)
}

/// Puts the database in WAL mode. Another run that is creating the same file holds the lock
/// this takes, and SQLite does not wait for it here (no busy handler): wait as for a write.
fn into_wal(conn: &Connection) -> rusqlite::Result<String> {
    let start = std::time::Instant::now();
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
            Err(e)
                if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                    && start.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            done => return done,
        }
    }
}

/// Opens `path` to read it (`urlcheck history`): it must exist and be a urlcheck database this
/// urlcheck can read.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection> {
    if !path.exists() {
        bail!("{}: no such history database", path.display());
    }
    check_header(path)?;
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

/// Refuses a file whose first 100 bytes (the SQLite header) say it is not SQLite, another
/// program's, or a newer urlcheck's; returns its application id. Read without SQLite, which
/// makes the -wal and -shm files beside a database in WAL mode even to read it.
fn check_header(path: &Path) -> Result<i32> {
    let name = path.display();
    let mut head = Vec::with_capacity(100);
    std::fs::File::open(path)
        .and_then(|f| f.take(100).read_to_end(&mut head))
        .with_context(|| format!("{name}: cannot read it"))?;
    if head.len() < 100 || !head.starts_with(b"SQLite format 3\0") {
        bail!("{name}: not a SQLite database, or a damaged one; it was left as it is");
    }
    let field =
        |at: usize| i32::from_be_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
    let (version, app) = (i64::from(field(60)), field(68));
    // Application id 0 may yet be an empty database: SQLite counts its tables.
    if app != 0 {
        refuse(&name, app, version, true)?;
    }
    Ok(app)
}

/// SQLite opens a file it cannot write read-only, and makes the log files beside it even so:
/// a file this run cannot record into is refused before SQLite sees it.
fn refuse_read_only(path: &Path) -> Result<()> {
    match std::fs::OpenOptions::new().write(true).open(path) {
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            bail!(
                "--history {}: the file is read-only, so this run could not be recorded",
                path.display()
            )
        }
        _ => Ok(()),
    }
}

/// Refuses a SQLite file with application id `app` and schema `version` that is another
/// program's (`tables`: it holds some, or has an id of its own) or a newer urlcheck's.
fn refuse(name: &impl std::fmt::Display, app: i32, version: i64, tables: bool) -> Result<()> {
    if app != APPLICATION_ID && tables {
        bail!("{name}: a SQLite database, but not a urlcheck history; it was left as it is");
    }
    if version < 0 {
        bail!("{name}: schema version {version} is no urlcheck's: a damaged history; it was left as it is");
    }
    if version > CURRENT {
        bail!(
            "{name}: written by a newer urlcheck (schema {version}; this one knows up to \
             {CURRENT}); it was left as it is"
        );
    }
    Ok(())
}

/// What an error of SQLite reading `path` says of it.
fn unusable(path: &Path, e: rusqlite::Error) -> anyhow::Error {
    let what = match e.sqlite_error_code() {
        // Reading a database in WAL mode takes its -shm file, made beside it when missing.
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
            "cannot read it here: SQLite needs to make its -wal and -shm files beside it, and \
             the folder cannot be written"
        }
        _ => "not a SQLite database, or a damaged one",
    };
    anyhow::Error::new(e).context(format!("{}: {what}", path.display()))
}

/// Looks at an existing file without writing to it; returns its schema version.
fn inspect(path: &Path) -> Result<i64> {
    identify(&read_only(path)?, path)
}

/// Refuses what `conn` holds unless it is a urlcheck history this urlcheck can use (or an
/// empty database); returns its schema version.
fn identify(conn: &Connection, path: &Path) -> Result<i64> {
    // One statement, so one snapshot: another run may be creating the file right now.
    let (app, version, tables): (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT application_id FROM pragma_application_id), \
             (SELECT user_version FROM pragma_user_version), \
             (SELECT count(*) FROM sqlite_schema)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(|e| unusable(path, e))?;
    let app = app as i32;
    refuse(&path.display(), app, version, app != 0 || tables > 0)?;
    if app == APPLICATION_ID {
        first_rows(conn).map_err(|e| unusable(path, e))?;
    }
    Ok(version)
}

/// Reads the first row of every table from the table's own b-tree: damage to the schema or to
/// a table's root is found before the run starts. Damage deeper in is found when the run
/// records (exit 2, its results and reports complete): finding it here would mean reading the
/// whole file before every run.
fn first_rows(conn: &Connection) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for table in names {
        let mut first = conn.prepare(&format!("SELECT * FROM \"{table}\" NOT INDEXED LIMIT 1"))?;
        first.query([])?.next()?;
    }
    Ok(())
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
