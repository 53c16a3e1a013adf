//! The synthetic history of `bench/history`: writes URLS URLs checked every EVERY seconds for
//! RUNS runs (ending now) into DB through urlcheck's own recording path, then times what a new
//! run reads before its first request.
//!
//! cargo run --release --example history_synth -- DB URLS RUNS EVERY

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use urlcheck::history::{load_state, synthesize, Synthetic};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [db, urls, runs, every] = args.as_slice() else {
        anyhow::bail!("usage: history_synth DB URLS RUNS EVERY_SECONDS");
    };
    let db = PathBuf::from(db);
    let spec = Synthetic {
        urls: urls.parse().context("URLS")?,
        runs: runs.parse().context("RUNS")?,
        every: Duration::from_secs(every.parse().context("EVERY")?),
        end: SystemTime::now(),
        seed: 11,
    };
    let clock = Instant::now();
    let mut times = Vec::with_capacity(spec.runs);
    synthesize(&db, &spec, |t| {
        times.push(t);
        if times.len() % 1000 == 0 {
            eprintln!("  {} runs", times.len());
        }
    })?;
    let total = clock.elapsed();
    let first: Vec<String> = times
        .iter()
        .take(3)
        .map(|t| format!("{:.1}", ms(*t)))
        .collect();
    println!("first_runs_ms {}", first.join(" "));
    times.sort();
    let results = spec.urls * spec.runs;
    let bytes = std::fs::metadata(&db)?.len();
    println!("results {results}");
    println!("write_s {:.3}", total.as_secs_f64());
    println!("run_median_ms {:.3}", ms(times[times.len() / 2]));
    println!("run_max_ms {:.3}", ms(*times.last().expect("a run")));
    println!("file_bytes {bytes}");
    println!("bytes_per_result {:.2}", bytes as f64 / results as f64);
    for _ in 0..3 {
        let clock = Instant::now();
        let known = load_state(&db)?;
        println!("state_ms {:.3} ({known} URLs)", ms(clock.elapsed()));
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
