//! Self-tests of tests/common/browser.rs: that the harness really sees console errors, script
//! on and off, the page's requests, CSP violations, clicks and screenshots, and that a dropped
//! browser leaves no process and no profile behind. Each test writes its own fixture pages.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use common::browser::{Browser, VIEWPORT};
use serde_json::json;

/// Writes `html` as `name` in `dir` and returns its path.
fn page(dir: &Path, name: &str, html: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, html).unwrap();
    path
}

/// A loopback HTTP listener that answers every request 404 and reports each request line.
/// Stopped (and joined) on drop.
struct NotFound {
    addr: SocketAddr,
    lines: Receiver<String>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// How long the listener waits for a request line on a connection (a browser may open a
/// connection it never uses).
const READ_LIMIT: Duration = Duration::from_secs(5);

impl NotFound {
    fn start() -> NotFound {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, lines) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(READ_LIMIT));
                let mut line = String::new();
                if BufReader::new(&conn).read_line(&mut line).is_err() || line.trim().is_empty() {
                    continue;
                }
                let _ = tx.send(line.trim().to_string());
                let _ = conn.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        NotFound {
            addr,
            lines,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The request lines received so far.
    fn received(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }
}

impl Drop for NotFound {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // A connection wakes the accept, which then sees the flag.
        drop(TcpStream::connect_timeout(&self.addr, READ_LIMIT));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

const SCRIPTED: &str = r#"<!doctype html><html><head><title>scripted</title></head><body>
<noscript><p id="ns">scripts are off</p></noscript>
<script>document.body.dataset.js = "on"; console.error("boom"); console.log("hello", 42);</script>
<script>throw new Error("kaboom");</script>
</body></html>"#;

/// The file:// URL Chromium reports for `path`.
fn file_url(path: &Path) -> String {
    url::Url::from_file_path(path.canonicalize().unwrap())
        .unwrap()
        .to_string()
}

#[test]
fn console_errors_and_script_state_follow_the_javascript_switch() {
    let dir = tempfile::tempdir().unwrap();
    let path = page(dir.path(), "scripted.html", SCRIPTED);
    let browser = Browser::launch();

    let on = browser.open(&path, true);
    let (console, errors) = (on.console(), on.console_errors());
    assert!(errors.contains(&"boom".to_string()), "{console:?}");
    let thrown = |(level, text): &(String, String)| {
        level == "exception" && text.starts_with("Uncaught Error: kaboom")
    };
    assert!(console.iter().any(thrown), "{console:?}");
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        console.contains(&("log".into(), "hello 42".into())),
        "{console:?}"
    );
    assert_eq!(on.requests(), [file_url(&path)]);
    assert_eq!(on.eval("document.body.dataset.js"), json!("on"));
    // With scripts on, <noscript> is raw text: no element inside it.
    assert_eq!(on.eval("document.getElementById('ns')"), json!(null));
    drop(on);

    let off = browser.open(&path, false);
    assert!(off.console().is_empty(), "{:?}", off.console());
    // DevTools evaluation still works with page scripts off, and sees no trace of the script.
    assert_eq!(off.eval("document.body.dataset.js"), json!(null));
    assert_eq!(off.eval("document.title"), json!("scripted"));
    let noscript = off.eval("document.getElementById('ns').textContent");
    assert_eq!(noscript, json!("scripts are off"));
}

#[test]
fn requests_are_recorded_and_a_strict_csp_blocks_them() {
    let server = NotFound::start();
    let img = server.url("/x.png");
    let dir = tempfile::tempdir().unwrap();
    let body = format!(r#"<title>img</title><img src="{img}" alt="x">"#);
    let plain = page(dir.path(), "plain.html", &format!("<!doctype html>{body}"));
    let csp = r#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'">"#;
    let strict = page(
        dir.path(),
        "strict.html",
        &format!("<!doctype html>{csp}{body}"),
    );
    let browser = Browser::launch();

    let open = browser.open(&plain, false);
    assert_eq!(open.requests(), [file_url(&plain), img.clone()]);
    assert_eq!(open.attempted_requests(), open.requests());
    assert!(open.blocked_requests().is_empty());
    assert_eq!(server.received(), ["GET /x.png HTTP/1.1"]);
    // The 404 is a log entry of level error, naming the URL.
    let failed = format!("the server responded with a status of 404 (Not Found) ({img})");
    let errors = open.console_errors();
    assert!(errors.iter().any(|e| e.ends_with(&failed)), "{errors:?}");
    drop(open);

    // Chromium still reports the image in Network.requestWillBeSent, then fails it with
    // blockedReason "csp" before any connection: the listener sees nothing. The violation
    // itself is a log entry of level error.
    let blocked = browser.open(&strict, false);
    assert_eq!(blocked.requests(), [file_url(&strict), img.clone()]);
    assert_eq!(blocked.blocked_requests(), [(img.clone(), "csp".into())]);
    assert_eq!(blocked.attempted_requests(), [file_url(&strict)]);
    let errors = blocked.console_errors();
    let violation = |e: &String| e.contains(&img) && e.contains("Content Security Policy");
    assert!(errors.iter().any(violation), "{errors:?}");
    assert!(server.received().is_empty());
}

const SORTABLE: &str = r#"<!doctype html><title>sortable</title>
<table><thead><tr><th id="name">Name</th></tr></thead>
<tbody><tr><td>b</td></tr><tr><td>c</td></tr><tr><td>a</td></tr></tbody></table>
<script>
document.getElementById("name").addEventListener("click", (e) => {
  const body = document.querySelector("tbody");
  const key = (row) => row.cells[0].textContent;
  const rows = [...body.rows].sort((x, y) => key(x).localeCompare(key(y)));
  body.append(...rows);
  document.body.dataset.trusted = String(e.isTrusted);
});
</script>"#;

const ORDER: &str = "[...document.querySelectorAll('tbody td')].map(td => td.textContent)";

#[test]
fn a_click_on_a_header_runs_the_page_s_sort() {
    let dir = tempfile::tempdir().unwrap();
    let path = page(dir.path(), "sortable.html", SORTABLE);
    let browser = Browser::launch();
    let page = browser.open(&path, true);
    assert_eq!(page.eval(ORDER), json!(["b", "c", "a"]));
    page.click("#name");
    assert_eq!(page.eval(ORDER), json!(["a", "b", "c"]));
    // A real mouse click, not a synthetic element.click().
    assert_eq!(page.eval("document.body.dataset.trusted"), json!("true"));
    assert!(page.console_errors().is_empty(), "{:?}", page.console());
}

#[test]
fn a_screenshot_is_a_png_of_the_viewport() {
    let dir = tempfile::tempdir().unwrap();
    // Taller than the viewport: the screenshot is still the viewport only.
    let tall = r#"<body style="margin:0;background:#08c"><div style="height:3000px"></div>"#;
    let path = page(dir.path(), "tall.html", &format!("<!doctype html>{tall}"));
    let browser = Browser::launch();
    let page = browser.open(&path, false);
    let shot = dir.path().join("shot.png");
    page.screenshot_png(&shot);
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png[12..16], b"IHDR");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), VIEWPORT);
    // And it shows the page: the first pixel is the body's colour. Whatever a row's filter,
    // the first pixel of the first row is stored as it is (its neighbours count as zero).
    assert_eq!(first_pixel(&png), [0x00, 0x88, 0xcc]);
}

/// The RGB of the top-left pixel of an 8-bit RGB or RGBA PNG.
fn first_pixel(png: &[u8]) -> [u8; 3] {
    assert_eq!(png[24], 8, "bit depth");
    assert!([2, 6].contains(&png[25]), "colour type {}", png[25]);
    let mut data = Vec::new();
    let mut at = 8;
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        if &png[at + 4..at + 8] == b"IDAT" {
            data.extend_from_slice(&png[at + 8..at + 8 + len]);
        }
        at += 12 + len;
    }
    let mut row = [0u8; 4];
    std::io::Read::read_exact(&mut flate2::read::ZlibDecoder::new(&data[..]), &mut row).unwrap();
    [row[1], row[2], row[3]]
}

/// A process as (pid, start time in clock ticks since boot): a pid reused by a later
/// process has another start time.
fn identity(pid: u32) -> Option<(u32, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // starttime is field 22; fields after the command name start at field 3.
    let start = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()?;
    Some((pid, start))
}

#[test]
fn launch_flags_and_a_clean_drop() {
    let browser = Browser::launch();
    let pid = browser.pid();
    let profile = browser.profile_dir().to_path_buf();
    let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap();
    let flags: Vec<&str> = cmdline.split('\0').collect();
    let user_data = format!("--user-data-dir={}", profile.display());
    for flag in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--window-size=1280,800",
        &user_data,
    ] {
        assert!(flags.contains(&flag), "{flag} missing from {flags:?}");
    }
    let processes: Vec<_> = browser
        .processes()
        .into_iter()
        .filter_map(identity)
        .collect();
    let crashpad = processes.iter().filter(|(p, _)| {
        std::fs::read_to_string(format!("/proc/{p}/comm"))
            .is_ok_and(|c| c.starts_with("chrome_crashpad"))
    });
    assert!(crashpad.count() > 0, "Crashpad's handlers are found too");
    assert!(
        processes.len() > 3,
        "Chromium runs helper processes: {processes:?}"
    );
    drop(browser);
    // Gone means gone from /proc: not running, and not a zombie either.
    let left: Vec<_> = processes
        .iter()
        .filter(|(p, start)| identity(*p).is_some_and(|(_, s)| s == *start))
        .collect();
    assert!(
        left.is_empty(),
        "still there after drop: {left:?} of {processes:?}"
    );
    assert!(!profile.exists(), "{} not removed", profile.display());
}
