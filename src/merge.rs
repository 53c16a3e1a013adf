//! `urlcheck merge REPORT...`: the JSON reports of the shards of one `--shard K/N` fleet, made
//! into the run one machine would have made: any format on stdout, `--report` files, the
//! GitHub annotations, `--history`, and the exit code, all from the per-URL results, through
//! the very reporters and history of a run (`pass::replay`). The shards must be of the same
//! inputs (their fingerprints agree), each there once, all of them unless `--allow-partial`.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::config::Merge;
use crate::exit::ExitCode;
use crate::history::Recorder;
use crate::model::{Mode, UrlResult};
use crate::pass;
use crate::report::file;
use crate::report::{self, Merged, Options, Run, RunInfo, Settings, ShardInfo, Stdout};

/// A shard's JSON report, as much of it as a merge needs.
#[derive(Debug, Deserialize)]
struct ShardDoc {
    #[serde(deserialize_with = "time")]
    started_at: SystemTime,
    #[serde(deserialize_with = "time")]
    finished_at: SystemTime,
    #[serde(default)]
    interrupted: bool,
    settings: Settings,
    shard: Option<ShardInfo>,
    results: Vec<UrlResult>,
}

fn time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_rfc3339(&text).map_err(serde::de::Error::custom)
}

pub(crate) async fn run(m: Merge) -> Result<ExitCode> {
    let docs: Vec<(PathBuf, ShardDoc)> = (m.reports.iter())
        .map(|path| Ok((path.clone(), read(path)?)))
        .collect::<Result<_>>()?;
    let merged = fleet(&docs, m.allow_partial)?;
    // An unusable database or report folder stops the merge before anything is written.
    let started_at = docs
        .iter()
        .map(|(_, d)| d.started_at)
        .min()
        .expect("one report");
    let finished_at = docs
        .iter()
        .map(|(_, d)| d.finished_at)
        .max()
        .expect("one report");
    let mut history = (m.history.as_deref())
        .map(|path| Recorder::open(path, started_at))
        .transpose()?;
    let files = file::prepare_all(&m.files)?;
    let interrupted = docs.iter().any(|(_, d)| d.interrupted);
    let settings = docs[0].1.settings.clone();
    let mut results: Vec<UrlResult> = docs.into_iter().flat_map(|(_, d)| d.results).collect();
    // In the order of the inputs, as one run lists them: by where each was first listed.
    results.sort_by(|a, b| first_source(a).cmp(&first_source(b)));
    refuse_repeats(&results)?;
    let mut reporters = reporters(&m, &files, &settings, history.is_some())?;
    let (mut summary, results) =
        pass::replay(results, &mut reporters, history.as_mut(), m.fail_on)?;
    summary.wall = finished_at
        .duration_since(started_at)
        .unwrap_or(Duration::ZERO);
    summary.interrupted = interrupted;
    let info = RunInfo {
        mode: Mode::Concurrent,
        started_at,
        finished_at,
        settings,
        shard: None,
        merged: Some(merged),
    };
    let run = Run {
        info,
        summary,
        results,
    };
    reporters.iter_mut().try_for_each(|r| r.finish(&run))?;
    drop(reporters);
    file::commit_all(files)?;
    let mut code = run.summary.exit_code(m.fail_on);
    if interrupted {
        // A shard stopped early: what it did not check is not known to be up.
        code = code.combine(ExitCode::Interrupted);
    }
    Ok(match history {
        Some(recorder) => {
            code.combine(pass::record_run(recorder, &run, (m.fail_on, false), None).await)
        }
        None => code,
    })
}

/// A line in two shards' results: the shards made different plans of the same inputs.
fn refuse_repeats(results: &[UrlResult]) -> Result<()> {
    let Some(twice) = (results.windows(2)).find(|w| first_source(&w[0]) == first_source(&w[1]))
    else {
        return Ok(());
    };
    let (file, line, _) = first_source(&twice[0]);
    bail!(
        "{} at {file}:{line} is in two shards' reports: the shards were not run with the same \
         settings (the same --per-host, --exclude, --remap...)",
        twice[0].url
    )
}

/// The reporter on stdout, one for each report file, and GitHub's, told what the shards ran
/// with (`settings`).
fn reporters<'a>(
    m: &Merge,
    files: &'a [file::ReportFile],
    settings: &Settings,
    history: bool,
) -> Result<Vec<Box<dyn report::Reporter + 'a>>> {
    let options = Options {
        quiet: m.quiet,
        verbose: false,
        color: m.color,
        fail_on: m.fail_on,
        history,
        certificates: settings.cert_expiry_ms.is_some(),
        method: settings.method == "HEAD,GET",
    };
    let stdout = Stdout::new(CancellationToken::new());
    let mut reporters = vec![report::make(m.format, stdout, options)];
    for f in files {
        let options = Options {
            quiet: false,
            color: false,
            ..options
        };
        reporters.push(report::make(f.format, f.writer()?, options));
    }
    if let Some(gh) = &m.github {
        let github = report::Github::new(io::stderr(), gh.step_summary.clone(), m.fail_on);
        reporters.push(Box::new(github));
    }
    Ok(reporters)
}

/// A shard's report; the error names the file.
fn read(path: &Path) -> Result<ShardDoc> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{}: not a JSON report of urlcheck (--report json=PATH of a --shard run)",
            path.display()
        )
    })
}

/// The fleet the reports are of: one count, one fingerprint, each shard once, every shard
/// unless `allow_partial` (then the missing ones are said on stderr).
fn fleet(docs: &[(PathBuf, ShardDoc)], allow_partial: bool) -> Result<Merged> {
    let mut by_index: BTreeMap<u32, &Path> = BTreeMap::new();
    let mut fleets: BTreeMap<(u32, &str), Vec<&Path>> = BTreeMap::new();
    for (path, doc) in docs {
        let shard = doc.shard.as_ref().ok_or_else(|| {
            anyhow!(
                "{}: not a shard's report (it has no \"shard\": run with --shard K/N)",
                path.display()
            )
        })?;
        fleets
            .entry((shard.count, shard.fingerprint.as_str()))
            .or_default()
            .push(path);
        if let Some(first) = by_index.insert(shard.index, path) {
            bail!(
                "shard {}/{} twice: {} and {}",
                shard.index,
                shard.count,
                first.display(),
                path.display()
            );
        }
    }
    if fleets.len() > 1 {
        let said: Vec<String> = (fleets.iter())
            .map(|((count, fingerprint), paths)| {
                let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                format!(
                    "{count} shards of inputs {fingerprint}: {}",
                    names.join(", ")
                )
            })
            .collect();
        bail!(
            "the reports are of different runs or lists ({})",
            said.join("; ")
        );
    }
    let ((count, fingerprint), _) = fleets.into_iter().next().expect("one report at least");
    let missing: Vec<u32> = (1..=count).filter(|i| !by_index.contains_key(i)).collect();
    if !missing.is_empty() {
        let list = missing
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        if !allow_partial {
            bail!("shards missing of {count}: {list} (--allow-partial merges what is there)");
        }
        let _ = writeln!(
            io::stderr(),
            "urlcheck: merge: shards missing of {count}: {list}; their URLs are not in this report"
        );
    }
    Ok(Merged {
        count,
        fingerprint: fingerprint.to_owned(),
        shards: by_index.into_keys().collect(),
        missing,
    })
}

/// Where a result was first listed: its place in the inputs.
fn first_source(r: &UrlResult) -> (&str, u64, u32) {
    r.sources
        .first()
        .map_or(("", 0, 0), |s| (&s.file, s.line, s.column.unwrap_or(0)))
}
