PRAGMA application_id = 1970433123;
PRAGMA user_version = 2;
CREATE TABLE changes (
        url INTEGER NOT NULL,
        run INTEGER NOT NULL,
        outcome INTEGER NOT NULL,
        status INTEGER,
        error TEXT,
        PRIMARY KEY (url, run)
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
CREATE TABLE runs (
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
    , blocked INTEGER NOT NULL DEFAULT 0);
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
CREATE INDEX runs_started ON runs (started);
