//! CSV with a header row, a record per URL as it completes; for spreadsheets and `xsv`.
//!
//! With `--history`, four more columns say what the run history says of each URL (`state`,
//! `consecutive_failures`, `failing_since`, `last_up`). A run without it keeps the twelve
//! columns it always had. Whether a run keeps a history shows on its first check (an up,
//! down or error result): invalid lines and skipped URLs are in no history and cannot tell,
//! so their records wait, header and all, until a check arrives (or the run ends).

use std::io::{self, Write};

use super::{rfc3339_seconds, Reporter, Run};
use crate::model::{millis, History, Outcome, UrlResult};

const HEADER: [&str; 12] = [
    "url",
    "outcome",
    "status",
    "error_kind",
    "error_message",
    "elapsed_ms",
    "ttfb_ms",
    "attempts",
    "redirects",
    "final_url",
    "sources",
    "duplicate",
];

/// The columns of a run that keeps a history, after [`HEADER`].
const HISTORY_HEADER: [&str; 4] = ["state", "consecutive_failures", "failing_since", "last_up"];

/// Records held while the run has not shown whether it keeps a history. Past this many, the
/// file goes on without the history columns rather than hold an unbounded list.
const MAX_HELD: usize = 10_000;

pub(super) struct Csv<W: Write> {
    out: csv::Writer<W>,
    /// Whether records carry the history columns; `None` until a result tells (the header is
    /// written then).
    history: Option<bool>,
    /// Records of results that cannot tell, in arrival order, waiting for one that can.
    held: Vec<Vec<String>>,
}

impl<W: Write> Csv<W> {
    pub(super) fn new(out: W) -> Self {
        Csv {
            out: csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(out),
            history: None,
            held: Vec::new(),
        }
    }

    /// Settles the columns: writes the header, then the records held so far.
    fn decide(&mut self, history: bool) -> io::Result<()> {
        self.history = Some(history);
        let mut header: Vec<&str> = HEADER.to_vec();
        if history {
            header.extend(HISTORY_HEADER);
        }
        self.out.write_record(header)?;
        for mut record in std::mem::take(&mut self.held) {
            if history {
                record.extend(HISTORY_HEADER.map(|_| String::new()));
            }
            self.out.write_record(record)?;
        }
        Ok(())
    }
}

/// Whether the run keeps a history, as `r` shows it; `None` when `r` cannot tell.
fn tells(r: &UrlResult) -> Option<bool> {
    match r.check.outcome {
        _ if r.history.is_some() => Some(true),
        Outcome::Up | Outcome::Down | Outcome::Error => Some(false),
        Outcome::Invalid | Outcome::Skipped => None,
    }
}

/// The twelve columns every run writes.
fn record(r: &UrlResult) -> Vec<String> {
    let c = &r.check;
    let opt = |v: Option<String>| v.unwrap_or_default();
    let sources: Vec<String> = r.sources.iter().map(|s| s.to_string()).collect();
    vec![
        r.url.clone(),
        c.outcome.as_str().to_string(),
        opt(c.status.map(|s| s.to_string())),
        opt(c.error.as_ref().map(|e| e.kind.as_str().to_string())),
        opt(c.error.as_ref().map(|e| e.message.clone())),
        millis(c.elapsed).to_string(),
        opt(c.ttfb.map(|t| millis(t).to_string())),
        c.attempts.to_string(),
        c.redirects.len().to_string(),
        opt(c.final_url.clone()),
        sources.join(";"),
        r.duplicate.to_string(),
    ]
}

/// The history columns; empty cells for a result the history does not know.
fn history_cells(h: Option<&History>) -> [String; 4] {
    let time = |t: Option<std::time::SystemTime>| t.map(rfc3339_seconds).unwrap_or_default();
    match h {
        Some(h) => [
            h.state.as_str().to_string(),
            h.consecutive_failures.to_string(),
            time(h.failing_since),
            time(h.last_up),
        ],
        None => Default::default(),
    }
}

impl<W: Write> Reporter for Csv<W> {
    fn result(&mut self, r: &UrlResult) -> io::Result<()> {
        let mut fields = record(r);
        let history = match (self.history, tells(r)) {
            (Some(history), _) => history,
            (None, Some(history)) => {
                self.decide(history)?;
                history
            }
            (None, None) => {
                self.held.push(fields);
                if self.held.len() >= MAX_HELD {
                    self.decide(false)?;
                }
                return Ok(());
            }
        };
        if history {
            fields.extend(history_cells(r.history.as_ref()));
        }
        self.out.write_record(fields)?;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self, _: &Run) -> io::Result<()> {
        // An empty run is still a valid CSV file: the header alone.
        if self.history.is_none() {
            self.decide(false)?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ErrorKind, State};
    use crate::report::testing::{result, run, source, with_history};
    use crate::report::tests::history_run;

    fn render(run: &Run) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        crate::report::replay(&mut Csv::new(&mut out), run).unwrap();
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(&out[..])
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    }

    fn invalid(line: u64) -> UrlResult {
        let at = vec![source("list.txt", line, None)];
        result(
            "not a url",
            Outcome::Invalid,
            None,
            Some(ErrorKind::Input),
            at,
        )
    }

    #[test]
    fn a_run_with_a_history_has_four_more_columns() {
        let rows = render(&history_run());
        assert_eq!(rows[0][..12], HEADER);
        assert_eq!(rows[0][12..], HISTORY_HEADER);
        assert!(rows.iter().all(|r| r.len() == 16), "{rows:#?}");
        let long = &rows[1];
        assert_eq!(long[0], "https://x/long");
        assert_eq!(
            long[12..],
            ["still", "3", "2027-01-15T07:30:00Z", "2027-01-15T07:15:00Z"]
        );
        let back = &rows[4];
        assert_eq!(back[12..], ["recovered", "0", "", "2027-01-15T08:00:00Z"]);
    }

    #[test]
    fn lines_outside_the_history_wait_for_a_check_to_tell() {
        let at = vec![source("list.txt", 2, None)];
        let new = with_history(
            result("https://x/new", Outcome::Down, Some(500), None, at.clone()),
            State::New,
            1,
        );
        let rows = render(&run(vec![invalid(1), new]));
        assert_eq!(rows[0].len(), 16, "{rows:#?}");
        assert_eq!(rows[1][0], "not a url");
        assert_eq!(rows[1][12..], ["", "", "", ""]);
        assert_eq!(rows[2][12..14], ["new", "1"]);
        // The same run without a history: the twelve columns of old.
        let plain = result("https://x/new", Outcome::Down, Some(500), None, at);
        let rows = render(&run(vec![invalid(1), plain]));
        assert_eq!(rows[0], HEADER);
        assert!(rows.iter().all(|r| r.len() == 12), "{rows:#?}");
        // Nothing but lines that cannot tell: no history columns, and nothing lost.
        let rows = render(&run(vec![invalid(1), invalid(2)]));
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0], HEADER);
    }

    #[test]
    fn held_lines_are_bounded() {
        let mut out = Vec::new();
        let mut csv = Csv::new(&mut out);
        for line in 1..=MAX_HELD as u64 {
            csv.result(&invalid(line)).unwrap();
        }
        assert!(csv.held.is_empty());
        assert_eq!(csv.history, Some(false));
        csv.finish(&run(Vec::new())).unwrap();
        drop(csv);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), MAX_HELD + 1);
    }
}
