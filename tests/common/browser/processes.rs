//! Ending a [`super::Browser`]'s processes: Chromium's helpers (zygotes, renderers, GPU,
//! utility and Crashpad processes) are found in /proc, held by pidfds, waited for without a
//! sleep loop and reaped by this process as their subreaper, so none outlives the drop,
//! not even as a zombie.
//!
//! Crashpad cannot simply be left out: with --disable-crashpad-for-testing, Chromium 148's
//! navigations never answer. Its handlers are found by the profile on their command line.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

/// Waits for each helper to exit (killing one still running at `deadline`) and reaps it.
/// The helpers outlive the browser by a moment and are then orphans; as the subreaper this
/// process inherits them, so reaping them here leaves no zombie.
pub fn end(helpers: &[Exit], deadline: Instant) {
    for helper in helpers {
        if !helper.wait(deadline) {
            helper.signal(libc::SIGKILL);
            helper.wait(Instant::now() + EXIT_LIMIT);
        }
        helper.reap();
    }
}

/// How long a browser and its helpers get to exit after SIGTERM before they are killed.
pub const EXIT_LIMIT: Duration = Duration::from_secs(10);

/// Makes this process the reaper of orphans among its descendants (PR_SET_CHILD_SUBREAPER):
/// Chromium's helpers are children of its zygotes and would otherwise go to init, which on
/// some machines (containers, micro-VMs) reaps late or never. Idempotent; only orphans of
/// this process's own children are affected, and [`super::Browser`]'s drop reaps the ones
/// it owns.
pub fn become_subreaper() {
    // SAFETY: prctl with integer arguments only.
    let done = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    assert_eq!(
        done,
        0,
        "prctl(PR_SET_CHILD_SUBREAPER): {}",
        std::io::Error::last_os_error()
    );
}

/// Every process below `pid`, from the parent links in /proc.
fn descendants(pid: u32) -> Vec<u32> {
    let links: Vec<(u32, u32)> = pids().filter_map(|p| Some((p, parent(p)?))).collect();
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let up = found[i];
        found.extend(links.iter().filter(|(_, pp)| *pp == up).map(|(p, _)| *p));
        i += 1;
    }
    found.remove(0);
    found
}

/// The parent of `pid`: the second field after the parenthesised command in /proc/PID/stat.
fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Every process of the browser `pid` with the profile `profile` but the browser itself:
/// those below it in /proc, and those that name the profile on their command line
/// (Crashpad's handlers are double-forked away from the browser, but their database is in
/// the profile).
pub fn helpers_of(pid: u32, profile: &Path) -> Vec<u32> {
    let mut found = descendants(pid);
    let profile = profile.as_os_str().as_encoded_bytes();
    for p in pids() {
        if p != pid && !found.contains(&p) && names(p, profile) {
            found.push(p);
        }
    }
    found
}

fn pids() -> impl Iterator<Item = u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
}

/// Whether the command line of `pid` contains `needle`.
fn names(pid: u32, needle: &[u8]) -> bool {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    cmdline.windows(needle.len()).any(|w| w == needle)
}

/// The helpers of the browser, each held by a pidfd while it still runs: from then on a
/// signal or a reap reaches that very process even if its number is reused.
pub fn helpers(browser: u32, profile: &Path) -> Vec<Exit> {
    let found = helpers_of(browser, profile);
    let needle = profile.as_os_str().as_encoded_bytes();
    found
        .iter()
        .filter_map(|&p| Exit::watch(p))
        // A number reused between the scan and the pidfd no longer belongs to the browser.
        .filter(|e| {
            let up = parent(e.pid);
            up == Some(browser) || up.is_some_and(|up| found.contains(&up)) || names(e.pid, needle)
        })
        .collect()
}

/// A process held through a pidfd: its exit wakes a poll (no sleep loop), and signals and
/// the reap go to that very process.
pub struct Exit {
    pid: u32,
    fd: OwnedFd,
}

impl Exit {
    /// None if the process is already gone.
    pub fn watch(pid: u32) -> Option<Exit> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        let fd = libc::c_int::try_from(fd).ok().filter(|fd| *fd >= 0)?;
        // SAFETY: a fresh fd that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Some(Exit { pid, fd })
    }

    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: pidfd_send_signal on our own pidfd, no siginfo.
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.fd.as_raw_fd(),
                signal,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
    }

    /// Waits until the process has exited or `deadline` passes; true if it exited.
    pub fn wait(&self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut poll = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let millis = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one pollfd, valid for the duration of the call.
        unsafe { libc::poll(&mut poll, 1, millis) == 1 }
    }

    /// Collects the exit status if the process has become this process's child (an orphan it
    /// inherited as subreaper); for any other process waitid just fails with ECHILD and its
    /// own parent reaps it. std's children are never touched: the pidfd names this one only.
    pub fn reap(&self) {
        // SAFETY: siginfo_t is plain data that waitid fills in.
        unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let id = self.fd.as_raw_fd() as libc::id_t;
            libc::waitid(libc::P_PIDFD, id, &mut info, libc::WEXITED | libc::WNOHANG);
        }
    }
}
