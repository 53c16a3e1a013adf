//! Open files are a budget: every request in flight holds a socket, and idle pooled connections
//! hold more. Before a run, raise the soft limit as far as the hard limit allows; if the budget
//! still cannot cover the concurrency asked for, lower the concurrency (and say so) rather than
//! let URLs fail with "too many open files".

/// Descriptors kept aside for stdio, input and report files, DNS sockets and the runtime.
const RESERVE: u64 = 64;

/// Sockets per slot: the request in flight plus, roughly, one idle pooled connection.
const PER_SLOT: u64 = 2;

/// The concurrency that fits the open-file limit, after trying to raise that limit.
/// Returns `(concurrency, Some(limit))` when it had to lower the concurrency.
pub fn fit(concurrency: usize) -> (usize, Option<u64>) {
    let want = concurrency as u64 * PER_SLOT + RESERVE;
    let limit = raise_to(want);
    match limit {
        Some(limit) if limit < want => {
            let fits = (limit.saturating_sub(RESERVE) / PER_SLOT).max(1);
            (fits as usize, Some(limit))
        }
        _ => (concurrency, None),
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
        assert_eq!(fit(4), (4, None));
    }
}
