//! The balance simulation of issue 14 (`bench/shards`): how evenly `--shard K/N` spreads a list
//! whose hosts are as skewed as real link lists are, with no request made.
//!
//! It draws N URLs, each a distinct URL of one of H hosts chosen from a Zipf distribution
//! (host of rank k with weight 1/k^EXPONENT), twice from the same seed: the first pass only
//! counts URLs per host:port, as every shard does before it starts; then `Plan::new` is built
//! from the counts, and the second pass routes every URL with `Plan::shard_of` and counts what
//! each shard would really check (not the plan's own `loads()`, which rounds a split host's
//! pieces and cannot see how `hash(url) % pieces` falls). No URL string is kept, so 10 million
//! URLs cost a few megabytes. Plain hashing (`hash(host) % S`, no split, no placement) is printed
//! next to it as the baseline.
//!
//! cargo run --release --example shard_balance -- --urls 10000000 --hosts 50000 --shards 20
//!
//! Exits 1 when the largest shard holds more than --max-ratio (default 1.15) times the mean.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use urlcheck::shard::{hash, Plan};

#[derive(Parser)]
#[command(about = "Shard balance of a Zipf-distributed URL list (no requests)")]
struct Args {
    /// URLs to draw.
    #[arg(long, default_value_t = 10_000_000)]
    urls: u64,
    /// Hosts the URLs are drawn over (rank 1 the most frequent).
    #[arg(long, default_value_t = 50_000)]
    hosts: usize,
    /// Shards to plan.
    #[arg(long, default_value_t = 20)]
    shards: u32,
    /// The Zipf exponent: the host of rank k has weight 1/k^EXPONENT.
    #[arg(long, default_value_t = 1.0)]
    zipf: f64,
    /// --per-host of the run: a host is split into at most this many pieces.
    #[arg(long, default_value_t = 8)]
    per_host: usize,
    /// Seed of the draws (both passes draw the same sequence from it).
    #[arg(long, default_value_t = 14)]
    seed: u64,
    /// Exit 1 when the largest shard holds more than this times the mean.
    #[arg(long, default_value_t = 1.15)]
    max_ratio: f64,
}

/// Host ranks drawn by inverting the cumulative distribution (a binary search per draw): exact
/// for any exponent, and the same sequence for the same seed.
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(hosts: usize, exponent: f64) -> Zipf {
        let mut sum = 0.0;
        let cumulative = (1..=hosts.max(1))
            .map(|k| {
                sum += (k as f64).powf(-exponent);
                sum
            })
            .collect();
        Zipf { cumulative }
    }

    /// `n` ranks (0 = the heaviest host) from `seed`.
    fn draws(&self, seed: u64, n: u64) -> impl Iterator<Item = usize> + '_ {
        let mut rng = StdRng::seed_from_u64(seed);
        let total = *self.cumulative.last().expect("at least one host");
        let last = self.cumulative.len() - 1;
        (0..n).map(move |_| {
            let u = rng.gen::<f64>() * total;
            self.cumulative.partition_point(|&c| c <= u).min(last)
        })
    }
}

fn host_of(rank: usize) -> String {
    format!("h{rank}.example:443")
}

/// The `i`th URL drawn, of the host of `rank`: distinct for every draw.
fn url_of(buf: &mut String, rank: usize, i: u64) {
    buf.clear();
    write!(buf, "https://h{rank}.example/page/{i}").expect("a String takes any write");
}

/// What the routing pass saw.
struct Routed {
    /// URLs each shard checks.
    urls: Vec<u64>,
    /// (shard, host rank) -> URLs, for the split hosts only.
    pieces: BTreeMap<(u32, usize), u64>,
}

fn route(args: &Args, zipf: &Zipf, plan: &Plan, hosts: &[String]) -> Routed {
    let split: Vec<bool> = hosts.iter().map(|h| plan.pieces(h) > 1).collect();
    let mut routed = Routed {
        urls: vec![0; args.shards as usize],
        pieces: BTreeMap::new(),
    };
    let mut buf = String::new();
    for (i, rank) in zipf.draws(args.seed, args.urls).enumerate() {
        url_of(&mut buf, rank, i as u64);
        let shard = plan.shard_of(&hosts[rank], &buf);
        routed.urls[shard as usize] += 1;
        if split[rank] {
            *routed.pieces.entry((shard, rank)).or_default() += 1;
        }
    }
    routed
}

fn main() -> ExitCode {
    let args = Args::parse();
    let clock = Instant::now();
    let zipf = Zipf::new(args.hosts, args.zipf);
    let hosts: Vec<String> = (0..args.hosts.max(1)).map(host_of).collect();

    let mut counts = vec![0u64; hosts.len()];
    for rank in zipf.draws(args.seed, args.urls) {
        counts[rank] += 1;
    }
    let seen = || {
        hosts
            .iter()
            .zip(&counts)
            .filter(|(_, &n)| n > 0)
            .map(|(h, &n)| (h.as_str(), n))
    };
    let planning = Instant::now();
    let plan = Plan::new(seen(), args.shards, args.per_host);
    let plan_time = planning.elapsed();

    let routed = route(&args, &zipf, &plan, &hosts);
    let mut plain = vec![0u64; args.shards as usize];
    for (host, n) in seen() {
        plain[(hash(host) % u64::from(args.shards)) as usize] += n;
    }
    let ratio = report(&args, &plan, &hosts, &routed, &plain, &counts);
    print_times(&args, seen().count(), plan_time, clock.elapsed());
    if ratio > args.max_ratio {
        println!("MISS max/mean {ratio:.4} > {}", args.max_ratio);
        return ExitCode::FAILURE;
    }
    println!("PASS max/mean {ratio:.4} <= {}", args.max_ratio);
    ExitCode::SUCCESS
}

/// Prints the table and the summary lines; returns the plan's max/mean.
fn report(
    args: &Args,
    plan: &Plan,
    hosts: &[String],
    routed: &Routed,
    plain: &[u64],
    counts: &[u64],
) -> f64 {
    let mean = args.urls as f64 / f64::from(args.shards);
    println!(
        "{} URLs, {} hosts (Zipf {}), {} shards, --per-host {}, seed {}: mean {} URLs a shard",
        group(args.urls),
        group(args.hosts as u64),
        args.zipf,
        args.shards,
        args.per_host,
        args.seed,
        group(mean.round() as u64),
    );
    println!(
        "{:>5} {:>11} {:>7} {:>11} {:>11} {:>7}  split hosts here: host (pieces, per-host limit) URLs",
        "shard", "URLs", "/mean", "planned", "plain hash", "/mean"
    );
    for shard in 0..args.shards {
        let s = shard as usize;
        let here: Vec<String> = routed
            .pieces
            .range((shard, 0)..(shard + 1, 0))
            .map(|(&(_, rank), &n)| {
                let host = &hosts[rank];
                let (pieces, limit) = (plan.pieces(host), plan.per_host(host, args.per_host));
                format!("{host} ({pieces}, {limit}) {}", group(n))
            })
            .collect();
        let line = format!(
            "{:>5} {:>11} {:>7.4} {:>11} {:>11} {:>7.4}  {}",
            shard + 1,
            group(routed.urls[s]),
            routed.urls[s] as f64 / mean,
            group(plan.loads()[s]),
            group(plain[s]),
            plain[s] as f64 / mean,
            here.join(", ")
        );
        println!("{}", line.trim_end());
    }
    let split_hosts: std::collections::BTreeSet<usize> =
        routed.pieces.keys().map(|&(_, r)| r).collect();
    let heaviest = counts.iter().max().copied().unwrap_or(0);
    println!(
        "split: {} host{} into {} pieces; the heaviest host has {} URLs ({:.2}x the mean)",
        split_hosts.len(),
        if split_hosts.len() == 1 { "" } else { "s" },
        routed.pieces.len(),
        group(heaviest),
        heaviest as f64 / mean
    );
    let spread = |loads: &[u64]| {
        let max = loads.iter().copied().max().unwrap_or(0) as f64 / mean;
        let min = loads.iter().copied().min().unwrap_or(0) as f64 / mean;
        (max, min)
    };
    let (max, min) = spread(&routed.urls);
    let (plain_max, plain_min) = spread(plain);
    let (planned_max, _) = spread(plan.loads());
    println!(
        "plan:       max/mean {max:.4}  min/mean {min:.4}  (planned max/mean {planned_max:.4})"
    );
    println!("plain hash: max/mean {plain_max:.4}  min/mean {plain_min:.4}");
    max
}

fn print_times(args: &Args, seen: usize, plan_time: Duration, total: Duration) {
    println!(
        "Plan::new: {:.1} ms for {} host:ports; whole run (2 passes of {} draws): {:.2} s",
        plan_time.as_secs_f64() * 1000.0,
        group(seen as u64),
        group(args.urls),
        total.as_secs_f64()
    );
}

/// 10000000 -> "10,000,000".
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
