//! A URL's derived state, and the one step that takes it from its last check to this one:
//! the run's annotations and the recording both take it, so what a report says and what the
//! database keeps cannot disagree.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::model::{History, State};

/// What the database keeps of one URL beside its results (a row of `urls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Known {
    /// The row's id; 0 before it is written.
    pub id: i64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub last_up: Option<i64>,
    pub last_failure: Option<i64>,
    /// When it last went from up to failing or back (its first check, at first).
    pub last_change: i64,
    pub failing_since: Option<i64>,
    pub consecutive_failures: u32,
    /// Bit `i` is set when its `i`-th latest check failed (bit 0: the last one).
    pub recent: u64,
    pub checks: u32,
    pub state: State,
    /// Its checks of the last UTC day it was checked on; a day is written to the `daily`
    /// table when the next one begins, so a run updates one row per URL, not two.
    pub day: Day,
    /// When the run that last stepped it started, in milliseconds: a run that started
    /// earlier and records later must not step over it (seconds would tie).
    pub seen_ms: i64,
}

/// One URL's checks of one UTC day, summed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Day {
    /// Days since 1970-01-01.
    pub day: i64,
    pub checks: i64,
    pub ups: i64,
    pub elapsed_us: i64,
    pub max_us: i64,
}

impl Day {
    /// Adds a check made on `day`; returns the day it finishes, when `day` is another one.
    pub(crate) fn add(&mut self, day: i64, up: bool, elapsed_us: i64) -> Option<Day> {
        let finished = (self.checks > 0 && self.day != day).then_some(*self);
        if self.checks == 0 || self.day != day {
            *self = Day {
                day,
                ..Day::default()
            };
        }
        // Saturating: the sums come from the database, which may have been edited by hand.
        self.checks = self.checks.saturating_add(1);
        self.ups = self.ups.saturating_add(i64::from(up));
        self.elapsed_us = self.elapsed_us.saturating_add(elapsed_us);
        self.max_us = self.max_us.max(elapsed_us);
        finished
    }
}

/// Takes `prior` (`None`: never checked) to a check at `now` (unix seconds) that `failed`.
pub(crate) fn step(prior: Option<&Known>, failed: bool, now: i64) -> Known {
    let Some(p) = prior else {
        return Known {
            id: 0,
            first_seen: now,
            last_seen: now,
            last_up: (!failed).then_some(now),
            last_failure: failed.then_some(now),
            last_change: now,
            failing_since: failed.then_some(now),
            consecutive_failures: u32::from(failed),
            recent: u64::from(failed),
            checks: 1,
            state: State::First,
            day: Day::default(),
            seen_ms: 0,
        };
    };
    let was_failing = p.recent & 1 == 1;
    let recent = (p.recent << 1) | u64::from(failed);
    let checks = p.checks.saturating_add(1);
    let state = if changes(recent, checks) >= History::FLAP_CHANGES {
        State::Flapping
    } else {
        match (was_failing, failed) {
            (false, true) => State::New,
            (true, true) => State::Still,
            (true, false) => State::Recovered,
            (false, false) => State::Steady,
        }
    };
    Known {
        id: p.id,
        first_seen: p.first_seen,
        last_seen: now,
        last_up: if failed { p.last_up } else { Some(now) },
        last_failure: if failed { Some(now) } else { p.last_failure },
        last_change: if was_failing != failed {
            now
        } else {
            p.last_change
        },
        failing_since: match (failed, was_failing) {
            (false, _) => None,
            (true, true) => p.failing_since.or(Some(now)),
            (true, false) => Some(now),
        },
        consecutive_failures: if failed {
            p.consecutive_failures.saturating_add(1)
        } else {
            0
        },
        recent,
        checks,
        state,
        day: p.day,
        seen_ms: p.seen_ms,
    }
}

/// Changes between up and failing over the last [`History::FLAP_WINDOW`] checks.
pub(crate) fn changes(recent: u64, checks: u32) -> u32 {
    let window = checks.min(History::FLAP_WINDOW).min(64);
    if window < 2 {
        return 0;
    }
    let pairs = (1u64 << (window - 1)) - 1;
    ((recent ^ (recent >> 1)) & pairs).count_ones()
}

impl Known {
    /// What the reports show of it.
    pub(crate) fn view(&self) -> History {
        History {
            state: self.state,
            consecutive_failures: self.consecutive_failures,
            failing_since: self.failing_since.map(time),
            last_up: self.last_up.map(time),
        }
    }
}

/// Unix seconds as a time, within 1970..=9999 (what RFC 3339 can write): a database edited
/// by hand may hold anything.
pub(crate) fn time(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs.clamp(0, LAST_SECOND) as u64)
}

/// 9999-12-31T23:59:59Z.
pub(crate) const LAST_SECOND: i64 = 253_402_300_799;

/// A time as unix seconds.
pub(crate) fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A time as unix milliseconds.
pub(crate) fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis().min(i64::MAX as u128) as i64)
}

/// The states' numbers in the database: never renumbered.
pub(crate) fn state_code(s: State) -> i64 {
    match s {
        State::First => 0,
        State::New => 1,
        State::Still => 2,
        State::Recovered => 3,
        State::Steady => 4,
        State::Flapping => 5,
    }
}

pub(crate) fn state_from_code(n: i64) -> State {
    match n {
        0 => State::First,
        1 => State::New,
        2 => State::Still,
        3 => State::Recovered,
        5 => State::Flapping,
        _ => State::Steady,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The states of a URL over checks that failed as `runs` says (`x` failed, `.` up).
    fn states(runs: &str) -> Vec<State> {
        let mut known: Option<Known> = None;
        let mut out = Vec::new();
        for (t, c) in runs.chars().enumerate() {
            let next = step(known.as_ref(), c == 'x', t as i64 * 300);
            out.push(next.state);
            known = Some(next);
        }
        out
    }

    #[test]
    fn each_state_from_the_last_check() {
        use State::*;
        assert_eq!(states(".x."), [First, New, Recovered]);
        assert_eq!(states("xxx.."), [First, Still, Still, Recovered, Steady]);
        assert_eq!(states("x"), [First]);
    }

    #[test]
    fn three_changes_in_ten_checks_is_flapping() {
        use State::*;
        // up, down, up, down: the third change makes it flapping...
        assert_eq!(states(".x.x"), [First, New, Recovered, Flapping]);
        // ...and it stays so until the changes slide out of its last ten checks: four
        // changes (between checks 0-1, 1-2, 2-3, 3-4), three of them still in the ten
        // checks that end at check 10, two in those that end at check 11.
        let calm = states(".x.x..........");
        assert_eq!(calm[3..=10], [Flapping; 8]);
        assert_eq!(calm[11..], [Steady; 3]);
    }

    #[test]
    fn streaks_and_times() {
        let mut k = step(None, false, 100);
        assert_eq!((k.last_up, k.failing_since), (Some(100), None));
        k = step(Some(&k), true, 200);
        k = step(Some(&k), true, 300);
        assert_eq!(k.consecutive_failures, 2);
        assert_eq!(k.failing_since, Some(200));
        assert_eq!(
            (k.last_up, k.last_failure, k.last_change),
            (Some(100), Some(300), 200)
        );
        let h = k.view();
        assert_eq!(h.state, State::Still);
        assert!(!h.is_news());
        k = step(Some(&k), false, 400);
        assert_eq!(
            (k.consecutive_failures, k.failing_since, k.last_up),
            (0, None, Some(400))
        );
        assert_eq!(k.checks, 4);
    }

    #[test]
    fn news_is_new_or_failing_at_first_sight() {
        assert!(step(None, true, 0).view().is_news());
        assert!(!step(None, false, 0).view().is_news());
        let up = step(None, false, 0);
        assert!(step(Some(&up), true, 1).view().is_news());
    }

    #[test]
    fn a_day_is_finished_when_the_next_begins() {
        let mut d = Day::default();
        assert_eq!(d.add(10, true, 5), None);
        assert_eq!(d.add(10, false, 9), None);
        let finished = d.add(11, true, 1).unwrap();
        assert_eq!((finished.day, finished.checks, finished.ups), (10, 2, 1));
        assert_eq!((finished.elapsed_us, finished.max_us), (14, 9));
        assert_eq!((d.day, d.checks, d.ups, d.max_us), (11, 1, 1, 1));
    }

    /// Review: a day's sums read from a hand-edited row (`urls.day_elapsed_us` near
    /// i64::MAX) make the next run's recording thread panic in a debug build ("attempt to add
    /// with overflow", then pass.rs's `expect`), and wrap to a negative mean in release.
    #[test]
    fn day_sums_from_a_hostile_row_do_not_overflow() {
        let mut d = Day {
            day: 10,
            checks: 1,
            ups: 1,
            elapsed_us: i64::MAX,
            max_us: 0,
        };
        let added = std::panic::catch_unwind(move || {
            d.add(10, true, 5);
            d
        });
        let d = added.expect("no overflow panic");
        assert!(d.elapsed_us >= 0, "{d:?}");
    }

    #[test]
    fn codes_round_trip() {
        for s in State::ALL {
            assert_eq!(state_from_code(state_code(s)), s);
        }
    }
}
