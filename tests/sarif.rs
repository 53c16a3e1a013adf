//! SARIF 2.1.0 (`--format sarif`, `--report sarif=PATH`), parsed back: valid against the
//! OASIS schema (`tests/sarif-schema-2.1.0.json`, see `common::validate`), one result per
//! failing line under a rule per outcome and error kind, regions at the listing line, stdin as
//! a logical location, and a document that two runs of the same list write identically apart
//! from the invocation's times (so fingerprints match across runs).

mod common;

use std::collections::BTreeMap;

use serde_json::Value;
use tempfile::TempDir;

use common::scenario::Scenario;
use common::validate::{assert_valid, sarif_validator, violations};
use common::{lines, refused_port, run, urlcheck, write_list, Server, FAST_5S};

fn the_run(doc: &Value) -> &Value {
    let runs = doc["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "{doc:#}");
    &runs[0]
}

fn sarif_results(doc: &Value) -> &Vec<Value> {
    the_run(doc)["results"].as_array().expect("results")
}

fn rule_ids(doc: &Value) -> Vec<String> {
    the_run(doc)["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// `(uri, startLine)` of a result with a physical location.
fn place(result: &Value) -> (String, u64) {
    let at = &result["locations"][0]["physicalLocation"];
    (
        at["artifactLocation"]["uri"].as_str().unwrap().to_string(),
        at["region"]["startLine"].as_u64().unwrap(),
    )
}

fn fingerprint(result: &Value) -> &str {
    result["partialFingerprints"]["urlcheck/v1"]
        .as_str()
        .unwrap_or_else(|| panic!("no fingerprint: {result:#}"))
}

#[test]
fn sarif_report_has_a_valid_result_per_failing_line_the_same_in_every_run() {
    let sc = Scenario::start();
    let validator = sarif_validator();
    let mut docs = Vec::new();
    for _ in 0..2 {
        sc.run(&["sarif"], &[]);
        let doc: Value = serde_json::from_str(&sc.read("sarif")).expect("SARIF is JSON");
        assert_valid(&validator, &doc, "the SARIF report");
        docs.push(doc);
    }
    let doc = &docs[0];
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(the_run(doc)["columnKind"], "unicodeCodePoints");
    assert_eq!(the_run(doc)["tool"]["driver"]["name"], "urlcheck");
    assert_eq!(
        rule_ids(doc),
        [
            "urlcheck/down",
            "urlcheck/invalid",
            "urlcheck/error/connect"
        ]
    );

    let failing: Vec<_> = sc
        .lines
        .iter()
        .filter(|l| ["down", "error", "invalid"].contains(&l.outcome))
        .collect();
    let results = sarif_results(doc);
    assert_eq!(results.len(), failing.len(), "{doc:#}");
    let rules = rule_ids(doc);
    for (r, line) in results.iter().zip(&failing) {
        assert_eq!(place(r), (line.file.to_string(), line.line), "{r:#}");
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(
            region.get("startColumn").is_none(),
            "a list has no columns: {r:#}"
        );
        let uri = &r["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(uri["uriBaseId"], "%SRCROOT%", "{r:#}");
        let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(r["ruleId"], rule.as_str());
        let text = r["message"]["text"].as_str().unwrap();
        assert!(text.starts_with(&line.url), "{text}");
        assert_eq!(r["properties"]["outcome"], line.outcome, "{r:#}");
        let expected_rule = match line.outcome {
            "error" => "urlcheck/error/connect",
            other => &format!("urlcheck/{other}"),
        };
        assert_eq!(rule, expected_rule, "{r:#}");
    }
    let down = results.iter().find(|r| place(r) == ("a.txt".into(), 3));
    assert_eq!(
        down.unwrap()["message"]["text"],
        format!(
            "{} is down: HTTP 404 Not Found",
            sc.srv.url(0, "/status/404")
        )
    );

    // Nothing but the invocation's times differs between the two runs.
    let without_times = |doc: &Value| {
        let mut doc = doc.clone();
        let invocation = &mut doc["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], true, "{invocation:#}");
        invocation["startTimeUtc"] = Value::Null;
        invocation["endTimeUtc"] = Value::Null;
        doc
    };
    assert_eq!(without_times(&docs[0]), without_times(&docs[1]));
    let prints = |doc: &Value| -> BTreeMap<(String, u64), String> {
        sarif_results(doc)
            .iter()
            .map(|r| (place(r), fingerprint(r).to_string()))
            .collect()
    };
    assert_eq!(prints(&docs[0]), prints(&docs[1]));
    sc.shutdown();
}

/// On stdout: a failing URL in two files is a result in each (fingerprints differ by file),
/// a repeat in one file shares its fingerprint, and a URL from stdin points at no file.
#[test]
fn sarif_on_stdout_gives_each_occurrence_and_stdin_a_logical_location() {
    let srv = Server::start(1);
    let dir = TempDir::new().unwrap();
    let missing = srv.url(0, "/status/404");
    let refused = format!("http://127.0.0.1:{}/", refused_port());
    write_list(
        dir.path(),
        "one.txt",
        lines(&[&missing, &srv.url(0, "/ok"), &missing]),
    );
    std::fs::create_dir(dir.path().join("sub dir")).unwrap();
    write_list(dir.path(), "sub dir/two.txt", lines(&[&missing]));
    let out = run(urlcheck()
        .current_dir(dir.path())
        .args(FAST_5S)
        .args(["--format", "sarif", "one.txt", "sub dir/two.txt", "-"])
        .write_stdin(lines(&[&refused])));
    out.assert_code(1);
    let doc = out.json();
    assert_valid(&sarif_validator(), &doc, "SARIF on stdout");
    let results = sarif_results(&doc);
    assert_eq!(results.len(), 4, "{doc:#}");
    let places: Vec<(String, u64)> = results[..3].iter().map(place).collect();
    assert_eq!(
        places,
        [
            ("one.txt".to_string(), 1),
            ("one.txt".to_string(), 3),
            ("sub%20dir/two.txt".to_string(), 1)
        ]
    );
    assert_eq!(fingerprint(&results[0]), fingerprint(&results[1]));
    assert_ne!(fingerprint(&results[0]), fingerprint(&results[2]));

    let stdin = &results[3];
    assert_eq!(stdin["ruleId"], "urlcheck/error/connect", "{stdin:#}");
    let location = &stdin["locations"][0];
    assert!(location.get("physicalLocation").is_none(), "{location:#}");
    assert_eq!(location["logicalLocations"][0]["name"], "<stdin>");
    assert_eq!(
        location["logicalLocations"][0]["fullyQualifiedName"],
        "<stdin>:1"
    );
    srv.shutdown();
}

#[test]
fn an_empty_input_that_fails_is_one_result_without_a_location() {
    let dir = TempDir::new().unwrap();
    let list = write_list(dir.path(), "empty.txt", "# nothing here\n");
    let out = run(urlcheck()
        .args(["--format", "sarif", "--fail-on", "down,error,invalid,empty"])
        .arg(&list));
    out.assert_code(1);
    let doc = out.json();
    assert_valid(&sarif_validator(), &doc, "SARIF of an empty run");
    assert_eq!(rule_ids(&doc), ["urlcheck/empty"]);
    let results = sarif_results(&doc);
    assert_eq!(results.len(), 1, "{doc:#}");
    assert!(results[0].get("locations").is_none(), "{doc:#}");

    let out = run(urlcheck().args(["--format", "sarif"]).arg(&list));
    out.assert_code(0);
    let doc = out.json();
    assert_valid(
        &sarif_validator(),
        &doc,
        "SARIF of an empty run that passes",
    );
    assert!(sarif_results(&doc).is_empty(), "{doc:#}");
}

/// The validator can fail: a passing test means something.
#[test]
fn the_sarif_validator_rejects_broken_logs() {
    let dir = TempDir::new().unwrap();
    let list = write_list(dir.path(), "bad.txt", "not a url\n");
    let out = run(urlcheck().args(["--format", "sarif"]).arg(&list));
    out.assert_code(1);
    let good = out.json();
    let validator = sarif_validator();
    assert_valid(&validator, &good, "the log");
    let region = "/runs/0/results/0/locations/0/physicalLocation/region";
    let breakages: [(&str, &str, Value); 4] = [
        ("a version that is not 2.1.0", "/version", "2.0.0".into()),
        ("line 0", &format!("{region}/startLine"), 0.into()),
        (
            "a level SARIF lacks",
            "/runs/0/results/0/level",
            "fatal".into(),
        ),
        (
            "a column kind SARIF lacks",
            "/runs/0/columnKind",
            "bytes".into(),
        ),
    ];
    for (what, pointer, value) in breakages {
        let mut bad = good.clone();
        *bad.pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer}")) = value;
        assert!(
            !violations(&validator, &bad).is_empty(),
            "{what} was accepted"
        );
    }
    let mut no_message = good.clone();
    no_message["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert!(!violations(&validator, &no_message).is_empty());
}

/// `--fail-on` decides what is a failure, so what SARIF lists (and keeps: a run with only
/// SARIF holds the failures, not every result).
#[test]
fn fail_on_decides_which_lines_are_results() {
    let sc = Scenario::start();
    sc.run(&["sarif"], &["--fail-on", "down"]);
    let doc: Value = serde_json::from_str(&sc.read("sarif")).unwrap();
    assert_valid(&sarif_validator(), &doc, "SARIF with --fail-on down");
    assert_eq!(rule_ids(&doc), ["urlcheck/down"]);
    let places: Vec<(String, u64)> = sarif_results(&doc).iter().map(place).collect();
    assert_eq!(places, [("a.txt".to_string(), 3), ("b.txt".to_string(), 1)]);
    sc.shutdown();
}
