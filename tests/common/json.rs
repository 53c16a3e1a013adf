//! Fields of one result in urlcheck's JSON output, and the lines of a JSONL report read back.

use serde_json::Value;

pub fn outcome(r: &Value) -> &str {
    r["outcome"].as_str().unwrap_or_else(|| panic!("{r:#}"))
}

pub fn error_kind(r: &Value) -> &str {
    r["error"]["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("no error kind in {r:#}"))
}

pub fn message(r: &Value) -> &str {
    r["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message in {r:#}"))
}

/// The JSON lines of a JSONL report.
pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}
