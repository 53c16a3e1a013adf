//! `--shard`: the inputs read once before the run, for what every shard of the fleet must
//! agree on: how many URLs each host:port has (the plan is made from that) and a fingerprint
//! of the items, so that `urlcheck merge` can tell shards of different lists apart. And, during
//! the run, which items are this shard's.

use std::collections::HashMap;

use anyhow::{bail, Result};
use tokio::sync::mpsc;

use super::{Fetch, Inputs, Item, Rules};
use crate::shard::{item_hash, write_key, Sharding};

/// What the inputs hold, as every shard counts it.
#[derive(Debug, Default)]
pub(crate) struct Survey {
    /// URLs to request per host:port (`example.com:443`), repeats included.
    pub hosts: HashMap<String, u64>,
    /// The items, each with where it was listed and what it became, summed: the same
    /// whatever order a folder walk found the files in.
    pub fingerprint: u64,
    /// The items (input lines and links), notes aside.
    pub items: u64,
}

/// What an item became, as a number for the fingerprint.
fn kind(item: &Item) -> u64 {
    match item {
        Item::Target(_) => 0,
        Item::Skipped { .. } => 0x51,
        Item::Invalid { .. } => 0x52,
        Item::Local { .. } => 0x53,
        Item::Note(_) => 0x54,
    }
}

/// Reads every item of `given` as a run would (the same `rules`), counting.
pub(crate) async fn survey(given: &[String], rules: Rules, fetch: Option<Fetch>) -> Result<Survey> {
    if given.is_empty() || given.iter().any(|g| g == "-") {
        bail!("--shard reads the inputs twice, once to agree with the other shards on a plan: give files, folders or URLs, not stdin");
    }
    let inputs = Inputs::open(given, rules)?;
    let (tx, mut rx) = mpsc::channel(4);
    let reading = inputs.spawn(tx, fetch);
    let mut survey = Survey::default();
    let mut key = String::new();
    while let Some(batch) = rx.recv().await {
        for item in &batch {
            let Some((text, source)) = identity(item) else {
                continue;
            };
            // What the rules made of it counts too: a URL one shard skips is not another's.
            let line = item_hash(text, &source.file, source.line) ^ kind(item);
            survey.fingerprint = survey.fingerprint.wrapping_add(line);
            survey.items += 1;
            if let Item::Target(t) = item {
                key.clear();
                write_key(&t.url, &mut key);
                match survey.hosts.get_mut(key.as_str()) {
                    Some(n) => *n += 1,
                    None => {
                        survey.hosts.insert(key.clone(), 1);
                    }
                }
            }
        }
    }
    let _ = reading.join();
    Ok(survey)
}

/// What an item is known by, and where it was listed; `None` for a note.
fn identity(item: &Item) -> Option<(&str, &crate::model::Source)> {
    match item {
        Item::Target(t) => Some((t.url.as_str(), &t.source)),
        Item::Skipped { url, source, .. } | Item::Local { url, source, .. } => Some((url, source)),
        Item::Invalid { text, source, .. } => Some((text, source)),
        Item::Note(_) => None,
    }
}

/// This shard reports `item`: a URL when the plan gives its host (or its piece of it) to this
/// shard, anything else by the hash of its text. Notes go to every shard's stderr.
pub(super) fn owned(sharding: &Sharding, item: &Item, key: &mut String) -> bool {
    match item {
        Item::Target(t) => {
            key.clear();
            write_key(&t.url, key);
            sharding.owns_url(key, t.url.as_str())
        }
        other => identity(other).is_none_or(|(text, _)| sharding.owns_text(text)),
    }
}
