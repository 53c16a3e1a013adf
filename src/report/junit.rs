//! JUnit XML for CI systems: one testsuite per input file, one testcase per URL (named by the
//! URL), a failure for every outcome in `--fail-on`, its message ending with what the run
//! history says (`(newly broken)`, `(failing 3 runs in a row)`). Built with `quick-junit`,
//! which owns the XML escaping.

use std::collections::BTreeMap;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{failure_reason, history_note, listed_at, Options, Run};
use crate::model::{FailOn, Outcome, UrlResult};

/// The JUnit document of a run.
pub(super) fn render(run: &Run, options: Options) -> Vec<u8> {
    let mut bytes = Vec::new();
    build(run, options.fail_on)
        .serialize(&mut bytes)
        .expect("JUnit serializes into memory");
    bytes.push(b'\n');
    bytes
}

/// A URL listed in two files is a testcase in both suites.
fn build(run: &Run, fail_on: FailOn) -> Report {
    let results = &run.results;
    let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for r in results {
        let mut files: Vec<&str> = r.sources.iter().map(|s| &*s.file).collect();
        files.dedup();
        for file in files {
            let suite = suites.entry(file).or_insert_with(|| {
                order.push(file);
                TestSuite::new(file)
            });
            suite.add_test_case(test_case(r, file, fail_on));
        }
    }
    let mut report = Report::new(format!("urlcheck ({})", run.info.mode.as_str()));
    report.set_time(run.summary.wall);
    if run.summary.failed_empty(fail_on) {
        report.add_test_suite(empty_input());
    }
    for file in order {
        let mut suite = suites.remove(file).expect("suite for every listed file");
        let time = results
            .iter()
            .filter(|r| r.sources.iter().any(|s| &*s.file == file))
            .map(|r| r.check.elapsed)
            .sum();
        suite.set_time(time);
        report.add_test_suite(suite);
    }
    report
}

/// A CI system reads a report with no failed test as green: an input with no URL, when
/// `--fail-on empty` makes that a failure, is one failed test of its own.
fn empty_input() -> TestSuite {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status.set_type("empty");
    status.set_message("no URLs in the input: nothing was checked (--fail-on empty)");
    let mut suite = TestSuite::new("urlcheck");
    suite.add_test_case(TestCase::new("input has URLs", status));
    suite
}

fn test_case(r: &UrlResult, file: &str, fail_on: FailOn) -> TestCase {
    let outcome = r.check.outcome;
    let status = if fail_on.fails(r) {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
        s.set_type(outcome.as_str());
        let mut message = format!("{}: {}", outcome.as_str(), failure_reason(r));
        if let Some(note) = r.history.as_ref().and_then(history_note) {
            message.push_str(&format!(" ({note})"));
        }
        s.set_message(message);
        s.set_description(format!("{}\nlisted at {}", r.url, listed_at(r)));
        s
    } else if outcome == Outcome::Skipped {
        TestCaseStatus::skipped()
    } else if outcome == Outcome::Blocked {
        // Not a verdict on the page: neither passed nor failed.
        let mut s = TestCaseStatus::skipped();
        s.set_message(failure_reason(r));
        s
    } else {
        TestCaseStatus::success()
    };
    let mut case = TestCase::new(r.url.as_str(), status);
    case.set_classname(file);
    case.set_time(r.check.elapsed);
    case
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::options;
    use crate::report::tests::history_run;

    #[test]
    fn a_failure_message_names_the_history_state() {
        let xml = String::from_utf8(render(&history_run(), options())).unwrap();
        let doc = roxmltree::Document::parse(&xml).expect("JUnit is XML");
        let message = |url: &str| {
            let case = doc
                .descendants()
                .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(url))
                .unwrap_or_else(|| panic!("no testcase {url} in\n{xml}"));
            let failure = case.children().find(|n| n.has_tag_name("failure"));
            failure
                .and_then(|f| f.attribute("message"))
                .map(str::to_string)
        };
        assert_eq!(
            message("https://x/new").as_deref(),
            Some("down: HTTP 500 Internal Server Error (newly broken)")
        );
        assert_eq!(
            message("https://x/long").as_deref(),
            Some("down: HTTP 404 Not Found (failing 3 runs in a row)")
        );
        assert_eq!(message("https://x/back"), None);
    }
}
