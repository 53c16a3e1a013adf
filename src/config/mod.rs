//! The validated settings the core reads: [`Config`] and the pool's [`Limits`]. The command
//! line and urlcheck.toml are turned into a `Config` on the clap side (`cli/`); nothing here
//! knows of clap or TOML. The file's `[[host]]` and `[[expect]]` tables are in `scope.rs`.

mod scope;

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Method;

use crate::fdlimit;
use crate::input::Rules;
use crate::model::{FailOn, Mode, StatusSet};
use crate::report::Format;
use crate::shard::{Shard, Sharding};

pub(crate) use scope::{
    ExpectTable, Expectation, Expects, HostPattern, HostScope, HostTable, Hosts, BODY_LIMIT,
};

/// GitHub Actions output.
#[derive(Debug, Clone)]
pub(crate) struct Github {
    /// `$GITHUB_STEP_SUMMARY`, where the Markdown summary is appended.
    pub step_summary: Option<PathBuf>,
}

/// What one check needs to know.
#[derive(Debug, Clone)]
pub(crate) struct CheckSettings {
    /// Deadline for one attempt, up to and including the response headers.
    pub timeout: Duration,
    /// One URL's budget over all its attempts, hops and waits, from its first request.
    pub max_time: Duration,
    /// `--max-time` was given: a host table's longer `timeout` does not lengthen the budget.
    pub max_time_set: bool,
    /// Deadline for the connection: the lookup, TCP and TLS.
    pub connect_timeout: Duration,
    /// Deadline for one name lookup, A and AAAA together, with either resolver; at most
    /// `connect_timeout`, which includes it.
    pub dns_timeout: Duration,
    /// Extra attempts for transient failures, per hop of a redirect chain.
    pub retries: u32,
    /// Redirects followed at most.
    pub max_redirects: u32,
    /// Statuses that count as up.
    pub accept: StatusSet,
    /// GET or HEAD: the method of a URL's first request chain.
    pub method: Method,
    /// `-X head,get`: when the HEAD chain ends in 405, 501 or a status not accepted, the URL
    /// is checked again with GET, within the same `max_time`, and GET's answer decides.
    pub get_fallback: bool,
    /// Extra headers, marked sensitive; only their names are ever shown.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The User-Agent header.
    pub user_agent: String,
    /// Accept invalid certificates.
    pub insecure: bool,
    /// CA certificates trusted beside the built-in and the system's roots (`--cacert`).
    pub roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// Names resolved without DNS.
    pub resolve: Vec<(String, SocketAddr)>,
    /// Ask this DNS server instead of the system resolver.
    pub dns_server: Option<SocketAddr>,
    /// `--proxy`: every request through it (NO_PROXY's hosts excepted).
    pub proxy: Option<url::Url>,
    /// `--no-proxy`: the proxy variables of the environment are ignored.
    pub no_proxy: bool,
    /// Read the body of HTML pages for their anchors (`--check-fragments`).
    pub check_fragments: bool,
    /// `--cert-expiry`: an https URL whose certificate expires within this is down.
    pub cert_expiry: Option<Duration>,
    /// urlcheck.toml's `[[host]]` tables: settings for the requests to some hosts.
    pub hosts: Hosts,
    /// urlcheck.toml's `[[expect]]` tables: what the answers of some URLs must hold.
    pub expects: Expects,
}

impl CheckSettings {
    /// The budget of a URL whose requests time out after `timeout`: `--max-time`, or when it
    /// was not given, the default made long enough for a host table's longer `timeout`.
    pub(crate) fn max_time_for(&self, timeout: Duration) -> Duration {
        if self.max_time_set {
            self.max_time
        } else {
            self.max_time.max(timeout)
        }
    }
}

/// Everything a run needs, validated.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// Input arguments: files, `-`, or URLs.
    pub inputs: Vec<String>,
    /// The urlcheck.toml read, as named.
    pub file: Option<PathBuf>,
    /// `--shard K/N`: which shard this run is; once the inputs are surveyed, the plan is
    /// `rules.shard` (the input thread keeps only the shard's items by it).
    pub shard_of: Option<Shard>,
    /// How inputs are read and what their URLs become: `--exclude`, `--remap`,
    /// `--input-format`, `--root-dir`... (`input::Rules`).
    pub rules: Rules,
    /// Requests in flight at most (concurrent mode).
    pub concurrency: usize,
    /// Requests in flight per host:port at most (concurrent mode).
    pub per_host: usize,
    /// Idle connections kept open at most, over all hosts: what the open-file limit leaves
    /// after the requests in flight (`fdlimit`).
    pub idle: usize,
    /// Concurrent, sequential, or both compared.
    pub mode: Mode,
    /// What every check needs to know, shared by the checks of both modes.
    pub check: Arc<CheckSettings>,
    /// What goes to stdout.
    pub format: Format,
    /// Report files to write atomically when the run ends.
    pub reports: Vec<(Format, PathBuf)>,
    /// What makes the exit code 1.
    pub fail_on: FailOn,
    /// `--history`: the database the run is recorded in.
    pub history: Option<HistorySettings>,
    /// `--canary`: URLs checked before the list; when none is up, the run stops (exit 3).
    pub canaries: Vec<url::Url>,
    /// Annotations and a step summary for GitHub Actions.
    pub github: Option<Github>,
    /// Human format: only failures and the summary.
    pub quiet: bool,
    /// Human format: a line of phase timings under each URL.
    pub verbose: bool,
    /// Colour on stdout.
    pub color: bool,
    /// A progress bar on stderr.
    pub progress: bool,
}

impl Config {
    /// Lowers the concurrency to what the open-file limit allows (and says so), and sizes the
    /// idle pool to what is left.
    pub(crate) fn fit_descriptors(&mut self) {
        let fit = fdlimit::fit(self.concurrency);
        if let Some(limit) = fit.lowered_by {
            let _ = writeln!(
                io::stderr(),
                "urlcheck: lowering --concurrency from {} to {}: only {limit} files may be open \
                 (raise the limit with `ulimit -n`)",
                self.concurrency,
                fit.concurrency
            );
        }
        self.concurrency = fit.concurrency;
        self.idle = fit.idle;
    }

    /// The limits a run in `mode` uses: the baseline is the same path with one slot.
    pub(crate) fn limits(&self, mode: Mode) -> Limits {
        match mode {
            Mode::Sequential => Limits::SEQUENTIAL,
            Mode::Concurrent | Mode::Compare => Limits {
                concurrency: self.concurrency,
                per_host: self.per_host,
                split: self.rules.shard.clone(),
            },
        }
    }
}

/// What `urlcheck merge` was asked, clap's part done.
#[derive(Debug)]
pub(crate) struct Merge {
    pub reports: Vec<PathBuf>,
    pub format: Format,
    pub files: Vec<(Format, PathBuf)>,
    pub fail_on: FailOn,
    pub history: Option<PathBuf>,
    pub allow_partial: bool,
    pub quiet: bool,
    pub color: bool,
    pub github: Option<Github>,
}

/// Where the run history is kept, and for how long.
#[derive(Debug, Clone)]
pub(crate) struct HistorySettings {
    pub path: PathBuf,
    /// `--history-keep`: runs older than this are forgotten at the end of a run.
    pub keep: Option<Duration>,
}

/// The pool's limits.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// Checks in flight at most.
    pub concurrency: usize,
    /// Checks in flight per host:port at most.
    pub per_host: usize,
    /// `--shard`: a host split over several shards has its share of `per_host` on each.
    pub split: Option<Arc<Sharding>>,
}

impl Limits {
    pub(crate) const SEQUENTIAL: Limits = Limits {
        concurrency: 1,
        per_host: 1,
        split: None,
    };
}
