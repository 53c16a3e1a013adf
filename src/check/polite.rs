//! Politeness towards a host: a gate that holds every check of a host:port back while the
//! server has asked for a pause (`Retry-After`) and spaces its requests by a host table's
//! `interval`, and the backoff between retries otherwise.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use rand::Rng;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// A server's `Retry-After` is honoured up to this long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(10);

/// Shared by every check of one host:port, so that a server's `Retry-After` holds the whole
/// host back, not just the one URL that was told to wait.
#[derive(Debug)]
pub(crate) struct HostGate {
    epoch: Instant,
    /// Milliseconds after `epoch` before which nothing is sent to the host.
    not_before_ms: AtomicU64,
    /// The least time between the starts of two requests (a host table's `interval`).
    interval: Duration,
    /// When the next request may start, after `epoch`, in microseconds.
    next_turn_us: AtomicU64,
}

impl Default for HostGate {
    fn default() -> Self {
        HostGate::spaced(Duration::ZERO)
    }
}

impl HostGate {
    /// A gate that also keeps `interval` between the starts of two requests.
    pub(crate) fn spaced(interval: Duration) -> HostGate {
        HostGate {
            epoch: Instant::now(),
            not_before_ms: AtomicU64::new(0),
            interval,
            next_turn_us: AtomicU64::new(0),
        }
    }

    /// Takes the next turn to send a request, and says how long from now it comes: each turn
    /// is `interval` after the one before (zero when no interval is set).
    pub(crate) fn turn(&self) -> Duration {
        if self.interval.is_zero() {
            return Duration::ZERO;
        }
        let step = self.interval.as_micros() as u64;
        let now = self.epoch.elapsed().as_micros() as u64;
        let mut next = self.next_turn_us.load(Ordering::Acquire);
        loop {
            let mine = next.max(now);
            match self.next_turn_us.compare_exchange_weak(
                next,
                mine + step,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Duration::from_micros(mine - now),
                Err(seen) => next = seen,
            }
        }
    }

    /// Nothing goes to this host for `wait` from now (never shortens an earlier pause).
    pub(crate) fn pause_for(&self, wait: Duration) {
        let until = (self.epoch.elapsed() + wait).as_millis() as u64 + 1;
        self.not_before_ms.fetch_max(until, Ordering::AcqRel);
    }

    /// How long from now until the host may be asked again.
    pub(crate) fn remaining(&self) -> Duration {
        let until = Duration::from_millis(self.not_before_ms.load(Ordering::Acquire));
        until.saturating_sub(self.epoch.elapsed())
    }
}

/// Exponential backoff with jitter: somewhere in [d/2, d] for d = base * 2^retry, capped.
pub(crate) fn backoff(retry: u32) -> Duration {
    let d = BACKOFF_BASE
        .saturating_mul(1 << retry.min(16))
        .min(BACKOFF_CAP);
    let half = d / 2;
    half + rand::thread_rng().gen_range(Duration::ZERO..=half)
}

/// `Retry-After` as seconds or an HTTP date, capped at [`MAX_RETRY_AFTER`].
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(now)
            .unwrap_or(Duration::ZERO),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_are_an_interval_apart() {
        let gate = HostGate::spaced(Duration::from_millis(100));
        let waits: Vec<Duration> = (0..4).map(|_| gate.turn()).collect();
        assert!(waits[0] < Duration::from_millis(5), "{waits:?}");
        for pair in waits.windows(2) {
            let gap = pair[1].saturating_sub(pair[0]);
            assert!(gap > Duration::from_millis(95), "{waits:?}");
        }
        assert_eq!(HostGate::default().turn(), Duration::ZERO);
    }
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(2)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("3600"));
        assert_eq!(retry_after(&h, now), Some(MAX_RETRY_AFTER));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(5));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(5)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(5));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&past).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for retry in 0..30 {
            let d = backoff(retry);
            let full = BACKOFF_BASE
                .saturating_mul(1 << retry.min(16))
                .min(BACKOFF_CAP);
            assert!(d >= full / 2 && d <= full, "retry {retry}: {d:?}");
        }
    }

    #[test]
    fn a_pause_holds_and_is_never_shortened() {
        let gate = HostGate::default();
        assert_eq!(gate.remaining(), Duration::ZERO);
        gate.pause_for(Duration::from_secs(50));
        gate.pause_for(Duration::from_millis(1)); // never shortens
        assert!(gate.remaining() > Duration::from_secs(49));
    }
}
