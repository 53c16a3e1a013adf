//! `--timeout`-style durations, `--resolve` and `-H` values: never panic; accepted durations
//! are positive and bounded.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = urlcheck::cli::parse_duration(text) {
        assert!(d > Duration::ZERO && d <= Duration::from_secs(24 * 3600));
    }
    let _ = urlcheck::cli::parse_resolve(text);
    let _ = urlcheck::cli::parse_header(text);
    let _ = urlcheck::cli::parse_report(text);
});
