//! Issue 5, nothing lost and nothing leaked: a signal mid-run keeps every finished result (on
//! stdout and in report files), a second Ctrl-C exits at once, a reader that goes away is no
//! crash; credentials and header values appear in no output, sensitive headers do not follow
//! a redirect to another host, and no server can put a terminal escape on the screen.

mod common;
mod servers;

use tempfile::TempDir;

use common::{lines, no_panic_text, run, urlcheck, write_list};
use servers::{response, Scripted};

// ---------------------------------------------------------------------------
// No one fooled: terminal escapes
// ---------------------------------------------------------------------------

/// Bytes that would drive a terminal: ESC, BEL, CSI (C1, as UTF-8), and the bidi override.
fn assert_inert(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for (bad, name) in [
        ("\u{1b}", "ESC"),
        ("\u{7}", "BEL"),
        ("\u{9b}", "CSI"),
        ("\u{202e}", "RLO"),
    ] {
        assert!(!text.contains(bad), "{what} holds a raw {name}:\n{text:?}");
    }
}

#[test]
fn server_and_file_text_is_escaped_before_it_reaches_a_terminal() {
    let hostile = Scripted::start("127.0.0.1:0", |head| {
        let redirect = |to: &str| response("302 Found", &[("Location", to)]);
        match head.target.as_str() {
            "/esc-location" => redirect("/x\u{1b}[2J\u{1b}]0;pwned\u{7}"),
            "/c1-location" => redirect("/x\u{9b}2J"),
            "/c1-host" => redirect("http://\u{9b}31m.test/"),
            "/bidi-location" => redirect("/\u{202e}txt.exe"),
            "/esc-scheme" => redirect("ftp://h/\u{1b}[2J"),
            "/c1-scheme" => redirect("javascript:\u{9b}2J\u{202e}"),
            "/esc-reason" => response("200 \u{1b}]0;pwned\u{7}OK", &[]),
            "/c1-reason" => response("404 \u{9b}2J gone", &[]),
            "/esc-garbage" => b"\x1b[2J\x1b]0;pwned\x07 not http\r\n\r\n".to_vec(),
            _ => response("200 OK", &[]),
        }
    })
    .unwrap();
    let targets = [
        "/esc-location",
        "/c1-location",
        "/c1-host",
        "/bidi-location",
        "/esc-scheme",
        "/c1-scheme",
        "/esc-reason",
        "/c1-reason",
        "/esc-garbage",
    ];
    let mut list: Vec<String> = targets.iter().map(|t| hostile.url(t)).collect();
    // And lines of the input file itself.
    list.push(hostile.url("/file\u{1b}[31mred"));
    list.push(format!("http://bad\u{9b}host.test:{}/", hostile.port()));
    list.push(hostile.url("/\u{202e}gpj.exe"));
    let dir = TempDir::new().unwrap();
    let file = write_list(dir.path(), "hostile.txt", lines(&list));
    for format in ["human", "jsonl"] {
        let out = run(urlcheck()
            .args(["-t", "2s", "--retries", "0", "--color", "never"])
            .args(["--format", format])
            .arg(&file));
        no_panic_text(&out.stderr);
        assert!(
            matches!(out.code, Some(1)),
            "{format}: some are errors: {out}"
        );
        assert_inert(&format!("{format} stdout"), &out.stdout);
        assert_inert(&format!("{format} stderr"), out.stderr.as_bytes());
        // Every line but the one whose host is not a URL host names the server.
        let shown = out
            .stdout()
            .lines()
            .filter(|l| l.contains("127.0.0.1"))
            .count();
        assert!(shown >= list.len() - 1, "every line has a result: {out}");
        if format == "human" {
            // Shown, but as text.
            assert!(out.stdout().contains("\\u{1b}"), "{out}");
        }
    }
    for target in targets {
        assert!(
            hostile.heads().iter().any(|h| h.target == target),
            "{target} was never asked for, so its answer was never tested"
        );
    }
}
