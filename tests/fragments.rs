//! `--check-fragments` against a real nginx: the `#fragment` of a web link is looked for among
//! the ids and names of the page it points into, the page is requested once however many
//! fragments (and documents) point into it, a missing anchor is its own result of kind
//! fragment, and without the flag the fragment is not looked at.

mod common;
mod servers;

use tempfile::TempDir;

use common::json::{error_kind, message, outcome};
use common::{result, results, run, sources, urlcheck};
use servers::nginx::Nginx;

const LOCATIONS: &str = r#"
        location = /page.html {
            default_type text/html;
            return 200 '<!doctype html><h2 id="install">Install</h2><a name="old"></a><p id="café">x</p>';
        }
        location = /data.json {
            default_type application/json;
            return 200 '{"id": "install"}';
        }
        location = /gone { return 404; }
"#;

/// Two documents linking into the same page with fragments that exist and one that does not,
/// a JSON answer (no anchors to look for) and a 404.
fn documents(nginx: &Nginx) -> TempDir {
    let dir = TempDir::new().unwrap();
    let page = nginx.https("/page.html");
    let a = format!(
        "# A\n\n[install]({page}#install) and [old]({page}#old)\n\n[missing]({page}#nowhere)\n\n\
         [json]({}#install) [gone]({}#x)\n",
        nginx.https("/data.json"),
        nginx.https("/gone"),
    );
    let b = format!("<p><a href=\"{page}#nowhere\">again</a> <a href=\"{page}#caf%C3%A9\">é</a>\n");
    std::fs::write(dir.path().join("a.md"), a).unwrap();
    std::fs::write(dir.path().join("b.html"), b).unwrap();
    dir
}

#[test]
fn a_missing_anchor_of_a_remote_page_is_an_error_and_the_page_is_fetched_once() {
    let nginx = Nginx::start(LOCATIONS);
    let dir = documents(&nginx);
    let out = run(urlcheck()
        .current_dir(dir.path())
        .args(["--format", "json", "--no-progress", "--check-fragments"])
        .args(["--cacert", &nginx.ca_file(), "a.md", "b.html"]));
    common::no_panic(&out);
    out.assert_code(1);
    let doc = out.json();

    let page = nginx.https("/page.html");
    let up = result(&doc, &page);
    assert_eq!(outcome(up), "up", "{up:#}");
    let mut fine = sources(up);
    fine.sort();
    assert_eq!(
        fine,
        [("a.md".into(), 3), ("a.md".into(), 3), ("b.html".into(), 1)],
        "#install, #old and the percent-encoded #café stay with the page: {up:#}"
    );

    let missing = result(&doc, &format!("{page}#nowhere"));
    assert_eq!(outcome(missing), "error", "{missing:#}");
    assert_eq!(error_kind(missing), "fragment");
    assert!(message(missing).contains("#nowhere"), "{missing:#}");
    assert_eq!(
        missing["status"], 200,
        "the page itself answered: {missing:#}"
    );
    let mut lines = sources(missing);
    lines.sort();
    assert_eq!(lines, [("a.md".into(), 5), ("b.html".into(), 1)]);

    // A JSON answer has no anchors to look for; a page that is down is down, fragment or not.
    assert_eq!(outcome(result(&doc, &nginx.https("/data.json"))), "up");
    assert_eq!(outcome(result(&doc, &nginx.https("/gone"))), "down");

    let log = nginx.access_log();
    let asked = |path: &str| {
        log.lines()
            .filter(|l| l.starts_with(&format!("GET {path} ")))
            .count()
    };
    assert_eq!(
        asked("/page.html"),
        1,
        "one request for five links into the page:\n{log}"
    );
    assert_eq!(asked("/data.json"), 1, "{log}");
    assert_eq!(results(&doc).len(), 4, "{doc:#}");
}

#[test]
fn without_the_flag_fragments_of_remote_pages_are_not_looked_at() {
    let nginx = Nginx::start(LOCATIONS);
    let dir = documents(&nginx);
    let out = run(urlcheck()
        .current_dir(dir.path())
        .args(["--format", "json", "--no-progress"])
        .args(["--cacert", &nginx.ca_file(), "a.md", "b.html"]));
    common::no_panic(&out);
    let doc = out.json();
    let page = result(&doc, &nginx.https("/page.html"));
    assert_eq!(outcome(page), "up", "{page:#}");
    assert_eq!(
        sources(page).len(),
        5,
        "every link into the page is one result: {page:#}"
    );
    assert!(
        !results(&doc)
            .iter()
            .any(|r| r["url"].as_str().unwrap().contains('#')),
        "{doc:#}"
    );
    out.assert_code(1); // /gone is down
}
