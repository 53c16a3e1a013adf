//! Descriptors (issue 9, point 11): under a hard open-file limit of 1024, a list over thousands
//! of distinct host:ports is checked in full, because idle connections are bounded over all
//! hosts rather than kept per host; and descriptors that run out anyway (taken by someone
//! else) are waited for, never reported as the URL's failure. The servers are a grid of
//! listeners on 127.0.0.1..=127.0.0.250 (`examples/fixture/grid.rs`); this test process
//! raises its own limit to hold them, urlcheck runs under `setrlimit(RLIMIT_NOFILE, 1024)`.
//! The 15,000-host run and the peak RSS are in `bench/soak`.

mod common;

use std::os::unix::process::CommandExt;
use std::process::Command;

use tempfile::TempDir;

use common::fixture::grid::Grid;
use common::{lines, no_panic, run, urlcheck_std, write_list, Run, RUN_LIMIT};

/// The grid, on a runtime the test owns; stopped on drop.
struct GridServer {
    grid: Option<Grid>,
    runtime: tokio::runtime::Runtime,
}

impl GridServer {
    fn start(n: usize) -> GridServer {
        raise_own_limit(n as u64 + 2048);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("build the grid's runtime");
        let grid = runtime
            .block_on(Grid::with_at_least(n))
            .expect("start the grid");
        GridServer {
            grid: Some(grid),
            runtime,
        }
    }

    fn grid(&self) -> &Grid {
        self.grid.as_ref().expect("running")
    }

    /// `n` URLs, one per host:port, `rounds` times over.
    fn urls(&self, n: usize, rounds: usize) -> Vec<String> {
        let addrs = &self.grid().addrs()[..n];
        (0..rounds)
            .flat_map(|r| addrs.iter().map(move |a| format!("http://{a}/r{r}")))
            .collect()
    }
}

impl Drop for GridServer {
    fn drop(&mut self) {
        if let Some(grid) = self.grid.take() {
            self.runtime.block_on(grid.shutdown());
        }
    }
}

/// This process holds a listener per host:port: it needs `need` descriptors, and fails
/// loudly when the hard limit does not allow that.
fn raise_own_limit(need: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls on a local struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        assert!(
            lim.rlim_max >= need,
            "this test needs {need} open files, the hard limit is {} (raise it with ulimit -Hn)",
            lim.rlim_max
        );
        if lim.rlim_cur < need {
            lim.rlim_cur = need;
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
        }
    }
}

/// urlcheck under a hard open-file limit of `limit`, starting with all but `free` of those
/// descriptors already taken (inherited, as from a careless parent).
fn limited(limit: u64, free: Option<u64>) -> assert_cmd::Command {
    let mut cmd: Command = urlcheck_std();
    // SAFETY: only async-signal-safe calls (setrlimit, dup2) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // Onto fixed numbers: the lowest free ones now are not the lowest free after exec,
            // which closes this process's close-on-exec descriptors (the grid's listeners).
            if let Some(free) = free {
                for fd in 3..(limit - free) as i32 {
                    if libc::dup2(2, fd) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
            }
            Ok(())
        });
    }
    let mut cmd = assert_cmd::Command::from_std(cmd);
    cmd.timeout(RUN_LIMIT);
    cmd
}

#[track_caller]
fn assert_all_up(out: &Run, n: u64) {
    no_panic(out);
    let all = out.all_output().to_ascii_lowercase();
    assert!(
        !all.contains("too many open files") && !all.contains("os error 24"),
        "a URL was blamed for a local fault:\n{}",
        &out.stderr
    );
    out.assert_code(0);
    let doc = out.json();
    assert_eq!(doc["summary"]["up"], n, "{:#}", doc["summary"]);
}

/// 5,000 distinct host:ports with the default concurrency (64) under `ulimit -n 1024`: every
/// URL is up, and the server never saw more connections open at once than the concurrency
/// and the idle budget allow (5,000 kept-alive connections before).
#[test]
fn five_thousand_distinct_hosts_fit_a_hard_limit_of_1024() {
    let n = 5000;
    let srv = GridServer::start(n);
    let dir = TempDir::new().unwrap();
    let list = write_list(dir.path(), "hosts.txt", lines(&srv.urls(n, 1)));
    let out = run(limited(1024, None).args(["--format", "json"]).arg(&list));
    assert_all_up(&out, n as u64);
    let grid = srv.grid();
    assert_eq!(grid.requests(), n as u64);
    let open = grid.max_open();
    assert!(open <= 64 + 256, "{open} connections open at once");
    eprintln!(
        "{n} hosts in {:?}: {} connections, at most {open} open at once",
        out.elapsed,
        grid.accepted()
    );
}

/// All but 48 of 1024 descriptors are taken before urlcheck starts, so it runs out with 64
/// checks in flight: it lowers the concurrency and says so, checks that found no descriptor
/// wait for one, and every URL of 400 hosts (each asked three times, so connections are
/// kept too) is up.
#[test]
fn descriptors_taken_by_someone_else_are_waited_for_not_failed() {
    let srv = GridServer::start(400);
    let dir = TempDir::new().unwrap();
    let urls = srv.urls(400, 3);
    let list = write_list(dir.path(), "hosts.txt", lines(&urls));
    let out = run(limited(1024, Some(48))
        .args(["--format", "json", "--retries", "0"])
        .arg(&list));
    assert_all_up(&out, urls.len() as u64);
    assert!(
        out.stderr.contains("out of file descriptors with"),
        "the run never ran short, so this test tested nothing:\n{}",
        out.stderr
    );
}
