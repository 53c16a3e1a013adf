//! The run history (issue 11, docs/history.md): `--history DB` driven through several runs
//! against a loopback server whose answers the test changes between runs. Each URL's state
//! (first, new, still, recovered, steady, flapping) with its streak and times, the exit codes of
//! `--fail-on new` and `--fail-after N`, `urlcheck history` and its numbers, pruning with
//! `--history-keep`, migrations from every earlier schema (frozen copies in tests/history/),
//! and the faults: a file that is not a usable history is refused before any request and left
//! byte for byte as it was; a full disk, SIGTERM, kill -9 or a second run at the same time
//! leave a consistent database; no credential reaches the file.
//!
//! Runs are stamped with the time they start, in seconds; where a test needs runs days apart,
//! it ages the database between runs ([`age`]): every time in it moves back by whole days.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Router;
use rusqlite::types::Value as Sql;
use rusqlite::Connection;
use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::watch;

use common::{
    lines, no_panic, refused_port, run, urlcheck, urlcheck_std, wait_child, wait_until, write_list,
    Run, FAST_5S, RUN_LIMIT,
};

/// `PRAGMA application_id` of a urlcheck history: "urlc".
const APPLICATION_ID: i64 = 0x7572_6c63;

// ---------------------------------------------------------------------------
// The server: a status per path, set by the test; paths that hold their requests
// ---------------------------------------------------------------------------

/// What the server answers and what it saw, shared by its handler and the test.
struct Board {
    /// Status per path; 200 for a path not set.
    status: Mutex<HashMap<String, u16>>,
    /// Paths whose requests wait until the test releases them (or the server stops).
    held: Mutex<HashSet<String>>,
    /// Told whenever `held` shrinks.
    wake: watch::Sender<()>,
    requests: AtomicU64,
    hits: Mutex<HashMap<String, u64>>,
    /// Every `Authorization` header received.
    authorization: Mutex<Vec<String>>,
    /// An HTML body per path (none: an empty body).
    bodies: Mutex<HashMap<String, String>>,
}

impl Board {
    fn status_of(&self, path: &str) -> u16 {
        self.status
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(200)
    }

    fn is_held(&self, path: &str) -> bool {
        self.held.lock().unwrap().contains(path)
    }
}

async fn answer(
    State(board): State<Arc<Board>>,
    uri: Uri,
    headers: HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = uri.path().to_owned();
    board.requests.fetch_add(1, Ordering::SeqCst);
    *board.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    if let Some(v) = headers.get("authorization") {
        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
        board.authorization.lock().unwrap().push(v);
    }
    // Subscribed before looking, so a release between the look and the wait is not missed.
    let mut wake = board.wake.subscribe();
    while board.is_held(&path) {
        if wake.changed().await.is_err() {
            break;
        }
    }
    let status = StatusCode::from_u16(board.status_of(&path)).expect("a valid status");
    // `/auth` lets in only `good:pw` (the review's test of two credentials on one URL).
    let good = format!("Basic {}", base64(b"good:pw"));
    if path == "/auth" && headers.get("authorization").is_none_or(|v| *v != *good) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let body = board.bodies.lock().unwrap().get(&path).cloned();
    match body {
        Some(html) => (status, [("content-type", "text/html")], html).into_response(),
        None => status.into_response(),
    }
}

/// A loopback HTTP/1.1 server on a runtime of its own: every path answers the status the test
/// last set for it (200 by default), with an empty body. Stopped on drop; held requests are
/// dropped with it.
struct Switchboard {
    addr: SocketAddr,
    board: Arc<Board>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Switchboard {
    fn start() -> Switchboard {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("build the server's runtime");
        let board = Arc::new(Board {
            status: Mutex::default(),
            held: Mutex::default(),
            wake: watch::Sender::new(()),
            requests: AtomicU64::new(0),
            hits: Mutex::default(),
            authorization: Mutex::default(),
            bodies: Mutex::default(),
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind the server");
        let addr = listener.local_addr().expect("server address");
        let app = Router::new().fallback(answer).with_state(board.clone());
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Switchboard {
            addr,
            board,
            runtime: Some(runtime),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn set(&self, path: &str, status: u16) {
        self.board
            .status
            .lock()
            .unwrap()
            .insert(path.to_owned(), status);
    }

    fn body(&self, path: &str, html: &str) {
        self.board
            .bodies
            .lock()
            .unwrap()
            .insert(path.to_owned(), html.to_owned());
    }

    fn hold(&self, path: &str) {
        self.board.held.lock().unwrap().insert(path.to_owned());
    }

    fn release(&self, path: &str) {
        self.board.held.lock().unwrap().remove(path);
        self.board.wake.send_replace(());
    }

    fn requests(&self) -> u64 {
        self.board.requests.load(Ordering::SeqCst)
    }

    fn hits(&self, path: &str) -> u64 {
        self.board
            .hits
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    fn authorization(&self) -> Vec<String> {
        self.board.authorization.lock().unwrap().clone()
    }
}

impl Drop for Switchboard {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

// ---------------------------------------------------------------------------
// Runs, and the database read back
// ---------------------------------------------------------------------------

/// A server, a folder, and the history database `h.db` in it.
struct Case {
    srv: Switchboard,
    dir: TempDir,
    db: PathBuf,
}

impl Case {
    fn start() -> Case {
        let dir = TempDir::new().unwrap();
        let db = dir.path().join("h.db");
        Case {
            srv: Switchboard::start(),
            dir,
            db,
        }
    }

    fn url(&self, path: &str) -> String {
        self.srv.url(path)
    }

    fn urls(&self, paths: &[&str]) -> Vec<String> {
        paths.iter().map(|p| self.url(p)).collect()
    }

    /// `items` as the list file `urls.txt`.
    fn list(&self, items: &[String]) -> PathBuf {
        write_list(self.dir.path(), "urls.txt", lines(items))
    }

    /// One run over `items` recording into the case's database, results as JSONL.
    fn check(&self, items: &[String], extra: &[&str]) -> Run {
        let list = self.list(items);
        let out = run(urlcheck()
            .current_dir(self.dir.path())
            .args(FAST_5S)
            .args(["--format", "jsonl", "--history"])
            .arg(&self.db)
            .args(extra)
            .arg(&list));
        no_panic(&out);
        out
    }

    /// `urlcheck history DB` with `args`.
    fn history(&self, args: &[&str]) -> Run {
        let out = run(urlcheck().arg("history").arg(&self.db).args(args));
        no_panic(&out);
        out.assert_code(0);
        out
    }

    fn conn(&self) -> Connection {
        Connection::open(&self.db).expect("open the history")
    }
}

/// The result lines of a JSONL run, by URL (a repeated URL keeps its last line).
fn by_url(out: &Run) -> HashMap<String, Value> {
    out.json_lines()
        .into_iter()
        .filter(|v| v["type"] == "result")
        .map(|v| (v["url"].as_str().unwrap().to_owned(), v))
        .collect()
}

/// The one number a query returns.
fn num(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// `started` of every run, in the order they were recorded.
fn starts(conn: &Connection) -> Vec<i64> {
    let mut stmt = conn
        .prepare("SELECT started FROM runs ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Unix seconds as the reports write them.
fn stamp(secs: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(secs as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Every URL's days: the finished ones in `daily`, the last one still in the URL's row.
const DAYS: &str = "(SELECT day, url, checks FROM daily \
                    UNION ALL SELECT day, id, day_checks FROM urls WHERE day_checks > 0)";

/// Moves every time in the database `days` days back, as if its runs had been made then.
fn age(db: &Path, days: i64) {
    let s = days * 86_400;
    let conn = Connection::open(db).expect("open the history to age it");
    // Day keys move through a copy: shifting a key in place can collide with the next row's.
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         UPDATE runs SET started = started - {s}, finished = finished - {s};
         UPDATE urls SET first_seen = first_seen - {s}, last_seen = last_seen - {s},
           last_up = last_up - {s}, last_failure = last_failure - {s},
           last_change = last_change - {s}, failing_since = failing_since - {s},
           day = day - {days};
         CREATE TEMP TABLE aged AS SELECT * FROM daily;
         DELETE FROM daily;
         INSERT INTO daily SELECT day - {days}, url, checks, ups, elapsed_us, max_us FROM aged;
         DROP TABLE aged;
         COMMIT;"
    ))
    .expect("age the history");
}

/// `PRAGMA integrity_check` says ok, and every run holds exactly the results it says it
/// recorded: no half run.
#[track_caller]
fn assert_consistent(conn: &Connection, context: &str) {
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok", "{context}");
    let mut stmt = conn
        .prepare(
            "SELECT runs.id, runs.recorded, (SELECT count(*) FROM results WHERE run = runs.id) \
             FROM runs",
        )
        .unwrap();
    let rows: Vec<(i64, i64, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for (id, recorded, results) in rows {
        assert_eq!(recorded, results, "run {id}: {context}");
    }
}

// ---------------------------------------------------------------------------
// States over a scripted sequence of runs
// ---------------------------------------------------------------------------

/// Not an HTTP status: the URL points at a port where nothing listens (outcome error).
const REFUSED: u16 = 1;
/// Not an HTTP status: the URL is not in that run's list.
const ABSENT: u16 = 0;

/// Per URL, what each of six runs finds, and what that run's JSONL says of it:
/// "state consecutive_failures failing_since last_up", the times given as the run (1-based)
/// that started them, `-` for null.
const SCRIPT: &[(&str, [u16; 6], [&str; 6])] = &[
    (
        "/steady",
        [200, 200, 200, 200, 200, 200],
        [
            "first 0 - 1",
            "steady 0 - 2",
            "steady 0 - 3",
            "steady 0 - 4",
            "steady 0 - 5",
            "steady 0 - 6",
        ],
    ),
    (
        "/breaks",
        [200, 500, 503, 200, 200, 200],
        [
            "first 0 - 1",
            "new 1 2 1",
            "still 2 2 1",
            "recovered 0 - 4",
            "steady 0 - 5",
            "steady 0 - 6",
        ],
    ),
    (
        // Up, down, up, down: the third change in its last ten checks makes it flapping, and
        // it stays so while they are within its last ten.
        "/flaps",
        [200, 404, 200, 404, 404, 404],
        [
            "first 0 - 1",
            "new 1 2 1",
            "recovered 0 - 3",
            "flapping 1 4 3",
            "flapping 2 4 3",
            "flapping 3 4 3",
        ],
    ),
    (
        "/born-broken",
        [404, 404, 404, 200, 200, 200],
        [
            "first 1 1 -",
            "still 2 1 -",
            "still 3 1 -",
            "recovered 0 - 4",
            "steady 0 - 5",
            "steady 0 - 6",
        ],
    ),
    (
        "/late",
        [ABSENT, ABSENT, 200, 200, 200, 500],
        [
            "",
            "",
            "first 0 - 3",
            "steady 0 - 4",
            "steady 0 - 5",
            "new 1 6 5",
        ],
    ),
    (
        "refused",
        [REFUSED; 6],
        [
            "first 1 1 -",
            "still 2 1 -",
            "still 3 1 -",
            "still 4 1 -",
            "still 5 1 -",
            "still 6 1 -",
        ],
    ),
];

/// Runs the script: six runs, a day apart, over the case's server, each checked against it.
/// Returns each URL by its name in the script.
fn run_script(case: &Case) -> HashMap<&'static str, String> {
    let refused = format!("http://127.0.0.1:{}/refused", refused_port());
    let urls: HashMap<&str, String> = SCRIPT
        .iter()
        .map(|(name, _, _)| match *name {
            "refused" => (*name, refused.clone()),
            path => (*name, case.url(path)),
        })
        .collect();
    for run in 0..6 {
        if run > 0 {
            age(&case.db, 1);
        }
        let mut list = Vec::new();
        for (name, answers, _) in SCRIPT {
            match answers[run] {
                ABSENT => continue,
                REFUSED => {}
                status => case.srv.set(name, status),
            }
            list.push(urls[name].clone());
        }
        // A line that is not a URL has no history; a repeated URL is one check.
        list.push("not a url".into());
        list.push(urls["/steady"].clone());
        let out = case.check(&list, &[]);
        out.assert_code(1);
        assert_states(&out, run, &urls, &starts(&case.conn()));
    }
    urls
}

/// Every result of run `run` (0-based) has the history the script says; the invalid line has
/// none.
#[track_caller]
fn assert_states(out: &Run, run: usize, urls: &HashMap<&str, String>, starts: &[i64]) {
    assert_eq!(starts.len(), run + 1, "one runs row per run: {out}");
    let time = |field: &str| match field {
        "-" => Value::Null,
        n => Value::from(stamp(starts[n.parse::<usize>().unwrap() - 1])),
    };
    let results = by_url(out);
    for (name, _, expected) in SCRIPT {
        let Some(r) = results.get(&urls[name]) else {
            assert!(
                expected[run].is_empty(),
                "run {}: no result for {name}: {out}",
                run + 1
            );
            continue;
        };
        let want: Vec<&str> = expected[run].split(' ').collect();
        let h = &r["history"];
        let context = format!("run {}, {name}: {h:#}\n{out}", run + 1);
        assert_eq!(h["state"], want[0], "{context}");
        assert_eq!(
            h["consecutive_failures"],
            want[1].parse::<u64>().unwrap(),
            "{context}"
        );
        assert_eq!(h["failing_since"], time(want[2]), "{context}");
        assert_eq!(h["last_up"], time(want[3]), "{context}");
    }
    let all = out.json_lines();
    let invalid: Vec<&Value> = all.iter().filter(|v| v["outcome"] == "invalid").collect();
    assert_eq!(invalid.len(), 1, "{out}");
    assert!(invalid[0].get("history").is_none(), "{out}");
}

#[test]
fn each_state_streak_and_time_over_six_runs() {
    let case = Case::start();
    run_script(&case);
    let conn = case.conn();
    assert_consistent(&conn, "after six runs");
    assert_eq!(num(&conn, "SELECT count(*) FROM runs"), 6);
    // The repeated line was checked once a run; the invalid line never.
    assert_eq!(num(&conn, "SELECT count(*) FROM urls"), 6);
    assert_eq!(num(&conn, "SELECT max(checks) FROM urls"), 6);
    assert_eq!(
        num(&conn, "SELECT count(*) FROM results"),
        5 * 6 + 4,
        "five URLs in every run, /late in four"
    );
}

// ---------------------------------------------------------------------------
// urlcheck history DB: the numbers match the runs made
// ---------------------------------------------------------------------------

/// After the script, per URL: state, checks, ups, streak, over every run and over the last
/// three (`--since 60h`: the runs made 0, 1 and 2 days ago).
const TOLD: &[(&str, &str, [i64; 3], [i64; 2])] = &[
    ("refused", "still", [6, 0, 6], [3, 0]),
    ("/flaps", "flapping", [6, 2, 3], [3, 0]),
    ("/late", "new", [4, 3, 1], [3, 2]),
    ("/born-broken", "steady", [6, 3, 0], [3, 3]),
    ("/breaks", "steady", [6, 4, 0], [3, 3]),
    ("/steady", "steady", [6, 6, 0], [3, 3]),
];

fn percent(ups: i64, checks: i64) -> f64 {
    (10_000.0 * ups as f64 / checks as f64).round() / 100.0
}

#[test]
fn history_tells_the_numbers_of_the_runs_made() {
    let case = Case::start();
    let urls = run_script(&case);
    let starts = starts(&case.conn());

    // JSON, every run: failing first, longest streak first, then flapping, then by URL.
    let doc = case.history(&["--format", "json"]).json();
    assert_eq!(doc["window"]["runs"], 6, "{doc:#}");
    assert_eq!(doc["window"]["first_run"], stamp(starts[0]), "{doc:#}");
    assert_eq!(doc["window"]["last_run"], stamp(starts[5]), "{doc:#}");
    let rows = doc["urls"].as_array().unwrap();
    let order: Vec<&str> = rows.iter().map(|r| r["url"].as_str().unwrap()).collect();
    let want: Vec<&str> = TOLD.iter().map(|t| urls[t.0].as_str()).collect();
    assert_eq!(order, want, "{doc:#}");
    for (row, (name, state, [checks, ups, streak], _)) in rows.iter().zip(TOLD) {
        let context = format!("{name}: {row:#}");
        assert_eq!(row["state"], *state, "{context}");
        assert_eq!(row["checks"], *checks, "{context}");
        assert_eq!(row["ups"], *ups, "{context}");
        assert_eq!(row["consecutive_failures"], *streak, "{context}");
        assert_eq!(row["uptime_percent"], percent(*ups, *checks), "{context}");
        let first = if *name == "/late" { 2 } else { 0 };
        assert_eq!(row["first_seen"], stamp(starts[first]), "{context}");
        assert_eq!(row["last_seen"], stamp(starts[5]), "{context}");
    }

    // The table says the same.
    let table = case.history(&[]).stdout();
    let body: Vec<&str> = table.lines().collect();
    assert!(body[0].starts_with("STATE"), "{table}");
    assert_eq!(body.len(), TOLD.len() + 2, "{table}");
    for (line, (name, state, [checks, ups, streak], _)) in body[1..].iter().zip(TOLD) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells[0], *state, "{name}: {line}");
        assert_eq!(
            cells[1],
            format!("{:.2}%", percent(*ups, *checks)),
            "{line}"
        );
        assert_eq!(cells[2], checks.to_string(), "{line}");
        assert_eq!(cells[3], streak.to_string(), "{line}");
        assert_eq!(*cells.last().unwrap(), urls[name], "{line}");
    }
    let last = body.last().unwrap();
    let span = format!("from {} to {}", stamp(starts[0]), stamp(starts[5]));
    assert_eq!(*last, format!("6 URLs, 6 runs {span}"), "{table}");

    // --since: only what the last three runs found.
    let doc = case.history(&["--since", "60h", "--format", "json"]).json();
    assert_eq!(doc["window"]["runs"], 3, "{doc:#}");
    assert_eq!(doc["window"]["first_run"], stamp(starts[3]), "{doc:#}");
    for (name, _, _, [checks, ups]) in TOLD {
        let row = doc["urls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["url"] == urls[name].as_str())
            .unwrap_or_else(|| panic!("{name} missing: {doc:#}"));
        assert_eq!(row["checks"], *checks, "{name}: {row:#}");
        assert_eq!(row["ups"], *ups, "{name}: {row:#}");
    }

    // --state: only URLs in those states.
    let listed = |states: &str| -> BTreeMap<String, String> {
        let doc = case
            .history(&["--state", states, "--format", "json"])
            .json();
        doc["urls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["url"].as_str().unwrap().into(),
                    r["state"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let both = BTreeMap::from([
        (urls["/late"].clone(), "new".to_string()),
        (urls["refused"].clone(), "still".to_string()),
    ]);
    assert_eq!(listed("new,still"), both);
    assert_eq!(
        listed("flapping"),
        BTreeMap::from([(urls["/flaps"].clone(), "flapping".to_string())])
    );
    assert!(listed("recovered").is_empty());

    assert_timeline(&case, &urls, &starts);
}

/// One URL's timeline: its changes between up and failing, each lasting until the next, and
/// one day per run.
fn assert_timeline(case: &Case, urls: &HashMap<&str, String>, starts: &[i64]) {
    let doc = case.history(&[&urls["/breaks"], "--format", "json"]).json();
    assert_eq!(doc["url"]["checks"], 6, "{doc:#}");
    assert_eq!(doc["url"]["ups"], 4, "{doc:#}");
    let changes: Vec<(String, String, u64, i64)> = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["at"].as_str().unwrap().into(),
                c["outcome"].as_str().unwrap().into(),
                c["status"].as_u64().unwrap(),
                c["lasted_s"].as_i64().unwrap(),
            )
        })
        .collect();
    let change = |run: usize, outcome: &str, status, until: usize| {
        let lasted = starts[until] - starts[run];
        (stamp(starts[run]), outcome.to_string(), status, lasted)
    };
    assert_eq!(
        changes,
        [
            change(0, "up", 200, 1),
            change(1, "down", 500, 3),
            change(3, "up", 200, 5)
        ],
        "{doc:#}"
    );
    let days: Vec<(String, i64, i64)> = doc["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let day = d["day"].as_str().unwrap().to_string();
            (
                day,
                d["checks"].as_i64().unwrap(),
                d["ups"].as_i64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, i64, i64)> = [1, 0, 0, 1, 1, 1]
        .iter()
        .enumerate()
        .map(|(i, ups)| (stamp(starts[i])[..10].to_string(), 1, *ups))
        .collect();
    assert_eq!(days, want, "{doc:#}");

    let text = case.history(&[&urls["refused"]]).stdout();
    let since = format!("failing 6 runs in a row since {}", stamp(starts[0]));
    assert!(text.contains(&since), "{text}");
    assert!(text.contains("6 checks, 0.00% up"), "{text}");
    let day_lines = text.lines().skip_while(|l| *l != "days:").skip(1).count();
    assert_eq!(day_lines, 6, "{text}");
}

// ---------------------------------------------------------------------------
// Exit codes: --fail-on new, --fail-after N
// ---------------------------------------------------------------------------

/// The exit codes of runs over `items` with `extra` flags, the server answering `/a` as
/// `statuses` says, one run each.
fn codes(case: &Case, items: &[String], extra: &[&str], statuses: &[u16]) -> Vec<i32> {
    statuses
        .iter()
        .map(|s| {
            case.srv.set("/a", *s);
            case.check(items, extra).code.expect("an exit code")
        })
        .collect()
}

#[test]
fn fail_on_new_fails_only_the_run_where_a_url_broke() {
    let case = Case::start();
    let items = case.urls(&["/a", "/up"]);
    // up, broke, still broken (twice), recovered, up.
    let statuses = [200, 500, 404, 500, 200, 200];
    assert_eq!(
        codes(&case, &items, &["--fail-on", "new"], &statuses),
        [0, 1, 0, 0, 0, 0]
    );
    // A URL failing at its first check is newly broken too; the next run is not news.
    let case = Case::start();
    let items = case.urls(&["/a", "/up"]);
    assert_eq!(
        codes(&case, &items, &["--fail-on", "new"], &[503, 503]),
        [1, 0]
    );
}

/// A URL that breaks while it is flapping has broken since the last run all the same: a real
/// outage soon after a blip must not go unreported (what the flapping state adds is that it
/// also changed twice before). `History::is_news` (src/model.rs) says "failing now and up at
/// its last check", but answers by state, and the state of such a check is `flapping`.
#[test]
fn a_url_that_breaks_while_flapping_is_news() {
    let case = Case::start();
    let items = case.urls(&["/a", "/up"]);
    // up, a blip, up again, then broken for good: the break is the third change.
    let statuses = [200, 500, 200, 500, 500];
    let mut states = Vec::new();
    let mut codes = Vec::new();
    for s in statuses {
        case.srv.set("/a", s);
        let out = case.check(&items, &["--fail-on", "new"]);
        states.push(by_url(&out)[&items[0]]["history"]["state"].clone());
        codes.push(out.code.unwrap());
    }
    assert_eq!(
        states,
        ["first", "new", "recovered", "flapping", "flapping"]
    );
    assert_eq!(codes, [0, 1, 0, 1, 0], "exit codes of --fail-on new");
}

#[test]
fn fail_after_three_fails_from_the_third_failing_run_in_a_row() {
    let case = Case::start();
    let items = case.urls(&["/a", "/up"]);
    // Three failures, a fourth, an up that ends the streak, and a new streak.
    let statuses = [500, 500, 500, 404, 200, 500, 500];
    assert_eq!(
        codes(&case, &items, &["--fail-after", "3"], &statuses),
        [0, 0, 1, 1, 0, 0, 0]
    );
    // An error (nothing listens) counts like a down; an invalid line is no streak: it fails
    // the run at once, as --fail-on's default says.
    let case = Case::start();
    let refused = format!("http://127.0.0.1:{}/", refused_port());
    assert_eq!(
        codes(
            &case,
            std::slice::from_ref(&refused),
            &["--fail-after", "3"],
            &[200; 3]
        ),
        [0, 0, 1]
    );
    let case = Case::start();
    let items = vec![case.url("/up"), "not a url".into()];
    assert_eq!(codes(&case, &items, &["--fail-after", "3"], &[200]), [1]);
}

#[test]
fn fail_on_new_combines_with_outcomes() {
    // new,invalid: the invalid line fails every run; what is only still broken does not.
    let case = Case::start();
    let with_invalid = vec![case.url("/a"), "not a url".into()];
    let fail_on = ["--fail-on", "new,invalid"];
    assert_eq!(
        codes(&case, &with_invalid, &fail_on, &[200, 500, 500]),
        [1, 1, 1]
    );
    let case = Case::start();
    let items = vec![case.url("/a")];
    assert_eq!(codes(&case, &items, &fail_on, &[500, 500, 200]), [1, 0, 0]);

    // new,down: a still broken down URL fails too, an error that is not news does not.
    let case = Case::start();
    let refused = format!("http://127.0.0.1:{}/", refused_port());
    let items = vec![case.url("/a"), refused];
    let fail_on = ["--fail-on", "new,down"];
    assert_eq!(
        codes(&case, &items, &fail_on, &[200, 200, 404, 404, 200]),
        [1, 0, 1, 1, 0]
    );

    // new with --fail-after: what broke fails at once, the streak only at its third run.
    let case = Case::start();
    let items = vec![case.url("/a")];
    let both = ["--fail-on", "new,down", "--fail-after", "3"];
    assert_eq!(
        codes(&case, &items, &both, &[200, 500, 500, 500, 200]),
        [0, 1, 0, 1, 0]
    );
}

#[test]
fn fail_on_new_without_a_history_is_a_usage_error_before_any_request() {
    let case = Case::start();
    let list = case.list(&case.urls(&["/a"]));
    for flags in [&["--fail-on", "new"][..], &["--fail-on", "down,new"]] {
        let out = run(urlcheck().args(FAST_5S).args(flags).arg(&list));
        no_panic(&out);
        out.assert_code(2);
        assert!(
            out.stderr.contains("--fail-on new needs --history"),
            "{out}"
        );
    }
    for flags in [&["--fail-after", "3"][..], &["--history-keep", "30d"]] {
        let out = run(urlcheck().args(FAST_5S).args(flags).arg(&list));
        out.assert_code(2);
        assert!(out.stderr.contains("--history <DB>"), "{out}");
    }
    assert_eq!(case.srv.requests(), 0);
    assert!(!case.db.exists());
}

/// A reader of `urlcheck history` that goes away (`| head -1`) ends it quietly, exit 0.
#[test]
fn history_to_a_reader_that_goes_away_ends_quietly() {
    let case = Case::start();
    made_history(&case);
    // More URLs than a pipe holds the list of.
    case.conn()
        .execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
             INSERT INTO urls (fingerprint, url, first_seen, last_seen, last_change,
               consecutive_failures, recent, checks, state)
             SELECT i, 'http://127.0.0.1:9/' || i, 0, 0, 0, 0, 0, 1, 4 FROM n",
        )
        .unwrap();
    for format in ["human", "json"] {
        let mut child = urlcheck_std()
            .args(["history", "--format", format])
            .arg(&case.db)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn urlcheck");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty(), "{format}");
        let status = wait_child(&mut child, RUN_LIMIT);
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(status.code(), Some(0), "{format}: {stderr}");
        assert_eq!(stderr, "", "{format}");
    }
}

// ---------------------------------------------------------------------------
// Pruning: --history-keep
// ---------------------------------------------------------------------------

/// Rows of `table` that belong to runs `ids` (`results`, `changes`).
fn rows_of_runs(conn: &Connection, table: &str, ids: &[i64]) -> i64 {
    let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
    num(
        conn,
        &format!(
            "SELECT count(*) FROM {table} WHERE run IN ({})",
            ids.join(",")
        ),
    )
}

#[test]
fn history_keep_forgets_old_runs_and_urls_not_seen_since() {
    let case = Case::start();
    let (old, kept, fresh) = (case.url("/old"), case.url("/kept"), case.url("/fresh"));
    // Runs 1 and 2 made five and two days ago, with a URL checked only then; run 3 today.
    case.check(&[old.clone(), kept.clone()], &[]).assert_code(0);
    age(&case.db, 3);
    case.check(&[old.clone(), kept.clone()], &[]).assert_code(0);
    age(&case.db, 2);
    case.check(&[kept.clone(), fresh.clone()], &[])
        .assert_code(0);
    let before = {
        let conn = case.conn();
        assert_eq!(rows_of_runs(&conn, "results", &[1, 2]), 4);
        assert_eq!(rows_of_runs(&conn, "changes", &[1]), 2);
        assert_eq!(
            num(&conn, &format!("SELECT count(DISTINCT day) FROM {DAYS}")),
            3
        );
        num(&conn, &format!("SELECT max(day) FROM {DAYS}"))
    };

    let out = case.check(std::slice::from_ref(&kept), &["--history-keep", "1d"]);
    out.assert_code(0);
    assert_eq!(by_url(&out)[&kept]["history"]["state"], "steady", "{out}");
    let conn = case.conn();
    assert_consistent(&conn, "after pruning");
    let ids: Vec<i64> = {
        let mut stmt = conn.prepare("SELECT id FROM runs ORDER BY id").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    assert_eq!(ids, [3, 4], "the runs older than a day are gone");
    assert_eq!(rows_of_runs(&conn, "results", &[1, 2]), 0);
    assert_eq!(rows_of_runs(&conn, "changes", &[1, 2]), 0);
    assert_eq!(rows_of_runs(&conn, "results", &[3, 4]), 3);
    assert_eq!(
        num(
            &conn,
            &format!("SELECT count(*) FROM {DAYS} WHERE day < (SELECT max(day) FROM {DAYS})")
        ),
        0,
        "the old days' roll-ups are gone"
    );
    assert_eq!(num(&conn, &format!("SELECT max(day) FROM {DAYS}")), before);
    assert_eq!(num(&conn, &format!("SELECT sum(checks) FROM {DAYS}")), 3);
    let urls: BTreeMap<String, i64> = {
        let mut stmt = conn.prepare("SELECT url, checks FROM urls").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    // A URL seen since keeps its whole count: its state is not pruned, only old results.
    assert_eq!(
        urls,
        BTreeMap::from([(kept.clone(), 4), (fresh.clone(), 1)])
    );

    let doc = case.history(&["--format", "json"]).json();
    assert_eq!(doc["window"]["runs"], 2, "{doc:#}");
    let told: Vec<(&str, i64)> = doc["urls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["url"].as_str().unwrap(), r["checks"].as_i64().unwrap()))
        .collect();
    assert_eq!(told, [(fresh.as_str(), 1), (kept.as_str(), 2)], "{doc:#}");

    // Nothing older than the cutoff left: keeping again forgets nothing more.
    case.check(std::slice::from_ref(&kept), &["--history-keep", "1d"])
        .assert_code(0);
    assert_eq!(num(&case.conn(), "SELECT count(*) FROM runs"), 3);
}

// ---------------------------------------------------------------------------
// Migrations from every earlier schema; the frozen copies in tests/history/
// ---------------------------------------------------------------------------

/// Where the frozen copies of released schemas live: `schema-vN.sql` (what urlcheck N created
/// in an empty file) and `data-vN.sql` (a small history it recorded).
fn frozen(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/history")
        .join(name)
}

/// Set to write the copies of the current schema instead of comparing with them: once, when a
/// new schema version is released (a released copy is never rewritten).
const FREEZE: &str = "URLCHECK_FREEZE_SCHEMA";

/// The tables of `conn` in the order they are created, then the indexes.
fn tables(conn: &Connection) -> Vec<(String, String)> {
    let mut stmt = conn
        .prepare(
            "SELECT name, sql FROM sqlite_schema WHERE sql IS NOT NULL \
             ORDER BY type = 'index', name",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// The schema of `conn` as SQL that makes it again in an empty file: its application id and
/// version, then every table and index as it was created.
fn schema_sql(conn: &Connection) -> String {
    let app = num(conn, "PRAGMA application_id");
    let version = num(conn, "PRAGMA user_version");
    let mut out = format!("PRAGMA application_id = {app};\nPRAGMA user_version = {version};\n");
    for (_, sql) in tables(conn) {
        out.push_str(&sql);
        out.push_str(";\n");
    }
    out
}

fn literal(v: &Sql) -> String {
    match v {
        Sql::Null => "NULL".into(),
        Sql::Integer(n) => n.to_string(),
        Sql::Real(x) => format!("{x:?}"),
        Sql::Text(s) => format!("'{}'", s.replace('\'', "''")),
        Sql::Blob(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!("X'{hex}'")
        }
    }
}

/// The column names of `table`, in order.
fn columns(conn: &Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
        ))
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Every row of `table`, as the values of `columns` in that order, sorted.
fn rows_of(conn: &Connection, table: &str, columns: &[String]) -> Vec<Vec<Sql>> {
    let list = columns.join(", ");
    let sql = format!("SELECT {list} FROM \"{table}\" ORDER BY {list}");
    let mut stmt = conn.prepare(&sql).unwrap();
    stmt.query_map([], |r| {
        (0..columns.len()).map(|i| r.get::<_, Sql>(i)).collect()
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

/// Every row of `table`, every column.
fn table_rows(conn: &Connection, table: &str) -> Vec<Vec<Sql>> {
    rows_of(conn, table, &columns(conn, table))
}

/// Every row of every table as INSERT statements.
fn data_sql(conn: &Connection) -> String {
    let mut out = String::new();
    for (table, sql) in tables(conn) {
        if !sql.starts_with("CREATE TABLE") {
            continue;
        }
        for row in table_rows(conn, &table) {
            let values: Vec<String> = row.iter().map(literal).collect();
            out.push_str(&format!(
                "INSERT INTO {table} VALUES ({});\n",
                values.join(", ")
            ));
        }
    }
    out
}

/// The schema version this urlcheck writes, and its schema as SQL: from a history it makes in
/// an empty folder.
fn current_schema() -> (i64, String) {
    let case = Case::start();
    case.check(&case.urls(&["/"]), &[]).assert_code(0);
    let conn = case.conn();
    (num(&conn, "PRAGMA user_version"), schema_sql(&conn))
}

/// A small history for `data-vN.sql`: three runs a day apart over a URL that breaks, one that
/// recovers, and one on a port where nothing listens; made a month ago, so that no later run
/// shares its days; the host name replaced.
fn freeze_data(path: &Path) {
    let case = Case::start();
    let items = vec![
        case.url("/a"),
        case.url("/b"),
        "http://127.0.0.1:9/gone".into(),
    ];
    for (a, b) in [(200, 404), (200, 404), (500, 200)] {
        if case.db.exists() {
            age(&case.db, 1);
        }
        case.srv.set("/a", a);
        case.srv.set("/b", b);
        case.check(&items, &[]).assert_code(1);
    }
    age(&case.db, 30);
    let conn = case.conn();
    conn.execute("UPDATE runs SET host = 'frozen-host'", [])
        .unwrap();
    std::fs::write(path, data_sql(&conn)).unwrap();
}

#[test]
fn the_schema_urlcheck_creates_is_the_frozen_copy_of_its_version() {
    let (current, schema) = current_schema();
    assert!(current >= 1, "user_version {current}");
    let path = frozen(&format!("schema-v{current}.sql"));
    if std::env::var_os(FREEZE).is_some() && !path.exists() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &schema).unwrap();
        freeze_data(&frozen(&format!("data-v{current}.sql")));
    }
    let copy = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; a new schema version needs its frozen copy: run this test once with \
             {FREEZE}=1",
            path.display()
        )
    });
    assert_eq!(
        schema, copy,
        "the schema of version {current} is not the one released: change it with a new \
         migration, never by editing a released one"
    );
    for v in 1..=current {
        for name in [format!("schema-v{v}.sql"), format!("data-v{v}.sql")] {
            assert!(frozen(&name).exists(), "{name} is missing");
        }
    }
}

/// The frozen history of version `v` (schema and data) in a new file at `db`.
fn load_frozen(db: &Path, v: i64) {
    let read = |name: String| {
        std::fs::read_to_string(frozen(&name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let conn = Connection::open(db).unwrap();
    conn.execute_batch(&read(format!("schema-v{v}.sql")))
        .unwrap();
    conn.execute_batch(&format!(
        "BEGIN; {} COMMIT;",
        read(format!("data-v{v}.sql"))
    ))
    .unwrap();
    assert_eq!(num(&conn, "PRAGMA user_version"), v);
}

/// After a run on a history that was at an earlier (or the same) version: it is at the current
/// one, with exactly the schema a new history has, and consistent.
#[track_caller]
fn assert_current(db: &Path, current: i64, schema: &str, context: &str) {
    let conn = Connection::open(db).unwrap();
    assert_eq!(num(&conn, "PRAGMA user_version"), current, "{context}");
    assert_eq!(
        num(&conn, "PRAGMA application_id"),
        APPLICATION_ID,
        "{context}"
    );
    assert_eq!(schema_sql(&conn), schema, "{context}");
    assert_consistent(&conn, context);
}

/// Version 0 is a file without a schema: none yet, an empty one, or a SQLite database with
/// nothing in it. Each becomes a new history.
fn migrate_from_nothing(current: i64, schema: &str) {
    type Make = fn(&Path);
    let shapes: [(&str, Make); 3] = [
        ("no file", |_| {}),
        ("an empty file", |db| std::fs::write(db, b"").unwrap()),
        ("a SQLite file without tables", |db| {
            let conn = Connection::open(db).unwrap();
            conn.execute_batch("CREATE TABLE x (a); DROP TABLE x;")
                .unwrap();
        }),
    ];
    for (what, make) in shapes {
        let case = Case::start();
        make(&case.db);
        let url = case.url("/a");
        let out = case.check(std::slice::from_ref(&url), &[]);
        out.assert_code(0);
        assert_eq!(
            by_url(&out)[&url]["history"]["state"],
            "first",
            "{what}: {out}"
        );
        assert_current(&case.db, current, schema, what);
        assert_eq!(
            num(&case.conn(), "SELECT count(*) FROM results"),
            1,
            "{what}"
        );
    }
}

/// A history at version `v`, with data, is migrated by the first run that opens it; every row
/// it held is still there, and its URLs' history goes on.
fn migrate_from(v: i64, current: i64, schema: &str) {
    let case = Case::start();
    load_frozen(&case.db, v);
    let context = format!("from schema {v}");
    let before: Vec<(String, Vec<String>, Vec<Vec<Sql>>)> = {
        let conn = case.conn();
        let names: Vec<String> = tables(&conn)
            .into_iter()
            .filter(|(_, sql)| sql.starts_with("CREATE TABLE"))
            .map(|(name, _)| name)
            .collect();
        names
            .into_iter()
            .map(|t| {
                let cols = columns(&conn, &t);
                let rows = rows_of(&conn, &t, &cols);
                assert!(!rows.is_empty(), "{context}: {t} holds no data");
                (t, cols, rows)
            })
            .collect()
    };
    let runs = before.iter().find(|t| t.0 == "runs").unwrap().2.len() as i64;

    // A run over a URL the history does not know: the old rows are all kept, unchanged.
    case.check(&case.urls(&["/new"]), &[]).assert_code(0);
    assert_current(&case.db, current, schema, &context);
    let conn = case.conn();
    for (table, cols, rows) in &before {
        let now = rows_of(&conn, table, cols);
        for row in rows {
            assert!(now.contains(row), "{context}: {table} lost {row:?}");
        }
    }
    assert_eq!(
        num(&conn, "SELECT count(*) FROM runs"),
        runs + 1,
        "{context}"
    );

    // A URL it knows goes on from where it was.
    let (url, checks, first_seen): (String, i64, i64) = conn
        .query_row(
            "SELECT url, checks, first_seen FROM urls WHERE url LIKE '%:9/gone'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let out = case.check(std::slice::from_ref(&url), &[]);
    let h = &by_url(&out)[&url]["history"];
    let state = if out.code == Some(0) {
        "recovered"
    } else {
        "still"
    };
    assert_eq!(h["state"], state, "{context}: {out}");
    let after: (i64, i64) = case
        .conn()
        .query_row(
            "SELECT checks, first_seen FROM urls WHERE url = ?1",
            [&url],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(after, (checks + 1, first_seen), "{context}");
    let listed = case.history(&["--format", "json"]).json();
    let n = listed["urls"].as_array().unwrap().len();
    let known = before.iter().find(|t| t.0 == "urls").unwrap().2.len();
    assert_eq!(n, known + 1, "{context}: {listed:#}");
}

#[test]
fn every_earlier_schema_is_migrated_and_its_data_kept() {
    let (current, schema) = current_schema();
    migrate_from_nothing(current, &schema);
    // Every released version, the current one included (opened without a migration).
    for v in 1..=current {
        migrate_from(v, current, &schema);
    }
}

// ---------------------------------------------------------------------------
// Faults before any request: the file is refused and left as it was
// ---------------------------------------------------------------------------

/// Every file in `dir`, with its bytes and modification time.
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, SystemTime)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let bytes = if meta.is_file() {
                std::fs::read(e.path()).unwrap()
            } else {
                Vec::new()
            };
            (name, (bytes, meta.modified().unwrap()))
        })
        .collect()
}

/// A run of `cmd` (urlcheck, or a wrapper of it) over the case's server, recording into `db`,
/// is refused before its first request: exit 2, `says` on stderr, and the folder of `db` (when
/// there is one) as it was, byte for byte, every file's time unchanged.
#[track_caller]
fn assert_refused(case: &Case, mut cmd: assert_cmd::Command, db: &Path, says: &str) -> Run {
    let list = case.list(&case.urls(&["/a", "/b"]));
    let dir = db.parent().unwrap();
    let before = dir.exists().then(|| snapshot(dir));
    let requests = case.srv.requests();
    let out = run(cmd
        .args(FAST_5S)
        .arg("--history")
        .arg(db)
        .arg(&list)
        .current_dir(case.dir.path()));
    no_panic(&out);
    out.assert_code(2);
    assert!(out.stderr.contains(says), "expected {says:?}: {out}");
    assert!(out.stdout.is_empty(), "{out}");
    assert_eq!(case.srv.requests(), requests, "requests were made: {out}");
    match before {
        Some(before) => {
            let after = snapshot(dir);
            let changed: Vec<&String> = (before.keys().chain(after.keys()))
                .filter(|name| before.get(*name) != after.get(*name))
                .collect();
            assert!(changed.is_empty(), "{changed:?} changed: {out}");
        }
        None => assert!(!dir.exists(), "{} was made: {out}", dir.display()),
    }
    out
}

/// A urlcheck history with three runs in it, checkpointed into its one file.
fn made_history(case: &Case) {
    for status in [200, 500, 200] {
        case.srv.set("/a", status);
        case.check(&case.urls(&["/a", "/b"]), &[]);
    }
    let conn = case.conn();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
}

/// Overwrites page `page` (1-based) of `db` with bytes that are no page.
fn damage_page(db: &Path, page: i64) {
    let conn = Connection::open(db).unwrap();
    let size = num(&conn, "PRAGMA page_size") as usize;
    drop(conn);
    let mut bytes = std::fs::read(db).unwrap();
    let at = (page as usize - 1) * size;
    for (i, b) in bytes[at..at + size].iter_mut().enumerate() {
        *b = (i * 7 + 13) as u8;
    }
    std::fs::write(db, bytes).unwrap();
}

fn root_page(db: &Path, table: &str) -> i64 {
    let conn = Connection::open(db).unwrap();
    conn.query_row(
        "SELECT rootpage FROM sqlite_schema WHERE name = ?1",
        [table],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn a_file_of_random_bytes_is_refused_untouched() {
    use rand::{RngCore, SeedableRng};
    let case = Case::start();
    let mut bytes = vec![0u8; 16 * 1024];
    rand::rngs::StdRng::seed_from_u64(11).fill_bytes(&mut bytes);
    std::fs::write(&case.db, &bytes).unwrap();
    let says = "not a SQLite database, or a damaged one";
    assert_refused(&case, urlcheck(), &case.db, says);
}

#[test]
fn another_programs_database_is_refused_untouched() {
    let case = Case::start();
    let conn = Connection::open(&case.db).unwrap();
    conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (42);")
        .unwrap();
    drop(conn);
    let says = "a SQLite database, but not a urlcheck history";
    assert_refused(&case, urlcheck(), &case.db, says);
    // Nor does `urlcheck history` take it for one.
    let out = run(urlcheck().arg("history").arg(&case.db));
    out.assert_code(2);
    assert!(out.stderr.contains(says), "{out}");
}

#[test]
fn a_history_of_a_newer_schema_is_refused_untouched() {
    let case = Case::start();
    made_history(&case);
    let current = num(&case.conn(), "PRAGMA user_version");
    case.conn()
        .pragma_update(None, "user_version", current + 1)
        .unwrap();
    let out = assert_refused(&case, urlcheck(), &case.db, "written by a newer urlcheck");
    assert!(
        out.stderr.contains(&format!("schema {}", current + 1)),
        "{out}"
    );
    let out = run(urlcheck().arg("history").arg(&case.db));
    out.assert_code(2);
    assert!(out.stderr.contains("written by a newer urlcheck"), "{out}");
}

#[test]
fn a_damaged_history_is_refused_untouched() {
    let says = "not a SQLite database, or a damaged one";
    // Its header page overwritten.
    let case = Case::start();
    made_history(&case);
    damage_page(&case.db, 1);
    assert_refused(&case, urlcheck(), &case.db, says);
    // The page that holds its URLs' state overwritten.
    let case = Case::start();
    made_history(&case);
    damage_page(&case.db, root_page(&case.db, "urls"));
    assert_refused(&case, urlcheck(), &case.db, says);
    // The first page of its results.
    let case = Case::start();
    made_history(&case);
    damage_page(&case.db, root_page(&case.db, "results"));
    assert_refused(&case, urlcheck(), &case.db, says);
}

#[test]
fn a_history_in_a_folder_that_does_not_exist_is_refused() {
    let case = Case::start();
    let db = case.dir.path().join("no-such-folder").join("h.db");
    assert_refused(&case, urlcheck(), &db, "--history");
}

/// urlcheck as user nobody (uid and gid 65534, no groups), its environment as [`urlcheck`]
/// makes it.
fn as_nobody() -> assert_cmd::Command {
    let base = urlcheck_std();
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(base.get_program());
    for (name, value) in base.get_envs() {
        match value {
            Some(v) => cmd.env(name, v),
            None => cmd.env_remove(name),
        };
    }
    let mut cmd = assert_cmd::Command::from_std(cmd);
    cmd.timeout(RUN_LIMIT);
    cmd
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_history_on_a_path_that_cannot_be_written_is_refused_before_any_request() {
    // The tests run as root, who can write anything: urlcheck runs as nobody, who can read the
    // binary, the list and the history, and write none of them.
    let out = run(as_nobody().arg("--version"));
    assert_eq!(
        out.code,
        Some(0),
        "user nobody cannot run the binary: {out}"
    );
    let case = Case::start();
    made_history(&case);
    chmod(case.dir.path(), 0o755);
    chmod(&case.db, 0o644);
    let says = "read-only";
    assert_refused(&case, as_nobody(), &case.db, says);
    // A history that does not exist yet, in a folder nobody cannot write.
    let missing = case.dir.path().join("new.db");
    assert_refused(&case, as_nobody(), &missing, "--history");
    assert!(!missing.exists());
    // A file nobody may write, in a folder it cannot write: SQLite could not make the log.
    chmod(&case.db, 0o666);
    assert_refused(&case, as_nobody(), &case.db, "the folder cannot be written");
    // A file nobody cannot write, in a folder anyone can.
    chmod(&case.db, 0o644);
    chmod(case.dir.path(), 0o777);
    assert_refused(&case, as_nobody(), &case.db, says);
    chmod(case.dir.path(), 0o700);
}

// ---------------------------------------------------------------------------
// Children: SIGTERM, kill -9, and what they read from them
// ---------------------------------------------------------------------------

/// What a child writes to a pipe, line by line, as it comes.
struct Lines {
    seen: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl Lines {
    fn start(pipe: impl Read + Send + 'static) -> Lines {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let seen = seen.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    match line {
                        Ok(l) => seen.lock().unwrap().push(l),
                        Err(_) => break,
                    }
                }
            })
        };
        Lines {
            seen,
            thread: Some(thread),
        }
    }

    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// Every line, once the pipe has closed.
    fn finish(mut self) -> Vec<String> {
        self.thread.take().unwrap().join().expect("reader thread");
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

/// A run started, its stdout and stderr read as they come.
struct Running {
    child: Child,
    stdout: Lines,
    stderr: Lines,
}

impl Running {
    fn start(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn urlcheck");
        let stdout = Lines::start(child.stdout.take().unwrap());
        let stderr = Lines::start(child.stderr.take().unwrap());
        Running {
            child,
            stdout,
            stderr,
        }
    }

    fn exited(&mut self) -> bool {
        self.child.try_wait().expect("poll the child").is_some()
    }

    /// Waits for it to end; its exit code (None: killed by a signal), stdout and stderr.
    fn finish(mut self) -> (Option<i32>, Vec<String>, String) {
        let status = wait_child(&mut self.child, RUN_LIMIT);
        let stdout = self.stdout.finish();
        let stderr = self.stderr.finish().join("\n");
        (status.code(), stdout, stderr)
    }
}

/// urlcheck over `list` recording into `db`, results as JSONL, the pool wide enough for a long
/// list on one loopback host.
fn recording(db: &Path, list: &Path, extra: &[&str]) -> Command {
    let mut cmd = urlcheck_std();
    cmd.args(FAST_5S)
        .args([
            "-c",
            "64",
            "--per-host",
            "64",
            "--format",
            "jsonl",
            "--history",
        ])
        .arg(db)
        .args(extra)
        .arg(list);
    cmd
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// `path` with `suffix` after its name (`h.db` -> `h.db-wal`).
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// URLs a killed run can be stopped among: many, each distinct, all quick.
const MANY: usize = 8_000;

#[test]
fn kill_9_at_any_point_leaves_a_consistent_history() {
    let case = Case::start();
    let items: Vec<String> = (0..MANY).map(|i| case.url(&format!("/n/{i}"))).collect();
    let list = case.list(&items);
    let wal = beside(&case.db, "-wal");
    // One whole run first, so that each killed one has a history to step from.
    let (code, stdout, stderr) = Running::start(recording(&case.db, &list, &[])).finish();
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.len(), MANY + 1, "{stderr}");
    let mut recorded = 1;
    // Killed after the first result, halfway, after the last one, and while the run is being
    // written (its log has grown: nothing else of a run writes to it).
    type Point = fn(usize, u64) -> bool;
    let points: [(&str, Point); 4] = [
        ("after the first result", |lines, _| lines >= 1),
        ("halfway", |lines, _| lines >= MANY / 2),
        ("after the last result", |lines, _| lines >= MANY),
        ("while recording", |_, wal| wal > 0),
    ];
    for (when, reached) in points {
        let mut running = Running::start(recording(&case.db, &list, &[]));
        wait_until(when, RUN_LIMIT, || {
            reached(running.stdout.count(), file_len(&wal)) || running.exited()
        });
        let _ = running.child.kill();
        let (code, _, stderr) = running.finish();
        let conn = case.conn();
        let context = format!("killed {when} (exit {code:?}): {stderr}");
        assert_consistent(&conn, &context);
        let runs = num(&conn, "SELECT count(*) FROM runs");
        assert!(
            runs == recorded || runs == recorded + 1,
            "{runs} runs: {context}"
        );
        if runs > recorded {
            assert_eq!(num(&conn, "SELECT max(recorded) FROM runs"), MANY as i64);
        }
        recorded = runs;
        assert_eq!(
            num(&conn, "SELECT min(checks) = max(checks) FROM urls"),
            1,
            "every URL is in every run recorded: {context}"
        );
        assert_eq!(
            num(&conn, "SELECT max(checks) FROM urls"),
            recorded,
            "{context}"
        );
    }
    // And the next run records as ever.
    let (code, _, stderr) = Running::start(recording(&case.db, &list, &[])).finish();
    assert_eq!(code, Some(0), "{stderr}");
    let conn = case.conn();
    assert_consistent(&conn, "the run after the kills");
    assert_eq!(num(&conn, "SELECT count(*) FROM runs"), recorded + 1);
    assert_eq!(num(&conn, "SELECT min(checks) FROM urls"), recorded + 1);
}

#[test]
fn sigterm_records_what_was_checked_as_an_interrupted_run() {
    let case = Case::start();
    let fast: Vec<String> = (0..20).map(|i| case.url(&format!("/fast/{i}"))).collect();
    let held = ["/held/0", "/held/1", "/held/2"];
    let mut items = fast.clone();
    items.extend(case.urls(&held));
    // A whole run first; then the same list with three URLs the server holds.
    case.check(&items, &[]).assert_code(0);
    for path in held {
        case.srv.hold(path);
    }
    let list = case.list(&items);
    let mut cmd = urlcheck_std();
    cmd.args([
        "-t",
        "30s",
        "--retries",
        "0",
        "--format",
        "jsonl",
        "--history",
    ])
    .arg(&case.db)
    .arg(&list);
    let running = Running::start(cmd);
    wait_until("the quick results on stdout", RUN_LIMIT, || {
        running.stdout.count() >= fast.len()
    });
    wait_until("the held requests at the server", RUN_LIMIT, || {
        held.iter().all(|p| case.srv.hits(p) == 2)
    });
    common::send_signal(&running.child, libc::SIGTERM);
    let (code, stdout, stderr) = running.finish();
    let context = format!("exit {code:?}\n{}\n{stderr}", stdout.join("\n"));
    assert_eq!(code, Some(143), "{context}");
    let lines: Vec<Value> = stdout
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let up: HashSet<&str> = lines
        .iter()
        .filter(|v| v["outcome"] == "up")
        .map(|v| v["url"].as_str().unwrap())
        .collect();
    assert_eq!(up, fast.iter().map(String::as_str).collect(), "{context}");

    let conn = case.conn();
    assert_consistent(&conn, &context);
    let (interrupted, recorded): (i64, i64) = conn
        .query_row(
            "SELECT interrupted, recorded FROM runs WHERE id = 2",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap_or_else(|e| panic!("the interrupted run was not recorded ({e}): {context}"));
    assert_eq!(interrupted, 1, "{context}");
    assert_eq!(recorded, fast.len() as i64, "{context}");
    assert_eq!(num(&conn, "SELECT interrupted FROM runs WHERE id = 1"), 0);
    // A check the signal cut short is no failure: the held URLs are as the first run left them.
    for path in held {
        let (checks, failures): (i64, i64) = conn
            .query_row(
                "SELECT checks, consecutive_failures FROM urls WHERE url = ?1",
                [case.url(path)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((checks, failures), (1, 0), "{path}: {context}");
    }
}

// ---------------------------------------------------------------------------
// A full disk while recording
// ---------------------------------------------------------------------------

/// Runs the rest of its arguments with the history on a tmpfs of its own (in a mount namespace
/// of its own), then copies the history back out for the test to read.
const ON_SMALL_DISK: &str = r#"
mnt=$1 seed=$2 out=$3 size=$4
shift 4
mount -t tmpfs -o size="$size" tmpfs "$mnt" || exit 90
cp "$seed" "$mnt/h.db" || exit 91
"$@"
rc=$?
for f in "$mnt/h.db" "$mnt/h.db-wal"; do
    [ ! -e "$f" ] || cp "$f" "$out/" || exit 92
done
exit $rc
"#;

/// `cmd` as a command for `program` and `args` before it, with its environment.
fn wrapped(program: &str, args: &[&str], cmd: &Command) -> Command {
    let mut outer = Command::new(program);
    outer.args(args).arg(cmd.get_program()).args(cmd.get_args());
    for (name, value) in cmd.get_envs() {
        match value {
            Some(v) => outer.env(name, v),
            None => outer.env_remove(name),
        };
    }
    outer
}

#[test]
fn a_full_disk_while_recording_loses_that_run_and_nothing_else() {
    const N: usize = 3_000;
    let case = Case::start();
    let small = case.urls(&["/a", "/b"]);
    for _ in 0..2 {
        case.check(&small, &[]).assert_code(0);
    }
    let (runs, results) = {
        let conn = case.conn();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        let n = |sql| num(&conn, sql);
        (
            n("SELECT count(*) FROM runs"),
            n("SELECT count(*) FROM results"),
        )
    };
    // Room for the history and its shared-memory file, and little more.
    let size = format!("{}k", file_len(&case.db) / 1024 + 32 + 64);
    let (mnt, out) = (case.dir.path().join("small"), case.dir.path().join("out"));
    std::fs::create_dir(&mnt).unwrap();
    std::fs::create_dir(&out).unwrap();
    let mut items: Vec<String> = (0..N).map(|i| case.url(&format!("/many/{i}"))).collect();
    items.extend(small.iter().cloned());
    let list = case.list(&items);
    let report = case.dir.path().join("report.json");
    let mut cmd = recording(&mnt.join("h.db"), &list, &[]);
    cmd.arg("--report")
        .arg(format!("json={}", report.display()));
    let mut args = vec!["-m", "sh", "-c", ON_SMALL_DISK, "sh"];
    let paths = [&mnt, &case.db, &out].map(|p| p.to_str().unwrap().to_owned());
    args.extend(paths.iter().map(String::as_str));
    args.push(&size);
    let (code, stdout, stderr) = Running::start(wrapped("unshare", &args, &cmd)).finish();
    let context = format!("exit {code:?}: {stderr}");
    assert_eq!(code, Some(2), "{context}");
    assert!(stderr.contains("were not recorded"), "{context}");
    assert!(stderr.contains("full"), "the disk was full: {context}");
    assert!(stderr.contains("report files are complete"), "{context}");

    // Every result went out: on stdout and in the report.
    let results_out = stdout
        .iter()
        .filter(|l| l.contains(r#""type":"result""#) && l.contains(r#""outcome":"up""#))
        .count();
    assert_eq!(results_out, N + 2, "{context}");
    let doc: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let up = common::results(&doc)
        .iter()
        .filter(|r| r["outcome"] == "up")
        .count();
    assert_eq!(up, N + 2, "{context}");

    // The history is as the earlier runs left it: no half run.
    let copy = out.join("h.db");
    let conn = Connection::open(&copy).unwrap();
    assert_consistent(&conn, &context);
    assert_eq!(num(&conn, "SELECT count(*) FROM runs"), runs, "{context}");
    assert_eq!(
        num(&conn, "SELECT count(*) FROM results"),
        results,
        "{context}"
    );
    drop(conn);
    // Where there is room again, the next run records.
    let out = run(urlcheck()
        .args(FAST_5S)
        .arg("--history")
        .arg(&copy)
        .arg(case.list(&small)));
    out.assert_code(0);
    assert_eq!(
        num(
            &Connection::open(&copy).unwrap(),
            "SELECT count(*) FROM runs"
        ),
        runs + 1
    );
}

// ---------------------------------------------------------------------------
// Two runs at once
// ---------------------------------------------------------------------------

#[test]
fn two_runs_on_one_history_at_once_both_record() {
    const N: usize = 200;
    let case = Case::start();
    let mut items = vec![case.url("/gate")];
    items.extend((0..N).map(|i| case.url(&format!("/c/{i}"))));
    let list = case.list(&items);
    // Each run's request for /gate is held until both have asked: both runs have read the
    // history before either can record.
    case.srv.hold("/gate");
    let runs: Vec<Running> = (0..2)
        .map(|_| Running::start(recording(&case.db, &list, &[])))
        .collect();
    wait_until("both runs at the gate", RUN_LIMIT, || {
        case.srv.hits("/gate") == 2
    });
    case.srv.release("/gate");
    for running in runs {
        let (code, stdout, stderr) = running.finish();
        assert_eq!(code, Some(0), "{stderr}");
        let states: HashSet<String> = stdout
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["type"] == "result")
            .map(|v| v["history"]["state"].as_str().unwrap().to_owned())
            .collect();
        // Each was told the history as it found it: empty.
        assert_eq!(states, HashSet::from(["first".to_owned()]), "{stderr}");
    }
    let conn = case.conn();
    assert_consistent(&conn, "two runs at once");
    let each: Vec<(i64, i64)> = {
        let mut stmt = conn
            .prepare(
                "SELECT recorded, (SELECT count(*) FROM results WHERE run = runs.id) FROM runs",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    let all = N as i64 + 1;
    assert_eq!(each, [(all, all), (all, all)]);
    // The run that recorded second stepped from what the first wrote, when it started later;
    // when it started earlier, its checks are results and day sums but step no state (the
    // state is the latest check's). Either way every URL went the same way, and no check is
    // lost from the sums.
    assert_eq!(num(&conn, "SELECT count(*) FROM urls"), all);
    let (least, most) = (
        num(&conn, "SELECT min(checks) FROM urls"),
        num(&conn, "SELECT max(checks) FROM urls"),
    );
    assert!(
        least == most && (1..=2).contains(&most),
        "checks {least}..{most}"
    );
    assert_eq!(
        num(&conn, &format!("SELECT sum(checks) FROM {DAYS}")),
        2 * all
    );
}

// ---------------------------------------------------------------------------
// No credential reaches the file
// ---------------------------------------------------------------------------

/// `bytes` in base64, as a `Basic` authorization carries a URL's user and password.
fn base64(bytes: &[u8]) -> String {
    const DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(DIGITS[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_credential_reaches_the_history_files() {
    let case = Case::start();
    let plain = case.url("/plain");
    case.check(std::slice::from_ref(&plain), &[]).assert_code(0);
    // A reader kept open: the run's log stays beside the file, to be searched too.
    let reader = case.conn();
    num(&reader, "SELECT count(*) FROM runs");

    let host = case.srv.addr;
    let items = vec![
        format!("http://alice-in-url:hunter2-in-url@{host}/private"),
        format!("http://token-only-user@{host}/token"),
        plain,
    ];
    let headers = [
        "-H",
        "Authorization: Bearer bearer-SECRET-42",
        "--header",
        "X-Api-Key: apikey-SECRET-43",
        "--header",
        "Cookie: session=cookie-SECRET-44",
    ];
    let out = case.check(&items, &headers);
    out.assert_code(0);
    assert!(
        case.srv
            .authorization()
            .contains(&"Bearer bearer-SECRET-42".to_string()),
        "the header was sent: {:?}",
        case.srv.authorization()
    );
    let wal = beside(&case.db, "-wal");
    assert!(file_len(&wal) > 0, "the run's log is there to search");
    let basic = base64(b"alice-in-url:hunter2-in-url");
    assert_eq!(base64(b"ab:c"), "YWI6Yw==");
    let secrets = [
        basic.as_str(),
        "alice-in-url",
        "hunter2-in-url",
        "token-only-user",
        "bearer-SECRET-42",
        "apikey-SECRET-43",
        "cookie-SECRET-44",
    ];
    for file in [case.db.clone(), wal, beside(&case.db, "-shm")] {
        let bytes = std::fs::read(&file).unwrap();
        for secret in secrets {
            assert!(
                !contains(&bytes, secret.as_bytes()),
                "{secret} is in {}",
                file.display()
            );
        }
    }
    // The URLs are kept, redacted as the reports show them.
    let urls: HashSet<String> = {
        let mut stmt = reader.prepare("SELECT url FROM urls").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    assert!(
        urls.contains(&format!("http://***@{host}/private")),
        "{urls:?}"
    );
    assert!(
        urls.contains(&format!("http://***@{host}/token")),
        "{urls:?}"
    );
    drop(reader);
}

// ---------------------------------------------------------------------------
// Edges found in review: each test showed a bug, fixed since
// ---------------------------------------------------------------------------

/// With --check-fragments, `page#b` is a result of its own only while the page lacks the
/// anchor; once the anchor is back the line rides on the page's result again, so `page#b`
/// is never checked again and stays failing in the history forever (listed first by
/// `urlcheck history`, with a streak that never ends).
#[test]
fn a_fixed_fragment_does_not_stay_broken_in_the_history() {
    let case = Case::start();
    let page = case.url("/page");
    let link = format!("{page}#b");
    case.srv
        .body("/page", "<html><body><h1 id=\"a\">A</h1></body></html>");
    let first = case.check(std::slice::from_ref(&link), &["--check-fragments"]);
    first.assert_code(1);
    case.srv
        .body("/page", "<html><body><h1 id=\"b\">B</h1></body></html>");
    let fixed = case.check(std::slice::from_ref(&link), &["--check-fragments"]);
    fixed.assert_code(0);
    let out = case.history(&["--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let failing: Vec<&Value> = v["urls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["consecutive_failures"].as_u64() != Some(0))
        .collect();
    assert!(
        failing.is_empty(),
        "the anchor is back and every line is up, yet the history says: {failing:#?}"
    );
}

/// docs/history.md: "With `--fail-on new` as well, a URL fails when either says so." With
/// `--fail-on new --fail-after 3`, --fail-after never says anything: the outcome set holds
/// no down or error, so `FailOn::fails` returns before looking at the streak.
#[test]
fn fail_after_with_fail_on_new_alone_still_counts_the_streak() {
    let case = Case::start();
    let items = vec![case.url("/a")];
    let both = ["--fail-on", "new", "--fail-after", "3"];
    assert_eq!(
        codes(&case, &items, &both, &[200, 500, 500, 500]),
        [0, 1, 0, 1],
        "news at the break, and the streak at its third failing run"
    );
}

/// A time in the database past year 9999 (a column edited by hand) makes humantime's
/// Display fail: `urlcheck history` panics in show.rs `stamp`, and a run with --format
/// json/jsonl panics in model.rs `ser_opt_time` (serde_json: "there should be an error"),
/// so that run is not recorded either.
#[test]
fn a_time_past_year_9999_in_the_database_is_no_panic() {
    let case = Case::start();
    case.srv.set("/a", 500);
    let items = vec![case.url("/a")];
    case.check(&items, &[]).assert_code(1);
    case.conn()
        .execute("UPDATE urls SET last_up = 300000000000", [])
        .unwrap();
    let shown = run(urlcheck().arg("history").arg(&case.db));
    let list = case.list(&items);
    let again = run(urlcheck()
        .args(FAST_5S)
        .args(["--format", "jsonl", "--history"])
        .arg(&case.db)
        .arg(&list));
    let panicked = |r: &Run| r.stderr.contains("panicked");
    assert_eq!(
        (panicked(&shown), panicked(&again)),
        (false, false),
        "urlcheck history:\n{shown}\na run with --format jsonl:\n{again}"
    );
}

/// `--history-keep` forgets the runs before the cutoff, but the cutoff's own day stays in
/// `daily` (or in the URL's row) with the forgotten runs' checks in it: `urlcheck history`
/// then counts checks that no kept run made, and its uptime is not that of the runs kept.
#[test]
fn pruned_runs_are_not_counted_in_the_cutoff_day() {
    let case = Case::start();
    let items = vec![case.url("/a")];
    case.srv.set("/a", 500);
    case.check(&items, &[]).assert_code(1);
    case.srv.set("/a", 200);
    case.check(&items, &[]).assert_code(0);
    // Both runs on one day three days ago: the first at 00:16:40, the second at 13:53:20.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let day = now.div_euclid(86_400) - 3;
    let (t1, t2) = (day * 86_400 + 1_000, day * 86_400 + 50_000);
    case.conn()
        .execute_batch(&format!(
            "UPDATE runs SET started = CASE id WHEN 1 THEN {t1} ELSE {t2} END, \
               finished = CASE id WHEN 1 THEN {t1} ELSE {t2} END;
             DELETE FROM daily;
             UPDATE urls SET first_seen = {t1}, last_seen = {t2}, last_up = {t2}, \
               last_failure = {t1}, last_change = {t2}, failing_since = NULL, day = {day}, \
               day_checks = 2, day_ups = 1;"
        ))
        .unwrap();
    // The cutoff at 05:33:20 that day: the first run goes, the second stays.
    let keep = (now - (day * 86_400 + 20_000)).to_string();
    case.check(&items, &["--history-keep", &keep])
        .assert_code(0);
    assert_eq!(starts(&case.conn()).len(), 2, "the first run was forgotten");
    let out = case.history(&["--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let url = &v["urls"][0];
    assert_eq!(
        (url["checks"].as_i64(), v["window"]["runs"].as_i64()),
        (Some(2), Some(2)),
        "checks of the runs kept: {v:#}"
    );
    assert_eq!(url["uptime_percent"].as_f64(), Some(100.0), "{v:#}");
}

/// Two runs at once: A starts first and checks /a (up); then /a breaks and B checks it (down)
/// and records; A records last. `write_results` steps A's older check after B's newer one,
/// so the database says /a is up ("recovered") although its latest check found it down, and
/// the next run calls the same outage `new` a second time (--fail-on new mails twice).
#[test]
fn a_run_that_records_late_does_not_undo_a_newer_check() {
    let case = Case::start();
    let a = case.url("/a");
    case.check(std::slice::from_ref(&a), &[]).assert_code(0);
    let list_a = write_list(
        case.dir.path(),
        "a.txt",
        lines(&[case.url("/slow"), a.clone()]),
    );
    case.srv.hold("/slow");
    let mut long = Running::start(recording(&case.db, &list_a, &[]));
    wait_until("run A reported /a", RUN_LIMIT, || {
        let seen = long.stdout.seen.lock().unwrap();
        seen.iter().any(|l| l.contains(&format!("\"{a}\"")))
    });
    assert!(!long.exited());
    case.srv.set("/a", 500);
    let b = case.check(std::slice::from_ref(&a), &["--fail-on", "new"]);
    assert_eq!(by_url(&b)[&a]["history"]["state"], "new");
    b.assert_code(1);
    case.srv.release("/slow");
    let (code, _, stderr) = long.finish();
    assert_eq!(code, Some(0), "{stderr}");
    let (failures, state) = case
        .conn()
        .query_row(
            "SELECT consecutive_failures, state FROM urls WHERE url = ?1",
            [&a],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
        )
        .unwrap();
    assert!(
        failures >= 1,
        "the latest check of /a (run B) found it down; the database says streak {failures}, \
         state {state} (3 = recovered)"
    );
    let still = case.check(std::slice::from_ref(&a), &["--fail-on", "new"]);
    assert_eq!(
        by_url(&still)[&a]["history"]["state"],
        "still",
        "the outage began at run B and was told then"
    );
    still.assert_code(0);
}

/// Two lines with different credentials are two checks (dedup keeps credentials), but one
/// URL in the history (both redact to `http://***@host/auth`): the second result is told the
/// first one's history (`Recorder::said`), whatever its outcome. Here the bad password's 401
/// is told `first` with no failure, `--fail-on new` does not fail, and the database records
/// only the good one.
#[test]
fn two_credentials_on_one_url_are_each_told_their_own_outcome() {
    let case = Case::start();
    let host = case.srv.addr;
    let items = vec![
        format!("http://good:pw@{host}/auth"),
        format!("http://bad:pw@{host}/auth"),
    ];
    // One at a time, in order: the good line is checked first.
    let out = case.check(&items, &["-c", "1", "--fail-on", "new"]);
    let results: Vec<Value> = out
        .json_lines()
        .into_iter()
        .filter(|v| v["type"] == "result")
        .collect();
    let down = results
        .iter()
        .find(|v| v["outcome"] == "down")
        .unwrap_or_else(|| panic!("the bad password is refused: {results:#?}"));
    assert_eq!(
        down["history"]["consecutive_failures"], 1,
        "a down line is told a streak of 0 and a last_up of now: {down:#}"
    );
    out.assert_code(1);
}

/// `history` is a subcommand in the first input's place: a URL list called `history` is
/// given as `./history`, and `--help` says so.
#[test]
fn a_list_called_history_is_given_as_dot_slash_history() {
    let case = Case::start();
    let up = case.url("/up");
    std::fs::write(case.dir.path().join("history"), format!("{up}\n")).unwrap();
    let listed =
        run(urlcheck()
            .current_dir(case.dir.path())
            .args(["--format", "jsonl", "./history"]));
    listed.assert_code(0);
    let lines = listed.json_lines();
    assert_eq!(lines[0]["url"], up.as_str(), "{listed}");
    assert_eq!(lines[0]["outcome"], "up", "{listed}");
    assert_eq!(case.srv.hits("/up"), 1);
    // Without ./, it is the subcommand, which wants a database.
    let sub = run(urlcheck().current_dir(case.dir.path()).arg("history"));
    sub.assert_code(2);
    assert!(sub.stderr.contains("<DB>"), "{sub}");
    assert_eq!(case.srv.hits("/up"), 1, "the subcommand checked nothing");
    let help = run(urlcheck().arg("--help"));
    assert!(help.stdout().contains("./history"), "{help}");
}
