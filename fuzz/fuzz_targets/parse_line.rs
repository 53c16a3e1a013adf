//! The input line parser takes bytes from any file a user hands over: it must never panic,
//! and whatever it accepts must be a checkable http(s) URL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use urlcheck::input::{parse_line, Item};
use urlcheck::model::Source;

fuzz_target!(|data: &[u8]| {
    let source = Source {
        file: "fuzz".into(),
        line: 1,
    };
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
        }
        Item::Skipped { .. } => unreachable!("parse_line applies no --exclude"),
    }
});
