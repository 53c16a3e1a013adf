//! The memory of which URLs were already checked, so a URL listed twice is fetched once.
//!
//! This is the one structure that grows with the length of the list, so it is kept to about
//! 8 bytes per distinct URL: a 64-bit fingerprint in a sorted vector, with recent insertions
//! in a small hash set that is merged in when it fills. A hash set of a million entries would
//! cost 2-4 times as much and double again while it grows. The outcome of a completed check is
//! only stored when it is not the common "up, 200"; a repeated line needs it to be counted.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};

use crate::check::{Check, CheckError, Outcome};

/// How a check ended, as a repeated line reports it.
pub type Ending = (Outcome, Option<u16>, Option<CheckError>);

/// Insertions held in the hash set before they are merged into the sorted vector.
const RECENT: usize = 64 * 1024;

pub struct Seen {
    hasher: RandomState,
    /// Fingerprints merged so far, sorted.
    sorted: Vec<u64>,
    /// Fingerprints inserted since the last merge.
    recent: HashSet<u64>,
    /// How completed checks other than "up, 200" ended (failures are few).
    unusual: HashMap<u64, Ending>,
}

impl Default for Seen {
    fn default() -> Self {
        Seen {
            hasher: RandomState::new(),
            sorted: Vec::new(),
            recent: HashSet::new(),
            unusual: HashMap::new(),
        }
    }
}

impl Seen {
    /// A 64-bit keyed hash of the URL. With a million distinct URLs the chance that any two
    /// share one is about 3 in 100 million.
    pub fn fingerprint(&self, url: &str) -> u64 {
        self.hasher.hash_one(url)
    }

    pub fn contains(&self, fingerprint: u64) -> bool {
        self.recent.contains(&fingerprint) || self.sorted.binary_search(&fingerprint).is_ok()
    }

    /// Remembers a URL as seen (call once, when it is first admitted).
    pub fn insert(&mut self, fingerprint: u64) {
        self.recent.insert(fingerprint);
        if self.recent.len() >= RECENT {
            self.merge();
        }
    }

    /// Remembers how the check of a seen URL ended.
    pub fn complete(&mut self, fingerprint: u64, check: &Check) {
        if (check.outcome, check.status) != (Outcome::Up, Some(200)) {
            let ending = (check.outcome, check.status, check.error.clone());
            self.unusual.insert(fingerprint, ending);
        }
    }

    /// How the check of a seen, completed URL ended.
    pub fn ending(&self, fingerprint: u64) -> Ending {
        self.unusual
            .get(&fingerprint)
            .cloned()
            .unwrap_or((Outcome::Up, Some(200), None))
    }

    /// Merges `recent` into `sorted` in place, from the back, so the vector grows by exactly
    /// the new entries and no second copy of it is ever made.
    fn merge(&mut self) {
        let mut new: Vec<u64> = self.recent.drain().collect();
        new.sort_unstable();
        let old_len = self.sorted.len();
        self.sorted.reserve_exact(new.len());
        self.sorted.resize(old_len + new.len(), 0);
        let (mut i, mut j, mut k) = (old_len, new.len(), self.sorted.len());
        while j > 0 {
            k -= 1;
            if i > 0 && self.sorted[i - 1] > new[j - 1] {
                self.sorted[k] = self.sorted[i - 1];
                i -= 1;
            } else {
                self.sorted[k] = new[j - 1];
                j -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_across_merges() {
        let mut seen = Seen::default();
        let fps: Vec<u64> = (0..(RECENT as u64 * 3 + 17))
            .map(|i| seen.fingerprint(&format!("http://h/{i}")))
            .collect();
        for (n, fp) in fps.iter().enumerate() {
            assert!(!seen.contains(*fp), "{n} seen before insertion");
            seen.insert(*fp);
            assert!(seen.contains(*fp));
        }
        assert!(fps.iter().all(|fp| seen.contains(*fp)));
        assert!(
            seen.sorted.windows(2).all(|w| w[0] < w[1]),
            "sorted and distinct"
        );
        assert!(!seen.contains(seen.fingerprint("http://h/other")));
    }

    #[test]
    fn outcomes_default_to_up_200() {
        let mut seen = Seen::default();
        seen.insert(1);
        seen.insert(2);
        let mut up = Check::not_fetched(Outcome::Up, None);
        up.status = Some(200);
        let mut down = Check::not_fetched(Outcome::Down, None);
        down.status = Some(404);
        seen.complete(1, &up);
        seen.complete(2, &down);
        assert_eq!(seen.ending(1), (Outcome::Up, Some(200), None));
        assert_eq!(seen.ending(2), (Outcome::Down, Some(404), None));
        assert!(seen.unusual.len() == 1);
    }
}
