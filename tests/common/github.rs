//! GitHub Actions workflow commands read back from stderr: each `::error` annotation with its
//! properties decoded.

use std::collections::BTreeMap;

/// One `::error` workflow command, its properties decoded.
#[derive(Debug)]
pub struct Annotation {
    pub raw_file: String,
    pub file: String,
    pub line: u64,
    /// `col=`, for a link in a document.
    pub column: Option<u64>,
    pub title: String,
    pub message: String,
}

/// Undoes the workflow-command escapes (`%25`, `%0D`, `%0A`, and in properties `%3A`, `%2C`)
/// in one pass; any other `%` must not occur unescaped.
fn unescape_command(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let code = rest.get(i..i + 3).unwrap_or(&rest[i..]);
        out.push(match code {
            "%25" => '%',
            "%0D" => '\r',
            "%0A" => '\n',
            "%3A" => ':',
            "%2C" => ',',
            other => panic!("unescaped % in a workflow command: {other:?} in {s:?}"),
        });
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    out
}

pub fn annotations(stderr: &str) -> Vec<Annotation> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("::error "))
        .map(|rest| {
            let (props, message) = rest.split_once("::").expect("::error props::message");
            let props: BTreeMap<&str, &str> = props
                .split(',')
                .map(|p| p.split_once('=').expect("key=value"))
                .collect();
            Annotation {
                raw_file: props["file"].to_string(),
                file: unescape_command(props["file"]),
                line: props["line"].parse().expect("line is a number"),
                column: props
                    .get("col")
                    .map(|c| c.parse().expect("col is a number")),
                title: unescape_command(props.get("title").copied().unwrap_or("")),
                message: unescape_command(message),
            }
        })
        .collect()
}
