//! Heading anchors as GitHub makes them, so that `README.md#usage` can be checked without a
//! browser: lowercase the heading's text, drop every character that is not a letter, a mark, a
//! digit, a connector (`_`), `-` or a space, turn each space into `-`; the second heading with
//! the same slug gets `-1`, the third `-2`, and so on.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

/// What GitHub keeps: `\w` (letters, marks, digits, connector punctuation), `-` and space.
static DROPPED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[^\w\- ]").expect("valid"));

/// The slug of one heading, before repeats are numbered.
pub(super) fn slug(heading: &str) -> String {
    DROPPED
        .replace_all(&heading.to_lowercase(), "")
        .replace(' ', "-")
}

/// Numbers repeated slugs within one document.
#[derive(Debug, Default)]
pub(super) struct Slugger {
    seen: HashMap<String, u32>,
}

impl Slugger {
    /// The anchor of the next heading with this text: its slug, suffixed `-N` when the same
    /// slug came N times before.
    pub(super) fn unique(&mut self, heading: &str) -> String {
        let base = slug(heading);
        let count = self.seen.entry(base.clone()).or_insert(0);
        let anchor = if *count == 0 {
            base
        } else {
            format!("{base}-{count}")
        };
        *count += 1;
        anchor
    }
}

#[cfg(test)]
mod tests {
    use super::{slug, Slugger};

    #[test]
    fn github_examples() {
        assert_eq!(slug("Hello, World!"), "hello-world");
        assert_eq!(slug("API v2.0 (beta)"), "api-v20-beta");
        assert_eq!(slug("C++ & Rust"), "c--rust");
        assert_eq!(
            slug("snake_case and kebab-case"),
            "snake_case-and-kebab-case"
        );
        assert_eq!(slug("What's new in 1.2?"), "whats-new-in-12");
        assert_eq!(slug("`--exclude` REGEX"), "--exclude-regex");
    }

    #[test]
    fn letters_of_any_script_stay_and_are_lowercased() {
        assert_eq!(slug("Über Straße"), "über-straße");
        assert_eq!(slug("Ελληνικά Κείμενα"), "ελληνικά-κείμενα");
        assert_eq!(slug("日本語 テスト"), "日本語-テスト");
        // A combining mark is a mark, not punctuation: it stays with its letter.
        assert_eq!(slug("Cafe\u{301}"), "cafe\u{301}");
        // Emoji are symbols: dropped, the spaces around them stay.
        assert_eq!(slug("Rocket 🚀 launch"), "rocket--launch");
    }

    #[test]
    fn repeats_are_numbered() {
        let mut s = Slugger::default();
        let got: Vec<String> = ["Usage", "Usage", "Other", "usage"]
            .iter()
            .map(|h| s.unique(h))
            .collect();
        assert_eq!(got, ["usage", "usage-1", "other", "usage-2"]);
    }
}
