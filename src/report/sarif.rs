//! SARIF 2.1.0 for code-scanning tools (GitHub code scanning, IDE viewers): one run whose
//! results are the failing occurrences, each a URL at the file, line and column that lists
//! it, under a rule named by what went wrong (`urlcheck/down`, `urlcheck/error/dns`, ...).
//!
//! A URL listed on three lines is three results: each place is something to fix. Every result
//! carries a fingerprint made of its rule, file and URL only, so an alert keeps its identity
//! across runs when lines move or timings change. `<stdin>` and `<args>` are not files: their
//! results have a logical location (the name and `name:line`) instead of a physical one. Apart
//! from the invocation's start and end times the document depends only on the results.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use ring::digest::{digest, SHA256};
use serde::Serialize;

use super::json::pretty;
use super::{failure_reason, rfc3339, Options, Run};
use crate::model::{ErrorKind, FailOn, History, Outcome, Source, UrlResult};

/// Where the schema of the OASIS standard (2.1.0 with errata 01) is published.
const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The base a relative artifact URI is resolved against: the folder urlcheck ran in (not
/// recorded, so that the document does not depend on the machine).
const SRCROOT: &str = "%SRCROOT%";

/// The name of the partial fingerprint; the `/v1` is bumped if its recipe ever changes.
const FINGERPRINT: &str = "urlcheck/v1";

/// The rule of a failure with no URL at all (`--fail-on empty`).
const EMPTY_RULE: &str = "urlcheck/empty";

/// Bytes kept in a path of a relative URI as they are: RFC 3986's unreserved characters and
/// the `/` between segments. Everything else is percent-encoded, `:` included (a colon in
/// the first segment would read as a scheme).
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// `--format sarif`: the SARIF log of a run's failures.
pub(super) fn render(run: &Run, options: Options) -> Vec<u8> {
    pretty(&log(run, options.fail_on))
}

fn log(run: &Run, fail_on: FailOn) -> Log {
    let empty = run.summary.failed_empty(fail_on);
    let failures: Vec<&UrlResult> = run.failures(fail_on).collect();
    let mut kinds: BTreeSet<RuleKind> = failures.iter().map(|r| RuleKind::of(r)).collect();
    if empty {
        kinds.insert(RuleKind::Empty);
    }
    let kinds: Vec<RuleKind> = kinds.into_iter().collect();
    let index = |kind: RuleKind| kinds.binary_search(&kind).expect("a rule for every result");
    let mut results = Vec::new();
    if empty {
        results.push(empty_result(index(RuleKind::Empty)));
    }
    for r in failures {
        let kind = RuleKind::of(r);
        results.extend(r.sources.iter().map(|s| result(r, s, kind, index(kind))));
    }
    Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [SarifRun {
            tool: Tool {
                driver: Driver::new(kinds.iter().map(|k| k.rule()).collect()),
            },
            invocations: [invocation(run)],
            column_kind: "unicodeCodePoints",
            results,
        }],
    }
}

/// What went wrong, as a rule: the outcome, and for an error its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum RuleKind {
    Outcome(Outcome),
    Error(ErrorKind),
    Empty,
}

impl RuleKind {
    fn of(r: &UrlResult) -> RuleKind {
        match (r.check.outcome, &r.check.error) {
            // Always kind `input`: the outcome says it all.
            (Outcome::Invalid, _) => RuleKind::Outcome(Outcome::Invalid),
            (_, Some(e)) => RuleKind::Error(e.kind),
            (outcome, None) => RuleKind::Outcome(outcome),
        }
    }

    fn id(self) -> String {
        match self {
            RuleKind::Outcome(o) => format!("urlcheck/{}", o.as_str()),
            RuleKind::Error(k) => format!("urlcheck/error/{}", k.as_str()),
            RuleKind::Empty => EMPTY_RULE.to_string(),
        }
    }

    fn rule(self) -> Rule {
        Rule {
            id: self.id(),
            short_description: Text::new(self.description()),
            default_configuration: Configuration { level: "error" },
        }
    }

    fn description(self) -> &'static str {
        match self {
            RuleKind::Outcome(o) => match o {
                Outcome::Up => "The URL answers with an accepted status (listed by --fail-on)",
                Outcome::Down => "The URL answers with an HTTP status that is not accepted",
                Outcome::Error => "The URL gave no usable HTTP answer",
                Outcome::Invalid => "The line or link is not a checkable URL",
                Outcome::Skipped => "The URL was excluded (listed by --fail-on)",
                Outcome::Blocked => {
                    "The URL's answer was a bot wall or a rate limit (listed by --fail-on)"
                }
            },
            RuleKind::Error(k) => match k {
                ErrorKind::Dns => "The URL's host name does not resolve",
                ErrorKind::Connect => "No connection to the URL's host",
                ErrorKind::Timeout => "The URL did not answer in time",
                ErrorKind::Tls => "The TLS handshake with the URL's host failed",
                ErrorKind::Reset => "The URL's host closed the connection",
                ErrorKind::Redirects => "The URL redirects too often or in a loop",
                ErrorKind::Protocol => "The URL's host broke the HTTP protocol",
                ErrorKind::Other => "The URL could not be checked",
                ErrorKind::Input => "The line or link is not a checkable URL",
                ErrorKind::File => "The local file or folder a link points to does not exist",
                ErrorKind::Fragment => "The anchor a link's #fragment names does not exist",
                ErrorKind::CertExpiry => "The URL's TLS certificate expires within --cert-expiry",
                ErrorKind::Expectation => "The URL's answer fails an expectation of urlcheck.toml",
            },
            RuleKind::Empty => "The input holds no URL at all (--fail-on empty)",
        }
    }
}

/// One failing occurrence: `r` as listed at `source`.
fn result(r: &UrlResult, source: &Source, kind: RuleKind, rule_index: usize) -> SarifResult {
    let rule_id = kind.id();
    let (location, place) = match artifact_uri(&source.file) {
        Some(uri) => {
            let region = Region {
                start_line: source.line,
                start_column: source.column,
            };
            let place = uri.uri.clone();
            (Location::physical(uri, region), place)
        }
        None => (Location::logical(source), source.file.to_string()),
    };
    let fingerprint = fingerprint(&[&rule_id, &place, &r.url]);
    SarifResult {
        rule_id,
        rule_index,
        level: "error",
        message: Text::new(message(r)),
        locations: vec![location],
        partial_fingerprints: BTreeMap::from([(FINGERPRINT, fingerprint)]),
        properties: Some(Properties {
            outcome: r.check.outcome.as_str(),
            status: r.check.status,
            error_kind: r.check.error.as_ref().map(|e| e.kind.as_str()),
            history: r.history,
        }),
    }
}

/// The run as a whole failed: no URL to check, which `--fail-on empty` makes a failure.
fn empty_result(rule_index: usize) -> SarifResult {
    SarifResult {
        rule_id: EMPTY_RULE.to_string(),
        rule_index,
        level: "error",
        message: Text::new("no URLs in the input: nothing was checked (--fail-on empty)"),
        locations: Vec::new(),
        partial_fingerprints: BTreeMap::from([(FINGERPRINT, fingerprint(&[EMPTY_RULE]))]),
        properties: None,
    }
}

/// `https://x/y is down: HTTP 404 Not Found`.
fn message(r: &UrlResult) -> String {
    let verb = match r.check.outcome {
        Outcome::Up => "is up",
        Outcome::Down => "is down",
        Outcome::Error => "failed",
        Outcome::Invalid => "is not a checkable URL",
        Outcome::Skipped => "was skipped",
        Outcome::Blocked => "was blocked",
    };
    let mut text = format!("{} {verb}: {}", r.url, failure_reason(r));
    if let Some(last) = &r.check.final_url {
        text.push_str(&format!(" (redirected to {last})"));
    }
    text
}

/// The file as a URI: a relative reference (against [`SRCROOT`]) for a relative path, a
/// `file:` URI for an absolute one; `None` for `<stdin>` and `<args>`, which are not files.
fn artifact_uri(file: &str) -> Option<ArtifactLocation> {
    if file == "<stdin>" || file == "<args>" {
        return None;
    }
    let path = Path::new(file);
    if path.is_absolute() {
        if let Ok(url) = url::Url::from_file_path(path) {
            return Some(ArtifactLocation {
                uri: url.to_string(),
                uri_base_id: None,
            });
        }
    }
    // Windows writes `dir\file`; a URI separates segments with `/` on every system.
    let slashed = if cfg!(windows) {
        file.replace('\\', "/")
    } else {
        file.to_string()
    };
    let mut relative = slashed.as_str();
    while let Some(rest) = relative.strip_prefix("./") {
        relative = rest;
    }
    Some(ArtifactLocation {
        uri: utf8_percent_encode(relative, PATH).to_string(),
        uri_base_id: Some(SRCROOT),
    })
}

/// The first 128 bits of SHA-256 over the parts (each ended by a NUL), in hex: the same on
/// every machine and in every run, unlike the std hasher's random keys.
fn fingerprint(parts: &[&str]) -> String {
    let mut bytes = Vec::new();
    for part in parts {
        bytes.extend_from_slice(part.as_bytes());
        bytes.push(0);
    }
    digest(&SHA256, &bytes).as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn invocation(run: &Run) -> Invocation {
    let interrupted = run.summary.interrupted;
    Invocation {
        // Failing URLs are findings, not a failed execution; a stopped run is one.
        execution_successful: !interrupted,
        start_time_utc: rfc3339(run.info.started_at),
        end_time_utc: rfc3339(run.info.finished_at),
        tool_execution_notifications: if interrupted {
            vec![Notification {
                level: "error",
                message: Text::new(
                    "interrupted: the URLs not checked yet are missing from the results",
                ),
            }]
        } else {
            Vec::new()
        },
    }
}

// The SARIF objects urlcheck writes, with the property names of the standard.

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [SarifRun; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRun {
    tool: Tool,
    invocations: [Invocation; 1],
    column_kind: &'static str,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    information_uri: Option<&'static str>,
    rules: Vec<Rule>,
}

impl Driver {
    fn new(rules: Vec<Rule>) -> Driver {
        let repository = env!("CARGO_PKG_REPOSITORY");
        Driver {
            name: "urlcheck",
            version: env!("CARGO_PKG_VERSION"),
            semantic_version: env!("CARGO_PKG_VERSION"),
            information_uri: (!repository.is_empty()).then_some(repository),
            rules,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    short_description: Text,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

impl Text {
    fn new(text: impl Into<String>) -> Text {
        Text { text: text.into() }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    start_time_utc: String,
    end_time_utc: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<Properties>,
}

/// What urlcheck concluded, for readers who want more than the rule.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_kind: Option<&'static str>,
    /// With `--history`: the same object as in the JSON report.
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<History>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
}

impl Location {
    fn physical(artifact_location: ArtifactLocation, region: Region) -> Location {
        Location {
            physical_location: Some(PhysicalLocation {
                artifact_location,
                region,
            }),
            logical_locations: Vec::new(),
        }
    }

    /// `<stdin>` or `<args>`: no file to point into, so the name and the line as text.
    fn logical(source: &Source) -> Location {
        Location {
            physical_location: None,
            logical_locations: vec![LogicalLocation {
                name: source.file.to_string(),
                fully_qualified_name: source.to_string(),
            }],
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::report::testing::{options, result, run, source};

    /// The rendered log, parsed back and checked against the OASIS schema (see
    /// tests/common/validate.rs for where the file comes from).
    fn document(run: &Run, options: Options) -> Value {
        let doc: Value = serde_json::from_slice(&render(run, options)).expect("SARIF is JSON");
        let schema: Value =
            serde_json::from_str(include_str!("../../tests/sarif-schema-2.1.0.json")).unwrap();
        let validator = jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the SARIF schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("at {}: {e}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
        doc
    }

    /// A down link in a document and in a list, a DNS error on stdin, a missing local file
    /// in a folder with a space in its name, and an up URL that is no failure.
    fn sample() -> Run {
        run(vec![
            result(
                "https://x/y",
                Outcome::Down,
                Some(404),
                None,
                vec![
                    source("docs/guide.md", 7, Some(12)),
                    source("docs/guide.md", 9, Some(3)),
                    source("./list.txt", 3, None),
                ],
            ),
            result(
                "https://up/",
                Outcome::Up,
                Some(200),
                None,
                vec![source("list.txt", 1, None)],
            ),
            result(
                "https://nx.invalid/",
                Outcome::Error,
                None,
                Some(ErrorKind::Dns),
                vec![source("<stdin>", 2, None)],
            ),
            result(
                "../gone.md",
                Outcome::Error,
                None,
                Some(ErrorKind::File),
                vec![source("my docs/a:b.md", 1, Some(1))],
            ),
        ])
    }

    #[test]
    fn one_result_per_failing_occurrence_under_its_rule() {
        let doc = document(&sample(), options());
        assert_eq!(doc["version"], "2.1.0");
        let run = &doc["runs"][0];
        assert_eq!(run["columnKind"], "unicodeCodePoints");
        let rules: Vec<&str> = run["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            rules,
            ["urlcheck/down", "urlcheck/error/dns", "urlcheck/error/file"]
        );
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 5, "{run:#}");
        for r in results {
            let index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(r["ruleId"], rules[index], "{r:#}");
            assert_eq!(r["level"], "error");
        }
        assert_eq!(
            results[0]["message"]["text"],
            "https://x/y is down: HTTP 404 Not Found"
        );
        let at = |i: usize| &results[i]["locations"][0]["physicalLocation"];
        assert_eq!(at(0)["artifactLocation"]["uri"], "docs/guide.md");
        assert_eq!(at(0)["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(at(0)["region"]["startLine"], 7);
        assert_eq!(at(0)["region"]["startColumn"], 12);
        assert_eq!(at(2)["artifactLocation"]["uri"], "list.txt");
        assert_eq!(at(2)["region"]["startLine"], 3);
        assert!(at(2)["region"].get("startColumn").is_none(), "{:#}", at(2));
        assert_eq!(at(4)["artifactLocation"]["uri"], "my%20docs/a%3Ab.md");
        assert_eq!(at(4)["region"]["startColumn"], 1);
    }

    #[test]
    fn files_become_uris() {
        let uri = |file: &str| artifact_uri(file).map(|a| (a.uri, a.uri_base_id));
        let relative = |s: &str| Some((s.to_string(), Some(SRCROOT)));
        assert_eq!(uri("docs/a.md"), relative("docs/a.md"));
        assert_eq!(uri("././docs/a.md"), relative("docs/a.md"));
        assert_eq!(uri("../up/ü #1.md"), relative("../up/%C3%BC%20%231.md"));
        assert_eq!(uri("c:x.md"), relative("c%3Ax.md"));
        assert_eq!(uri("<stdin>"), None);
        assert_eq!(uri("<args>"), None);
        if cfg!(unix) {
            let absolute = Some(("file:///srv/my%20docs/a.md".to_string(), None));
            assert_eq!(uri("/srv/my docs/a.md"), absolute);
        }
    }

    #[test]
    fn stdin_has_a_logical_location_and_no_artifact() {
        let doc = document(&sample(), options());
        let stdin = &doc["runs"][0]["results"][3];
        assert_eq!(stdin["ruleId"], "urlcheck/error/dns");
        let location = &stdin["locations"][0];
        assert!(location.get("physicalLocation").is_none(), "{location:#}");
        assert_eq!(location["logicalLocations"][0]["name"], "<stdin>");
        assert_eq!(
            location["logicalLocations"][0]["fullyQualifiedName"],
            "<stdin>:2"
        );
    }

    #[test]
    fn fingerprints_name_the_rule_file_and_url_not_the_line() {
        let doc = document(&sample(), options());
        let results = doc["runs"][0]["results"].as_array().unwrap();
        let print = |i: usize| results[i]["partialFingerprints"]["urlcheck/v1"].clone();
        assert_eq!(print(0).as_str().unwrap().len(), 32);
        assert_eq!(print(0), print(1), "two lines of one file");
        assert_ne!(print(0), print(2), "another file");
        assert_eq!(
            print(0),
            Value::from(fingerprint(&[
                "urlcheck/down",
                "docs/guide.md",
                "https://x/y"
            ]))
        );
        // The same bytes on every machine and in every run (no random hasher keys).
        assert_eq!(fingerprint(&["a"]), "ffe9aaeaa2a2d5048174df0b80599ef0");
        assert_eq!(render(&sample(), options()), render(&sample(), options()));
    }

    #[test]
    fn an_empty_input_is_a_result_only_when_fail_on_says_so() {
        let mut options = options();
        let doc = document(&run(Vec::new()), options);
        assert_eq!(doc["runs"][0]["results"], Value::Array(Vec::new()));
        options.fail_on.outcomes.insert_empty();
        let doc = document(&run(Vec::new()), options);
        let results = doc["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 1);
        assert_eq!(results[0]["ruleId"], "urlcheck/empty");
        assert!(results[0].get("locations").is_none());
        assert_eq!(
            doc["runs"][0]["tool"]["driver"]["rules"][0]["id"],
            "urlcheck/empty"
        );
    }

    #[test]
    fn the_properties_carry_the_history() {
        let doc = document(&crate::report::tests::history_run(), options());
        let results = doc["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 3, "{doc:#}");
        let new = results
            .iter()
            .find(|r| {
                r["message"]["text"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://x/new ")
            })
            .unwrap();
        assert_eq!(
            new["properties"]["history"],
            serde_json::json!({
                "state": "new",
                "consecutive_failures": 1,
                "failing_since": "2027-01-15T08:00:00Z",
                "last_up": "2027-01-15T07:45:00Z",
            })
        );
        let plain = document(&sample(), options());
        let props = &plain["runs"][0]["results"][0]["properties"];
        assert!(props.get("history").is_none(), "{props:#}");
    }

    #[test]
    fn an_interrupted_run_is_not_a_successful_execution() {
        let mut r = sample();
        assert_eq!(
            document(&r, options())["runs"][0]["invocations"][0]["executionSuccessful"],
            true
        );
        r.summary.interrupted = true;
        let doc = document(&r, options());
        let invocation = &doc["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], false);
        assert_eq!(invocation["startTimeUtc"], "2027-01-15T08:00:00.000Z");
    }
}
