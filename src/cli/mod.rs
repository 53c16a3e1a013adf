//! The command line as clap sees it, the value parsers for durations, status sets, headers
//! and `--resolve` overrides, and the one conversion into `Config`. Nothing here is read by
//! the core: the `Config` is. urlcheck.toml is read and merged in `file.rs` (its tables in
//! `tables.rs`), and `--print-config` is `print.rs`.

mod file;
mod print;
mod source;
mod tables;

use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};
use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::{Regex, RegexSet};
use reqwest::header::{HeaderName, HeaderValue};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use url::Url;

use crate::config::{CheckSettings, Config, Github, HistorySettings};
use crate::history;
use crate::input::{Exclude, Kind, Rules};
use crate::model::{FailOn, Mode, Outcome, State, StatusSet};
pub use crate::report::Format;
use crate::shard::{self, Shard};
pub use file::{parse_args, Failure, DEFAULT_FILE};
pub use source::Loaded;

const AFTER_HELP: &str = "\
Exit codes:
  0    every checked URL is up (or nothing failed as --fail-on and --fail-after say)
  1    at least one URL is down, error or invalid
  2    the command could not run (bad flags, unreadable input, an unusable --history
       database), or the run was not recorded in its --history database
  3    inconclusive: no --canary was up, so the network is down, not the list; nothing of
       the list was checked, reported or recorded
  130  interrupted (Ctrl-C); 143 on SIGTERM

Subcommands take the place of the first input: a list file called `history`, `man` or
`completions` is given as ./history, ./man or ./completions.

Examples:
  urlcheck urls.txt
  urlcheck README.md docs/
  urlcheck --history links.db --fail-on new urls.txt
  urlcheck history links.db --since 30d
  urlcheck --dump docs/
  urlcheck --format json urls.txt > report.json
  cat urls.txt | urlcheck -
  urlcheck --compare urls.txt";

/// Check lists of URLs concurrently and report which are up and which are down.
#[derive(Debug, Parser)]
#[command(name = "urlcheck", version, about, after_help = AFTER_HELP)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Files with one URL per line, Markdown and HTML documents (.md, .html...) whose links
    /// are checked, sitemaps (.xml), folders (walked for documents, honouring .gitignore),
    /// quoted globs, '-' for stdin, or http(s) URLs. With none given and stdin not a
    /// terminal, stdin is read.
    #[arg(value_name = "INPUTS")]
    pub inputs: Vec<String>,

    /// Requests in flight at most.
    #[arg(short = 'c', long, default_value_t = 64, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub concurrency: u32,

    /// Requests in flight per host:port at most.
    #[arg(long, default_value_t = 8, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub per_host: u32,

    /// Deadline for one attempt, response headers included (500ms, 10s, 1m).
    #[arg(short = 't', long, default_value = "10s", value_name = "DUR", value_parser = parse_duration)]
    pub timeout: Duration,

    /// One URL's budget over all its attempts, redirects and waits, from its first request: a
    /// URL that never answers costs this, not (retries + 1) x --timeout [default: 15s, or
    /// --timeout when that is longer]
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub max_time: Option<Duration>,

    /// Deadline for establishing a connection: the DNS lookup, TCP and TLS.
    #[arg(long, default_value = "5s", value_name = "DUR", value_parser = parse_duration)]
    pub connect_timeout: Duration,

    /// Deadline for one DNS lookup, A and AAAA together, with the system resolver or
    /// --dns-server (at most --connect-timeout). A lookup that fails or gets no answer is an
    /// error of kind dns and is not retried.
    #[arg(long, default_value = "3s", value_name = "DUR", value_parser = parse_duration)]
    pub dns_timeout: Duration,

    /// Extra attempts for transient failures (timeout, reset, 429, 502, 503, 504), per hop
    /// of a redirect chain.
    #[arg(long, default_value_t = 2, value_name = "N",
          value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: u32,

    /// Redirects followed at most; more is an error.
    #[arg(long, default_value_t = 10, value_name = "N",
          value_parser = clap::value_parser!(u32).range(0..=100))]
    pub max_redirects: u32,

    /// Statuses that count as up, e.g. 200-299,403.
    #[arg(long, default_value = "200-299", value_name = "CODES", value_parser = parse_accept)]
    pub accept: StatusSet,

    /// HTTP method. head,get: HEAD first, then GET when HEAD's final answer is 405, 501 or
    /// not accepted (one --max-time for both).
    #[arg(short = 'X', long, value_enum, default_value_t = Method::Get, ignore_case = true)]
    pub method: Method,

    /// Extra request header 'Name: value' (repeatable). Values never appear in output.
    // Checked in `Cli::into_config`, not by clap, whose errors would print the value back.
    #[arg(short = 'H', long = "header", value_name = "'Name: value'")]
    pub headers: Vec<String>,

    /// User-Agent header.
    #[arg(short = 'A', long, value_name = "UA",
          default_value = concat!("urlcheck/", env!("CARGO_PKG_VERSION")))]
    pub user_agent: String,

    /// Accept invalid TLS certificates.
    #[arg(short = 'k', long)]
    pub insecure: bool,

    /// Also trust the CA certificates in this PEM file (repeatable), beside the built-in roots
    /// and the system's (which SSL_CERT_FILE and SSL_CERT_DIR replace).
    #[arg(long, value_name = "PATH")]
    pub cacert: Vec<PathBuf>,

    /// Resolve HOST:PORT to ADDR instead of asking DNS (repeatable), as curl's --resolve.
    #[arg(long, value_name = "HOST:PORT:ADDR", value_parser = parse_resolve)]
    pub resolve: Vec<(String, SocketAddr)>,

    /// Ask this DNS server (IP or IP:PORT; UDP, and TCP for long answers) instead of the
    /// system resolver; /etc/hosts is not read.
    #[arg(long, value_name = "ADDR", value_parser = parse_dns_server)]
    pub dns_server: Option<SocketAddr>,

    /// Send every request through this HTTP proxy (http://[user:password@]host:port, or
    /// https:// for a TLS proxy) instead of HTTP_PROXY, HTTPS_PROXY and ALL_PROXY, which are
    /// honoured otherwise; NO_PROXY still names the hosts that go direct.
    // Checked in `Cli::into_config`, not by clap, whose errors would print the password back.
    #[arg(long, value_name = "URL", conflicts_with = "no_proxy")]
    pub proxy: Option<String>,

    /// Connect directly, ignoring HTTP_PROXY, HTTPS_PROXY and ALL_PROXY.
    #[arg(long)]
    pub no_proxy: bool,

    /// Report URLs matching this regular expression as skipped, without requesting them
    /// (repeatable).
    #[arg(long, value_name = "REGEX")]
    pub exclude: Vec<String>,

    /// What the inputs are, whatever their names say (needed for stdin): one URL per line,
    /// markdown, html, or sitemap. On a URL, sitemap fetches it (and the sitemaps an index
    /// lists) and checks the pages it lists [default: by the extension; .md, .html, .xml]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<Kind>,

    /// The folder that root-relative links (/x) of local documents point into, e.g. the
    /// output folder of a site generator.
    #[arg(long, value_name = "DIR")]
    pub root_dir: Option<PathBuf>,

    /// The URL that root-relative links (/x) of local documents are joined to when there is
    /// no --root-dir.
    #[arg(long, value_name = "URL", value_parser = parse_base_url)]
    pub base_url: Option<Url>,

    /// Do not read files or folders whose path matches this glob (repeatable), e.g.
    /// 'docs/old/**' or '**/node_modules'.
    #[arg(long, value_name = "GLOB")]
    pub exclude_path: Vec<String>,

    /// Request URLs that match REGEX as REPLACEMENT instead ($1 for a group), and report
    /// them as written (repeatable), e.g. '^https://example.org/docs/ http://127.0.0.1:8000/'.
    #[arg(long, value_name = "'REGEX REPLACEMENT'")]
    pub remap: Vec<String>,

    /// Skip URLs of loopback, private and link-local addresses and of localhost.
    #[arg(long)]
    pub exclude_private: bool,

    /// An https URL whose certificate expires within this (14d, 72h) is down, of error kind
    /// cert-expiry; every https result reports its certificate's expiry either way.
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    pub cert_expiry: Option<Duration>,

    /// Check the #fragment of http(s) links too: the body of each HTML page they point into
    /// (up to 8 MiB) is read, once, for its id and name anchors.
    #[arg(long)]
    pub check_fragments: bool,

    /// List the links found, with file:line:column, and check nothing (human, json or
    /// jsonl with --format).
    #[arg(long, conflicts_with_all = ["compare", "sequential"])]
    pub dump: bool,

    /// The baseline: the same checker, one URL at a time.
    #[arg(long, conflicts_with = "compare")]
    pub sequential: bool,

    /// Run the list sequentially, then concurrently; print both and the speedup.
    #[arg(long)]
    pub compare: bool,

    /// What goes to stdout.
    #[arg(short = 'f', long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Also write a report file, replaced atomically when the run ends (repeatable),
    /// e.g. --report json=out/report.json --report junit=junit.xml
    #[arg(long = "report", value_name = "FORMAT=PATH", value_parser = parse_report)]
    pub reports: Vec<(Format, PathBuf)>,

    /// Which outcomes make the exit code 1 (and count as failures in JUnit and annotations);
    /// `empty` adds a run with no URL at all, `new` (with --history) what broke since its
    /// last check, e.g. down,error,invalid,empty or new.
    #[arg(long, value_name = "OUTCOMES", default_value = "down,error,invalid", value_parser = parse_outcomes)]
    pub fail_on: FailOn,

    /// With --history: a down or error URL fails the run only once it has failed N runs in a
    /// row (this one included).
    #[arg(long, value_name = "N", requires = "history",
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub fail_after: Option<u32>,

    /// Record the run in this SQLite database, and show each URL's state against its earlier
    /// checks (first, new, still, recovered, steady, flapping). Created when missing.
    #[arg(long, value_name = "DB", conflicts_with_all = ["compare", "dump"])]
    pub history: Option<PathBuf>,

    /// With --history: at the end of the run, forget runs older than this (90d, 12w).
    #[arg(long, value_name = "AGE", requires = "history", value_parser = parse_age)]
    pub history_keep: Option<Duration>,

    /// Check this URL first (repeatable), with the run's settings: when no canary is up, the
    /// network is down, not the list, and the run stops before its first request (exit 3,
    /// report files and --history left as they were). Canaries are not results.
    // Checked in `Cli::into_config`, as --proxy is: a canary may hold a password.
    #[arg(long = "canary", value_name = "URL", conflicts_with = "dump")]
    pub canaries: Vec<String>,

    /// GitHub Actions annotations (on stderr) and a step summary in $GITHUB_STEP_SUMMARY.
    /// On by default when GITHUB_ACTIONS=true.
    #[arg(long, overrides_with = "no_github")]
    pub github: bool,

    /// Turn GitHub Actions output off, even when GITHUB_ACTIONS=true.
    #[arg(long, overrides_with = "github")]
    pub no_github: bool,

    /// Human format on stdout: each failure once and one summary line; nothing when nothing
    /// failed. Report files keep every line.
    #[arg(short = 'q', long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Human format: under each URL, one line of where its final request's time went (DNS,
    /// TCP connect, TLS, time to first byte, total; or that its connection was reused).
    #[arg(short = 'v', long)]
    pub verbose: bool,

    /// When to use colour: auto = stdout is a terminal and NO_COLOR is unset.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Never show the progress bar (it is shown only when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,

    /// Read settings from this TOML file instead of ./urlcheck.toml: every long flag is a
    /// key, [[host]] tables scope headers and limits to hosts, [[expect]] tables say what
    /// answers must hold. The command line overrides the file.
    #[arg(long, value_name = "PATH", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Do not read ./urlcheck.toml.
    #[arg(long)]
    pub no_config: bool,

    /// Check only shard K of N (K from 1): every machine of a CI matrix reads the same
    /// inputs and checks its share, every URL of a host on one shard (a host with more than
    /// its share split over several, its --per-host divided); `auto` takes K/N from
    /// CI_NODE_INDEX and CI_NODE_TOTAL, or JOB_COMPLETION_INDEX with --shards. `urlcheck merge`
    /// joins the shards' JSON reports.
    #[arg(long, value_name = "K/N", value_parser = parse_shard,
          conflicts_with_all = ["compare", "dump", "history"])]
    pub shard: Option<ShardArg>,

    /// With --shard auto and JOB_COMPLETION_INDEX (a Kubernetes Indexed Job): how many shards.
    #[arg(long, value_name = "N", requires = "shard",
          value_parser = clap::value_parser!(u32).range(1..=shard::MAX_SHARDS as i64))]
    pub shards: Option<u32>,

    /// Print the settings a run would use (urlcheck.toml and the command line, each value
    /// with where it came from) as a urlcheck.toml, secrets masked, and exit.
    #[arg(long)]
    pub print_config: bool,

    /// What urlcheck.toml said beside its flags: its host and expect tables.
    #[arg(skip)]
    pub file: Loaded,

    /// With `--print-config`: the settings, as printed.
    #[arg(skip)]
    pub printed: Option<String>,
}

/// What urlcheck does besides checking.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Per URL of a --history database: state, uptime, failing streak, last failure, latency;
    /// or one URL's timeline.
    History(HistoryArgs),
    /// Print the completion script for a shell, e.g. `urlcheck completions bash >
    /// /usr/share/bash-completion/completions/urlcheck`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page, urlcheck(1), e.g. `urlcheck man > /usr/local/share/man/man1/urlcheck.1`.
    Man,
    /// Merge the JSON reports of a --shard K/N fleet into one run: any format, report files,
    /// --history and the exit code one run would have had.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' JSON reports (--report json=PATH of each --shard run).
    #[arg(value_name = "REPORT", required = true)]
    pub reports: Vec<PathBuf>,

    /// What goes to stdout.
    #[arg(short = 'f', long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Also write a report file, replaced atomically (repeatable), e.g. --report json=all.json
    #[arg(long = "report", value_name = "FORMAT=PATH", value_parser = parse_report)]
    pub reports_out: Vec<(Format, PathBuf)>,

    /// Which outcomes make the exit code 1, as for a run (new needs --history).
    #[arg(long, value_name = "OUTCOMES", default_value = "down,error,invalid", value_parser = parse_outcomes)]
    pub fail_on: FailOn,

    /// Record the merged run in this SQLite database, as --history records a run.
    #[arg(long, value_name = "DB")]
    pub history: Option<PathBuf>,

    /// Merge the shards that are there when some are missing (said on stderr), instead of
    /// exit 2.
    #[arg(long)]
    pub allow_partial: bool,

    /// Human format on stdout: each failure once and one summary line.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// When to use colour: auto = stdout is a terminal and NO_COLOR is unset.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// GitHub Actions annotations and step summary (on by default when GITHUB_ACTIONS=true).
    #[arg(long, overrides_with = "no_github")]
    pub github: bool,

    /// Turn GitHub Actions output off.
    #[arg(long, overrides_with = "github")]
    pub no_github: bool,
}

impl MergeArgs {
    pub(crate) fn into_merge(self) -> Result<crate::config::Merge> {
        if self.fail_on.new && self.history.is_none() {
            anyhow::bail!("--fail-on new needs --history DB: what broke is told against it");
        }
        Ok(crate::config::Merge {
            reports: self.reports,
            format: self.format,
            files: self.reports_out,
            fail_on: self.fail_on,
            history: self.history,
            allow_partial: self.allow_partial,
            quiet: self.quiet,
            color: self.color.on_stdout(),
            github: github(self.github, self.no_github),
        })
    }
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The database that `--history DB` records into.
    #[arg(value_name = "DB")]
    pub db: PathBuf,

    /// Show this URL's timeline: its state changes and daily uptime.
    #[arg(value_name = "URL")]
    pub url: Option<String>,

    /// Only what runs started this long ago or later (30d, 12h) tell [default: every run
    /// the database keeps]
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    pub since: Option<Duration>,

    /// Only URLs in these states, e.g. new,still.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "STATES")]
    pub state: Vec<State>,

    /// human (a table), json, or html (a self-contained page: uptime, a strip of runs and the
    /// latency of every URL).
    #[arg(short = 'f', long, value_enum, default_value_t = HistoryFormat::Human)]
    pub format: HistoryFormat,
}

impl HistoryArgs {
    pub(crate) fn into_query(self) -> history::Query {
        history::Query {
            db: self.db,
            url: self.url,
            since: self.since,
            states: self.state,
            json: self.format == HistoryFormat::Json,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HistoryFormat {
    Human,
    Json,
    Html,
}

/// The states are the model's; clap only learns their names.
impl ValueEnum for State {
    fn value_variants<'a>() -> &'a [Self] {
        &State::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Method {
    Get,
    Head,
    // HEAD, and GET when HEAD is refused or its answer is not accepted. (A `///` here would
    // turn the possible values of --help into a list.)
    #[value(name = "head,get")]
    HeadGet,
}

/// The formats are the reporters' list; clap only learns their names.
impl ValueEnum for Kind {
    fn value_variants<'a>() -> &'a [Self] {
        &[Kind::List, Kind::Markdown, Kind::Html, Kind::Sitemap]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(match self {
            Kind::List => "list",
            Kind::Markdown => "markdown",
            Kind::Html => "html",
            Kind::Sitemap => "sitemap",
        }))
    }
}

impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &Format::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether stdout gets colour: auto = stdout is a terminal and NO_COLOR is unset.
    fn on_stdout(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

impl Cli {
    /// Checks what clap could not and settles every choice that depends on the environment
    /// (colour, progress, GitHub Actions), once.
    pub(crate) fn into_config(self) -> Result<Config> {
        let mode = if self.compare {
            Mode::Compare
        } else if self.sequential {
            Mode::Sequential
        } else {
            Mode::Concurrent
        };
        let color = self.color.on_stdout();
        let (method, get_fallback) = method(self.method, self.check_fragments, &self.file)?;
        let check = CheckSettings {
            timeout: self.timeout,
            // A longer --timeout is not cut short by a budget nobody asked for.
            max_time: self.max_time.unwrap_or(DEFAULT_MAX_TIME.max(self.timeout)),
            max_time_set: self.max_time.is_some(),
            hosts: self.file.hosts,
            expects: self.file.expects,
            connect_timeout: self.connect_timeout.min(self.timeout),
            dns_timeout: self.dns_timeout.min(self.connect_timeout).min(self.timeout),
            retries: self.retries,
            max_redirects: self.max_redirects,
            accept: self.accept,
            method,
            get_fallback,
            headers: headers(&self.headers)?,
            roots: roots(&self.cacert)?,
            user_agent: self.user_agent,
            insecure: self.insecure,
            resolve: self.resolve,
            dns_server: self.dns_server,
            proxy: (self.proxy.as_deref())
                .map(|p| parse_proxy(p).map_err(|e| anyhow::anyhow!("invalid --proxy: {e}")))
                .transpose()?,
            no_proxy: self.no_proxy,
            check_fragments: self.check_fragments,
            cert_expiry: self.cert_expiry,
        };
        let rules = Rules {
            exclude: exclude(&self.exclude, Path::new(IGNORE_FILE))?,
            remap: remap(&self.remap)?,
            exclude_private: self.exclude_private,
            format: self.input_format,
            root_dir: self.root_dir,
            base_url: self.base_url,
            exclude_paths: exclude_paths(&self.exclude_path)?,
            dump: self.dump,
            check_fragments: self.check_fragments,
            shard: None,
        };
        Ok(Config {
            inputs: self.inputs,
            file: self.file.path.clone(),
            shard_of: self.shard.map(|s| s.resolve(self.shards)).transpose()?,
            rules,
            concurrency: self.concurrency as usize,
            per_host: self.per_host as usize,
            // What the open-file limit leaves, once `lib::run` has looked.
            idle: 0,
            mode,
            check: Arc::new(check),
            format: self.format,
            reports: self.reports,
            fail_on: FailOn {
                after: self.fail_after,
                ..self.fail_on
            },
            history: history(self.history, self.history_keep, self.fail_on)?,
            canaries: (self.canaries.iter())
                .map(|c| parse_base_url(c).map_err(|e| anyhow::anyhow!("invalid --canary: {e}")))
                .collect::<Result<_>>()?,
            github: github(self.github, self.no_github),
            quiet: self.quiet,
            verbose: self.verbose,
            color,
            progress: !self.no_progress && std::io::stderr().is_terminal(),
        })
    }
}

/// The method of a URL's first request chain, and whether GET follows a refused HEAD
/// (`-X head,get`). `--check-fragments` needs a body from every page: an accepted HEAD
/// decides without one, so head,get is refused like head.
/// A host table's method is refused with it for the same reason.
fn method(method: Method, check_fragments: bool, file: &Loaded) -> Result<(reqwest::Method, bool)> {
    let head = (file.hosts.tables.iter()).find(|t| {
        t.method
            .as_ref()
            .is_some_and(|m| m.0 != reqwest::Method::GET)
    });
    if let Some(t) = head.filter(|_| check_fragments) {
        anyhow::bail!(
            "{}: method: --check-fragments reads pages for their anchors: it needs get",
            t.origin
        );
    }
    if check_fragments && method != Method::Get {
        anyhow::bail!(
            "--check-fragments reads pages for their anchors: it needs -X get, not {}",
            method
                .to_possible_value()
                .map_or_else(String::new, |v| v.get_name().to_owned())
        );
    }
    Ok(method_of(method))
}

/// The method of the first request chain, and whether GET follows a refused HEAD.
fn method_of(method: Method) -> (reqwest::Method, bool) {
    match method {
        Method::Get => (reqwest::Method::GET, false),
        Method::Head => (reqwest::Method::HEAD, false),
        Method::HeadGet => (reqwest::Method::HEAD, true),
    }
}

/// What `Cli::into_config` checks of one value of the flag `--name` beyond its parser, so
/// that urlcheck.toml's bad value is told with its line. Never shows a header's value.
fn check_value(name: &str, value: &str) -> Result<(), String> {
    let err = |e: anyhow::Error| format!("{e:#}");
    match name {
        "header" => parse_header(value).map(drop),
        "exclude" => Regex::new(value).map(drop).map_err(|e| e.to_string()),
        "remap" => remap(&[value.to_owned()]).map(drop).map_err(err),
        "exclude-path" => exclude_paths(&[value.to_owned()]).map(drop).map_err(err),
        "cacert" => roots(&[PathBuf::from(value)]).map(drop).map_err(err),
        "proxy" => parse_proxy(value).map(drop),
        "canary" => parse_base_url(value).map(drop),
        _ => Ok(()),
    }
}

/// `--history` and `--history-keep`; `--fail-on new` needs the history it is told against.
fn history(
    path: Option<PathBuf>,
    keep: Option<Duration>,
    fail_on: FailOn,
) -> Result<Option<HistorySettings>> {
    if fail_on.new && path.is_none() {
        anyhow::bail!("--fail-on new needs --history DB: what broke is told against it");
    }
    Ok(path.map(|path| HistorySettings { path, keep }))
}

/// The file of URL patterns, in the current folder, that works like --exclude.
const IGNORE_FILE: &str = ".urlcheckignore";

/// `--exclude` patterns and those of `.urlcheckignore` (one regex a line, `#` comments), each
/// with where it was given.
fn exclude(given: &[String], ignore_file: &Path) -> Result<Option<Exclude>> {
    let mut patterns = Vec::with_capacity(given.len());
    let mut from = Vec::with_capacity(given.len());
    for pattern in given {
        Regex::new(pattern).with_context(|| format!("invalid --exclude pattern {pattern:?}"))?;
        patterns.push(pattern.clone());
        from.push(format!("--exclude {pattern}"));
    }
    match std::fs::read_to_string(ignore_file) {
        Ok(text) => {
            let name = ignore_file.display();
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                Regex::new(line)
                    .with_context(|| format!("{name}:{}: invalid pattern {line:?}", i + 1))?;
                patterns.push(line.to_owned());
                from.push(format!("{name}:{} {line}", i + 1));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", ignore_file.display())),
    }
    if patterns.is_empty() {
        return Ok(None);
    }
    Ok(Some(Exclude {
        set: RegexSet::new(&patterns)?,
        given: from,
    }))
}

/// `--remap 'REGEX REPLACEMENT'`.
fn remap(given: &[String]) -> Result<Vec<(Regex, String)>> {
    given
        .iter()
        .map(|rule| {
            let (pattern, replacement) =
                rule.trim()
                    .split_once(char::is_whitespace)
                    .with_context(|| {
                        format!("invalid --remap {rule:?}: expected 'REGEX REPLACEMENT'")
                    })?;
            let regex = Regex::new(pattern)
                .with_context(|| format!("invalid --remap pattern {pattern:?}"))?;
            Ok((regex, replacement.trim().to_owned()))
        })
        .collect()
}

fn exclude_paths(given: &[String]) -> Result<Option<GlobSet>> {
    if given.is_empty() {
        return Ok(None);
    }
    let mut set = GlobSetBuilder::new();
    for pattern in given {
        let pattern = pattern.strip_prefix("./").unwrap_or(pattern);
        set.add(Glob::new(pattern).with_context(|| format!("invalid --exclude-path {pattern:?}"))?);
    }
    Ok(Some(set.build()?))
}

/// `--shard`: `K/N`, or `auto` (from the environment of a CI job).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardArg {
    Given(Shard),
    Auto,
}

pub fn parse_shard(s: &str) -> Result<ShardArg, String> {
    match s.trim() {
        "auto" => Ok(ShardArg::Auto),
        other => other.parse().map(ShardArg::Given),
    }
}

impl ShardArg {
    /// The shard: as given, or from GitLab's `parallel:` (CI_NODE_INDEX and CI_NODE_TOTAL,
    /// from 1), or a Kubernetes Indexed Job's JOB_COMPLETION_INDEX (from 0) and `--shards`.
    fn resolve(self, shards: Option<u32>) -> Result<Shard> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let shard = match (self, var("CI_NODE_INDEX"), var("CI_NODE_TOTAL")) {
            (ShardArg::Given(shard), ..) => return Ok(shard),
            (ShardArg::Auto, Some(k), Some(n)) => format!("{k}/{n}"),
            _ => match (var("JOB_COMPLETION_INDEX"), shards) {
                (Some(i), Some(n)) => match i.trim().parse::<u32>() {
                    Ok(i) => format!("{}/{n}", i.saturating_add(1)),
                    Err(_) => anyhow::bail!("--shard auto: JOB_COMPLETION_INDEX is {i:?}, not a number"),
                },
                (Some(_), None) => anyhow::bail!(
                    "--shard auto with JOB_COMPLETION_INDEX needs --shards N (the Job's completions)"
                ),
                (None, _) => anyhow::bail!(
                    "--shard auto found neither CI_NODE_INDEX and CI_NODE_TOTAL (GitLab parallel:) \
                     nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job): give --shard K/N"
                ),
            },
        };
        shard
            .parse()
            .map_err(|e| anyhow::anyhow!("--shard auto: {e}"))
    }
}

/// `--proxy`: an http or https URL (reqwest is built without SOCKS).
pub fn parse_proxy(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("not a URL: {e} (expected http://host:port)"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "expected an http:// or https:// proxy URL, got {:?}",
            url.scheme()
        ));
    }
    Ok(url)
}

pub fn parse_base_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("expected an http(s) URL, not {}:", url.scheme()));
    }
    Ok(url)
}

fn headers(raw: &[String]) -> Result<Vec<(HeaderName, HeaderValue)>> {
    raw.iter()
        .map(|h| parse_header(h).map_err(|e| anyhow::anyhow!("invalid --header: {e}")))
        .collect()
}

/// Every certificate of every `--cacert` file; the error names the file.
fn roots(files: &[PathBuf]) -> Result<Vec<CertificateDer<'static>>> {
    let mut roots = Vec::new();
    for file in files {
        let pem = std::fs::read(file)
            .with_context(|| format!("cannot read --cacert {}", file.display()))?;
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .ok()
            .filter(|c| !c.is_empty())
            .with_context(|| {
                format!(
                    "--cacert {}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)",
                    file.display()
                )
            })?;
        // One that is PEM but no usable trust anchor would be left out without a word.
        let mut check = rustls::RootCertStore::empty();
        for (i, cert) in certs.iter().enumerate() {
            check.add(cert.clone()).map_err(|e| {
                anyhow::anyhow!(
                    "--cacert {}: certificate {} of the file is not usable as a CA: {e}",
                    file.display(),
                    i + 1
                )
            })?;
        }
        roots.extend(certs);
    }
    Ok(roots)
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

/// `--max-time` when it is not given and `--timeout` is shorter.
const DEFAULT_MAX_TIME: Duration = Duration::from_secs(15);

/// A span of time as humantime writes it (`500ms`, `1m30s`, `90d`), or a bare number of
/// seconds; `expected` says what was wanted, in the error.
fn span(s: &str, expected: &str) -> Result<Duration, String> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|e| e.to_string());
    }
    humantime::parse_duration(s).map_err(|e| format!("{e} (expected {expected})"))
}

/// `500ms`, `10s`, `1m`, `1m30s`; a bare number is seconds. Zero and negative are refused.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = span(s, "a duration such as 500ms, 10s or 1m")?;
    if d.is_zero() {
        return Err("must be greater than zero".into());
    }
    if d > Duration::from_secs(24 * 3600) {
        return Err("must be at most 24h".into());
    }
    Ok(d)
}

pub fn parse_accept(s: &str) -> Result<StatusSet, String> {
    s.parse()
}

/// `Name: value`; the name must be a valid header name, the value a valid header value.
/// Errors name the header, never its value (it may be a token).
pub fn parse_header(s: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| "expected 'Name: value' (the value is not shown)".to_string())?;
    let name = name.trim();
    let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        format!(
            "invalid header name {:?}",
            crate::sanitize::escape_for_terminal(name)
        )
    })?;
    let mut value = HeaderValue::from_str(value.trim()).map_err(|_| {
        format!("the value of header {name} has a character a header cannot hold (the value is not shown)")
    })?;
    // Keeps it out of reqwest's and hyper's debug output too.
    value.set_sensitive(true);
    Ok((header, value))
}

/// `HOST:PORT:ADDR` where ADDR is an IPv4 or IPv6 literal (brackets optional).
pub fn parse_resolve(s: &str) -> Result<(String, SocketAddr), String> {
    let err = || format!("expected HOST:PORT:ADDR, got {s:?}");
    let (host, rest) = s.split_once(':').ok_or_else(err)?;
    let (port, addr) = rest.split_once(':').ok_or_else(err)?;
    let port: u16 = port.parse().map_err(|_| err())?;
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = addr.parse().map_err(|_| err())?;
    // The name as URLs carry it: lowercase, and punycode for international names.
    let host = url::Host::parse(host).map_err(|_| err())?.to_string();
    Ok((host, SocketAddr::new(ip, port)))
}

/// `FORMAT=PATH`, e.g. `junit=reports/junit.xml`.
pub fn parse_report(s: &str) -> Result<(Format, PathBuf), String> {
    let (format, path) = s
        .split_once('=')
        .ok_or_else(|| format!("expected FORMAT=PATH (e.g. json=report.json), got {s:?}"))?;
    let format = Format::from_str(format.trim(), true).map_err(|_| {
        let names: Vec<String> = Format::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_owned()))
            .collect();
        format!(
            "unknown report format {format:?} (one of {})",
            names.join(", ")
        )
    })?;
    if path.is_empty() {
        return Err(format!("no path after {format:?}="));
    }
    Ok((format, PathBuf::from(path)))
}

/// `down,error,invalid`: outcome names, comma-separated.
pub fn parse_outcomes(s: &str) -> Result<FailOn, String> {
    let mut fail_on = FailOn::default();
    let set = &mut fail_on.outcomes;
    for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if name == "empty" {
            set.insert_empty();
            continue;
        }
        if name == "new" {
            fail_on.new = true;
            continue;
        }
        let outcome = Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == name)
            .ok_or_else(|| {
                format!(
                    "unknown outcome {name:?} (one of up, down, error, invalid, skipped, blocked, \
                     empty for a run with no URL, or new for what broke since the last run)"
                )
            })?;
        set.insert(outcome);
    }
    Ok(fail_on)
}

/// An age for `--history-keep` and `history --since`: 90d, 12h, 2w (seconds when bare).
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let d = span(s, "an age such as 90d, 12h or 2w")?;
    if d < Duration::from_secs(1) {
        return Err("must be at least 1s".into());
    }
    if d > Duration::from_secs(100 * 365 * 86_400) {
        return Err("must be at most 100 years".into());
    }
    Ok(d)
}

pub fn parse_dns_server(s: &str) -> Result<SocketAddr, String> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    s.parse()
        .map_err(|_| format!("expected an IP address or IP:PORT, got {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn headers() {
        let (name, value) = parse_header("X-Token:  abc ").unwrap();
        assert_eq!((name.as_str(), value.to_str().unwrap()), ("x-token", "abc"));
        assert!(value.is_sensitive());
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("bad name: x").is_err());
        let err = parse_header("Authorization: Bearer tok\x07en").unwrap_err();
        assert!(!err.contains("tok"), "{err}");
    }

    #[test]
    fn resolve_overrides() {
        let (h, a) = parse_resolve("Example.org:443:127.0.0.1").unwrap();
        assert_eq!(h, "example.org");
        assert_eq!(a, "127.0.0.1:443".parse().unwrap());
        let (h, _) = parse_resolve("bücher.test:80:127.0.0.1").unwrap();
        assert_eq!(h, "xn--bcher-kva.test");
        assert!(parse_resolve(":80:127.0.0.1").is_err());
        let (_, a) = parse_resolve("x:80:[::1]").unwrap();
        assert_eq!(a, "[::1]:80".parse().unwrap());
        assert!(parse_resolve("x:99999:127.0.0.1").is_err());
        assert!(parse_resolve("x:80").is_err());
    }

    #[test]
    fn flags_parse() {
        let cli =
            Cli::try_parse_from(["urlcheck", "-c", "3", "--accept", "200,403", "a.txt"]).unwrap();
        assert_eq!(cli.concurrency, 3);
        assert!(cli.accept.contains(403));
        assert!(Cli::try_parse_from(["urlcheck", "--concurrency", "0"]).is_err());
        assert!(Cli::try_parse_from(["urlcheck", "--timeout", "-1s"]).is_err());
        assert!(Cli::try_parse_from(["urlcheck", "--accept", "999-100"]).is_err());
        assert!(Cli::try_parse_from(["urlcheck", "--sequential", "--compare"]).is_err());
    }

    #[test]
    fn max_time_defaults_to_15s_or_a_longer_timeout() {
        let max_time = |args: &[&str]| {
            let argv = ["urlcheck"].iter().chain(args).chain(&["x"]);
            let cli = Cli::try_parse_from(argv).unwrap();
            cli.into_config().unwrap().check.max_time
        };
        assert_eq!(max_time(&[]), Duration::from_secs(15));
        assert_eq!(max_time(&["-t", "30s"]), Duration::from_secs(30));
        assert_eq!(
            max_time(&["-t", "30s", "--max-time", "5s"]),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn reports_and_fail_on() {
        assert_eq!(
            parse_report("junit=out/j.xml"),
            Ok((Format::Junit, PathBuf::from("out/j.xml")))
        );
        assert!(parse_report("xml=out.xml").is_err());
        assert!(parse_report("json").is_err());
        assert!(parse_report("json=").is_err());
        let set = parse_outcomes("down, error").unwrap().outcomes;
        assert!(set.contains(Outcome::Down) && set.contains(Outcome::Error));
        assert!(!set.contains(Outcome::Invalid));
        assert!(parse_outcomes("down,broken").is_err());
        let new = parse_outcomes("new").unwrap();
        assert!(new.new && new.outcomes.iter().next().is_none());
        let cli = Cli::try_parse_from(["urlcheck", "--github", "--no-github"]).unwrap();
        assert!(cli.no_github && !cli.github);
    }
}
