//! Open files are a budget: every request in flight holds a socket, and idle pooled connections
//! hold more. Before a run, raise the soft limit as far as the hard limit allows; if the budget
//! still cannot cover the concurrency asked for, lower the concurrency (and say so) rather than
//! let URLs fail with "too many open files". What is left after the requests in flight is how
//! many idle connections the pool may keep, over all hosts together.

/// Descriptors kept aside for stdio, input and report files, DNS sockets and the runtime.
const RESERVE: u64 = 64;

/// Sockets per slot at the least: the request in flight plus one idle pooled connection.
const PER_SLOT: u64 = 2;

/// Idle connections kept at most: twice the concurrency, and at least this many so that a list
/// that comes back to a few hundred hosts in turn still reuses their connections (a cap below
/// the hosts in turn reuses none); fewer only when the limit says so. Each one costs memory
/// too (some 20 KiB), so the pool never grows with the number of hosts.
const IDLE_FLOOR: u64 = 1024;

fn idle_wanted(concurrency: u64) -> u64 {
    (concurrency * 2).max(IDLE_FLOOR)
}

/// What the open-file limit allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fit {
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Idle pooled connections kept at most, over all hosts.
    pub idle: usize,
    /// The open-file limit, when it made the concurrency lower than asked.
    pub lowered_by: Option<u64>,
}

/// The concurrency and idle connections that fit the open-file limit, after trying to raise
/// that limit.
pub fn fit(concurrency: usize) -> Fit {
    let c = concurrency as u64;
    let limit = raise_to(RESERVE + c + idle_wanted(c));
    budget(concurrency, limit)
}

/// The budget under `limit` (unknown: as asked).
fn budget(concurrency: usize, limit: Option<u64>) -> Fit {
    let c = concurrency as u64;
    let Some(limit) = limit else {
        return Fit {
            concurrency,
            idle: idle_wanted(c) as usize,
            lowered_by: None,
        };
    };
    let (fits, lowered_by) = if c * PER_SLOT + RESERVE > limit {
        let fits = (limit.saturating_sub(RESERVE) / PER_SLOT).max(1);
        (fits, Some(limit))
    } else {
        (c, None)
    };
    let idle = limit
        .saturating_sub(RESERVE + fits)
        .clamp(1, idle_wanted(c));
    Fit {
        concurrency: fits as usize,
        idle: idle as usize,
        lowered_by,
    }
}

/// Raises the soft limit towards `want`; the limit in force, or `None` if it is unknown.
#[cfg(unix)]
fn raise_to(want: u64) -> Option<u64> {
    match rlimit::increase_nofile_limit(want) {
        Ok(limit) => Some(limit),
        Err(_) => rlimit::getrlimit(rlimit::Resource::NOFILE)
            .ok()
            .map(|(soft, _)| soft),
    }
}

#[cfg(not(unix))]
fn raise_to(_want: u64) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_concurrency_always_fits() {
        assert_eq!(fit(4).concurrency, 4);
        assert_eq!(fit(4).lowered_by, None);
    }

    #[test]
    fn the_idle_pool_gets_what_the_requests_leave() {
        // The default concurrency under `ulimit -n 1024`: all of it, and what is left idle.
        let f = budget(64, Some(1024));
        assert_eq!((f.concurrency, f.idle, f.lowered_by), (64, 896, None));
        assert_eq!(budget(64, Some(1 << 20)).idle, 1024);
        // A high concurrency keeps twice its number idle when the limit allows...
        assert_eq!(budget(1000, Some(1 << 20)).idle, 2000);
        // ... and what is left otherwise, never less than one.
        assert_eq!(budget(400, Some(1024)).idle, 560);
        let f = budget(5000, Some(1024));
        assert_eq!((f.concurrency, f.lowered_by), (480, Some(1024)));
        assert_eq!(f.idle, 480);
        let f = budget(64, Some(70));
        assert_eq!((f.concurrency, f.idle), (3, 3));
        assert_eq!(budget(1, Some(64)).idle, 1);
        // An unknown limit changes nothing.
        assert_eq!(budget(64, None).idle, 1024);
    }
}
