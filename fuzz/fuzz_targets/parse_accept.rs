//! `--accept` and `--fail-on` values: never panic; an accepted status set prints back to a
//! string that parses to the same set.
#![no_main]

use libfuzzer_sys::fuzz_target;
use urlcheck::model::StatusSet;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(set) = text.parse::<StatusSet>() {
        let again: StatusSet = set.to_string().parse().expect("Display output parses");
        for code in 0..=700u16 {
            assert_eq!(set.contains(code), again.contains(code));
        }
        assert!(!set.contains(99) && !set.contains(600));
    }
    let _ = urlcheck::cli::parse_outcomes(text);
});
