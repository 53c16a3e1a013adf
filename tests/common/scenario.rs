//! The deterministic run of the report tests (two input files, every outcome, a duplicate),
//! and the report formats with the file names the tests give them.

use std::collections::BTreeSet;
use std::path::PathBuf;

use tempfile::TempDir;

use super::{refused_port, run, urlcheck, write_list, Run, Server, FAST_5S};

/// The report formats `--report` writes besides `human`.
pub const FORMATS: [&str; 8] = [
    "json",
    "jsonl",
    "junit",
    "markdown",
    "csv",
    "prometheus",
    "sarif",
    "html",
];

/// File name of the report of `format` in a test's report folder.
pub fn report_name(format: &str) -> &'static str {
    match format {
        "human" => "report.txt",
        "json" => "report.json",
        "jsonl" => "report.jsonl",
        "junit" => "junit.xml",
        "markdown" => "report.md",
        "csv" => "report.csv",
        "prometheus" => "urlcheck.prom",
        "sarif" => "report.sarif",
        "html" => "report.html",
        other => panic!("no such format {other}"),
    }
}

/// What one input line must turn into.
#[derive(Debug, Clone)]
pub struct Line {
    pub file: &'static str,
    pub line: u64,
    /// The URL as reports show it (for invalid lines, the text of the line).
    pub url: String,
    pub outcome: &'static str,
    pub status: Option<u16>,
}

/// A fixture, a temporary folder holding `a.txt` and `b.txt`, and what each line must give:
///
/// ```text
/// a.txt  1 /ok            up 200
///        2 /redirect/1    up 200 (after one redirect)
///        3 /status/404    down 404
///        4 refused port   error (connect)
///        5 not a url      invalid
///        6 /ok again      up 200 (a duplicate: fetched once)
/// b.txt  1 /status/410    down 410
///        2 raw /ok?x\y"z  up 200 (a backslash and a double quote in the query)
/// ```
pub struct Scenario {
    pub srv: Server,
    pub dir: TempDir,
    pub refused: u16,
    pub lines: Vec<Line>,
}

impl Scenario {
    pub fn start() -> Scenario {
        let srv = Server::start(1);
        let dir = TempDir::new().unwrap();
        let refused = refused_port();
        let refused_url = format!("http://127.0.0.1:{refused}/");
        let ok = srv.url(0, "/ok");
        // The url crate percent-encodes the quote in a query and keeps the backslash.
        let escaped_in_file = srv.raw_url(0, r#"/ok?x\y"z"#);
        let escaped = srv.raw_url(0, r"/ok?x\y%22z");
        let line = |file, line, url: &str, outcome, status| Line {
            file,
            line,
            url: url.to_string(),
            outcome,
            status,
        };
        let lines = vec![
            line("a.txt", 1, &ok, "up", Some(200)),
            line("a.txt", 2, &srv.url(0, "/redirect/1"), "up", Some(200)),
            line("a.txt", 3, &srv.url(0, "/status/404"), "down", Some(404)),
            line("a.txt", 4, &refused_url, "error", None),
            line("a.txt", 5, "not a url", "invalid", None),
            line("a.txt", 6, &ok, "up", Some(200)),
            line("b.txt", 1, &srv.url(0, "/status/410"), "down", Some(410)),
            line("b.txt", 2, &escaped, "up", Some(200)),
        ];
        let text = |file: &str| {
            let items: Vec<String> = lines
                .iter()
                .filter(|l| l.file == file)
                .map(|l| {
                    if l.url == escaped {
                        escaped_in_file.clone()
                    } else {
                        l.url.clone()
                    }
                })
                .collect();
            super::lines(&items)
        };
        write_list(dir.path(), "a.txt", text("a.txt"));
        write_list(dir.path(), "b.txt", text("b.txt"));
        std::fs::create_dir(dir.path().join("out")).unwrap();
        Scenario {
            srv,
            dir,
            refused,
            lines,
        }
    }

    /// Distinct URLs in input order (a duplicate line adds none).
    pub fn urls(&self) -> Vec<&Line> {
        let mut seen = BTreeSet::new();
        self.lines
            .iter()
            .filter(|l| seen.insert(l.url.clone()))
            .collect()
    }

    /// Every `(file, line)` that lists `url`.
    pub fn sources_of(&self, url: &str) -> Vec<(String, u64)> {
        self.lines
            .iter()
            .filter(|l| l.url == url)
            .map(|l| (l.file.to_string(), l.line))
            .collect()
    }

    pub fn count(&self, outcome: &str) -> usize {
        self.lines.iter().filter(|l| l.outcome == outcome).count()
    }

    pub fn report_path(&self, format: &str) -> PathBuf {
        self.dir.path().join("out").join(report_name(format))
    }

    /// urlcheck in the scenario's folder over `a.txt b.txt`, with a report file for each of
    /// `reports` and `args` before the inputs.
    pub fn run(&self, reports: &[&str], args: &[&str]) -> Run {
        let mut cmd = urlcheck();
        cmd.current_dir(self.dir.path()).args(FAST_5S).args(args);
        for format in reports {
            cmd.arg("--report")
                .arg(format!("{format}=out/{}", report_name(format)));
        }
        let out = run(cmd.args(["a.txt", "b.txt"]));
        out.assert_code(1);
        out
    }

    pub fn read(&self, format: &str) -> String {
        let path = self.report_path(format);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    pub fn shutdown(self) {
        self.srv.shutdown();
    }
}
