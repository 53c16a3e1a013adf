//! Links in documents (issue 10), end to end over the tree checked in under `tests/tree/` (its
//! README says what each file holds): every link form of Markdown and HTML found at its
//! file:line:column and nothing in code, files a walk must not read left unread, local files,
//! folders and fragments present and missing with their error kinds, GitHub's heading slugs,
//! the flags that resolve, rewrite and skip links (`--root-dir`, `--base-url`, `<base href>`,
//! `--remap`, `--exclude-private`, `.urlcheckignore`, `--exclude-path`), quoted globs, stdin,
//! `--dump` in every format with no request sent, one check for a URL written in many files,
//! `--check-fragments`, sitemaps (a file, and a sitemap index served by a local server), exit
//! codes, GitHub annotations and reports valid against their schemas, at the link's column.
//! Then bad documents: binary, 100 MB, over 256 MiB, invalid UTF-8, unterminated, deeply nested.
//!
//! Every web address in the tree uses the host `links.test`, which never resolves: each run
//! remaps it to a scripted server on 127.0.0.1 that records what it was asked, or only dumps,
//! or excludes it.

mod common;
mod servers;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tempfile::TempDir;

use common::github::annotations;
use common::json::{error_kind, message, outcome};
use common::validate::{assert_valid, sarif_validator, validator};
use common::{no_panic, result, results, run, urlcheck, Run, FAST_5S};
use servers::{response, Head, Scripted};

/// The tree, as the tests name it: relative to the crate root, where every run starts.
const TREE: &str = "tests/tree";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A complete response with a body.
fn with_body(status_line: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status_line}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The server the tree's `links.test` addresses are sent to: `/area` is 404, anything else 200.
fn site() -> Scripted {
    Scripted::start("127.0.0.1:0", |head: &Head| match head.target.as_str() {
        "/area" => response("404 Not Found", &[]),
        _ => response("200 OK", &[]),
    })
    .expect("start the site server")
}

/// `--remap` of every `links.test` address to `server`.
fn remap(server: &Scripted) -> String {
    format!(r"^https?://links\.test/ {}", server.url("/"))
}

/// The paths the server was asked for, each once.
fn asked(server: &Scripted) -> BTreeSet<String> {
    server.heads().into_iter().map(|h| h.target).collect()
}

/// How many requests for `target` the server had.
fn times_asked(server: &Scripted, target: &str) -> usize {
    server.heads().iter().filter(|h| h.target == target).count()
}

/// Runs the binary from the crate root with `args`, as JSON on stdout.
fn check(args: &[&str]) -> (Run, Value) {
    let out = run(urlcheck()
        .current_dir(root())
        .args(FAST_5S)
        .args(["--format", "json"])
        .args(args));
    no_panic(&out);
    let doc = out.json();
    (out, doc)
}

/// The whole tree, remapped to `server`, the loopback link of guide.md skipped.
fn check_tree(server: &Scripted, extra: &[&str]) -> (Run, Value) {
    let remap = remap(server);
    let mut args = vec!["--remap", &remap, "--exclude-private"];
    args.extend_from_slice(extra);
    args.push(TREE);
    check(&args)
}

/// `file:line:column` of every source of a result, the tree's prefix dropped.
fn places(result: &Value) -> Vec<String> {
    result["sources"]
        .as_array()
        .unwrap_or_else(|| panic!("no sources in {result:#}"))
        .iter()
        .map(|s| {
            let file = s["file"].as_str().expect("file is a string");
            let file = file.strip_prefix("tests/tree/").unwrap_or(file);
            match s["column"].as_u64() {
                Some(col) => format!("{file}:{}:{col}", s["line"]),
                None => format!("{file}:{}", s["line"]),
            }
        })
        .collect()
}

/// Every file any source of the document names.
fn files(doc: &Value) -> BTreeSet<String> {
    results(doc)
        .iter()
        .flat_map(|r| r["sources"].as_array().cloned().unwrap_or_default())
        .map(|s| s["file"].as_str().unwrap().to_string())
        .collect()
}

/// The one result for `url`, asserting its outcome.
#[track_caller]
fn expect<'a>(doc: &'a Value, url: &str, want: &str) -> &'a Value {
    let r = result(doc, url);
    assert_eq!(outcome(r), want, "{url}: {r:#}");
    r
}

/// `url` is an error of `kind`, written at `places`.
#[track_caller]
fn expect_broken(doc: &Value, url: &str, kind: &str, at: &[&str]) {
    let r = expect(doc, url, "error");
    assert_eq!(error_kind(r), kind, "{url}: {r:#}");
    assert_eq!(places(r), at, "{url}");
}

/// The reason a skipped result gives (the first warning).
#[track_caller]
fn skip_reason(doc: &Value, url: &str) -> String {
    let r = expect(doc, url, "skipped");
    r["warnings"][0]
        .as_str()
        .unwrap_or_else(|| panic!("no reason: {r:#}"))
        .to_string()
}

// -------------------------------------------------------------------------------------------
// What is found, and where
// -------------------------------------------------------------------------------------------

/// Every link of the tree, in walk order: `file:line:column kind url`. Code spans, fenced and
/// indented code, an escaped tag in `<pre>`, `.gitignore`d and hidden files hold none of these.
const TREE_LINKS: &[&str] = &[
    "based.html:3:10 url https://links.test/base/relative.html",
    "based.html:4:10 url https://links.test/absolute",
    "guide.md:3:18 url https://links.test/inline",
    "guide.md:3:61 local tests/tree/logo.svg",
    "guide.md:4:14 url https://links.test/auto",
    "guide.md:6:8 url https://links.test/reference",
    "guide.md:7:14 url https://links.test/collapsed",
    "guide.md:9:23 url https://links.test/inline-html",
    "guide.md:9:75 local tests/tree/logo.svg",
    "guide.md:12:10 url https://links.test/block-html",
    "guide.md:13:11 url https://links.test/block.png",
    "guide.md:29:11 local tests/tree/other.md",
    "guide.md:29:32 local tests/tree/missing.md",
    "guide.md:29:70 local tests/tree/sub",
    "guide.md:30:24 local tests/tree/noindex",
    "guide.md:30:49 local tests/tree/noindex/data.txt#line-3",
    "guide.md:31:20 local tests/tree/gone",
    "guide.md:35:8 local tests/tree/guide.md#local-files",
    "guide.md:35:38 local tests/tree/guide.md#no-such-heading",
    "guide.md:35:68 local tests/tree/guide.md#notes-1",
    "guide.md:35:92 local tests/tree/guide.md#notes-2",
    "guide.md:36:15 local tests/tree/guide.md#whats-new-in-v20",
    "guide.md:36:43 local tests/tree/other.md#other-heading",
    "guide.md:36:84 local tests/tree/other.md#nope",
    "guide.md:37:8 local tests/tree/page.html#intro",
    "guide.md:37:38 local tests/tree/page.html#legacy",
    "guide.md:37:72 local tests/tree/page.html#absent",
    "guide.md:38:16 local tests/tree/sub#sub-intro",
    "guide.md:38:50 local tests/tree/sub#absent",
    "guide.md:38:75 local tests/tree/noindex#x",
    "guide.md:48:8 skipped mailto:someone@links.test",
    "guide.md:48:44 skipped tel:+15550100",
    "guide.md:48:69 skipped javascript:void(0)",
    "guide.md:49:8 skipped data:text/plain,hello",
    "guide.md:49:43 url http://127.0.0.1:9/private",
    "guide.md:53:18 skipped /other.md",
    "guide.md:53:47 skipped /nowhere.md",
    "guide.md:53:74 skipped /shared/path?q=1",
    "guide.md:55:18 url https://links.test/shared",
    "guide.md:57:28 local tests/tree#no-such-part",
    "other.md:3:21 local tests/tree/guide.md#guide",
    "other.md:3:58 url https://links.test/shared",
    "other.md:9:21 local tests/tree#the-link-tree-of-the-document-tests",
    "other.md:11:38 local tests/tree/other.md#section-with-code",
    "page.html:5:30 local tests/tree/style.css",
    "page.html:6:14 url https://links.test/script.js",
    "page.html:7:45 url https://links.test/refresh",
    "page.html:12:10 url https://links.test/shared",
    "page.html:12:57 local tests/tree/page.html#intro",
    "page.html:12:81 local tests/tree/page.html#top",
    "page.html:13:10 local tests/tree/page.html#missing-id",
    "page.html:13:47 local tests/tree/other.md#html-name",
    "page.html:14:27 url https://links.test/area",
    "page.html:15:11 url https://links.test/img.png",
    "page.html:15:47 url https://links.test/img-1x.png",
    "page.html:15:81 url https://links.test/img-2x.png",
    "page.html:16:14 url https://links.test/frame",
    "page.html:17:13 url https://links.test/video.mp4",
    "page.html:17:51 url https://links.test/poster.jpg",
    "page.html:18:16 url https://links.test/video.webm",
    "page.html:19:15 url https://links.test/subs.vtt",
    "page.html:21:13 url https://links.test/audio.ogg",
    "page.html:22:13 url https://links.test/embed.swf",
    "page.html:23:10 skipped mailto:page@links.test",
    "page.html:23:52 skipped /guide.md",
    "page.html:25:10 url https://links.test/q?a=1&b=2",
    "sub/index.html:3:10 local tests/tree/guide.md#local-files",
    "sub/index.html:3:54 local tests/tree/broken.html",
];

/// A `--dump --format jsonl` record as a `TREE_LINKS` line.
fn dumped(record: &Value) -> String {
    let s = &record["source"];
    let file = s["file"].as_str().expect("file");
    format!(
        "{}:{}:{} {} {}",
        file.strip_prefix("tests/tree/").unwrap_or(file),
        s["line"],
        s["column"],
        record["kind"].as_str().expect("kind"),
        record["url"].as_str().expect("url")
    )
}

#[test]
fn every_link_form_is_found_at_its_line_and_column_and_code_is_not() {
    let server = site();
    let remap = remap(&server);
    let out = run(urlcheck()
        .current_dir(root())
        .args(["--dump", "--format", "jsonl", "--remap", &remap, TREE]));
    no_panic(&out);
    out.assert_code(0);
    let records = out.json_lines();
    let found: Vec<String> = records.iter().map(dumped).collect();
    assert_eq!(found, TREE_LINKS, "{out}");
    for never in [
        "code-span",
        "code-auto",
        "fenced",
        "indented",
        "escaped",
        "nothing-here",
    ] {
        assert!(!out.stdout().contains(never), "{never} was found: {out}");
    }
    // --dump shows what --remap would request instead, and reasons for what is skipped.
    let inline = &records[2];
    assert_eq!(inline["requested"], server.url("/inline"), "{inline:#}");
    let mail = records
        .iter()
        .find(|r| r["url"] == "mailto:someone@links.test")
        .unwrap();
    assert_eq!(mail["reason"], "mailto: links are not checked");
    let rooted = records.iter().find(|r| r["url"] == "/other.md").unwrap();
    assert!(rooted["reason"].as_str().unwrap().contains("--root-dir"));
    assert!(
        server.heads().is_empty(),
        "--dump sent requests: {:?}",
        server.heads()
    );
}

#[test]
fn dump_writes_human_lines_and_one_json_document_and_sends_nothing() {
    let server = site();
    let remap = remap(&server);
    let dump = |format: &str| {
        let out = run(urlcheck()
            .current_dir(root())
            .args(["--dump", "--format", format, "--remap", &remap, TREE]));
        no_panic(&out);
        out.assert_code(0);
        out
    };
    let human = dump("human");
    let text = human.stdout();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), TREE_LINKS.len(), "{human}");
    assert_eq!(
        lines[2],
        format!(
            "tests/tree/guide.md:3:18\thttps://links.test/inline -> {}",
            server.url("/inline")
        )
    );
    assert!(lines.contains(&"tests/tree/guide.md:29:32\ttests/tree/missing.md"));
    assert!(lines.contains(
        &"tests/tree/guide.md:48:44\ttel:+15550100\t(skipped: tel: links are not checked)"
    ));

    let json = dump("json").json();
    let links = json["links"].as_array().expect("a links array");
    let found: Vec<String> = links.iter().map(dumped).collect();
    assert_eq!(found, TREE_LINKS);
    assert_eq!(links[0]["source"]["file"], "tests/tree/based.html");
    assert_eq!(links[0]["source"]["column"], 10);
    assert!(
        server.heads().is_empty(),
        "--dump sent requests: {:?}",
        server.heads()
    );
}

// -------------------------------------------------------------------------------------------
// The tree checked
// -------------------------------------------------------------------------------------------

#[test]
fn the_tree_is_checked_against_a_local_server_as_written() {
    let server = site();
    let (out, doc) = check_tree(&server, &[]);
    out.assert_code(1);
    // Remapped addresses are reported as written, requested at the server, once each.
    let shared = expect(&doc, "https://links.test/shared", "up");
    assert_eq!(
        places(shared),
        ["guide.md:55:18", "other.md:3:58", "page.html:12:10"],
        "one check, every source"
    );
    assert_eq!(times_asked(&server, "/shared"), 1);
    let area = expect(&doc, "https://links.test/area", "down");
    assert_eq!(area["status"], 404);
    assert_eq!(places(area), ["page.html:14:27"]);
    expect(&doc, "https://links.test/q?a=1&b=2", "up");
    expect(&doc, "https://links.test/base/relative.html", "up");
    expect(&doc, "https://links.test/absolute", "up");
    let every_url: BTreeSet<String> = TREE_LINKS
        .iter()
        .filter_map(|l| l.split_once(" url https://links.test"))
        .map(|(_, path)| path.to_string())
        .collect();
    assert_eq!(asked(&server), every_url, "what the server was asked");
    let requested = server.url("/");
    for r in results(&doc) {
        let url = r["url"].as_str().unwrap();
        assert!(!url.starts_with(&requested), "reported as requested: {r:#}");
    }
    // Nothing of the files a walk must not read.
    let read = files(&doc);
    assert!(
        read.iter()
            .all(|f| !f.contains("ignored.md") && !f.contains(".hidden")),
        "{read:?}"
    );
    let summary = &doc["summary"];
    assert_eq!(summary["errors_by_kind"]["file"], 4, "{summary:#}");
    assert_eq!(summary["errors_by_kind"]["fragment"], 8, "{summary:#}");
}

#[test]
fn local_files_and_folders_present_and_missing() {
    let server = site();
    let (_, doc) = check_tree(&server, &[]);
    let logo = expect(&doc, "tests/tree/logo.svg", "up");
    assert_eq!(places(logo), ["guide.md:3:61", "guide.md:9:75"]);
    expect(&doc, "tests/tree/other.md", "up");
    expect(&doc, "tests/tree/sub", "up");
    expect(&doc, "tests/tree/noindex", "up");
    // A fragment of a file that is neither HTML nor Markdown is not looked for.
    expect(&doc, "tests/tree/noindex/data.txt#line-3", "up");
    expect_broken(&doc, "tests/tree/missing.md", "file", &["guide.md:29:32"]);
    expect_broken(&doc, "tests/tree/gone", "file", &["guide.md:31:20"]);
    expect_broken(&doc, "tests/tree/style.css", "file", &["page.html:5:30"]);
    expect_broken(
        &doc,
        "tests/tree/broken.html",
        "file",
        &["sub/index.html:3:54"],
    );
    let missing = result(&doc, "tests/tree/missing.md");
    assert!(
        message(missing).contains("tests/tree/missing.md"),
        "{missing:#}"
    );
}

#[test]
fn fragments_present_and_missing_with_github_slugs() {
    let server = site();
    let (_, doc) = check_tree(&server, &[]);
    for present in [
        "tests/tree/guide.md#local-files",
        "tests/tree/guide.md#notes-1",
        "tests/tree/guide.md#whats-new-in-v20",
        "tests/tree/guide.md#guide",
        "tests/tree/other.md#other-heading",
        "tests/tree/other.md#section-with-code",
        "tests/tree/other.md#html-name",
        "tests/tree/page.html#intro",
        "tests/tree/page.html#legacy",
        "tests/tree/page.html#top",
        "tests/tree/sub#sub-intro",
        // The folder's README.md is its index.
        "tests/tree#the-link-tree-of-the-document-tests",
    ] {
        expect(&doc, present, "up");
    }
    let local_files = result(&doc, "tests/tree/guide.md#local-files");
    assert_eq!(
        places(local_files),
        ["guide.md:35:8", "sub/index.html:3:10"]
    );
    let intro = result(&doc, "tests/tree/page.html#intro");
    assert_eq!(places(intro), ["guide.md:37:8", "page.html:12:57"]);
    for (url, at) in [
        ("tests/tree/guide.md#no-such-heading", "guide.md:35:38"),
        // "Notes" is written twice: notes and notes-1, no notes-2.
        ("tests/tree/guide.md#notes-2", "guide.md:35:92"),
        ("tests/tree/other.md#nope", "guide.md:36:84"),
        ("tests/tree/page.html#absent", "guide.md:37:72"),
        ("tests/tree/page.html#missing-id", "page.html:13:10"),
        ("tests/tree/sub#absent", "guide.md:38:50"),
        ("tests/tree/noindex#x", "guide.md:38:75"),
        ("tests/tree#no-such-part", "guide.md:57:28"),
    ] {
        expect_broken(&doc, url, "fragment", &[at]);
    }
    let absent = result(&doc, "tests/tree/sub#absent");
    assert!(
        message(absent).contains("tests/tree/sub/index.html"),
        "the folder's index is named: {absent:#}"
    );
    let readme = result(&doc, "tests/tree#no-such-part");
    assert!(
        message(readme).contains("tests/tree/README.md"),
        "{readme:#}"
    );
    let no_index = result(&doc, "tests/tree/noindex#x");
    assert!(message(no_index).contains("no index"), "{no_index:#}");
}

#[test]
fn other_schemes_and_root_relative_links_are_skipped_with_a_reason() {
    let server = site();
    let (_, doc) = check_tree(&server, &[]);
    for (url, scheme) in [
        ("mailto:someone@links.test", "mailto"),
        ("mailto:page@links.test", "mailto"),
        ("tel:+15550100", "tel"),
        ("javascript:void(0)", "javascript"),
        ("data:text/plain,hello", "data"),
    ] {
        assert_eq!(
            skip_reason(&doc, url),
            format!("{scheme}: links are not checked")
        );
    }
    for rooted in ["/other.md", "/nowhere.md", "/shared/path?q=1", "/guide.md"] {
        let reason = skip_reason(&doc, rooted);
        assert!(
            reason.contains("--root-dir") && reason.contains("--base-url"),
            "{reason}"
        );
    }
    let private = skip_reason(&doc, "http://127.0.0.1:9/private");
    assert!(private.contains("--exclude-private"), "{private}");
    assert!(!asked(&server).contains("/private"));
}

#[test]
fn a_private_address_is_checked_without_exclude_private() {
    let server = site();
    let loopback = format!(r"^http://127\.0\.0\.1:9/ {}", server.url("/"));
    let (out, doc) = check(&[
        "--remap",
        &loopback,
        "--exclude",
        r"links\.test",
        "tests/tree/guide.md",
    ]);
    out.assert_code(1);
    let r = expect(&doc, "http://127.0.0.1:9/private", "up");
    assert_eq!(places(r), ["guide.md:49:43"]);
    assert_eq!(asked(&server), BTreeSet::from(["/private".to_string()]));
}

#[test]
fn exit_0_when_every_link_is_fine_and_1_for_one_broken_local_link() {
    let server = site();
    let remap = remap(&server);
    let (out, doc) = check(&["--remap", &remap, "tests/tree/other.md"]);
    out.assert_code(0);
    assert_eq!(doc["summary"]["up"], 4, "{:#}", doc["summary"]);
    let (out, doc) = check(&["tests/tree/sub/index.html"]);
    out.assert_code(1);
    expect(&doc, "tests/tree/guide.md#local-files", "up");
    expect_broken(
        &doc,
        "tests/tree/broken.html",
        "file",
        &["sub/index.html:3:54"],
    );
}

// -------------------------------------------------------------------------------------------
// Flags that resolve, rewrite and skip links
// -------------------------------------------------------------------------------------------

#[test]
fn root_dir_makes_root_relative_links_local_files() {
    let (out, doc) = check(&[
        "--root-dir",
        TREE,
        "--exclude",
        r"links\.test|127\.0\.0\.1",
        "tests/tree/guide.md",
        "tests/tree/page.html",
    ]);
    out.assert_code(1);
    // /other.md is the file guide.md also links as other.md: one result, both sources.
    let other = expect(&doc, "tests/tree/other.md", "up");
    assert_eq!(places(other), ["guide.md:29:11", "guide.md:53:18"]);
    expect(&doc, "tests/tree/guide.md", "up");
    expect_broken(&doc, "tests/tree/nowhere.md", "file", &["guide.md:53:47"]);
    // The query is not part of the file name.
    expect_broken(&doc, "tests/tree/shared/path", "file", &["guide.md:53:74"]);
}

#[test]
fn base_url_requests_root_relative_links_at_its_server() {
    let server = site();
    let base = server.url("/site/");
    let (out, doc) = check(&[
        "--base-url",
        &base,
        "--exclude",
        r"links\.test|127\.0\.0\.1:9/",
        "tests/tree/guide.md",
        "tests/tree/page.html",
    ]);
    out.assert_code(1);
    let other = expect(&doc, &server.url("/other.md"), "up");
    assert_eq!(places(other), ["guide.md:53:18"]);
    expect(&doc, &server.url("/shared/path?q=1"), "up");
    expect(&doc, &server.url("/guide.md"), "up");
    assert_eq!(
        asked(&server),
        BTreeSet::from(
            ["/other.md", "/nowhere.md", "/shared/path?q=1", "/guide.md"].map(String::from)
        )
    );
}

#[test]
fn base_href_of_a_page_is_what_its_relative_links_join() {
    let server = site();
    let remap = remap(&server);
    let (out, doc) = check(&["--remap", &remap, "tests/tree/based.html"]);
    out.assert_code(0);
    let relative = expect(&doc, "https://links.test/base/relative.html", "up");
    assert_eq!(places(relative), ["based.html:3:10"]);
    expect(&doc, "https://links.test/absolute", "up");
    assert_eq!(
        asked(&server),
        BTreeSet::from(["/base/relative.html", "/absolute"].map(String::from))
    );
}

/// A site with pages in `docs/deep/` whose `<base href>` is root-relative, relative and
/// protocol-relative; `docs/a.html` exists.
fn based_site() -> TempDir {
    let dir = TempDir::new().unwrap();
    let deep = dir.path().join("site/docs/deep");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(dir.path().join("site/docs/a.html"), "<p>a</p>").unwrap();
    for (name, base) in [
        ("rooted.html", "/docs/"),
        ("relative.html", "../"),
        ("proto.html", "//links.test/b/"),
    ] {
        let page = format!("<base href=\"{base}\">\n<a href=\"a.html\">a</a>\n");
        std::fs::write(deep.join(name), page).unwrap();
    }
    dir
}

#[test]
fn a_root_relative_or_protocol_relative_base_href_is_resolved_as_links_are() {
    let dir = based_site();
    let dump = |extra: &[&str]| {
        let out = run(urlcheck()
            .current_dir(dir.path())
            .args(["--dump", "--format", "jsonl"])
            .args(extra)
            .arg("site"));
        no_panic(&out);
        out.json_lines()
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r["kind"].as_str().unwrap(),
                    r["url"].as_str().unwrap()
                )
            })
            .collect::<Vec<String>>()
    };
    // proto.html, relative.html, rooted.html, in name order.
    assert_eq!(
        dump(&["--root-dir", "site"]),
        [
            "url https://links.test/b/a.html",
            "local site/docs/a.html",
            "local site/docs/a.html"
        ]
    );
    assert_eq!(
        dump(&["--base-url", "https://links.test/"])[2],
        "url https://links.test/docs/a.html"
    );
    // Without either, the base cannot be resolved, so neither can the link: it is not
    // guessed to be relative to the page.
    let out = run(urlcheck().current_dir(dir.path()).args([
        "--format",
        "json",
        "site/docs/deep/rooted.html",
    ]));
    no_panic(&out);
    out.assert_code(0);
    let reason = skip_reason(&out.json(), "a.html");
    assert!(
        reason.contains("<base href=\"/docs/\">") && reason.contains("--root-dir"),
        "{reason}"
    );
}

#[test]
fn urlcheckignore_in_the_current_folder_skips_what_it_matches() {
    let server = site();
    let cwd = TempDir::new().unwrap();
    std::fs::write(
        cwd.path().join(".urlcheckignore"),
        "# media is checked elsewhere\n^https://links\\.test/(img|video)\n\n",
    )
    .unwrap();
    let page = root().join("tests/tree/page.html");
    let out = run(urlcheck()
        .current_dir(cwd.path())
        .args(FAST_5S)
        .args(["--format", "json", "--remap", &remap(&server)])
        .arg(&page));
    no_panic(&out);
    let doc = out.json();
    for skipped in [
        "https://links.test/img.png",
        "https://links.test/img-1x.png",
        "https://links.test/video.mp4",
        "https://links.test/video.webm",
    ] {
        assert_eq!(
            skip_reason(&doc, skipped),
            r"excluded by .urlcheckignore:2 ^https://links\.test/(img|video)",
            "the reason names the file and line, not a flag that was not given"
        );
    }
    expect(&doc, "https://links.test/frame", "up");
    let seen = asked(&server);
    assert!(seen.contains("/frame"), "{seen:?}");
    assert!(
        seen.iter()
            .all(|p| !p.starts_with("/img") && !p.starts_with("/video")),
        "{seen:?}"
    );
    // A pattern that is not a regex stops the run before any request, naming its line.
    let bad = TempDir::new().unwrap();
    std::fs::write(bad.path().join(".urlcheckignore"), "# x\n(unclosed\n").unwrap();
    let out = run(urlcheck().current_dir(bad.path()).arg(&page));
    out.assert_code(2);
    assert!(out.stderr.contains(".urlcheckignore:2:"), "{out}");
    // The page was named by an absolute path: its sources say so.
    let frame = result(&doc, "https://links.test/frame");
    assert_eq!(
        frame["sources"][0]["file"],
        page.to_string_lossy().as_ref(),
        "{frame:#}"
    );
}

#[test]
fn exclude_path_leaves_files_and_folders_unread() {
    let (out, doc) = check(&[
        "--exclude",
        r"links\.test|127\.0\.0\.1",
        "--exclude-path",
        "**/sub",
        "--exclude-path",
        "tests/tree/page.html",
        TREE,
    ]);
    out.assert_code(1);
    let read = files(&doc);
    assert_eq!(
        read,
        BTreeSet::from(
            [
                "tests/tree/based.html",
                "tests/tree/guide.md",
                "tests/tree/other.md"
            ]
            .map(String::from)
        )
    );
    // A link into an unread folder is still looked up.
    expect(&doc, "tests/tree/sub#sub-intro", "up");
}

#[test]
fn a_quoted_glob_names_the_files_it_matches() {
    let dump = |glob: &str| {
        let out = run(urlcheck()
            .current_dir(root())
            .args(["--dump", "--format", "jsonl", glob]));
        no_panic(&out);
        out.assert_code(0);
        out.json_lines()
            .iter()
            .map(|r| r["source"]["file"].as_str().unwrap().to_string())
            .collect::<BTreeSet<String>>()
    };
    assert_eq!(
        dump("tests/tree/*.html"),
        BTreeSet::from(["tests/tree/based.html", "tests/tree/page.html"].map(String::from))
    );
    assert_eq!(
        dump("tests/tree/**/*.html"),
        BTreeSet::from(
            [
                "tests/tree/based.html",
                "tests/tree/page.html",
                "tests/tree/sub/index.html"
            ]
            .map(String::from)
        )
    );
    // As a shell expands it: a wildcard matches no hidden file or folder, and the files it
    // names are read, .gitignore'd or not, as files named one by one are.
    assert_eq!(
        dump("tests/tree/**/*.md"),
        BTreeSet::from(
            [
                "tests/tree/guide.md",
                "tests/tree/ignored.md",
                "tests/tree/other.md"
            ]
            .map(String::from)
        )
    );
    assert_eq!(
        dump("tests/tree/.hidden/*.md"),
        BTreeSet::from(["tests/tree/.hidden/secret.md".to_string()])
    );
}

#[test]
fn markdown_on_stdin_with_input_format() {
    let server = site();
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("here.md"), "# Here\n").unwrap();
    let out = run(urlcheck()
        .current_dir(dir.path())
        .args(FAST_5S)
        .args(["--format", "json", "--input-format", "markdown"])
        .args(["--remap", &remap(&server), "-"])
        .write_stdin(
            "# Piped\n\nA [link](https://links.test/piped), [a file](here.md#here),\n\
             [a missing one](gone.md) and [a heading](#piped).\n",
        ));
    no_panic(&out);
    out.assert_code(1);
    let doc = out.json();
    let piped = expect(&doc, "https://links.test/piped", "up");
    assert_eq!(places(piped), ["<stdin>:3:10"]);
    expect(&doc, "here.md#here", "up");
    expect_broken(&doc, "gone.md", "file", &["<stdin>:4:17"]);
    assert_eq!(asked(&server), BTreeSet::from(["/piped".to_string()]));
}

#[test]
fn check_fragments_reads_a_remote_page_once_for_all_its_fragments() {
    let server = Scripted::start("127.0.0.1:0", |head: &Head| match head.target.as_str() {
        "/page" => with_body(
            "200 OK",
            "text/html; charset=utf-8",
            "<h2 id=\"yes\">Yes</h2><a name=\"named\"></a>",
        ),
        _ => response("404 Not Found", &[]),
    })
    .unwrap();
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("remote.md"),
        "[a](https://links.test/page#yes) [b](https://links.test/page#no)\n\
         [c](https://links.test/page) [d](https://links.test/page#named)\n",
    )
    .unwrap();
    let out = run(urlcheck()
        .current_dir(dir.path())
        .args(FAST_5S)
        .args([
            "--format",
            "json",
            "--check-fragments",
            "--remap",
            &remap(&server),
        ])
        .arg("remote.md"));
    no_panic(&out);
    out.assert_code(1);
    let doc = out.json();
    let page = expect(&doc, "https://links.test/page", "up");
    assert_eq!(
        places(page),
        ["remote.md:1:5", "remote.md:2:5", "remote.md:2:34"]
    );
    let no = expect(&doc, "https://links.test/page#no", "error");
    assert_eq!(error_kind(no), "fragment");
    assert_eq!(places(no), ["remote.md:1:38"]);
    assert_eq!(times_asked(&server, "/page"), 1, "{:?}", server.heads());
}

// -------------------------------------------------------------------------------------------
// Sitemaps
// -------------------------------------------------------------------------------------------

#[test]
fn a_local_sitemap_lists_pages_to_check() {
    let server = site();
    let remap = remap(&server);
    let (out, doc) = check(&["--remap", &remap, "tests/tree/sitemap.xml"]);
    out.assert_code(0);
    let shared = expect(&doc, "https://links.test/shared", "up");
    assert_eq!(places(shared), ["sitemap.xml:3:13"]);
    expect(&doc, "https://links.test/sitemap-page", "up");
    assert_eq!(
        asked(&server),
        BTreeSet::from(["/shared", "/sitemap-page"].map(String::from))
    );
}

/// A site with a sitemap index of two sitemaps, one of them given again by an index that
/// lists itself (followed a bounded depth, not for ever). `links.test` in a body is the site.
fn sitemap_site(host_in_bodies: Option<&'static str>) -> Scripted {
    Scripted::start("127.0.0.1:0", move |head: &Head| {
        let host = host_in_bodies
            .map(String::from)
            .or_else(|| head.header("host").map(|h| format!("http://{h}")))
            .unwrap_or_default();
        let urlset = |pages: &[&str]| {
            let locs: String = pages
                .iter()
                .map(|p| format!("  <url><loc>{host}{p}</loc></url>\n"))
                .collect();
            format!("<?xml version=\"1.0\"?>\n<urlset>\n{locs}</urlset>\n")
        };
        let index = |maps: &[&str]| {
            let locs: String = maps
                .iter()
                .map(|m| format!("  <sitemap><loc>{host}{m}</loc></sitemap>\n"))
                .collect();
            format!("<?xml version=\"1.0\"?>\n<sitemapindex>\n{locs}</sitemapindex>\n")
        };
        let xml = |body: String| with_body("200 OK", "application/xml", &body);
        match head.target.as_str() {
            "/sitemap_index.xml" => xml(index(&["/sitemap-1.xml", "/sitemap-2.xml"])),
            "/sitemap-1.xml" => xml(urlset(&["/a", "/b"])),
            "/sitemap-2.xml" => xml(urlset(&["/b", "/missing"])),
            "/loop.xml" => xml(index(&["/loop.xml"])),
            "/missing" | "/gone.xml" => response("404 Not Found", &[]),
            _ => response("200 OK", &[]),
        }
    })
    .expect("start the sitemap server")
}

#[test]
fn a_sitemap_index_served_locally_is_followed_to_its_pages() {
    let server = sitemap_site(None);
    let index = server.url("/sitemap_index.xml");
    let (out, doc) = check(&["--input-format", "sitemap", &index]);
    out.assert_code(1);
    let first = server.url("/sitemap-1.xml");
    let second = server.url("/sitemap-2.xml");
    let b = expect(&doc, &server.url("/b"), "up");
    assert_eq!(
        places(b),
        [format!("{first}:4:13"), format!("{second}:3:13")]
    );
    expect(&doc, &server.url("/a"), "up");
    let missing = expect(&doc, &server.url("/missing"), "down");
    assert_eq!(places(missing), [format!("{second}:4:13")]);
    for page in [
        "/a",
        "/b",
        "/missing",
        "/sitemap_index.xml",
        "/sitemap-1.xml",
    ] {
        assert_eq!(
            times_asked(&server, page),
            1,
            "{page}: {:?}",
            server.heads()
        );
    }
}

#[test]
fn dump_of_a_remote_sitemap_reads_the_sitemaps_and_requests_no_page() {
    let server = sitemap_site(None);
    let index = server.url("/sitemap_index.xml");
    let out = run(urlcheck().args([
        "--dump",
        "--format",
        "jsonl",
        "--input-format",
        "sitemap",
        &index,
    ]));
    no_panic(&out);
    out.assert_code(0);
    let urls: Vec<String> = out
        .json_lines()
        .iter()
        .map(|r| r["url"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        urls,
        ["/a", "/b", "/b", "/missing"].map(|p| server.url(p)),
        "every occurrence, in order"
    );
    assert_eq!(
        asked(&server),
        BTreeSet::from(
            ["/sitemap_index.xml", "/sitemap-1.xml", "/sitemap-2.xml"].map(String::from)
        )
    );
}

#[test]
fn an_index_that_lists_itself_is_followed_a_bounded_depth() {
    let server = sitemap_site(None);
    let looped = server.url("/loop.xml");
    let (out, doc) = check(&["--input-format", "sitemap", &looped]);
    no_panic(&out);
    out.assert_code(1);
    let deep = expect(&doc, &looped, "invalid");
    assert!(message(deep).contains("nest"), "{deep:#}");
    assert_eq!(times_asked(&server, "/loop.xml"), 3, "{:?}", server.heads());
}

#[test]
fn remap_applies_to_the_sitemaps_an_index_lists() {
    let server = sitemap_site(Some("https://links.test"));
    let remap = remap(&server);
    let (out, doc) = check(&[
        "--remap",
        &remap,
        "--input-format",
        "sitemap",
        "https://links.test/sitemap_index.xml",
    ]);
    out.assert_code(1);
    let b = expect(&doc, "https://links.test/b", "up");
    assert_eq!(
        places(b),
        [
            "https://links.test/sitemap-1.xml:4:13",
            "https://links.test/sitemap-2.xml:3:13"
        ]
    );
    expect(&doc, "https://links.test/missing", "down");
    assert_eq!(times_asked(&server, "/sitemap-2.xml"), 1);
}

#[test]
fn a_sitemap_that_cannot_be_read_says_why() {
    let server = sitemap_site(None);
    let gone = server.url("/gone.xml");
    let (out, doc) = check(&["--input-format", "sitemap", &gone, "tests/tree/page.html"]);
    out.assert_code(1);
    let remote = expect(&doc, &gone, "invalid");
    assert_eq!(
        message(remote),
        format!("cannot read the sitemap {gone}: HTTP 404 Not Found"),
    );
    let local = expect(&doc, "tests/tree/page.html", "invalid");
    assert_eq!(
        message(local),
        "not a sitemap: the root element is <html>, expected <urlset> or <sitemapindex>"
    );
}

// -------------------------------------------------------------------------------------------
// GitHub annotations
// -------------------------------------------------------------------------------------------

#[test]
fn github_annotations_point_at_the_document_line_and_column() {
    let server = site();
    let remap = remap(&server);
    let out = run(urlcheck().current_dir(root()).args(FAST_5S).args([
        "--github",
        "--remap",
        &remap,
        "--exclude-private",
        TREE,
    ]));
    no_panic(&out);
    out.assert_code(1);
    let found: BTreeSet<(String, u64, Option<u64>)> = annotations(&out.stderr)
        .into_iter()
        .map(|a| (a.file, a.line, a.column))
        .collect();
    let at = |file: &str, line, col| (format!("tests/tree/{file}"), line, Some(col));
    for want in [
        at("guide.md", 29, 32),
        at("guide.md", 35, 38),
        at("guide.md", 38, 75),
        at("page.html", 5, 30),
        at("page.html", 14, 27),
        at("sub/index.html", 3, 54),
    ] {
        assert!(
            found.contains(&want),
            "no annotation at {want:?}: {found:?}"
        );
    }
    assert_eq!(found.len(), 13, "one per failing occurrence: {found:?}");
}

#[test]
fn reports_of_the_tree_are_valid_json_and_sarif_with_columns() {
    let server = site();
    let (_, doc) = check_tree(&server, &[]);
    assert_valid(&validator(None), &doc, "the JSON report of the tree");

    let dir = TempDir::new().unwrap();
    let sarif_path = dir.path().join("links.sarif");
    let remap = remap(&server);
    let out = run(urlcheck().current_dir(root()).args(FAST_5S).args([
        "--format",
        "jsonl",
        "--report",
        &format!("sarif={}", sarif_path.display()),
        "--remap",
        &remap,
        "--exclude-private",
        TREE,
    ]));
    no_panic(&out);
    out.assert_code(1);
    let line = validator(Some("jsonl_result"));
    for record in out.json_lines() {
        if record["type"] == "result" {
            assert_valid(&line, &record, "a JSONL result of the tree");
        }
    }
    let sarif: Value = serde_json::from_slice(&std::fs::read(&sarif_path).unwrap()).unwrap();
    assert_valid(&sarif_validator(), &sarif, "the SARIF report of the tree");
    let regions: BTreeSet<String> = sarif["runs"][0]["results"]
        .as_array()
        .expect("SARIF results")
        .iter()
        .map(|r| {
            let at = &r["locations"][0]["physicalLocation"];
            format!(
                "{}:{}:{}",
                at["artifactLocation"]["uri"].as_str().unwrap(),
                at["region"]["startLine"],
                at["region"]["startColumn"]
            )
        })
        .collect();
    for want in [
        "tests/tree/guide.md:29:32",
        "tests/tree/page.html:14:27",
        "tests/tree/sub/index.html:3:54",
    ] {
        assert!(
            regions.contains(want),
            "no SARIF result at {want}: {regions:?}"
        );
    }
    assert_eq!(regions.len(), 13, "one per failing occurrence: {regions:?}");
}

#[test]
fn every_line_format_shows_the_document_line_and_column() {
    for format in ["human", "csv", "markdown", "junit"] {
        let out = run(urlcheck().current_dir(root()).args([
            "--format",
            format,
            "--color",
            "never",
            "tests/tree/sub/index.html",
        ]));
        no_panic(&out);
        out.assert_code(1);
        assert!(
            out.stdout().contains("tests/tree/sub/index.html:3:54"),
            "{format}: {out}"
        );
    }
}

// -------------------------------------------------------------------------------------------
// Bad documents
// -------------------------------------------------------------------------------------------

/// `--dump --format jsonl` of one file: the run and its records.
fn dump_file(path: &Path) -> (Run, Vec<Value>) {
    let out = run(urlcheck().args(["--dump", "--format", "jsonl"]).arg(path));
    no_panic(&out);
    out.assert_code(0);
    let records = out.json_lines();
    (out, records)
}

/// `(line, column, url)` of dumped records.
fn positions(records: &[Value]) -> Vec<(u64, u64, String)> {
    records
        .iter()
        .map(|r| {
            (
                r["source"]["line"].as_u64().unwrap(),
                r["source"]["column"].as_u64().unwrap_or(0),
                r["url"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_binary_file_is_one_invalid_item_not_a_stream_of_garbage() {
    let dir = TempDir::new().unwrap();
    let mut bytes = b"\x7fELF\x02\x01\x01\0\0\0".to_vec();
    bytes.extend_from_slice(b"[x](https://links.test/in-binary)\n");
    bytes.extend((0..4096u32).map(|i| (i * 7 % 256) as u8));
    for name in ["tool.md", "tool.html"] {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let out = run(urlcheck()
            .args(FAST_5S)
            .args(["--format", "json"])
            .arg(&path));
        no_panic(&out);
        out.assert_code(1);
        let doc = out.json();
        let all = results(&doc);
        assert_eq!(all.len(), 1, "{doc:#}");
        assert_eq!(outcome(&all[0]), "invalid");
        assert!(message(&all[0]).contains("not a text file"), "{doc:#}");
        assert_eq!(all[0]["sources"][0]["line"], 1);
    }
    // In a walked folder, the run goes on to the next document.
    std::fs::write(dir.path().join("z.md"), "[z](tool.md)\n").unwrap();
    let out = run(urlcheck().args(["--format", "json"]).arg(dir.path()));
    no_panic(&out);
    out.assert_code(1);
    let doc = out.json();
    let outcomes: Vec<&str> = results(&doc).iter().map(outcome).collect();
    assert_eq!(outcomes, ["invalid", "invalid", "up"], "{doc:#}");
}

#[test]
fn a_100_mb_html_page_is_read_to_its_last_link() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("big.html");
    let mut page = String::from("<html><body><a href=\"https://links.test/first\">x</a>\n<p>\n");
    let filler = "lorem ipsum dolor sit amet, consectetur adipiscing elit & more\n";
    let lines = 100 * 1024 * 1024 / filler.len();
    page.reserve(lines * filler.len() + 100);
    for _ in 0..lines {
        page.push_str(filler);
    }
    page.push_str("</p><a href=\"https://links.test/last\">y</a>\n");
    std::fs::write(&path, &page).unwrap();
    drop(page);
    let (_, records) = dump_file(&path);
    assert_eq!(
        positions(&records),
        [
            (1, 22, "https://links.test/first".to_string()),
            (lines as u64 + 3, 14, "https://links.test/last".to_string())
        ]
    );
}

#[test]
fn a_document_over_256_mib_is_refused_with_a_message() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("huge.html");
    // Sparse: no disk is written for it.
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(257 * 1024 * 1024).unwrap();
    drop(file);
    let out = run(urlcheck()
        .args(FAST_5S)
        .args(["--format", "json"])
        .arg(&path));
    no_panic(&out);
    out.assert_code(1);
    let doc = out.json();
    let all = results(&doc);
    assert_eq!(all.len(), 1, "{doc:#}");
    assert_eq!(outcome(&all[0]), "invalid");
    assert!(message(&all[0]).contains("256 MiB"), "{doc:#}");
}

#[test]
fn invalid_utf8_is_decoded_lossily_and_the_links_keep_their_place() {
    let dir = TempDir::new().unwrap();
    let md = dir.path().join("latin1.md");
    std::fs::write(
        &md,
        b"# Caf\xe9\n\ncaf\xe9 \xff\xfe [x](https://links.test/md) [y](#caf\xc3\xa9)\n",
    )
    .unwrap();
    let (_, records) = dump_file(&md);
    assert_eq!(
        positions(&records)[0],
        (3, 13, "https://links.test/md".to_string())
    );
    let html = dir.path().join("latin1.html");
    std::fs::write(
        &html,
        b"<p>caf\xe9 \xff\xfe <a href=\"https://links.test/html\">x</a>\n\
          <a href=\"https://links.test/\xff\">y</a>\n",
    )
    .unwrap();
    let (_, records) = dump_file(&html);
    let found = positions(&records);
    assert_eq!(found[0], (1, 21, "https://links.test/html".to_string()));
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!((found[1].0, found[1].1), (2, 10));
}

#[test]
fn a_byte_order_mark_is_not_a_column() {
    let dir = TempDir::new().unwrap();
    for (name, text, column) in [
        ("bom.md", "\u{feff}[a](https://links.test/bom)\n", 5),
        (
            "bom.html",
            "\u{feff}<a href=\"https://links.test/bom\">a</a>\n",
            10,
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (out, records) = dump_file(&path);
        assert_eq!(
            positions(&records),
            [(1, column, "https://links.test/bom".to_string())],
            "{name}: {out}"
        );
    }
    // A heading right after the mark is a heading, whether the document is an input or
    // only the target of a fragment.
    std::fs::write(dir.path().join("t.md"), "\u{feff}# Title\n").unwrap();
    std::fs::write(dir.path().join("a.md"), "[t](t.md#title)\n").unwrap();
    for inputs in [&["a.md", "t.md"][..], &["a.md"]] {
        let out = run(urlcheck()
            .current_dir(dir.path())
            .args(["--format", "json"])
            .args(inputs));
        no_panic(&out);
        out.assert_code(0);
        expect(&out.json(), "t.md#title", "up");
    }
}

#[test]
fn unterminated_tags_and_comments_end_the_document_quietly() {
    let dir = TempDir::new().unwrap();
    for (name, text, want) in [
        (
            "tag.html",
            "<a href=\"https://links.test/ok\">ok</a>\n<a href=\"https://links.test/cut",
            vec![(1, 10, "https://links.test/ok")],
        ),
        (
            "comment.html",
            "<a href=\"https://links.test/ok\">\n<!-- <a href=\"https://links.test/no\">",
            vec![(1, 10, "https://links.test/ok")],
        ),
        (
            "attr.html",
            "<img src=https://links.test/ok>\n<img src='https://links.test/open>\n",
            vec![(1, 10, "https://links.test/ok")],
        ),
        (
            "fence.md",
            "[ok](https://links.test/ok)\n\n```\n[no](https://links.test/no)\n",
            vec![(1, 6, "https://links.test/ok")],
        ),
        // Not an inline link, but a bare URL, which GitHub shows as a link (autolinks).
        (
            "link.md",
            "[ok](https://links.test/ok)\n[open](https://links.test/open\n",
            vec![
                (1, 6, "https://links.test/ok"),
                (2, 8, "https://links.test/open"),
            ],
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (out, records) = dump_file(&path);
        let want: Vec<(u64, u64, String)> = want
            .into_iter()
            .map(|(l, c, u)| (l, c, u.to_string()))
            .collect();
        assert_eq!(positions(&records), want, "{name}: {out}");
    }
}

#[test]
fn deeply_nested_markdown_and_html_are_read_without_a_crash() {
    let dir = TempDir::new().unwrap();
    let deep = 50_000;
    for (name, prefix, suffix) in [
        ("quotes.md", ">".repeat(deep), String::new()),
        ("brackets.md", "[".repeat(deep), "]".repeat(deep)),
        ("lists.md", "- ".repeat(deep), String::new()),
        ("emphasis.md", "*".repeat(deep), "*".repeat(deep)),
        ("divs.html", "<div>".repeat(deep), "</div>".repeat(deep)),
    ] {
        let path = dir.path().join(name);
        let link = if name.ends_with(".md") {
            "[deep](https://links.test/deep)"
        } else {
            "<a href=\"https://links.test/deep\">deep</a>"
        };
        std::fs::write(&path, format!("{prefix} {link}{suffix}\n")).unwrap();
        let (out, records) = dump_file(&path);
        let found = positions(&records);
        assert_eq!(found.len(), 1, "{name}: {out}");
        assert_eq!(found[0].2, "https://links.test/deep", "{name}");
        assert_eq!(found[0].0, 1, "{name}");
    }
}
