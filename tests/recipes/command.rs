//! The urlcheck commands of a recipe's shell script, read as urlcheck reads its arguments, and
//! the check that a merge reads exactly the reports its shards write.

use glob::Pattern;

/// One urlcheck command of a script: its flags and inputs, as urlcheck would read them.
#[derive(Debug)]
pub struct Invocation {
    pub merge: bool,
    pub flags: Vec<(String, Option<String>)>,
    pub inputs: Vec<String>,
}

/// urlcheck's flags that take a value as the next word (the recipes' and merge's).
const VALUED: &[&str] = &[
    "--shard",
    "--shards",
    "--report",
    "-f",
    "--format",
    "--fail-on",
    "--history",
    "--per-host",
    "--color",
];

impl Invocation {
    fn parse(words: &[&str]) -> Invocation {
        let merge = words.get(1) == Some(&"merge");
        let mut rest = words[if merge { 2 } else { 1 }..].iter();
        let (mut flags, mut inputs) = (Vec::new(), Vec::new());
        while let Some(&word) = rest.next() {
            if let Some((flag, value)) = word.split_once('=').filter(|_| word.starts_with("--")) {
                flags.push((flag.to_owned(), Some(value.to_owned())));
            } else if VALUED.contains(&word) {
                let value = rest.next().unwrap_or_else(|| panic!("{word} has no value"));
                flags.push((word.to_owned(), Some(value.to_string())));
            } else if word.starts_with('-') && word.len() > 1 {
                flags.push((word.to_owned(), None));
            } else {
                inputs.push(word.to_owned());
            }
        }
        Invocation {
            merge,
            flags,
            inputs,
        }
    }

    /// The value of `flag`, given at most once.
    pub fn value(&self, flag: &str) -> Option<&str> {
        let values: Vec<_> = self.flags.iter().filter(|(f, _)| f == flag).collect();
        assert!(values.len() <= 1, "{flag} more than once: {self:?}");
        values.first().and_then(|(_, v)| v.as_deref())
    }

    /// The paths of `--report FORMAT=PATH` for `format`.
    pub fn reports(&self, format: &str) -> Vec<&str> {
        self.flags
            .iter()
            .filter(|(f, _)| f == "--report")
            .filter_map(|(_, v)| v.as_deref()?.strip_prefix(format)?.strip_prefix('='))
            .collect()
    }

    /// The one `--report json=PATH`: what a shard writes for the merge.
    pub fn json_report(&self) -> &str {
        match self.reports("json")[..] {
            [path] => path,
            _ => panic!("one --report json=PATH: {self:?}"),
        }
    }
}

/// The urlcheck commands of a shell script (commands split at newlines, `;`, `&&`, `||`, `|`).
pub fn invocations(script: &str) -> Vec<Invocation> {
    let spaced = script.replace([';', '\n'], " ; ");
    let mut found = Vec::new();
    let mut command: Vec<&str> = Vec::new();
    for word in spaced.split_whitespace().chain([";"]) {
        if matches!(word, ";" | "&&" | "||" | "|") {
            if command.first() == Some(&"urlcheck") {
                found.push(Invocation::parse(&command));
            }
            command.clear();
        } else {
            command.push(word);
        }
    }
    found
}

/// The one urlcheck command of `script`.
pub fn invocation(script: &str) -> Invocation {
    let mut found = invocations(script);
    assert_eq!(found.len(), 1, "one urlcheck command in {script:?}");
    found.remove(0)
}

/// The merge reads each shard's report once and nothing else: every report matches exactly
/// one of its inputs, every input matches a report, and none matches the merge's own reports
/// (a merge that read its all.json back would count every URL twice on the next run).
pub fn assert_merge_reads(reports: &[String], merge: &Invocation) {
    assert!(merge.merge, "not a merge: {merge:?}");
    let mut distinct = reports.to_vec();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        reports.len(),
        "shards share a report: {reports:?}"
    );
    let inputs: Vec<Pattern> = merge
        .inputs
        .iter()
        .map(|i| Pattern::new(i).unwrap())
        .collect();
    assert!(!inputs.is_empty(), "the merge reads no report: {merge:?}");
    for report in reports {
        let readers = inputs.iter().filter(|p| p.matches(report)).count();
        assert_eq!(readers, 1, "{report} is read {readers} times by {merge:?}");
    }
    for input in &inputs {
        assert!(
            reports.iter().any(|r| input.matches(r)),
            "{input} matches no shard's report: {reports:?}"
        );
    }
    for (flag, value) in &merge.flags {
        let path = value
            .as_deref()
            .and_then(|v| v.split_once('='))
            .map(|(_, p)| p);
        if let (true, Some(path)) = (flag == "--report", path) {
            let read_back = inputs.iter().any(|p| p.matches(path));
            assert!(!read_back, "the merge would read its own {path} back");
        }
    }
}
