//! Issue 15: the HTML pages, opened in headless Chromium (Debian's `chromium`; `.ci/run`
//! installs it). A real run against the fixture (every kind of failure, hostile names and
//! URLs) and a synthetic run history are rendered by the binary, then asserted from the
//! rendered page: no console error, no request beyond the file itself, the failure rows,
//! the charts' SVG inside their bounds, the table sorting with JavaScript on and a plain
//! table with it off. Each page is also shot at 1280x800; `URLCHECK_UPDATE_SCREENSHOTS=1`
//! puts the shots in docs/ (the README shows them).

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tempfile::TempDir;

use common::browser::{Browser, Page};
use common::{lines, refused_port, run, urlcheck, write_list, Server, FAST_2S};

/// The list of the run page: spread latencies on four hosts, the failures a real list has,
/// and lines that would run a script if the page let them.
fn list(srv: &Server) -> Vec<String> {
    let mut urls: Vec<String> = (0..24u64)
        .map(|i| {
            srv.url(
                (i % 4) as usize,
                &format!("/delay/{}?page={i}", 5 + (i * i * 7) % 120),
            )
        })
        .collect();
    urls.extend([
        srv.url(1, "/status/404?page=old-post"),
        srv.url(2, "/status/404?page=moved"),
        srv.url(3, "/status/500?page=api"),
        srv.url(0, "/redirect/2"),
        srv.url(1, "/redirect-to?url=/status/410"),
        format!("http://127.0.0.1:{}/closed", refused_port()),
        srv.url(2, "/ok?x=<script>document.title='pwned'</script>"),
        srv.url(3, "/ok?q=\"onerror=\"document.title='pwned'"),
        "javascript:document.title='pwned'".to_string(),
        "<img src=x onerror=document.title='pwned'>".to_string(),
        "\"onerror=\"document.title='pwned'".to_string(),
    ]);
    urls
}

/// The failures the list must show: two 404s, a 500, a 410 after a redirect, a refusal, and
/// three invalid lines.
const FAILURES: usize = 8;

/// Lines in the list.
const LINES: u64 = 35;

/// Renders the run page of `urls` listed in `name` (in `dir`, which the run starts in) into
/// `page`.
fn run_page(dir: &Path, name: &str, urls: &[String], page: &str) -> PathBuf {
    write_list(dir, name, lines(urls));
    let out = run(urlcheck()
        .current_dir(dir)
        .args(FAST_2S)
        .args(["--no-progress", "--report", &format!("html={page}")])
        .arg(name));
    out.assert_code(1);
    dir.join(page)
}

/// `dir/links.db`: a synthetic history (the benchmark's generator, through urlcheck's own
/// recorder) of `urls` URLs checked every 15 minutes for `runs` runs.
fn synthetic(dir: &Path, urls: usize, runs: usize) -> PathBuf {
    let db = dir.join("links.db");
    let spec = urlcheck::history::Synthetic {
        urls,
        runs,
        every: Duration::from_secs(900),
        end: SystemTime::now(),
        seed: 15,
    };
    urlcheck::history::synthesize(&db, &spec, |_| {}).unwrap();
    db
}

/// The history page of 40 URLs checked every 15 minutes for a week.
fn history_page(dir: &Path) -> PathBuf {
    synthetic(dir, 40, 672);
    let out = run(urlcheck()
        .current_dir(dir)
        .args(["history", "--format", "html", "links.db"]));
    out.assert_code(0);
    let page = dir.join("history.html");
    std::fs::write(&page, out.stdout()).unwrap();
    page
}

/// What every page must show in the browser: nothing logged, nothing fetched but itself,
/// and no injected script run.
fn assert_clean(page: &Page<'_>, file: &Path, title_start: &str) {
    assert_eq!(
        page.console_errors(),
        Vec::<String>::new(),
        "console: {:?}",
        page.console()
    );
    let me = url::Url::from_file_path(file).unwrap().to_string();
    // Attempted, and refused by the page's policy: a refused one would mean the page asked.
    let others: Vec<String> = page.requests().into_iter().filter(|r| *r != me).collect();
    assert!(others.is_empty(), "requests beyond {me}: {others:?}");
    assert_eq!(page.attempted_requests(), vec![me.clone()]);
    let title = page.eval("document.title");
    assert!(
        title.as_str().is_some_and(|t| t.starts_with(title_start)),
        "title {title}"
    );
}

/// Every `<svg>` under `selector`: its box on the page and its elements' boxes, which must
/// all lie inside its viewBox.
fn assert_svg_in_bounds(page: &Page<'_>, selector: &str) -> usize {
    let js = format!(
        r#"(() => {{
            const out = [];
            document.querySelectorAll({selector:?}).forEach(svg => {{
                const vb = svg.viewBox.baseVal, r = svg.getBoundingClientRect();
                let outside = 0, shapes = 0, first = null;
                svg.querySelectorAll("rect, polyline, line, text, path, circle").forEach(e => {{
                    // On the page, so transforms (a rotated axis label) count; in viewBox units.
                    const c = e.getBoundingClientRect(), k = vb.width / r.width;
                    const b = {{x: (c.left - r.left) * k, y: (c.top - r.top) * k, width: c.width * k, height: c.height * k}};
                    shapes++;
                    if (b.x < -1 || b.y < -1 || b.x + b.width > vb.width + 1 || b.y + b.height > vb.height + 1) {{
                        outside++;
                        first = first || e.outerHTML.slice(0, 200) + " " + JSON.stringify([b.x, b.y, b.width, b.height]);
                    }}
                }});
                out.push({{w: r.width, h: r.height, vw: vb.width, vh: vb.height, shapes, outside, first}});
            }});
            return out;
        }})()"#
    );
    let boxes = page.eval(&js);
    let boxes = boxes
        .as_array()
        .unwrap_or_else(|| panic!("{selector}: {boxes}"));
    assert!(!boxes.is_empty(), "no svg under {selector}");
    for b in boxes {
        let num = |k: &str| b[k].as_f64().unwrap();
        assert!(num("w") > 20.0 && num("h") > 10.0, "{selector}: {b}");
        assert!(num("vw") > 0.0 && num("vh") > 0.0, "{selector}: {b}");
        assert!(num("shapes") > 0.0, "{selector}: an empty chart {b}");
        assert_eq!(
            num("outside"),
            0.0,
            "{selector}: shapes outside the viewBox {b}"
        );
    }
    boxes.len()
}

/// The values of column `n` (1-based) of `table`'s rows, by their sort key.
fn column(page: &Page<'_>, table: &str, n: usize) -> Vec<Value> {
    let js = format!(
        "Array.from(document.querySelectorAll('{table} tbody tr')).map(r => {{ \
           const c = r.cells[{}]; return c.hasAttribute('data-v') ? c.getAttribute('data-v') : c.textContent; }})",
        n - 1
    );
    page.eval(&js).as_array().cloned().unwrap_or_default()
}

/// `file` with its script off: clean, the script's marks absent (no sort buttons, the
/// `data-js` flag unset), `table` there as plain rows.
fn open_plain<'b>(browser: &'b Browser, file: &Path, title: &str, table: &str) -> Page<'b> {
    let plain = browser.open(file, false);
    assert_clean(&plain, file, title);
    let js = plain.eval("document.documentElement.getAttribute('data-js')");
    assert_eq!(js, Value::Null);
    assert_eq!(
        plain.eval("document.querySelectorAll('th button').length"),
        0
    );
    let rows = plain.eval(&format!(
        "document.querySelectorAll('{table} tbody tr').length"
    ));
    assert!(rows.as_u64().is_some_and(|n| n > 0), "{table}: {rows}");
    plain
}

fn numbers(values: &[Value]) -> Vec<f64> {
    values
        .iter()
        .map(|v| v.as_str().unwrap().parse::<f64>().unwrap())
        .collect()
}

fn screenshot(page: &Page<'_>, dir: &Path, name: &str) {
    let shot = dir.join(name);
    page.screenshot_png(&shot);
    let png = std::fs::read(&shot).unwrap();
    let size = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert_eq!(size, (1280, 800), "{name}");
    if std::env::var_os("URLCHECK_UPDATE_SCREENSHOTS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs")
            .join(name);
        std::fs::copy(&shot, docs).unwrap();
    }
}

#[test]
fn the_run_page_in_a_browser() {
    let srv = Server::start(4);
    let dir = TempDir::new().unwrap();
    let urls = list(&srv);
    let file = run_page(
        dir.path(),
        "links <b onmouseover=x>.txt",
        &urls,
        "report.html",
    );
    // The README's picture: the same run without the hostile lines.
    let showcase = run_page(dir.path(), "urls.txt", &urls[..30], "showcase.html");
    srv.shutdown();
    let browser = Browser::launch();

    let shown = browser.open(&showcase, true);
    assert_clean(&shown, &showcase, "urlcheck: 30 URLs, failures");
    screenshot(&shown, dir.path(), "report-run.png");
    drop(shown);

    let page = browser.open(&file, true);
    assert_clean(&page, &file, "urlcheck: 35 URLs, failures");
    let failures = page.eval("document.querySelectorAll('#failures tr.failure').length");
    assert_eq!(failures, FAILURES, "failure rows");
    let groups = page.eval(
        "Array.from(document.querySelectorAll('#failures tr.group th')).map(t => t.textContent)",
    );
    for group in [
        "down: HTTP 404 (2)",
        "down: HTTP 500 (1)",
        "down: HTTP 410 (1)",
        "error: connect (1)",
        "invalid: input (3)",
    ] {
        assert!(
            groups.as_array().unwrap().iter().any(|g| g == group),
            "{group} in {groups}"
        );
    }
    // The redirect chain of the 410 and the file:line of every failure.
    let chain = page.eval("document.querySelector('#failures ol.chain li').textContent");
    assert!(chain.as_str().unwrap().starts_with("302 "), "{chain}");
    let listed = page.eval("Array.from(document.querySelectorAll('#failures tr.failure td:last-child')).every(t => /^links <b onmouseover=x>\\.txt:\\d+$/.test(t.textContent))");
    assert_eq!(listed, true);
    for chart in [
        "#latency-chart svg",
        "#hosts-chart svg",
        "#phases-chart svg",
    ] {
        assert_eq!(assert_svg_in_bounds(&page, chart), 1, "{chart}");
    }
    let marks = page.eval("Array.from(document.querySelectorAll('#latency-chart text')).map(t => t.textContent.trim()).filter(t => /^p(50|90|99) /.test(t)).length");
    assert_eq!(marks, 3, "p50, p90 and p99 marked");

    // Sorting by time: ascending, then descending.
    page.click("#results-table thead th:nth-child(4) button");
    let times = numbers(&column(&page, "#results-table", 4));
    assert_eq!(times.len() as u64, LINES);
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "ascending: {times:?}"
    );
    page.click("#results-table thead th:nth-child(4) button");
    let times = numbers(&column(&page, "#results-table", 4));
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "descending: {times:?}"
    );
    // Filtering by outcome.
    page.eval("(() => { const s = document.querySelector('#results .tools select'); s.value = 'invalid'; s.dispatchEvent(new Event('change')); })()");
    let shown = page.eval("Array.from(document.querySelectorAll('#results-table tbody tr')).filter(r => !r.hidden).length");
    assert_eq!(shown, 3);
    // Sorting and filtering threw nothing and fetched nothing.
    assert_clean(&page, &file, "urlcheck: 35 URLs, failures");
    // Text columns sort with their numbers as numbers: line 2 before line 10.
    page.click("#results-table thead th:nth-child(6) button");
    let listed: Vec<u64> = column(&page, "#results-table", 6)
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(listed.windows(2).all(|w| w[0] <= w[1]), "{listed:?}");
    drop(page);

    // Without JavaScript: the same rows in urlcheck's order, no controls, nothing run.
    let plain = open_plain(
        &browser,
        &file,
        "urlcheck: 35 URLs, failures",
        "#results-table",
    );
    assert_eq!(
        plain.eval("document.querySelectorAll('#results-table tbody tr').length"),
        LINES
    );
    assert_eq!(
        plain.eval("document.querySelector('#results .tools').hidden"),
        true
    );
    let lines = column(&plain, "#results-table", 6);
    let first = lines[0].as_str().unwrap();
    assert!(
        first.ends_with(".txt:1"),
        "input order without the script: {first}"
    );
    assert_eq!(
        plain.eval("document.querySelectorAll('#failures tr.failure').length"),
        FAILURES
    );
}

#[test]
fn the_history_page_in_a_browser() {
    let dir = TempDir::new().unwrap();
    let file = history_page(dir.path());
    let browser = Browser::launch();

    let page = browser.open(&file, true);
    assert_clean(&page, &file, "urlcheck history:");
    screenshot(&page, dir.path(), "report-history.png");
    assert_eq!(
        page.eval("document.querySelectorAll('#urls-table tbody tr').length"),
        40
    );
    assert_eq!(assert_svg_in_bounds(&page, "#runs-chart svg"), 1);
    // A strip and a latency line per URL.
    assert_eq!(assert_svg_in_bounds(&page, "#urls-table td.strip svg"), 80);
    // Triage order: newly broken, flapping, failing, then the rest by uptime.
    let states = column(&page, "#urls-table", 2);
    let uptimes = numbers(&column(&page, "#urls-table", 3));
    let streaks = column(&page, "#urls-table", 7);
    let groups: Vec<u8> = states
        .iter()
        .zip(&streaks)
        .map(|(state, streak)| match streak.as_str().unwrap().trim() {
            "1" => 0,
            _ if state.as_str().unwrap().contains("flapping") => 1,
            "0" => 3,
            _ => 2,
        })
        .collect();
    assert!(
        groups.windows(2).all(|w| w[0] <= w[1]),
        "{states:?} {streaks:?}"
    );
    assert!(
        groups.iter().any(|&g| g < 3),
        "the synthetic history has failing URLs: {states:?}"
    );
    let rest: Vec<f64> = groups
        .iter()
        .zip(&uptimes)
        .filter(|(g, _)| **g == 3)
        .map(|(_, u)| *u)
        .collect();
    assert!(
        rest.windows(2).all(|w| w[0] <= w[1]),
        "lowest uptime first: {rest:?}"
    );
    // Sorting by uptime.
    page.click("#urls-table thead th:nth-child(3) button");
    let uptime = numbers(&column(&page, "#urls-table", 3));
    assert!(uptime.windows(2).all(|w| w[0] <= w[1]), "{uptime:?}");
    drop(page);

    let plain = open_plain(&browser, &file, "urlcheck history:", "#urls-table");
    assert_eq!(
        plain.eval("document.querySelectorAll('#urls-table tbody tr').length"),
        40
    );
}

/// The history page of one URL holds that URL alone; a URL the history does not hold is a
/// clear error, exit 2, and no page.
#[test]
fn the_history_page_of_one_url_and_of_none() {
    let dir = TempDir::new().unwrap();
    let db = synthetic(dir.path(), 5, 30);
    let url = "https://host2.test/page/2";
    let out = run(urlcheck()
        .args(["history", "--format", "html"])
        .arg(&db)
        .arg(url));
    out.assert_code(0);
    let page = out.stdout();
    assert_eq!(page.matches("<tr data-state=").count(), 1, "{page}");
    assert!(page.contains(&format!(">{url}</a>")), "{page}");
    let out = run(urlcheck()
        .args(["history", "--format", "html"])
        .arg(&db)
        .arg("https://elsewhere.test/"));
    out.assert_code(2);
    assert!(out.stdout().is_empty());
    assert!(
        out.stderr
            .contains("https://elsewhere.test/: not in this history"),
        "{out}"
    );
    // --since keeps the window's runs: a day back holds all 30 (7.5 hours of them).
    let out = run(urlcheck()
        .args(["history", "--since", "1d", "--format", "html"])
        .arg(&db));
    out.assert_code(0);
    assert!(
        out.stdout().contains("<dt>runs</dt><dd>30</dd>"),
        "{}",
        out.stdout()
    );
}
