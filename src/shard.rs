//! `--shard K/N`: which of N machines checks which URL, decided the same way on every one of
//! them from the same inputs, with no coordination.
//!
//! Sharding is host-affine: every URL of a host:port goes to one shard, so the per-host limit
//! and a server's `Retry-After` still hold across the fleet. Each shard reads the whole input
//! once first, counting URLs per host:port ([`Plan::new`]); a host with more than its share
//! (1/N of all URLs) is split into pieces on distinct shards, at most `--per-host` of them, each
//! piece with the per-host limit divided between them, so the host never sees more than
//! `--per-host` requests at once from the fleet. The hosts and pieces are then placed
//! heaviest first on the least loaded shard (the "longest processing time first" rule),
//! which keeps the largest shard close to the mean even when a few hosts hold most URLs.
//!
//! Every choice is a function of the counts and of XXH3-64 ([`hash`]), which is specified
//! byte for byte and the same on every platform and version: ties are broken by the hash of
//! the host:port, a split host's URL goes to piece `hash(url) % pieces`, and an item that is
//! no URL (an invalid line, a local link) to shard `hash(text) % N`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::str::FromStr;

/// One of N shards: `index` from 1 to `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// Shards at most (a CI matrix or an indexed Job of more is not a thing).
pub const MAX_SHARDS: u32 = 10_000;

impl FromStr for Shard {
    type Err = String;

    /// `K/N`, 1 <= K <= N.
    fn from_str(s: &str) -> Result<Shard, String> {
        let err = || format!("expected K/N with 1 <= K <= N <= {MAX_SHARDS} (e.g. 2/8), got {s:?}");
        let (k, n) = s.split_once('/').ok_or_else(err)?;
        let index: u32 = k.trim().parse().map_err(|_| err())?;
        let count: u32 = n.trim().parse().map_err(|_| err())?;
        if index == 0 || index > count || count > MAX_SHARDS {
            return Err(err());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The stable hash every sharding choice is made with: XXH3-64 of the UTF-8 bytes, seed 0
/// (`hash("example.com:443") == 0x5da32396c85a8076`, pinned by a test).
pub fn hash(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

/// Where a host's URLs go.
#[derive(Debug, Clone)]
enum Place {
    /// All to this shard (from 0).
    Whole(u32),
    /// Split: a URL to `shards[hash(url) % len]`, each piece with `per_host / len` slots.
    Split(Box<[u32]>),
}

/// Which shard checks each host's URLs, from how many URLs each host:port has.
#[derive(Debug, Clone)]
pub struct Plan {
    count: u32,
    hosts: HashMap<Box<str>, Place>,
    /// URLs placed on each shard, as the plan expects them.
    loads: Vec<u64>,
}

impl Plan {
    /// The plan for `count` shards of a list whose host:ports (`host:port`, as
    /// `url.host_str()` and the port or its default make it) have `counts` URLs each; a host is
    /// split into at most `per_host` pieces.
    pub fn new<'a>(
        counts: impl IntoIterator<Item = (&'a str, u64)>,
        count: u32,
        per_host: usize,
    ) -> Plan {
        Plan::with_limits(counts, count, |_| per_host)
    }

    /// As [`Plan::new`], with each host's own per-host limit (a urlcheck.toml `[[host]]`
    /// table's `per-host`): a host is split into at most that many pieces.
    pub fn with_limits<'a>(
        counts: impl IntoIterator<Item = (&'a str, u64)>,
        count: u32,
        per_host: impl Fn(&str) -> usize,
    ) -> Plan {
        let count = count.clamp(1, MAX_SHARDS);
        let counts: Vec<(&str, u64)> = counts.into_iter().collect();
        let total: u64 = counts.iter().map(|(_, n)| n).sum();
        let share = total.div_ceil(u64::from(count)).max(1);
        // (weight, tie-break, host, pieces): heaviest first, then by the host's hash.
        let mut units: Vec<(u64, u64, &str, u64)> = Vec::new();
        for &(host, n) in &counts {
            let max_pieces = (per_host(host).max(1) as u64).min(u64::from(count));
            let pieces = n.div_ceil(share).clamp(1, max_pieces);
            for _ in 0..pieces {
                units.push((n.div_ceil(pieces), hash(host), host, pieces));
            }
        }
        units.sort_unstable_by(|a, b| (Reverse(a.0), a.1, a.2).cmp(&(Reverse(b.0), b.1, b.2)));
        let mut least: BinaryHeap<Reverse<(u64, u32)>> =
            (0..count).map(|s| Reverse((0, s))).collect();
        let mut loads = vec![0u64; count as usize];
        let mut split: HashMap<&str, Vec<u32>> = HashMap::new();
        let mut hosts = HashMap::with_capacity(counts.len());
        for (weight, _, host, pieces) in units {
            let taken = split.entry(host).or_default();
            // The least loaded shard that holds no other piece of this host.
            let mut passed = Vec::new();
            let Reverse((load, shard)) = loop {
                let next = least.pop().expect("a host has at most `count` pieces");
                if !taken.contains(&next.0 .1) {
                    break next;
                }
                passed.push(next);
            };
            least.extend(passed);
            least.push(Reverse((load + weight, shard)));
            loads[shard as usize] += weight;
            taken.push(shard);
            if taken.len() as u64 == pieces {
                let place = match pieces {
                    1 => Place::Whole(shard),
                    _ => Place::Split(taken.clone().into_boxed_slice()),
                };
                hosts.insert(Box::from(host), place);
            }
        }
        Plan {
            count,
            hosts,
            loads,
        }
    }

    /// The shard (from 0) that checks `url`, a URL of `host` (its host:port).
    pub fn shard_of(&self, host: &str, url: &str) -> u32 {
        match self.hosts.get(host) {
            Some(Place::Whole(shard)) => *shard,
            Some(Place::Split(shards)) => shards[(hash(url) % shards.len() as u64) as usize],
            // A host the count did not see (the inputs changed in between): by its hash.
            None => (hash(host) % u64::from(self.count)) as u32,
        }
    }

    /// The shard (from 0) of an item that is no URL to request: by the hash of its text.
    pub fn shard_of_text(&self, text: &str) -> u32 {
        (hash(text) % u64::from(self.count)) as u32
    }

    /// How many shards `host` is split over (1 when it is not).
    pub fn pieces(&self, host: &str) -> usize {
        match self.hosts.get(host) {
            Some(Place::Split(shards)) => shards.len(),
            _ => 1,
        }
    }

    /// The per-host limit of `host` on each shard: `per_host` divided between its pieces.
    pub fn per_host(&self, host: &str, per_host: usize) -> usize {
        (per_host / self.pieces(host)).max(1)
    }

    /// The URLs each shard is expected to check, by the counts the plan was made from.
    pub fn loads(&self) -> &[u64] {
        &self.loads
    }
}

/// A run's shard, the plan every shard of the fleet made alike, and the fingerprint of the
/// inputs it was made from (`merge` refuses shards whose fingerprints differ).
#[derive(Debug)]
pub struct Sharding {
    pub shard: Shard,
    pub plan: Plan,
    pub fingerprint: u64,
    /// The items of the inputs (lines and links), all shards' together.
    pub items: u64,
}

impl Sharding {
    /// This shard checks `url` (of host:port `key`).
    pub fn owns_url(&self, key: &str, url: &str) -> bool {
        self.plan.shard_of(key, url) + 1 == self.shard.index
    }

    /// This shard reports the item that is no URL to request, written `text`.
    pub fn owns_text(&self, text: &str) -> bool {
        self.plan.shard_of_text(text) + 1 == self.shard.index
    }
}

/// The host:port that per-host limits and shards are kept by: the host as the URL has it,
/// and the port or the scheme's default (`example.com:443`), appended to `out`.
pub fn write_key(url: &url::Url, out: &mut String) {
    use std::fmt::Write as _;
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(0);
    let _ = write!(out, "{host}:{port}");
}

/// What a fingerprint of the inputs adds up: one item, as it was listed where.
pub fn item_hash(text: &str, file: &str, line: u64) -> u64 {
    hash(text) ^ hash(file).rotate_left(17) ^ line.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_as_k_of_n() {
        assert_eq!("2/8".parse(), Ok(Shard { index: 2, count: 8 }));
        assert_eq!("1/1".parse::<Shard>().unwrap().to_string(), "1/1");
        for bad in ["0/8", "9/8", "8", "a/b", "1/0", "1/10001"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    /// XXH3-64 of these bytes, as its specification computes it (the values are Python's
    /// `xxhash.xxh3_64_intdigest`, another implementation): the plan of every version and
    /// platform rests on them.
    #[test]
    fn the_hash_is_xxh3_64() {
        assert_eq!(hash(""), 0x2d06_8005_38d3_94c2);
        assert_eq!(hash("example.com:443"), 0x5da3_2396_c85a_8076);
        assert_eq!(hash("http://a/1"), 0x8be9_97e0_665a_9b7b);
    }

    #[test]
    fn a_host_is_on_one_shard_unless_it_is_heavy() {
        let counts = [("a:80", 50), ("b:80", 10), ("c:80", 10), ("d:80", 10)];
        let plan = Plan::new(counts, 4, 8);
        // 80 URLs over 4 shards: a share is 20, so a:80 (50) is split in 3.
        assert_eq!(plan.pieces("a:80"), 3);
        assert_eq!(plan.per_host("a:80", 8), 2);
        let shards: std::collections::HashSet<u32> = (0..300)
            .map(|i| plan.shard_of("a:80", &format!("http://a/{i}")))
            .collect();
        assert_eq!(shards.len(), 3, "{shards:?}");
        for host in ["b:80", "c:80", "d:80"] {
            assert_eq!(plan.pieces(host), 1);
            let one = plan.shard_of(host, "http://x/1");
            assert_eq!(plan.shard_of(host, "http://x/2"), one);
        }
        assert_eq!(plan.loads().iter().sum::<u64>(), 51 + 30);
        // A split never makes more pieces than --per-host allows.
        assert_eq!(
            Plan::new([("a:80", 1000), ("b:80", 1)], 8, 2).pieces("a:80"),
            2
        );
    }

    #[test]
    fn the_plan_does_not_depend_on_the_order_of_the_counts() {
        let counts: Vec<(String, u64)> = (0..500)
            .map(|i| (format!("h{i}:443"), 1 + i % 37))
            .collect();
        let forward = Plan::new(counts.iter().map(|(h, n)| (h.as_str(), *n)), 7, 8);
        let backward = Plan::new(counts.iter().rev().map(|(h, n)| (h.as_str(), *n)), 7, 8);
        for (host, _) in &counts {
            assert_eq!(forward.shard_of(host, host), backward.shard_of(host, host));
        }
        assert_eq!(forward.loads(), backward.loads());
    }
}
