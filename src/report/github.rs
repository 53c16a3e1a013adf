//! GitHub Actions: an `::error file=F,line=L::` annotation per failing URL, on the line of the
//! file that lists it (and `col=C` for a link in a document), its title saying what the run
//! history says (`urlcheck: down (newly broken)`), and the Markdown summary appended to
//! `$GITHUB_STEP_SUMMARY`.
//!
//! Annotations go to stderr, which the runner scans for workflow commands as it does stdout,
//! so stdout keeps only results (a JSON report stays parseable).

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::PathBuf;

use super::markdown;
use super::{failure_reason, history_note, Reporter, Run};
use crate::model::{FailOn, UrlResult};

/// Streams an annotation per failing line; at the end, appends the Markdown document to the
/// step summary.
pub(crate) struct Github<W: Write> {
    annotations: W,
    step_summary: Option<PathBuf>,
    fail_on: FailOn,
}

impl<W: Write> Github<W> {
    pub(crate) fn new(annotations: W, step_summary: Option<PathBuf>, fail_on: FailOn) -> Self {
        Github {
            annotations,
            step_summary,
            fail_on,
        }
    }
}

impl<W: Write> Reporter for Github<W> {
    fn result(&mut self, r: &UrlResult) -> io::Result<()> {
        if !self.fail_on.fails(r) {
            return Ok(());
        }
        let mut title = format!("urlcheck: {}", r.check.outcome.as_str());
        if let Some(note) = r.history.as_ref().and_then(history_note) {
            title.push_str(&format!(" ({note})"));
        }
        let message = format!("{} {}", r.url, failure_reason(r));
        for source in &r.sources {
            // A link in a document points at its column; a line of a list is the URL.
            let col = source
                .column
                .map(|c| format!(",col={c}"))
                .unwrap_or_default();
            // Annotations are diagnostics: if stderr is gone, the run and its reports go on.
            let _ = writeln!(
                self.annotations,
                "::error file={},line={}{col},title={}::{}",
                escape_property(&source.file),
                source.line,
                escape_property(&title),
                escape_data(&message)
            );
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        let _ = self.annotations.flush();
        Ok(())
    }

    fn finish(&mut self, run: &Run) -> io::Result<()> {
        if run.summary.failed_empty(self.fail_on) {
            let _ = writeln!(
                self.annotations,
                "::error title=urlcheck: empty::no URLs in the input: nothing was checked \
                 (--fail-on empty)"
            );
        }
        // Not an error of any one line: a warning on the run, so the log says why they all
        // failed before anyone goes through the list.
        if run.summary.offline_suspected() {
            let _ = writeln!(
                self.annotations,
                "::warning title=urlcheck: offline?::every URL failed to resolve or connect: \
                 the machine looks offline (--canary URL tells)"
            );
        }
        let Some(path) = &self.step_summary else {
            return Ok(());
        };
        let text = markdown::render_text(run, self.fail_on);
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        file.write_all(text.as_bytes())?;
        file.write_all(b"\n")
    }
}

/// The message of a workflow command: `%`, CR and LF are percent-encoded.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value additionally encodes `:` and `,`, which delimit properties.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::Outcome;
    use crate::report::testing::{options, result, source};

    fn annotations(r: &UrlResult) -> String {
        let mut out = Vec::new();
        Github::new(&mut out, None, options().fail_on)
            .result(r)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_link_in_a_document_is_annotated_at_its_column() {
        let sources = vec![
            source("docs/a.md", 7, Some(12)),
            source("list.txt", 3, None),
        ];
        let r = result("https://x/y", Outcome::Down, Some(404), None, sources);
        assert_eq!(
            annotations(&r),
            "::error file=docs/a.md,line=7,col=12,title=urlcheck%3A down::https://x/y HTTP 404 Not Found\n\
             ::error file=list.txt,line=3,title=urlcheck%3A down::https://x/y HTTP 404 Not Found\n"
        );
    }

    #[test]
    fn the_title_says_what_the_history_says() {
        use crate::model::State;
        use crate::report::testing::with_history;
        let at = || vec![source("list.txt", 3, None)];
        let down = || result("https://x/y", Outcome::Down, Some(404), None, at());
        let title = |r: &UrlResult| {
            let text = annotations(r);
            let (_, rest) = text.split_once(",title=").expect("a title");
            rest.split_once("::").unwrap().0.to_string()
        };
        assert_eq!(
            title(&with_history(down(), State::New, 1)),
            "urlcheck%3A down (newly broken)"
        );
        assert_eq!(
            title(&with_history(down(), State::Still, 4)),
            "urlcheck%3A down (failing 4 runs in a row)"
        );
        assert_eq!(title(&down()), "urlcheck%3A down");
    }

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
