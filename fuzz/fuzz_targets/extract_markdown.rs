//! The Markdown extractor reads any `.md` a user's folder holds: it must never panic nor
//! overflow the stack, and every link must point into the document (1-based, within its
//! lines) with a non-empty URL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use urlcheck::extract::markdown;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let found = markdown(&text);
    let lines = text
        .bytes()
        .enumerate()
        .filter(|&(i, b)| b == b'\n' || (b == b'\r' && text.as_bytes().get(i + 1) != Some(&b'\n')))
        .count() as u32;
    let mut previous = (1, 1);
    for link in &found.links {
        assert!(link.line >= 1 && link.column >= 1, "{link:?}");
        assert!(link.line <= lines + 1, "{link:?} past {lines} lines");
        assert!((link.line, link.column) >= previous, "{link:?} before {previous:?}");
        previous = (link.line, link.column);
        assert!(!link.url.is_empty());
    }
    assert!(found.anchors.iter().all(|a| !a.is_empty()));
    assert_eq!(found.base, None);
});
