//! Local links where a document could lead urlcheck astray: out of the folder it was given,
//! into the same file under two names, into a device that never ends, or onto a terminal.
//! No request is made by any of these runs: every link is local, or skipped.

mod common;

use std::path::Path;

use serde_json::Value;
use tempfile::TempDir;

use common::json::{error_kind, outcome};
use common::{no_panic, result, results, run, sources, urlcheck, Run};

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Runs urlcheck in `dir` with `args` and the JSON format.
fn check(dir: &Path, args: &[&str]) -> (Run, Value) {
    let out = run(urlcheck()
        .current_dir(dir)
        .args(["--format", "json", "--no-progress"])
        .args(args));
    no_panic(&out);
    let doc = out.json();
    (out, doc)
}

#[test]
fn an_encoded_slash_or_a_climb_above_the_root_stays_inside() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "site/etc/passwd", "not the machine's");
    write(
        dir.path(),
        "docs/a.md",
        "[enc](%2Fetc%2Fpasswd) [climb](/../../etc/passwd) [deep](/x/../../../etc/passwd)\n",
    );
    let (out, doc) = check(dir.path(), &["--root-dir", "site", "docs/a.md"]);
    let encoded = result(&doc, "docs/%2Fetc%2Fpasswd");
    assert_eq!(
        outcome(encoded),
        "error",
        "a file named %2Fetc%2Fpasswd: {encoded:#}"
    );
    assert_eq!(error_kind(encoded), "file");
    // Both climbs end at the root: site/etc/passwd, one result with both lines.
    let inside = result(&doc, "site/etc/passwd");
    assert_eq!(outcome(inside), "up", "{inside:#}");
    assert_eq!(sources(inside).len(), 2, "{inside:#}");
    assert!(
        !results(&doc).iter().any(|r| r["url"] == "/etc/passwd"),
        "nothing outside the folders given is looked up: {doc:#}"
    );
    out.assert_code(1);
}

#[test]
fn a_document_named_twice_or_reached_two_ways_is_one_file() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "README.md",
        "# Top\n\n[guide](docs/guide.md#use)\n",
    );
    write(
        dir.path(),
        "docs/guide.md",
        "# Use\n\n[back](/README.md#top)\n",
    );
    let root = dir.path().display().to_string();
    // README.md by name and again through the walk of `.`; the root given absolute while the
    // walk is relative.
    let (out, doc) = check(dir.path(), &["--root-dir", &root, "README.md", "."]);
    out.assert_code(0);
    let guide = result(&doc, "docs/guide.md#use");
    assert_eq!(
        sources(guide),
        [("README.md".into(), 3)],
        "read once: {guide:#}"
    );
    let back = result(&doc, "README.md#top");
    assert_eq!(outcome(back), "up", "{back:#}");
    assert_eq!(sources(back), [("docs/guide.md".into(), 3)]);
    assert_eq!(results(&doc).len(), 2, "{doc:#}");
}

#[test]
fn exclude_skips_local_links_and_a_bad_remap_is_invalid() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "a.md",
        "[known](drafts/todo.md) [ext](https://example.org/docs/x)\n",
    );
    let (out, doc) = check(
        dir.path(),
        &[
            "--exclude",
            "^drafts/",
            "--remap",
            "^https://example\\.org/docs/ 127.0.0.1:9/",
            "a.md",
        ],
    );
    let known = result(&doc, "drafts/todo.md");
    assert_eq!(outcome(known), "skipped", "{known:#}");
    let ext = result(&doc, "https://example.org/docs/x");
    assert_eq!(
        outcome(ext),
        "invalid",
        "never requested as written: {ext:#}"
    );
    assert!(
        ext["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--remap"),
        "{ext:#}"
    );
    out.assert_code(1);
}

#[test]
fn a_link_into_a_device_named_like_a_page_is_not_read() {
    let dir = TempDir::new().unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("evil.html")).unwrap();
    write(dir.path(), "a.md", "[x](evil.html#part)\n");
    let (out, doc) = check(dir.path(), &["a.md"]);
    let evil = result(&doc, "evil.html#part");
    assert_eq!(outcome(evil), "error", "{evil:#}");
    assert_eq!(error_kind(evil), "fragment");
    out.assert_code(1);
}

#[test]
fn names_found_in_a_walk_cannot_drive_the_terminal() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "a\u{1b}[31mRED.md", "[x](missing.md)\n");
    let out =
        run(urlcheck()
            .current_dir(dir.path())
            .args(["--no-progress", "--color", "never", "."]));
    no_panic(&out);
    out.assert_code(1);
    assert!(out.stdout().contains("RED.md"), "{out}");
    assert!(!out.stdout().contains('\u{1b}'), "{:?}", out.stdout());
    let dump = run(urlcheck().current_dir(dir.path()).args(["--dump", "."]));
    assert!(
        dump.stdout().contains("RED.md") && !dump.stdout().contains('\u{1b}'),
        "{dump}"
    );
}
