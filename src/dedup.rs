//! Duplicates, decided in one place: which URLs were already checked (so a URL listed twice
//! is fetched once), which are being checked now (a repeat joins that check's sources), and,
//! at the end, how repeats that were reported on their own merge back into the first result.
//!
//! The seen set is the one structure that always grows with the length of the list (the kept
//! results grow with it only when a document lists every URL), so it is kept to about
//! 8 bytes per distinct URL: a 64-bit fingerprint in a sorted vector, with recent insertions
//! in a small hash set that is merged in when it fills. A hash set of a million entries would
//! cost 2-4 times as much and double again while it grows. The outcome of a completed check is
//! only stored when it is not the common "up, 200"; a repeated line needs it to be counted.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};

use crate::model::{Check, CheckError, FailOn, Order, Outcome, UrlResult};

/// How a check ended, as a repeated line reports it.
pub(crate) type Ending = (Outcome, Option<u16>, Option<CheckError>);

/// What to do with a target, given the URLs seen before it.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// The first line with this URL: check it.
    New { key: u64 },
    /// The URL is being checked now: the line joins the sources of result `index`.
    InFlight { index: u64 },
    /// The URL was checked already: report the line as a repeat that ended so, unfetched.
    Done { key: u64, ending: Ending },
}

/// The scheduler's memory of URLs, seen and in flight.
#[derive(Default)]
pub(crate) struct Dedup {
    seen: Seen,
    /// Key of a URL being checked -> index of its pending result.
    in_flight: HashMap<u64, u64>,
}

impl Dedup {
    /// Decides what the line at `index` with `url` is; a new URL is remembered as in flight.
    pub(crate) fn classify(&mut self, url: &str, index: u64) -> Verdict {
        let key = self.seen.fingerprint(url);
        if let Some(&first) = self.in_flight.get(&key) {
            return Verdict::InFlight { index: first };
        }
        if self.seen.contains(key) {
            return Verdict::Done {
                key,
                ending: self.seen.ending(key),
            };
        }
        self.seen.insert(key);
        self.in_flight.insert(key, index);
        Verdict::New { key }
    }

    /// The check of the URL with `key` finished.
    pub(crate) fn complete(&mut self, key: u64, check: &Check) {
        self.in_flight.remove(&key);
        self.seen.complete(key, check);
    }
}

/// Which results a run keeps for its documents: all of them (JSON, JUnit, Prometheus need
/// every URL), only the failures (the human and Markdown failure lists, SARIF, the step
/// summary), or none (only streams), so that a run's memory grows with the list only when a
/// document lists every URL.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Keep {
    All,
    Failures(FailOn),
    Nothing,
}

/// The results a run keeps, as they complete; [`Collection::into_ordered`] makes them the
/// one ordered, merged list that every document renders.
pub(crate) struct Collection {
    keep: Keep,
    results: Vec<(Order, UrlResult)>,
}

impl Collection {
    pub(crate) fn new(keep: Keep) -> Collection {
        Collection {
            keep,
            results: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, order: Order, result: UrlResult) {
        let kept = match self.keep {
            Keep::All => true,
            Keep::Failures(fail_on) => fail_on.fails(&result),
            Keep::Nothing => false,
        };
        if kept {
            self.results.push((order, result));
        }
    }

    /// Results in input order; a repeat reported after its URL had completed is merged into
    /// that URL's result as another source, and sources are sorted by file and line.
    pub(crate) fn into_ordered(self) -> Vec<UrlResult> {
        let mut results = self.results;
        results.sort_by_key(|(order, _)| order.index);
        let mut index = HashMap::new();
        let mut merged: Vec<UrlResult> = Vec::with_capacity(results.len());
        for (order, r) in results {
            match order.key {
                Some(key) if r.duplicate => {
                    if let Some(&i) = index.get(&key) {
                        let first: &mut UrlResult = &mut merged[i];
                        first.sources.extend(r.sources);
                        continue;
                    }
                }
                Some(key) => {
                    index.insert(key, merged.len());
                }
                None => {}
            }
            merged.push(r);
        }
        for r in &mut merged {
            r.sources
                .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        }
        merged
    }
}

/// Insertions held in the hash set before they are merged into the sorted vector.
const RECENT: usize = 64 * 1024;

struct Seen {
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
    fn fingerprint(&self, url: &str) -> u64 {
        self.hasher.hash_one(url)
    }

    fn contains(&self, fingerprint: u64) -> bool {
        self.recent.contains(&fingerprint) || self.sorted.binary_search(&fingerprint).is_ok()
    }

    /// Remembers a URL as seen (call once, when it is first admitted).
    fn insert(&mut self, fingerprint: u64) {
        self.recent.insert(fingerprint);
        if self.recent.len() >= RECENT {
            self.merge();
        }
    }

    /// Remembers how the check of a seen URL ended.
    fn complete(&mut self, fingerprint: u64, check: &Check) {
        if (check.outcome, check.status) != (Outcome::Up, Some(200)) {
            let ending = (check.outcome, check.status, check.error.clone());
            self.unusual.insert(fingerprint, ending);
        }
    }

    /// How the check of a seen, completed URL ended.
    fn ending(&self, fingerprint: u64) -> Ending {
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
