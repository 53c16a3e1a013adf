//! A synthetic history, for the benchmark (`bench/history`): `urls` URLs checked every
//! `every` for `runs` runs, written through the very annotate-and-commit path a real run
//! takes, so its size and its speed are the real ones. Not used by the binary.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Result;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{Recorder, RunRecord};
use crate::model::{Check, CheckError, ErrorKind, Outcome, Source, UrlResult};

/// The shape of a synthetic history.
#[derive(Debug, Clone)]
pub struct Synthetic {
    pub urls: usize,
    pub runs: usize,
    pub every: Duration,
    /// When the last run starts.
    pub end: SystemTime,
    pub seed: u64,
}

/// Writes `spec` into the database at `path` (created when missing), calling `each` with the
/// time each run's recording took (annotating its results and committing them).
pub fn synthesize(path: &Path, spec: &Synthetic, mut each: impl FnMut(Duration)) -> Result<()> {
    let steps = u32::try_from(spec.runs.saturating_sub(1)).unwrap_or(u32::MAX);
    let start = spec.end - spec.every * steps;
    let mut recorder = Recorder::open(path, start)?;
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let urls: Vec<String> = (0..spec.urls)
        .map(|i| format!("https://host{}.test/page/{i}", i % 50))
        .collect();
    // Most URLs fail now and then, one in twenty flaps, one in a hundred stays down.
    let rates: Vec<f64> = (0..spec.urls)
        .map(|i| match i % 100 {
            0 => 1.0,
            1..=5 => 0.3,
            _ => 0.002,
        })
        .collect();
    let file: Arc<str> = Arc::from("urls.txt");
    for k in 0..spec.runs {
        let started = start + spec.every * k as u32;
        recorder.next_run(started);
        let clock = std::time::Instant::now();
        let mut counts = [0u64; 6];
        for (i, url) in urls.iter().enumerate() {
            let failed = rng.gen_bool(rates[i]);
            let mut r = result(
                url,
                failed,
                &mut rng,
                Source::line(file.clone(), i as u64 + 1),
            );
            counts[r.check.outcome as usize] += 1;
            recorder.annotate(&mut r);
        }
        let run = RunRecord {
            finished: started + Duration::from_secs(2),
            settings: "{}".into(),
            counts,
            interrupted: false,
        };
        recorder.commit(&run, None)?;
        each(clock.elapsed());
    }
    Ok(())
}

/// Reads what a new run needs from the database at `path` (the state of every URL it knows),
/// as a run does before its first request; returns how many URLs it knows.
pub fn load_state(path: &Path) -> Result<usize> {
    Ok(Recorder::open(path, SystemTime::now())?.known_urls())
}

fn result(url: &str, failed: bool, rng: &mut StdRng, source: Source) -> UrlResult {
    let (outcome, status, error) = match (failed, rng.gen_range(0..4)) {
        (false, _) => (Outcome::Up, Some(200), None),
        (true, 0) => (
            Outcome::Error,
            None,
            Some(CheckError::new(ErrorKind::Timeout, "timed out")),
        ),
        (true, _) => (Outcome::Down, Some(404), None),
    };
    let mut check = Check::not_fetched(outcome, error);
    check.status = status;
    check.attempts = 1;
    let ms = rng.gen_range(5..400);
    check.elapsed = Duration::from_millis(ms);
    check.ttfb = Some(Duration::from_millis(ms * 4 / 5));
    UrlResult {
        url: url.to_owned(),
        sources: vec![source],
        check,
        duplicate: false,
        history: None,
    }
}
