//! Sets of HTTP status codes such as `200-299,403` (`--accept`), and sets of outcomes
//! (`--fail-on`). Both are fixed bitsets: membership is one shift and mask.

use std::fmt;
use std::str::FromStr;

use crate::check::Outcome;

/// A set of outcomes, e.g. those that fail a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutcomeSet(u8);

impl OutcomeSet {
    pub fn insert(&mut self, o: Outcome) {
        self.0 |= 1 << o as u8;
    }

    pub fn contains(self, o: Outcome) -> bool {
        self.0 & (1 << o as u8) != 0
    }

    /// The outcomes in the set, in their natural order.
    pub fn iter(self) -> impl Iterator<Item = Outcome> {
        Outcome::ALL.into_iter().filter(move |o| self.contains(*o))
    }
}

impl fmt::Display for OutcomeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Outcome::as_str).collect();
        f.write_str(&names.join(","))
    }
}

/// A set of HTTP status codes (100..=599).
#[derive(Clone, PartialEq, Eq)]
pub struct StatusSet {
    bits: [u64; 10],
    /// The text it was parsed from, normalised, for reports.
    text: String,
}

impl StatusSet {
    pub fn contains(&self, code: u16) -> bool {
        if !(100..=599).contains(&code) {
            return false;
        }
        let i = usize::from(code - 100);
        self.bits[i / 64] & (1 << (i % 64)) != 0
    }

    fn insert(&mut self, code: u16) {
        let i = usize::from(code - 100);
        self.bits[i / 64] |= 1 << (i % 64);
    }
}

impl Default for StatusSet {
    fn default() -> Self {
        "200-299".parse().expect("valid default")
    }
}

impl FromStr for StatusSet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut set = StatusSet {
            bits: [0; 10],
            text: String::new(),
        };
        let mut parts = Vec::new();
        for part in s.split(',') {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!("empty item in status list {s:?}"));
            }
            let (lo, hi) = match part.split_once('-') {
                Some((a, b)) => (code(a)?, code(b)?),
                None => {
                    let c = code(part)?;
                    (c, c)
                }
            };
            if lo > hi {
                return Err(format!("range {part} is backwards (write {hi}-{lo})"));
            }
            for c in lo..=hi {
                set.insert(c);
            }
            parts.push(if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            });
        }
        set.text = parts.join(",");
        Ok(set)
    }
}

fn code(s: &str) -> Result<u16, String> {
    let s = s.trim();
    match s.parse::<u16>() {
        Ok(c) if (100..=599).contains(&c) => Ok(c),
        _ => Err(format!(
            "{s:?} is not an HTTP status code (expected 100-599)"
        )),
    }
}

impl fmt::Display for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusSet({})", self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_singles() {
        let s: StatusSet = "200-299, 403".parse().unwrap();
        assert!(s.contains(200) && s.contains(299) && s.contains(403));
        assert!(!s.contains(300) && !s.contains(404) && !s.contains(199));
        assert_eq!(s.to_string(), "200-299,403");
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            "", "999-100", "99", "600", "abc", "200-", "200,,300", "300-200",
        ] {
            assert!(bad.parse::<StatusSet>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn out_of_range_codes_are_never_members() {
        let s: StatusSet = "100-599".parse().unwrap();
        assert!(s.contains(100) && s.contains(599));
        assert!(!s.contains(0) && !s.contains(600) && !s.contains(u16::MAX));
    }
}
