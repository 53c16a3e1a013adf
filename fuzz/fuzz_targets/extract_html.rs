//! The HTML extractor reads any file a user's folder holds: it must never panic, and every
//! link it reports must point into the document (1-based, within its lines) with a URL that is
//! neither empty nor padded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use urlcheck::extract::html;

fuzz_target!(|data: &[u8]| {
    let found = html(data);
    let lines = lines(data);
    let mut previous = (1, 1);
    for link in &found.links {
        assert!(link.line >= 1 && link.column >= 1, "{link:?}");
        assert!(link.line <= lines + 1, "{link:?} past {lines} lines");
        assert!((link.line, link.column) >= previous, "{link:?} before {previous:?}");
        previous = (link.line, link.column);
        assert!(!link.url.is_empty());
        assert_eq!(link.url.trim_matches(|c| " \t\n\r\x0C".contains(c)), link.url);
    }
    assert!(found.anchors.iter().all(|a| !a.is_empty()));
});

/// Line breaks as the extractor counts them: `\n`, `\r\n`, lone `\r`.
fn lines(data: &[u8]) -> u32 {
    let mut n = 0u32;
    for (i, b) in data.iter().enumerate() {
        if *b == b'\n' || (*b == b'\r' && data.get(i + 1) != Some(&b'\n')) {
            n += 1;
        }
    }
    n
}
