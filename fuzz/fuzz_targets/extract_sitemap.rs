//! The sitemap reader takes whatever a server or a file says is a sitemap: it must never
//! panic, an error must say something, and every URL must be trimmed, non-empty and point
//! into the document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use urlcheck::extract::{sitemap, Kind};

fuzz_target!(|data: &[u8]| {
    match sitemap(data) {
        Ok(map) => {
            let lines = data
                .iter()
                .enumerate()
                .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && data.get(i + 1) != Some(&b'\n')))
                .count() as u32;
            for link in &map.urls {
                assert_eq!(link.kind, Kind::Loc);
                assert!(link.line >= 1 && link.column >= 1, "{link:?}");
                assert!(link.line <= lines + 1, "{link:?} past {lines} lines");
                assert!(!link.url.is_empty());
                assert_eq!(link.url.trim(), link.url);
            }
        }
        Err(why) => assert!(why.starts_with("not a sitemap: "), "{why}"),
    }
});
