//! Issue 14: `--shard K/N` and `urlcheck merge`. A loopback list over six fixture hosts, one of
//! them heavy (half the list, so the plan splits it), is checked once whole and once as four
//! shards run as separate processes at the same time: the shards' results together are the
//! single run's, URL by URL; no host is on two shards but the split one, and the fleet never
//! had more than `--per-host` requests in flight to any host, as the server counts them;
//! `merge` gives the single run's counts and exit code, and refuses missing, repeated and
//! foreign shards.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use common::{results, run, urlcheck, urlcheck_std, wait_child, write_list, Run, Server};

const SHARDS: usize = 4;
const PER_HOST: &str = "3";

/// 120 URLs of host 0 (a share is 240 / 4 = 60: it is split), 20 on each of hosts 1..=5
/// (/ok, a 404 and a 500 among them), a line that is no URL, and a repeated line.
fn list(server: &Server) -> String {
    let mut lines = Vec::new();
    for i in 0..120 {
        lines.push(server.url(0, &format!("/delay/30?i={i}")));
    }
    for host in 1..=5 {
        for i in 0..20 {
            let path = match i {
                3 => format!("/status/404?i={i}"),
                7 => format!("/status/500?i={i}"),
                _ => format!("/ok?i={i}"),
            };
            lines.push(server.url(host, &path));
        }
    }
    lines.push("not a url".into());
    lines.push(server.url(1, "/ok?i=0"));
    lines.join("\n") + "\n"
}

const FLAGS: [&str; 8] = [
    "-t",
    "5s",
    "--retries",
    "0",
    "--per-host",
    PER_HOST,
    "-c",
    "16",
];

/// url -> (outcome, status, its sources as file:line).
fn outcomes(doc: &Value) -> BTreeMap<String, (String, Value, Vec<String>)> {
    let mut map = BTreeMap::new();
    for r in results(doc) {
        let mut sources: Vec<String> = (r["sources"].as_array().unwrap().iter())
            .map(|s| format!("{}:{}", s["file"].as_str().unwrap(), s["line"]))
            .collect();
        sources.sort();
        let url = r["url"].as_str().unwrap().to_owned();
        let seen = (
            r["outcome"].as_str().unwrap().to_owned(),
            r["status"].clone(),
            sources,
        );
        assert!(map.insert(url.clone(), seen).is_none(), "{url} twice");
    }
    map
}

fn host_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    Some(format!("{}:{}", url.host_str()?, url.port()?))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Runs the shards of `list` in `dir` all at once, each a process of its own; their reports.
fn run_shards(dir: &Path, list: &Path) -> Vec<PathBuf> {
    let reports: Vec<PathBuf> = (1..=SHARDS)
        .map(|k| dir.join(format!("shard-{k}.json")))
        .collect();
    let mut children: Vec<_> = (1..=SHARDS)
        .map(|k| {
            let mut cmd = urlcheck_std();
            cmd.current_dir(dir)
                .args(FLAGS)
                .args(["--no-progress", "-q", "--shard", &format!("{k}/{SHARDS}")])
                .arg("--report")
                .arg(format!("json={}", reports[k - 1].display()))
                .arg(list)
                .stdout(std::process::Stdio::null());
            cmd.spawn().unwrap()
        })
        .collect();
    for child in &mut children {
        // Exit 1: the list has failures, in some shards.
        let status = wait_child(child, Duration::from_secs(60));
        assert!(matches!(status.code(), Some(0 | 1)), "{status:?}");
    }
    reports
}

#[test]
fn four_shards_check_what_one_run_checks_and_merge_says_what_it_says() {
    let server = Server::start(6);
    let dir = TempDir::new().unwrap();
    let list = write_list(dir.path(), "urls.txt", list(&server));
    let single = run(urlcheck().args(FLAGS).args(["--format", "json"]).arg(&list));
    single.assert_code(1);
    let single_doc = single.json();

    server.stats().reset();
    let reports = run_shards(dir.path(), &list);
    // The fleet together kept to --per-host with every host, the split one included.
    let per_host: u64 = PER_HOST.parse().unwrap();
    let stats = server.stats();
    assert!(
        stats.max_in_flight_per_host() <= per_host,
        "{}",
        stats.max_in_flight_per_host()
    );
    assert!(
        stats.max_in_flight_per_host() >= 2,
        "the shards never overlapped"
    );

    let mut union = BTreeMap::new();
    let mut shards_of_host: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for (k, path) in reports.iter().enumerate() {
        let doc = read_json(path);
        assert_eq!(doc["shard"]["index"], k as u64 + 1, "{doc:#}");
        assert_eq!(doc["shard"]["count"], SHARDS as u64);
        assert_eq!(
            doc["shard"]["fingerprint"],
            read_json(&reports[0])["shard"]["fingerprint"]
        );
        for (url, seen) in outcomes(&doc) {
            if let Some(host) = host_of(&url) {
                shards_of_host.entry(host).or_default().insert(k);
            }
            assert!(
                union.insert(url.clone(), seen).is_none(),
                "{url} in two shards"
            );
        }
    }
    assert_eq!(
        union,
        outcomes(&single_doc),
        "the shards' results are not the single run's"
    );
    let heavy = host_of(&server.url(0, "/")).unwrap();
    for (host, shards) in &shards_of_host {
        match host == &heavy {
            true => assert!(shards.len() >= 2, "{host} was not split: {shards:?}"),
            false => assert_eq!(shards.len(), 1, "{host} is on shards {shards:?}"),
        }
    }

    let junit = dir.path().join("all.xml");
    let html = dir.path().join("all.html");
    let merged = run(urlcheck()
        .args(["merge", "--format", "json", "--report"])
        .arg(format!("junit={}", junit.display()))
        .arg("--report")
        .arg(format!("html={}", html.display()))
        .args(&reports));
    merged.assert_code(single.code.unwrap());
    let merged_doc = merged.json();
    let schema = common::validate::validator(None);
    common::validate::assert_valid(&schema, &merged_doc, "the merged report");
    common::validate::assert_valid(&schema, &read_json(&reports[0]), "a shard's report");
    for count in [
        "total", "up", "down", "error", "invalid", "skipped", "blocked",
    ] {
        assert_eq!(
            merged_doc["summary"][count], single_doc["summary"][count],
            "{count}"
        );
    }
    assert_eq!(outcomes(&merged_doc), outcomes(&single_doc));
    assert_eq!(
        merged_doc["merged"]["shards"],
        serde_json::json!([1, 2, 3, 4])
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    let tree = roxmltree::Document::parse(&xml).unwrap();
    let cases = tree
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(cases, results(&single_doc).len(), "{xml}");
    // The merged page: every result, and which shards it was merged from.
    let page = std::fs::read_to_string(&html).unwrap();
    let rows = page.matches("<tr class=\"result\"").count();
    assert_eq!(rows, results(&single_doc).len());
    assert!(
        page.contains("<dt>merged</dt><dd>4 of 4 shards</dd>"),
        "{page}"
    );
    server.shutdown();
}

/// Two shards' reports of a small list, and the list.
fn two_shards(server: &Server, dir: &Path, name: &str) -> Vec<PathBuf> {
    let urls: Vec<String> = (0..6)
        .map(|h| server.url(h % 3, &format!("/ok?{name}={h}")))
        .collect();
    let list = write_list(dir, &format!("{name}.txt"), urls.join("\n"));
    (1..=2)
        .map(|k| {
            let report = dir.join(format!("{name}-{k}.json"));
            let out = run(urlcheck()
                .args(["-q", "--shard", &format!("{k}/2"), "--report"])
                .arg(format!("json={}", report.display()))
                .arg(&list));
            out.assert_code(0);
            report
        })
        .collect()
}

#[track_caller]
fn assert_refused(out: &Run, said: &[&str]) {
    out.assert_code(2);
    for s in said {
        assert!(out.stderr.contains(s), "stderr lacks {s:?}: {out}");
    }
}

#[test]
fn merge_refuses_missing_repeated_and_foreign_shards() {
    let server = Server::start(3);
    let dir = TempDir::new().unwrap();
    let a = two_shards(&server, dir.path(), "a");
    let b = two_shards(&server, dir.path(), "b");
    let merge = |reports: &[&PathBuf], extra: &[&str]| {
        run(urlcheck().arg("merge").args(extra).args(reports))
    };
    assert_refused(&merge(&[&a[0]], &[]), &["missing", "2"]);
    let out = merge(&[&a[0]], &["--allow-partial", "-f", "json"]);
    out.assert_code(0);
    assert!(out.stderr.contains("missing of 2: 2"), "{out}");
    assert_eq!(out.json()["merged"]["missing"], serde_json::json!([2]));
    assert_refused(&merge(&[&a[0], &a[0], &a[1]], &[]), &["twice", "a-1.json"]);
    assert_refused(
        &merge(&[&a[0], &b[1]], &[]),
        &["different", "a-1.json", "b-2.json"],
    );
    // A report of a run without --shard is not a shard's.
    let plain = dir.path().join("plain.json");
    let out = run(urlcheck()
        .arg("--report")
        .arg(format!("json={}", plain.display()))
        .arg(server.url(0, "/ok")));
    out.assert_code(0);
    assert_refused(&merge(&[&plain], &[]), &["plain.json", "--shard"]);
    assert_refused(
        &merge(&[&dir.path().join("none.json")], &[]),
        &["none.json"],
    );
    // merge --history records the merged run.
    let db = dir.path().join("links.db");
    let out = merge(&[&a[0], &a[1]], &["--history", db.to_str().unwrap()]);
    out.assert_code(0);
    let shown = run(urlcheck().args(["history", db.to_str().unwrap(), "-f", "json"]));
    shown.assert_code(0);
    assert!(
        shown.stdout().contains(&server.url(0, "/ok?a=0")),
        "{shown}"
    );
    server.shutdown();
}

#[test]
fn shard_auto_reads_the_ci_systems_variables() {
    let server = Server::start(1);
    let dir = TempDir::new().unwrap();
    let list = write_list(dir.path(), "urls.txt", server.url(0, "/ok"));
    let shard_of = |env: &[(&str, &str)], extra: &[&str]| {
        let report = dir.path().join("auto.json");
        let mut cmd = urlcheck();
        cmd.args(["-q", "--shard", "auto"])
            .args(extra)
            .arg("--report");
        cmd.arg(format!("json={}", report.display())).arg(&list);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = run(&mut cmd);
        let shard = (out.code == Some(0)).then(|| read_json(&report)["shard"].clone());
        (out, shard)
    };
    let (_, shard) = shard_of(&[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "4")], &[]);
    assert_eq!(shard.unwrap()["index"], 2);
    let (_, shard) = shard_of(&[("JOB_COMPLETION_INDEX", "0")], &["--shards", "3"]);
    let shard = shard.unwrap();
    assert_eq!(
        (shard["index"].clone(), shard["count"].clone()),
        (1.into(), 3.into())
    );
    let (out, _) = shard_of(&[("JOB_COMPLETION_INDEX", "0")], &[]);
    assert_refused(&out, &["--shards"]);
    let (out, _) = shard_of(&[], &[]);
    assert_refused(&out, &["CI_NODE_INDEX", "JOB_COMPLETION_INDEX"]);
    // The survey reads the inputs before the run: stdin cannot be read twice.
    let out = run(urlcheck()
        .args(["--shard", "1/2", "-"])
        .write_stdin(server.url(0, "/ok")));
    assert_refused(&out, &["stdin"]);
    server.shutdown();
}

#[test]
fn a_host_tables_per_host_holds_across_the_fleet() {
    let server = Server::start(6);
    let dir = TempDir::new().unwrap();
    let list = write_list(dir.path(), "urls.txt", list(&server));
    // Every host at one request at a time, by a table: the heavy host is then not split (its
    // pieces could not share one slot), and the fleet keeps to one.
    std::fs::write(
        dir.path().join("urlcheck.toml"),
        "[[host]]\nmatch = \"127.0.0.*\"\nper-host = 1\n",
    )
    .unwrap();
    server.stats().reset();
    run_shards(dir.path(), &list);
    let most = server.stats().max_in_flight_per_host();
    assert_eq!(
        most, 1,
        "the fleet had {most} requests in flight to one host"
    );
    server.shutdown();
}

#[test]
fn merge_refuses_shards_of_other_settings_and_an_interrupted_shard_is_130() {
    let server = Server::start(3);
    let dir = TempDir::new().unwrap();
    let urls: Vec<String> = (0..9)
        .map(|i| server.url(i % 3, &format!("/ok?i={i}")))
        .collect();
    let list = write_list(dir.path(), "urls.txt", urls.join("\n"));
    let shard = |k: u32, extra: &[&str]| {
        let report = dir.path().join(format!("s{k}-{}.json", extra.join("")));
        let out = run(urlcheck()
            .args(["-q", "--shard", &format!("{k}/2"), "--report"])
            .arg(format!("json={}", report.display()))
            .args(extra)
            .arg(&list));
        out.assert_code(0);
        report
    };
    let (one, two) = (shard(1, &[]), shard(2, &[]));
    for other in [
        shard(2, &["--per-host", "1"]),
        shard(2, &["--exclude", "i=4"]),
    ] {
        let out = run(urlcheck().arg("merge").arg(&one).arg(&other));
        assert_refused(&out, &["different"]);
    }
    // A shard that was stopped early: the merge is not a pass.
    let mut doc = read_json(&two);
    doc["interrupted"] = true.into();
    std::fs::write(&two, serde_json::to_vec(&doc).unwrap()).unwrap();
    let out = run(urlcheck().arg("merge").arg(&one).arg(&two));
    out.assert_code(130);
    server.shutdown();
}

#[test]
fn a_shard_without_urls_is_no_empty_run() {
    let server = Server::start(1);
    let dir = TempDir::new().unwrap();
    let list = write_list(dir.path(), "urls.txt", server.url(0, "/ok"));
    for k in 1..=3 {
        let out = run(urlcheck()
            .args(["-q", "--fail-on", "down,error,invalid,empty", "--shard"])
            .arg(format!("{k}/3"))
            .arg(&list));
        out.assert_code(0);
    }
    server.shutdown();
}
