//! The sharded recipes of docs/ci.md (examples/github-actions-shards.yml,
//! examples/gitlab-ci-shards.yml, examples/k8s/) are files their platforms take, they fit
//! together as urlcheck needs, and they run. Each is checked offline against its platform's
//! schema ([`validator`]), and a broken copy of each is rejected, so a validator that accepts
//! anything cannot pass. Each is read as YAML for what no schema knows: the shards are 1..N
//! once, `--shard` names the N of the matrix, `parallel:` or `completions:`, and the merge
//! reads exactly the reports the shards write, from where they were kept. And each one's
//! scripts are run as its platform runs them ([`fleet`]), on a list of loopback URLs with one
//! dead link: the merge gives the verdict of one run (exit 1, every URL once, the dead one
//! annotated at its line on GitHub).

#[path = "recipes/command.rs"]
mod command;
mod common;
#[path = "recipes/fleet.rs"]
mod fleet;
#[path = "recipes/validator.rs"]
mod validator;
#[path = "recipes/yaml.rs"]
mod yaml;

use std::collections::BTreeMap;
use std::path::PathBuf;

use glob::Pattern;
use serde_json::Value;
use yaml_rust2::Yaml;

use command::{assert_merge_reads, invocation, invocations, Invocation};
use common::github::annotations;
use common::Server;
use fleet::{Fleet, Job, Ran};
use validator::{GITHUB_SCHEMA, GITLAB_SCHEMA, K8S_SCHEMA};
use yaml::{entries, has, int, list, load, needs, only, strings, text};

const GITHUB: &str = "examples/github-actions-shards.yml";
const GITLAB: &str = "examples/gitlab-ci-shards.yml";
const K8S: &str = "examples/k8s";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Kubernetes manifests of examples/k8s/, sorted by name.
fn manifests() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(K8S))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "the manifests were found: {files:?}");
    files
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_github_workflow_is_valid_for_github() {
    GITHUB_SCHEMA.accepts_it_and_rejects(&root().join(GITHUB), "runs-on:", "runs_on:");
}

#[test]
fn the_gitlab_jobs_are_valid_for_gitlab() {
    GITLAB_SCHEMA.accepts_it_and_rejects(&root().join(GITLAB), "when: always", "when: later");
}

#[test]
fn the_kubernetes_manifests_are_valid_for_kubernetes() {
    for file in manifests() {
        if let Err(said) = K8S_SCHEMA.check(&file) {
            panic!("kubernetes-validate rejects {}:\n{said}", file.display());
        }
    }
    let job = root().join(K8S).join("shards-job.yaml");
    K8S_SCHEMA.accepts_it_and_rejects(&job, "completions: 4", "completions: four");
    K8S_SCHEMA.accepts_it_and_rejects(&job, "parallelism:", "paralellism:");
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions
// ---------------------------------------------------------------------------------------------

/// The `run:` scripts of a GitHub job's steps.
fn runs(job: &Yaml) -> impl Iterator<Item = &str> {
    list(job, "steps").iter().filter_map(|s| s["run"].as_str())
}

/// The one step of `job` that uses `action`.
fn uses<'a>(job: &'a Yaml, action: &str) -> &'a Yaml {
    let steps = list(job, "steps").iter();
    only(steps.filter(|s| s["uses"].as_str() == Some(action)), action)
}

/// The one `run:` of `job` with a urlcheck command for which `pick` is true.
fn run_of(job: &Yaml, pick: impl Fn(&Invocation) -> bool) -> &str {
    only(
        runs(job).filter(|r| invocations(r).iter().any(&pick)),
        "urlcheck step",
    )
}

/// As the runner sets them (the step summary a file in the job's workspace).
fn github_env() -> Vec<(String, String)> {
    env(&[
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_STEP_SUMMARY", "{dir}/step-summary.md"),
    ])
}

/// The workflow's jobs: the matrix is the shards 1..N once each, every shard says
/// `--shard K/N` and uploads the report it writes (also when it exits 1), and the merge job
/// runs after them all, failed or not, downloading every shard's artifact into the folder it
/// reads the reports from.
fn github() -> Fleet {
    let doc = &load(&root().join(GITHUB))[0];
    let jobs = entries(&doc["jobs"]);
    let is_shard = |i: &Invocation| i.value("--shard").is_some();
    let sharded = |j: &Yaml| runs(j).any(|r| invocations(r).iter().any(is_shard));
    let (name, job) = only(jobs.iter().filter(|(_, j)| sharded(j)), "sharded job");
    let matrix = list(&job["strategy"]["matrix"], "shard").iter();
    let mut numbers: Vec<i64> = matrix.map(|k| k.as_i64().expect("a number")).collect();
    let n = numbers.len() as i64;
    numbers.sort();
    assert_eq!(
        numbers,
        (1..=n).collect::<Vec<_>>(),
        "the shards are 1..N once"
    );
    let fail_fast = job["strategy"]["fail-fast"].as_bool();
    assert_eq!(
        fail_fast,
        Some(false),
        "a shard that fails would cancel the rest"
    );
    let (run, upload) = (
        run_of(job, is_shard),
        uses(job, "actions/upload-artifact@v4"),
    );
    assert_eq!(
        text(upload, "if"),
        "always()",
        "urlcheck exits 1 on dead links"
    );
    let (mut shards, mut reports, mut artifacts) = (Vec::new(), Vec::new(), Vec::new());
    for k in 1..=n {
        let given = |s: &str| s.replace("${{ matrix.shard }}", &k.to_string());
        assert!(!given(run).contains("${{"), "{run}");
        let shard = invocation(&given(run));
        assert_eq!(shard.value("--shard"), Some(format!("{k}/{n}").as_str()));
        assert_eq!(given(text(&upload["with"], "path")), shard.json_report());
        reports.push(shard.json_report().to_owned());
        artifacts.push(given(text(&upload["with"], "name")));
        shards.push(Job {
            script: given(run),
            env: github_env(),
        });
    }
    let (_, merge_job) = only(jobs.iter().filter(|(_, j)| has(j, "needs")), "merge job");
    assert_eq!(needs(merge_job), [*name], "the merge waits for every shard");
    assert_eq!(
        text(merge_job, "if"),
        "always()",
        "the merge runs after a shard failed too"
    );
    let download = &uses(merge_job, "actions/download-artifact@v4")["with"];
    let pattern = Pattern::new(text(download, "pattern")).unwrap();
    assert!(
        artifacts.iter().all(|a| pattern.matches(a)),
        "{pattern}: {artifacts:?}"
    );
    let one_folder = download["merge-multiple"].as_bool();
    assert_eq!(one_folder, Some(true), "one folder, not one per artifact");
    assert!(!has(download, "path"), "the reports land in the workspace");
    let merge = run_of(merge_job, |i| i.merge);
    assert_merge_reads(&reports, &invocation(merge));
    Fleet {
        list: only(&invocation(&shards[0].script).inputs, "list").clone(),
        shards,
        reports,
        merge: Job {
            script: merge.to_owned(),
            env: github_env(),
        },
        mounts: None,
    }
}

#[test]
fn the_github_matrix_is_the_shards_once_and_the_merge_reads_their_artifacts() {
    github();
}

/// The shards say nothing to the run page (`--no-github`); the merge annotates the dead link
/// at its line of urls.txt, writes the step summary, and its exit code is the verdict.
#[test]
fn the_github_recipe_runs_to_one_verdict() {
    let server = Server::start(HOSTS);
    let list = List::on(&server);
    let ran = github().run(&list.text);
    list.assert_shards_ran(&ran, true);
    for shard in &ran.shards {
        assert!(!shard.stderr.contains("::error"), "{}", shard.stderr);
    }
    assert_eq!(ran.merge.code, 1, "{:?}", ran.merge);
    let notes = annotations(&ran.merge.stderr);
    let note = only(&notes, "annotation");
    assert_eq!(
        (note.file.as_str(), note.line),
        ("urls.txt", list.dead_line)
    );
    assert!(ran.read("step-summary.md").contains(&list.dead));
    assert!(
        ran.merge.stdout.contains(&list.dead),
        "{}",
        ran.merge.stdout
    );
    list.assert_merged(&serde_json::from_str(&ran.read("reports/all.json")).unwrap());
    list.assert_junit(&ran.read("reports/links.xml"));
}

// ---------------------------------------------------------------------------------------------
// GitLab CI
// ---------------------------------------------------------------------------------------------

/// A GitLab job's `script:` as one shell script.
fn script(job: &Yaml) -> String {
    strings(job, "script").join("\n")
}

/// The jobs: `parallel: N` with `--shard auto` (urlcheck reads CI_NODE_INDEX of 1..N and
/// CI_NODE_TOTAL), each job's report named by its CI_NODE_INDEX and kept as an artifact when
/// it fails too; the merge job needs the parallel jobs (so it gets their artifacts), runs
/// after a failure too, reads every report once, and gives GitLab the JUnit file it writes.
fn gitlab() -> Fleet {
    let doc = &load(&root().join(GITLAB))[0];
    let jobs: Vec<_> = entries(doc)
        .into_iter()
        .filter(|(_, j)| has(j, "script"))
        .collect();
    let (name, job) = only(
        jobs.iter().filter(|(_, j)| has(j, "parallel")),
        "parallel job",
    );
    let n = int(job, "parallel");
    let shard = invocation(&script(job));
    assert_eq!(shard.value("--shard"), Some("auto"));
    assert_eq!(shard.value("--shards"), None, "GitLab sets CI_NODE_TOTAL");
    let template = shard.json_report();
    assert!(
        template.contains("$CI_NODE_INDEX"),
        "each job its own report: {template}"
    );
    let given = |k: i64| template.replace("$CI_NODE_INDEX", &k.to_string());
    let reports: Vec<String> = (1..=n).map(given).collect();
    let kept = &job["artifacts"];
    assert_eq!(
        text(kept, "when"),
        "always",
        "urlcheck exits 1 on dead links"
    );
    let paths = strings(kept, "paths");
    for report in &reports {
        let under = |p: &&str| report == p || (p.ends_with('/') && report.starts_with(p));
        assert!(paths.iter().any(under), "{report} is not kept by {paths:?}");
    }
    let (_, merge_job) = only(jobs.iter().filter(|(_, j)| has(j, "needs")), "merge job");
    assert_eq!(
        needs(merge_job),
        [*name],
        "the merge gets every parallel job's artifacts"
    );
    assert_eq!(
        text(merge_job, "when"),
        "always",
        "the merge runs after a shard failed too"
    );
    let merge = invocation(&script(merge_job));
    assert_merge_reads(&reports, &merge);
    let junit = only(merge.reports("junit"), "junit report");
    assert_eq!(text(&merge_job["artifacts"]["reports"], "junit"), junit);
    assert_eq!(
        text(&merge_job["artifacts"], "when"),
        "always",
        "dead links are the report"
    );
    let node = |k: i64| {
        env(&[
            ("CI_NODE_INDEX", &k.to_string()),
            ("CI_NODE_TOTAL", &n.to_string()),
        ])
    };
    Fleet {
        shards: (1..=n)
            .map(|k| Job {
                script: script(job),
                env: node(k),
            })
            .collect(),
        reports,
        merge: Job {
            script: script(merge_job),
            env: Vec::new(),
        },
        list: only(&shard.inputs, "list").clone(),
        mounts: None,
    }
}

#[test]
fn the_gitlab_parallel_jobs_are_the_shards_once_and_the_merge_needs_them() {
    gitlab();
}

/// Each parallel job finds its shard in CI_NODE_INDEX; the merge's JUnit file (the merge
/// request's test report) has every URL once and the dead one failed.
#[test]
fn the_gitlab_recipe_runs_to_one_verdict() {
    let server = Server::start(HOSTS);
    let list = List::on(&server);
    let ran = gitlab().run(&list.text);
    list.assert_shards_ran(&ran, true);
    assert_eq!(ran.merge.code, 1, "{:?}", ran.merge);
    assert!(
        ran.merge.stdout.contains(&list.dead),
        "{}",
        ran.merge.stdout
    );
    list.assert_junit(&ran.read("reports/links.xml"));
    assert!(ran.read("reports/links.md").contains(&list.dead));
}

// ---------------------------------------------------------------------------------------------
// Kubernetes
// ---------------------------------------------------------------------------------------------

/// The one object of `kind` named `name`.
fn object<'a>(objects: &'a [Yaml], kind: &str, name: &str) -> &'a Yaml {
    let same = |o: &&Yaml| {
        o["kind"].as_str() == Some(kind) && o["metadata"]["name"].as_str() == Some(name)
    };
    only(objects.iter().filter(same), &format!("{kind} {name}"))
}

/// A Job's pod, its one container, and the container's `sh -c` script.
fn pod_of(job: &Yaml) -> (&Yaml, &Yaml, &str) {
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(
        text(pod, "restartPolicy"),
        "Never",
        "a Job's failed pod is the Job's to retry"
    );
    let container = only(list(pod, "containers"), "container");
    let command = strings(container, "command");
    assert_eq!(
        command,
        ["sh", "-c"],
        "a shell expands the variable and the glob"
    );
    (pod, container, only(strings(container, "args"), "script"))
}

/// The volume of `pod` that `container` mounts at the folder of `path`, and that folder.
fn volume_of<'a>(pod: &'a Yaml, container: &Yaml, path: &str) -> (&'a Yaml, String) {
    let mounts = list(container, "volumeMounts").iter();
    let holds = |m: &&Yaml| path.starts_with(&format!("{}/", text(m, "mountPath")));
    let mount = only(mounts.filter(holds), &format!("mount of {path}"));
    let name = text(mount, "name");
    let volumes = list(pod, "volumes").iter();
    let volume = only(volumes.filter(|v| v["name"].as_str() == Some(name)), name);
    (volume, text(mount, "mountPath").to_owned())
}

/// What the Indexed Job is to its merge.
struct Indexed {
    /// The pods' script (JOB_COMPLETION_INDEX still to set).
    shard: Job,
    /// Each pod's report, by index.
    reports: Vec<String>,
    /// Where the reports are mounted, and the claim mounted there.
    reports_at: String,
    claim: String,
    /// The list the pods read, and where its ConfigMap is mounted.
    list: String,
    list_at: String,
}

/// The Indexed Job and its claim: N pods at once (`completions`, `parallelism`), each with
/// `--shard auto --shards N` (urlcheck reads JOB_COMPLETION_INDEX of 0..N-1), writing a report
/// named by its index on a ReadWriteMany claim after removing the last run's, exit 1 a
/// finished pod, and reading the list from a ConfigMap that has it.
fn indexed_job(objects: &[Yaml], job: &Yaml) -> Indexed {
    assert_eq!(text(&job["spec"], "completionMode"), "Indexed");
    let n = int(&job["spec"], "completions");
    assert_eq!(int(&job["spec"], "parallelism"), n, "every shard at once");
    let (pod, container, sh) = pod_of(job);
    let shard = invocation(sh);
    assert_eq!(shard.value("--shard"), Some("auto"));
    assert_eq!(
        shard.value("--shards"),
        Some(n.to_string().as_str()),
        "--shards is completions"
    );
    let template = shard.json_report();
    assert!(
        template.contains("$JOB_COMPLETION_INDEX"),
        "each pod its own report: {template}"
    );
    let forgotten =
        (sh.find(&format!("rm -f {template}"))).is_some_and(|at| Some(at) < sh.find("urlcheck "));
    assert!(forgotten, "{sh}: a shard that fails must leave no report");
    assert!(
        sh.trim_end().ends_with("|| [ $? -eq 1 ]"),
        "{sh}: exit 1 is a finished shard"
    );
    let failing = &job["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"];
    assert_eq!(text(failing, "containerName"), text(container, "name"));
    let (volume, reports_at) = volume_of(pod, container, template);
    let claim = text(&volume["persistentVolumeClaim"], "claimName");
    let modes = strings(
        &object(objects, "PersistentVolumeClaim", claim)["spec"],
        "accessModes",
    );
    assert!(
        modes.contains(&"ReadWriteMany"),
        "pods on several nodes write it: {modes:?}"
    );
    let list = only(&shard.inputs, "input");
    let (volume, list_at) = volume_of(pod, container, list);
    let map = object(objects, "ConfigMap", text(&volume["configMap"], "name"));
    let key = &list[list_at.len() + 1..];
    assert!(
        map["data"][key].as_str().is_some(),
        "the ConfigMap has no {key}"
    );
    let given = |k: i64| template.replace("$JOB_COMPLETION_INDEX", &k.to_string());
    Indexed {
        shard: Job {
            script: sh.to_owned(),
            env: Vec::new(),
        },
        reports: (0..n).map(given).collect(),
        reports_at,
        claim: claim.to_owned(),
        list: list.clone(),
        list_at,
    }
}

/// The manifests: the Indexed Job of [`indexed_job`], and the merge Job, which mounts the
/// same claim at the same place and reads every report once.
fn k8s() -> Fleet {
    let objects: Vec<Yaml> = manifests().iter().flat_map(|f| load(f)).collect();
    let jobs: Vec<&Yaml> = (objects.iter())
        .filter(|o| o["kind"].as_str() == Some("Job"))
        .collect();
    let indexed = |j: &&&Yaml| has(&j["spec"], "completionMode");
    let shards = indexed_job(&objects, only(jobs.iter().filter(indexed), "Indexed Job"));
    let merge_job = only(jobs.iter().filter(|j| !indexed(j)), "merge Job");
    let (pod, container, sh) = pod_of(merge_job);
    let merge = invocation(sh);
    let (volume, at) = volume_of(pod, container, &merge.inputs[0]);
    assert_eq!(
        text(&volume["persistentVolumeClaim"], "claimName"),
        shards.claim
    );
    assert_eq!(at, shards.reports_at, "the reports at the same place");
    assert_merge_reads(&shards.reports, &merge);
    let pod = |k: i64| Job {
        env: env(&[("JOB_COMPLETION_INDEX", &k.to_string())]),
        ..shards.shard.clone()
    };
    Fleet {
        shards: (0..shards.reports.len() as i64).map(pod).collect(),
        merge: Job {
            script: sh.to_owned(),
            env: Vec::new(),
        },
        mounts: Some(vec![shards.reports_at, shards.list_at]),
        reports: shards.reports,
        list: shards.list,
    }
}

#[test]
fn the_indexed_job_is_the_shards_once_and_the_merge_job_reads_its_volume() {
    k8s();
}

/// Every pod completes (dead links are in its report, not its exit code), and the merge
/// Job's exit code is the verdict.
#[test]
fn the_kubernetes_recipe_runs_to_one_verdict() {
    let server = Server::start(HOSTS);
    let list = List::on(&server);
    let ran = k8s().run(&list.text);
    list.assert_shards_ran(&ran, false);
    assert_eq!(ran.merge.code, 1, "{:?}", ran.merge);
    assert!(
        ran.merge.stdout.contains(&list.dead),
        "{}",
        ran.merge.stdout
    );
    list.assert_merged(&serde_json::from_str(&ran.read("/reports/all.json")).unwrap());
}

// ---------------------------------------------------------------------------------------------
// The list the recipes run on
// ---------------------------------------------------------------------------------------------

const HOSTS: usize = 4;

/// Five URLs on each of four loopback hosts and, among them, one dead link.
struct List {
    text: String,
    urls: Vec<String>,
    dead: String,
    dead_line: u64,
}

impl List {
    fn on(server: &Server) -> List {
        let mut urls: Vec<String> = (0..HOSTS)
            .flat_map(|host| (0..5).map(move |i| (host, i)))
            .map(|(host, i)| server.url(host, &format!("/ok?i={i}")))
            .collect();
        let dead = server.url(1, "/status/404");
        urls.insert(7, dead.clone());
        List {
            text: urls.join("\n") + "\n",
            urls,
            dead,
            dead_line: 8,
        }
    }

    /// The shards ran to the end: on CI the one with the dead link exits 1, the others 0; in
    /// Kubernetes every pod completes.
    fn assert_shards_ran(&self, ran: &Ran, dead_fails: bool) {
        let codes: Vec<i32> = ran.shards.iter().map(|s| s.code).collect();
        let expected = |code: &i32| *code == 0 || (dead_fails && *code == 1);
        assert!(codes.iter().all(expected), "{:?}", ran.shards);
        assert_eq!(codes.contains(&1), dead_fails, "{:?}", ran.shards);
    }

    /// The merged JSON report is one run's: every URL once, the dead one down, the rest up.
    fn assert_merged(&self, doc: &Value) {
        let results = doc["results"].as_array().expect("results");
        let outcomes: BTreeMap<&str, &str> = results
            .iter()
            .map(|r| (r["url"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
            .collect();
        assert_eq!(
            results.len(),
            self.urls.len(),
            "every URL once: {outcomes:?}"
        );
        for url in &self.urls {
            let expected = if *url == self.dead { "down" } else { "up" };
            assert_eq!(outcomes.get(url.as_str()), Some(&expected), "{url}");
        }
    }

    /// The merged JUnit file: a test case per URL, the dead one failed.
    fn assert_junit(&self, xml: &str) {
        let doc = roxmltree::Document::parse(xml).unwrap();
        let cases: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), self.urls.len(), "{xml}");
        let failed = |c: &&roxmltree::Node| c.children().any(|n| n.has_tag_name("failure"));
        let failed: Vec<_> = cases.iter().filter(failed).collect();
        assert_eq!(failed.len(), 1, "{xml}");
        assert!(xml.contains(&self.dead), "{xml}");
    }
}
