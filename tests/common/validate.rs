//! Validators that parse reports back: the JSON Schema `schema/report.v1.json` (whole document
//! or one of its `$defs`, for JSONL lines), the SARIF 2.1.0 schema `tests/sarif-schema-2.1.0.json`
//! and, with xmllint, `tests/junit.xsd`.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

const SCHEMA: &str = include_str!("../../schema/report.v1.json");

/// A validator for the whole report, or for one of the schema's `$defs` (the JSONL lines).
pub fn validator(def: Option<&str>) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(SCHEMA).expect("the schema is JSON");
    assert_eq!(
        schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "the validator below assumes draft 2020-12"
    );
    let schema = match def {
        None => schema,
        Some(def) => {
            assert!(schema["$defs"][def].is_object(), "no $defs/{def}");
            json!({
                "$schema": schema["$schema"],
                "$defs": schema["$defs"],
                "$ref": format!("#/$defs/{def}"),
            })
        }
    };
    jsonschema::draft202012::new(&schema).unwrap_or_else(|e| panic!("schema does not compile: {e}"))
}

// The OASIS SARIF 2.1.0 schema (errata 01, the OASIS Standard), checked in unchanged from
// github.com/oasis-tcs/sarif-spec, sarif-2.1/schema/sarif-schema-2.1.0.json at commit
// e0583813964ec43cea53b6b531b402866095ed1f; published as
// https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json.
const SARIF_SCHEMA: &str = include_str!("../sarif-schema-2.1.0.json");

/// A validator for SARIF 2.1.0 logs. The schema is draft 04 and refers only to its own
/// definitions, so nothing is fetched; formats (`uri`, `date-time`) are checked too.
pub fn sarif_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(SARIF_SCHEMA).expect("the SARIF schema is JSON");
    assert_eq!(
        schema["$schema"], "http://json-schema.org/draft-04/schema#",
        "the validator below assumes draft 04"
    );
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("the SARIF schema does not compile: {e}"))
}

/// Every violation of `validator` by `instance`, one per line; empty when valid.
pub fn violations(validator: &jsonschema::Validator, instance: &Value) -> String {
    validator
        .iter_errors(instance)
        .map(|e| format!("  at {}: {e}\n", e.instance_path))
        .collect()
}

#[track_caller]
pub fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors = violations(validator, instance);
    assert!(
        errors.is_empty(),
        "{what} does not match the schema:\n{errors}{instance:#}"
    );
}

/// Validates a JUnit file against tests/junit.xsd with xmllint. Without xmllint the test
/// fails, saying what to install: a check that is skipped while the suite says ok is worse
/// than none. (README's Development section and .ci/run install it.)
pub fn xsd_check(file: &Path) -> Result<(), String> {
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/junit.xsd");
    match Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(file)
        .output()
    {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "xmllint is not installed, so the JUnit report cannot be validated against \
             tests/junit.xsd: install libxml2-utils (sudo apt-get install libxml2-utils), as \
             README's Development section and .ci/run do"
        ),
        Err(e) => panic!("run xmllint: {e}"),
    }
}

#[track_caller]
pub fn assert_junit_xsd(file: &Path) {
    if let Err(e) = xsd_check(file) {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        panic!(
            "{} does not validate against tests/junit.xsd:\n{e}\n{text}",
            file.display()
        );
    }
}
