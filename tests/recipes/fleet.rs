//! A recipe's jobs run here as their platform would run them: each shard's script by `sh -c`
//! at the same time, with the variables the platform sets and the built urlcheck on PATH, on a
//! machine of its own (its report carried to the merge's machine, as an artifact is) or on one
//! shared volume (Kubernetes: the manifests' mount points made folders of a temporary
//! directory); then the merge's script.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::common::{wait_child, SCRUBBED_ENV};

/// Variables of the platforms that the test's own environment must not lend a job.
const PLATFORM_ENV: &[&str] = &["CI_NODE_INDEX", "CI_NODE_TOTAL", "JOB_COMPLETION_INDEX"];

/// No job here comes near this; it only turns a hang into a failure.
const JOB_LIMIT: Duration = Duration::from_secs(60);

/// One job: its shell script and the variables its platform sets for it.
#[derive(Debug, Clone)]
pub struct Job {
    pub script: String,
    pub env: Vec<(String, String)>,
}

/// A recipe's jobs, as the platform runs them.
#[derive(Debug)]
pub struct Fleet {
    pub shards: Vec<Job>,
    /// Each shard's JSON report, where it writes it and where the merge reads it.
    pub reports: Vec<String>,
    pub merge: Job,
    /// The list the shards read.
    pub list: String,
    /// Kubernetes: every job on one volume, mounted at these folders. CI: none, each job on
    /// a machine of its own with a workspace of its own.
    pub mounts: Option<Vec<String>>,
}

/// What a job left: its exit code, stdout and stderr.
#[derive(Debug)]
pub struct Done {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// What a fleet's run left: each shard's outcome, the merge's, and the merge's machine.
pub struct Ran {
    pub shards: Vec<Done>,
    pub merge: Done,
    pub merge_dir: PathBuf,
    _root: TempDir,
}

impl Ran {
    /// A file the merge wrote, by the path its script names.
    pub fn read(&self, path: &str) -> String {
        let file = on(&self.merge_dir, path);
        std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
    }
}

/// `path` on the machine whose workspace (or volume) is `dir`.
fn on(dir: &Path, path: &str) -> PathBuf {
    dir.join(path.trim_start_matches('/'))
}

impl Fleet {
    /// Runs the shards at once on `list` (the list file's text), then the merge.
    pub fn run(&self, list: &str) -> Ran {
        let root = tempfile::tempdir().unwrap();
        let machine = |name: &str| match self.mounts {
            Some(_) => root.path().join("volume"),
            None => root.path().join(name),
        };
        let started: Vec<_> = (self.shards.iter().enumerate())
            .map(|(i, job)| {
                let dir = machine(&format!("shard-{}", i + 1));
                std::fs::create_dir_all(on(&dir, &self.list).parent().unwrap()).unwrap();
                std::fs::write(on(&dir, &self.list), list).unwrap();
                self.start(job, &dir, &root.path().join(format!("shard-{}", i + 1)))
            })
            .collect();
        let shards: Vec<Done> = started.into_iter().map(finish).collect();
        let merge_dir = machine("merge");
        std::fs::create_dir_all(&merge_dir).unwrap();
        for (i, report) in self
            .reports
            .iter()
            .enumerate()
            .filter(|_| self.mounts.is_none())
        {
            let (from, to) = (
                on(&machine(&format!("shard-{}", i + 1)), report),
                on(&merge_dir, report),
            );
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&from, &to)
                .unwrap_or_else(|e| panic!("{}: {e}\n{shards:?}", from.display()));
        }
        let merge = finish(self.start(&self.merge, &merge_dir, &root.path().join("merge")));
        Ran {
            shards,
            merge,
            merge_dir,
            _root: root,
        }
    }

    /// Starts `job` in `dir`, its output into files named by `logs`.
    fn start(&self, job: &Job, dir: &Path, logs: &Path) -> (Child, PathBuf, PathBuf) {
        let mut script = job.script.clone();
        for mount in self.mounts.iter().flatten() {
            script = script.replace(
                &format!("{mount}/"),
                &format!("{}/", on(dir, mount).display()),
            );
        }
        let (out, err) = (logs.with_extension("out"), logs.with_extension("err"));
        let bin = Path::new(env!("CARGO_BIN_EXE_urlcheck")).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(&script)
            .current_dir(dir)
            .env("PATH", path);
        for name in SCRUBBED_ENV.iter().chain(PLATFORM_ENV) {
            cmd.env_remove(name);
        }
        cmd.envs(
            job.env
                .iter()
                .map(|(k, v)| (k, v.replace("{dir}", &dir.display().to_string()))),
        );
        cmd.stdin(Stdio::null())
            .stdout(File::create(&out).unwrap())
            .stderr(File::create(&err).unwrap());
        (cmd.spawn().expect("run sh"), out, err)
    }
}

fn finish((mut child, out, err): (Child, PathBuf, PathBuf)) -> Done {
    let status = wait_child(&mut child, JOB_LIMIT);
    Done {
        code: status.code().expect("the job exited"),
        stdout: std::fs::read_to_string(out).unwrap(),
        stderr: std::fs::read_to_string(err).unwrap(),
    }
}
