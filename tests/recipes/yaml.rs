//! Reading the recipes' YAML: a field that is missing or of the wrong type fails naming it.

use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

/// Every document of the YAML file at `path`.
pub fn load(path: &Path) -> Vec<Yaml> {
    let text = std::fs::read_to_string(path).unwrap();
    YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Whether `node` has `key`.
pub fn has(node: &Yaml, key: &str) -> bool {
    !node[key].is_badvalue()
}

/// The string at `key` of `node`, or a failure naming the key.
pub fn text<'a>(node: &'a Yaml, key: &str) -> &'a str {
    node[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key:?} is no string in {node:?}"))
}

/// The integer at `key` of `node`.
pub fn int(node: &Yaml, key: &str) -> i64 {
    node[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key:?} is no integer in {node:?}"))
}

/// The list at `key` of `node`.
pub fn list<'a>(node: &'a Yaml, key: &str) -> &'a [Yaml] {
    node[key]
        .as_vec()
        .unwrap_or_else(|| panic!("{key:?} is no list in {node:?}"))
}

/// The strings of the list at `key` of `node`.
pub fn strings<'a>(node: &'a Yaml, key: &str) -> Vec<&'a str> {
    list(node, key).iter().filter_map(Yaml::as_str).collect()
}

/// The entries of a mapping (GitHub's jobs, GitLab's top level), by name.
pub fn entries(node: &Yaml) -> Vec<(&str, &Yaml)> {
    let map = node
        .as_hash()
        .unwrap_or_else(|| panic!("no mapping: {node:?}"));
    map.iter()
        .filter_map(|(k, v)| Some((k.as_str()?, v)))
        .collect()
}

/// The one item of `items`, or a failure naming `what` and what there was.
pub fn only<T: std::fmt::Debug>(items: impl IntoIterator<Item = T>, what: &str) -> T {
    let mut found: Vec<T> = items.into_iter().collect();
    assert_eq!(found.len(), 1, "one {what}: {found:?}");
    found.remove(0)
}

/// Job names in `needs:` (GitHub: a name or a list; GitLab: names or `{job: name}`).
pub fn needs(job: &Yaml) -> Vec<&str> {
    match &job["needs"] {
        Yaml::String(name) => vec![name.as_str()],
        Yaml::Array(items) => items
            .iter()
            .filter_map(|n| n.as_str().or_else(|| n["job"].as_str()))
            .collect(),
        other => panic!("no needs: {other:?}"),
    }
}
