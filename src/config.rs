//! The validated settings the core reads. Built once from [`crate::cli::Cli`]; the core never
//! sees clap.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use regex::RegexSet;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Method;

use crate::cli::{self, Cli};
use crate::status::{OutcomeSet, StatusSet};

/// How the list is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A pool of `concurrency` requests, at most `per_host` per host:port.
    Concurrent,
    /// The baseline: the same path with one slot.
    Sequential,
    /// Sequential, then concurrent, then a side-by-side table.
    Compare,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Concurrent => "concurrent",
            Mode::Sequential => "sequential",
            Mode::Compare => "compare",
        }
    }
}

/// An output format, for stdout or a report file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Jsonl,
    Junit,
    Markdown,
    Csv,
    Prometheus,
}

impl From<cli::Format> for Format {
    fn from(f: cli::Format) -> Self {
        match f {
            cli::Format::Human => Format::Human,
            cli::Format::Json => Format::Json,
            cli::Format::Jsonl => Format::Jsonl,
            cli::Format::Junit => Format::Junit,
            cli::Format::Markdown => Format::Markdown,
            cli::Format::Csv => Format::Csv,
            cli::Format::Prometheus => Format::Prometheus,
        }
    }
}

/// GitHub Actions output.
#[derive(Debug, Clone)]
pub struct Github {
    /// `$GITHUB_STEP_SUMMARY`, where the Markdown summary is appended.
    pub step_summary: Option<PathBuf>,
}

/// What one check needs to know.
#[derive(Debug, Clone)]
pub struct CheckSettings {
    /// Deadline for one attempt, up to and including the response headers.
    pub timeout: Duration,
    /// Deadline for the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Extra attempts for transient failures.
    pub retries: u32,
    /// Redirects followed at most.
    pub max_redirects: u32,
    /// Statuses that count as up.
    pub accept: StatusSet,
    /// GET or HEAD.
    pub method: Method,
    /// Extra headers, marked sensitive; only their names are ever shown.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The User-Agent header.
    pub user_agent: String,
    /// Accept invalid certificates.
    pub insecure: bool,
    /// Names resolved without DNS.
    pub resolve: Vec<(String, SocketAddr)>,
    /// Ask this DNS server instead of the system resolver.
    pub dns_server: Option<SocketAddr>,
}

/// Everything a run needs, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// Input arguments: files, `-`, or URLs.
    pub inputs: Vec<String>,
    /// URLs matching any of these are reported skipped and never requested.
    pub exclude: Option<RegexSet>,
    /// Requests in flight at most (concurrent mode).
    pub concurrency: usize,
    /// Requests in flight per host:port at most (concurrent mode).
    pub per_host: usize,
    pub mode: Mode,
    pub check: Arc<CheckSettings>,
    pub format: Format,
    /// Report files to write atomically when the run ends.
    pub reports: Vec<(Format, PathBuf)>,
    /// Outcomes that make the exit code 1.
    pub fail_on: OutcomeSet,
    /// Annotations and a step summary for GitHub Actions.
    pub github: Option<Github>,
    /// Human format: only failures and the summary.
    pub quiet: bool,
    /// Colour on stdout.
    pub color: bool,
    /// A progress bar on stderr.
    pub progress: bool,
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Config> {
        let mode = if cli.compare {
            Mode::Compare
        } else if cli.sequential {
            Mode::Sequential
        } else {
            Mode::Concurrent
        };
        let color = match cli.color {
            cli::ColorChoice::Always => true,
            cli::ColorChoice::Never => false,
            cli::ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        let check = CheckSettings {
            timeout: cli.timeout,
            connect_timeout: cli.connect_timeout.min(cli.timeout),
            retries: cli.retries,
            max_redirects: cli.max_redirects,
            accept: cli.accept,
            method: match cli.method {
                cli::Method::Get => Method::GET,
                cli::Method::Head => Method::HEAD,
            },
            headers: headers(&cli.headers)?,
            user_agent: cli.user_agent,
            insecure: cli.insecure,
            resolve: cli.resolve,
            dns_server: cli.dns_server,
        };
        let exclude = (!cli.exclude.is_empty())
            .then(|| RegexSet::new(&cli.exclude))
            .transpose()
            .context("invalid --exclude pattern")?;
        Ok(Config {
            inputs: cli.inputs,
            exclude,
            concurrency: cli.concurrency as usize,
            per_host: cli.per_host as usize,
            mode,
            check: Arc::new(check),
            format: cli.format.into(),
            reports: cli
                .reports
                .into_iter()
                .map(|(f, p)| (f.into(), p))
                .collect(),
            fail_on: cli.fail_on,
            github: github(cli.github, cli.no_github),
            quiet: cli.quiet,
            color,
            progress: !cli.no_progress && std::io::stderr().is_terminal(),
        })
    }
}

/// Every `-H` value, checked; the error names the header but never shows its value.
fn headers(raw: &[String]) -> Result<Vec<(HeaderName, HeaderValue)>> {
    raw.iter()
        .map(|h| cli::parse_header(h).map_err(|e| anyhow::anyhow!("invalid --header: {e}")))
        .collect()
}

/// `--github`, or GITHUB_ACTIONS=true without `--no-github`.
fn github(flag: bool, off: bool) -> Option<Github> {
    let in_actions = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    (flag || (in_actions && !off)).then(|| Github {
        step_summary: std::env::var_os("GITHUB_STEP_SUMMARY")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from),
    })
}
