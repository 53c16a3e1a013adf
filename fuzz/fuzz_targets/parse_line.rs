//! The input line parser takes bytes from any file a user hands over: it must never panic,
//! whatever it accepts must be a checkable http(s) URL, and what it echoes of a bad line never
//! shows the password of a `user:pass@` in it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use urlcheck::input::{parse_line, Item};
use urlcheck::model::Source;

fuzz_target!(|data: &[u8]| {
    let source = Source::line("fuzz".into(), 1);
    match parse_line(data, source) {
        Item::Target(t) => {
            assert!(matches!(t.url.scheme(), "http" | "https"));
            assert!(t.url.host_str().is_some_and(|h| !h.is_empty()));
            assert!(t.url.fragment().is_none());
            assert_ne!(t.url.port(), Some(0));
        }
        Item::Invalid { text, reason, .. } => {
            assert!(!reason.is_empty());
            // Shown on terminals: no raw control characters may survive.
            assert!(!text.chars().any(|c| c.is_control()));
            if let Some(pass) = std::str::from_utf8(data).ok().and_then(password) {
                assert!(!text.contains(pass), "{pass:?} shown in {text:?}");
            }
        }
        other => unreachable!("parse_line applies no --exclude: {other:?}"),
    }
});

/// The password of the first `scheme://user:pass@` in `line` (whitespace allowed around the
/// user and the password, and an `@` in the user name), when it is a token of 4 or more
/// letters and digits that appears nowhere else in the line: finding it in the output can
/// then only mean a leak.
fn password(line: &str) -> Option<&str> {
    let rest = &line[line.find("://")? + 3..];
    let colon = rest.find(':')?;
    let at = colon + rest[colon..].find('@')?;
    let user = rest[..colon].trim();
    let pass = rest[colon + 1..at].trim();
    let is_user = !user.is_empty() && !user.contains(|c: char| c.is_whitespace() || c == '/');
    let is_token = pass.len() >= 4 && pass.chars().all(|c| c.is_ascii_alphanumeric());
    (is_user && is_token && line.matches(pass).count() == 1).then_some(pass)
}
