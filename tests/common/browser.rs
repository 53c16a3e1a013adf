//! Debian's headless Chromium for the tests that look at a rendered page: [`Browser`] owns the
//! process and its throw-away profile, [`Page`] is one tab on a local file, with everything the
//! page logged and every request it made recorded from before it started loading.
//!
//! The DevTools protocol is spoken by the `headless_chrome` crate (built "offline": it never
//! downloads a browser or the protocol); this module only chooses the flags, records events and
//! bounds every wait. Chromium is always the system one, [`CHROMIUM`].

mod processes;
mod record;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use headless_chrome::browser::tab::point::Point;
use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::{Emulation, Log, Network, Page as Cdp, Runtime};
use headless_chrome::{LaunchOptions, Tab};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use processes::{become_subreaper, end, helpers, helpers_of, Exit, EXIT_LIMIT};
use record::{remote_text, Record};

/// The browser the tests drive: Debian's package, never a downloaded build.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The window, and so the viewport of every page and the size of every screenshot.
pub const VIEWPORT: (u32, u32) = (1280, 800);

/// How long a page may take to fire its load event. A local file loads in well under a second;
/// this only turns a hang into a failure.
pub const LOAD_LIMIT: Duration = Duration::from_secs(20);

/// How long one DevTools call may go unanswered. `headless_chrome` also closes the connection
/// of a browser that sends nothing for this long, so a test keeps a browser only while it uses it.
pub const CALL_LIMIT: Duration = Duration::from_secs(60);

/// Flags on top of the crate's own (which already include --disable-background-networking,
/// --disable-sync, --disable-extensions, --no-first-run; repeated here so that this list alone
/// says what the tests rely on). The machine is offline: nothing may try to reach Google's
/// hosts, and the resolver rule makes sure no host name resolves at all (IP literals such as a
/// test's 127.0.0.1 server are not names, so they still work). Traced with strace, a run of
/// the self-tests opens TCP connections to 127.0.0.1 only; the one outside address Chromium
/// names is 2001:4860:4860::8888 port 443 in a UDP connect(), its IPv6 reachability probe,
/// which only picks a route: nothing is sent on it.
const FLAGS: &[&str] = &[
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-pings",
    "--metrics-recording-only",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    "--disable-features=TranslateUI,OptimizationHints,MediaRouter,DialMediaRouteProvider,\
     AutofillServerCommunication,CertificateTransparencyComponentUpdater,\
     InterestFeedContentSuggestions,Translate",
    "--hide-scrollbars",
];

/// One headless Chromium with a fresh profile. Dropping it closes the browser, kills the
/// process (and reaps it), then removes the profile directory.
pub struct Browser {
    // Field order is drop order: the process goes before its profile directory.
    chrome: headless_chrome::Browser,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium headless, without a sandbox (the tests run as root), without a GPU,
    /// with a [`VIEWPORT`]-sized window and a new temporary profile.
    pub fn launch() -> Browser {
        assert!(
            Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: the browser tests need Debian's Chromium \
             (`apt-get install -y chromium`)"
        );
        let profile = tempfile::Builder::new()
            .prefix("urlcheck-chromium-")
            .tempdir()
            .expect("create a temporary Chromium profile");
        // Chromium writes nowhere but its profile: its temporary files (the singleton socket
        // among them), its config (Crashpad's database) and its caches all go inside, so
        // nothing is left behind once the profile is removed.
        let env = profile_env(profile.path());
        let options = LaunchOptions {
            headless: true,
            sandbox: false,
            enable_gpu: false,
            window_size: Some(VIEWPORT),
            path: Some(PathBuf::from(CHROMIUM)),
            user_data_dir: Some(profile.path().to_path_buf()),
            args: FLAGS.iter().map(std::ffi::OsStr::new).collect(),
            // Ours replaces the crate's --disable-features (the last one given would win).
            ignore_default_args: vec![std::ffi::OsStr::new(
                "--disable-features=TranslateUI,BlinkGenPropertyTrees",
            )],
            idle_browser_timeout: CALL_LIMIT,
            process_envs: Some(env),
            ..LaunchOptions::default()
        };
        become_subreaper();
        let chrome = headless_chrome::Browser::new(options)
            .unwrap_or_else(|e| panic!("launch {CHROMIUM}: {e:#}"));
        Browser { chrome, profile }
    }

    /// The browser's process id, for tests that check it is gone after drop.
    pub fn pid(&self) -> u32 {
        self.chrome
            .get_process_id()
            .expect("a launched browser has a process")
    }

    /// The browser's process and all its helpers (zygotes, renderers, GPU and utility
    /// processes, Crashpad's handlers), for tests that check none outlives the drop.
    pub fn processes(&self) -> Vec<u32> {
        let pid = self.pid();
        let mut all = vec![pid];
        all.extend(helpers_of(pid, self.profile.path()));
        all
    }

    /// The temporary profile (`--user-data-dir`), removed on drop.
    pub fn profile_dir(&self) -> &Path {
        self.profile.path()
    }

    /// Opens `file://path` in a new tab and waits for its load event (at most [`LOAD_LIMIT`]).
    /// With `javascript` false, script execution is turned off before navigation, so none of
    /// the page's scripts ever runs; [`Page::eval`] still works (DevTools evaluation is not a
    /// page script).
    pub fn open(&self, path: &Path, javascript: bool) -> Page<'_> {
        let path = path
            .canonicalize()
            .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        let url = url::Url::from_file_path(&path).expect("an absolute path is a file URL");
        let tab = self.chrome.new_tab().expect("open a new tab");
        let record = Arc::new(Record::default());
        let sink = Arc::clone(&record);
        tab.add_event_listener(Arc::new(move |event: &Event| sink.note(event)))
            .expect("listen to the tab's events");
        let page = Page {
            tab,
            record,
            _browser: self,
        };
        page.prepare(javascript);
        page.navigate(url.as_str());
        page
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // SIGTERM first: Chromium shuts down as when its last window closes, and its helper
        // processes end with it. The crate's own drop (Browser.close, SIGKILL, wait) then only
        // reaps the browser, or kills it if it did not exit within EXIT_LIMIT.
        let Some(pid) = self.chrome.get_process_id() else {
            return;
        };
        let deadline = Instant::now() + EXIT_LIMIT;
        let running = helpers(pid, self.profile.path());
        if let Some(browser) = Exit::watch(pid) {
            browser.signal(libc::SIGTERM);
            browser.wait(deadline);
        }
        end(&running, deadline);
        // A helper started after the first look (none has been seen to) still names the
        // profile on its command line.
        end(&helpers(pid, self.profile.path()), deadline);
    }
}

/// TMPDIR, XDG_CONFIG_HOME and XDG_CACHE_HOME, each a new directory inside `profile`.
fn profile_env(profile: &Path) -> std::collections::HashMap<String, String> {
    [
        ("TMPDIR", "tmp"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
    ]
    .into_iter()
    .map(|(name, dir)| {
        let dir = profile.join(dir);
        std::fs::create_dir(&dir).expect("create a directory in the profile");
        (name.to_string(), dir.display().to_string())
    })
    .collect()
}

/// A protocol method from its JSON parameters: every optional field left out, so this reads
/// the same whichever fields the bundled protocol version has.
fn method<M: DeserializeOwned>(params: Value) -> M {
    serde_json::from_value(params).expect("DevTools method parameters")
}

/// One tab showing a local file. Closed on drop.
pub struct Page<'b> {
    tab: Arc<Tab>,
    record: Arc<Record>,
    _browser: &'b Browser,
}

impl Page<'_> {
    /// Turns on the events we record (before anything loads) and, if asked, turns scripts off.
    fn prepare(&self, javascript: bool) {
        let tab = &self.tab;
        tab.call_method(Runtime::Enable(None))
            .expect("Runtime.enable");
        tab.call_method(Log::Enable(None)).expect("Log.enable");
        tab.call_method(method::<Network::Enable>(json!({})))
            .expect("Network.enable");
        // Headless Chromium's --window-size includes room for a window frame it does not
        // draw (a 1280x800 window has a 1280x661 viewport); the page gets exactly VIEWPORT.
        let (width, height) = VIEWPORT;
        let metrics = json!({ "width": width, "height": height, "deviceScaleFactor": 1,
                              "mobile": false });
        tab.call_method(method::<Emulation::SetDeviceMetricsOverride>(metrics))
            .expect("Emulation.setDeviceMetricsOverride");
        if !javascript {
            tab.call_method(Emulation::SetScriptExecutionDisabled { value: true })
                .expect("Emulation.setScriptExecutionDisabled");
        }
    }

    fn navigate(&self, url: &str) {
        let done: Cdp::NavigateReturnObject = self
            .tab
            .call_method(method::<Cdp::Navigate>(json!({ "url": url })))
            .unwrap_or_else(|e| panic!("navigate to {url}: {e:#}"));
        if let Some(error) = done.error_text {
            panic!("navigate to {url}: {error}");
        }
        let loader = done.loader_id.expect("a new document has a loader id");
        let deadline = Instant::now() + LOAD_LIMIT;
        let mut seen = self.record.lock();
        while !seen.loaded.contains(&loader) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "{url} did not fire its load event within {LOAD_LIMIT:?}"
            );
            seen = self
                .record
                .changed
                .wait_timeout(seen, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Every console message, log entry and uncaught exception so far, as (level, text).
    /// Levels: the console method's ("log", "error", "warning", "assert", …) for console
    /// calls, the entry's ("verbose", "info", "warning", "error") for log entries (CSP
    /// violations, failed loads), "exception" for uncaught exceptions. A log entry's URL is
    /// appended in parentheses when its text does not name it.
    pub fn console(&self) -> Vec<(String, String)> {
        self.record.lock().console.clone()
    }

    /// The texts of [`Page::console`] entries at level "error", "assert" or "exception".
    pub fn console_errors(&self) -> Vec<String> {
        let errors = ["error", "assert", "exception"];
        self.console()
            .into_iter()
            .filter(|(level, _)| errors.contains(&level.as_str()))
            .map(|(_, text)| text)
            .collect()
    }

    /// The URL of every request the page asked for, the document's own first. This includes
    /// requests the browser then refused itself: Chromium reports a request blocked by the
    /// page's Content-Security-Policy here too (see [`Page::blocked_requests`]).
    pub fn requests(&self) -> Vec<String> {
        self.record
            .lock()
            .requests
            .iter()
            .map(|r| r.url.clone())
            .collect()
    }

    /// The requests the browser refused before any connection, as (URL, reason): "csp",
    /// "mixed-content", … (Network.loadingFailed's blockedReason).
    pub fn blocked_requests(&self) -> Vec<(String, String)> {
        let seen = self.record.lock();
        let blocked = seen
            .requests
            .iter()
            .filter_map(|r| Some((r.url.clone(), r.blocked.clone()?)));
        blocked.collect()
    }

    /// The URLs the browser really tried to load: [`Page::requests`] less the blocked ones.
    /// "The page loads nothing but itself" is `attempted_requests() == [its own URL]`.
    pub fn attempted_requests(&self) -> Vec<String> {
        let seen = self.record.lock();
        let tried = seen.requests.iter().filter(|r| r.blocked.is_none());
        tried.map(|r| r.url.clone()).collect()
    }

    /// Evaluates `js` as an expression in the page and returns its value as JSON (a promise
    /// is awaited; `undefined` comes back as null). Panics if it throws.
    pub fn eval(&self, js: &str) -> Value {
        let params = json!({ "expression": js, "returnByValue": true, "awaitPromise": true });
        let done: Runtime::EvaluateReturnObject = self
            .tab
            .call_method(method::<Runtime::Evaluate>(params))
            .unwrap_or_else(|e| panic!("evaluate {js:?}: {e:#}"));
        if let Some(thrown) = done.exception_details {
            let what = thrown.exception.as_ref().map(remote_text);
            panic!("{js:?} threw: {} {}", thrown.text, what.unwrap_or_default());
        }
        done.result.value.unwrap_or(Value::Null)
    }

    /// Clicks the first element matching the CSS `selector` with the mouse, at its centre
    /// (scrolled into view first), as a person would: a trusted click that page scripts see.
    /// Panics if nothing matches or the element has no size.
    pub fn click(&self, selector: &str) {
        let quoted = serde_json::to_string(selector).expect("a string is JSON");
        let js = format!(
            "(() => {{ const e = document.querySelector({quoted}); if (!e) return null; \
             e.scrollIntoView({{block: 'center', inline: 'center'}}); \
             const r = e.getBoundingClientRect(); \
             return [r.left + r.width / 2, r.top + r.height / 2, r.width * r.height]; }})()"
        );
        let centre = self.eval(&js);
        let Some([x, y, area]) = centre.as_array().and_then(|v| {
            let v: Vec<f64> = v.iter().filter_map(Value::as_f64).collect();
            <[f64; 3]>::try_from(v).ok()
        }) else {
            panic!("click: nothing matches {selector:?}");
        };
        assert!(area > 0.0, "click: {selector:?} has no size");
        self.tab
            .click_point(Point { x, y })
            .unwrap_or_else(|e| panic!("click {selector:?}: {e:#}"));
    }

    /// Writes a PNG of the viewport ([`VIEWPORT`] pixels) to `path`.
    pub fn screenshot_png(&self, path: &Path) {
        let png = self
            .tab
            .capture_screenshot(Cdp::CaptureScreenshotFormatOption::Png, None, None, true)
            .expect("Page.captureScreenshot");
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

impl Drop for Page<'_> {
    fn drop(&mut self) {
        // A shared browser should not collect tabs; a failure here changes no result.
        let _ = self.tab.close_target();
    }
}
