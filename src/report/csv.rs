//! CSV with a header row, a record per URL as it completes; for spreadsheets and `xsv`.
//!
//! With `--history`, four more columns after the twelve every run writes say what the run
//! history says of each URL (`state`, `consecutive_failures`, `failing_since`, `last_up`;
//! empty for lines outside the history, invalid and skipped). With `-X head,get`, a `method`
//! column after those says which method decided (`HEAD` or `GET`; empty for lines not
//! fetched); with `--cert-expiry`, two certificate columns. Last in every record come the five
//! phase timings of the final request (`dns_ms`, `connect_ms`, `tls_ms`, `wait_ms`,
//! `reused`; empty for phases that did not happen and lines not fetched), so every column
//! before them keeps the place it always had.

use std::io::{self, Write};
use std::time::Duration;

use super::{rfc3339_seconds, Options, Reporter, Run};
use crate::model::{millis, History, Method, Timings, UrlResult};

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

/// Where the final request's time went, last in every record so that the columns before
/// them keep their places: the phases, then whether the connection was not its own.
/// `wait_ms` is the phase from the connection being ready to the headers (`ttfb_ms` counts
/// from the request's start).
const PHASE_HEADER: [&str; 5] = ["dns_ms", "connect_ms", "tls_ms", "wait_ms", "reused"];

/// The columns of a run that keeps a history, after [`HEADER`].
const HISTORY_HEADER: [&str; 4] = ["state", "consecutive_failures", "failing_since", "last_up"];

/// The columns of a run with `--cert-expiry`, after the others.
const CERT_HEADER: [&str; 2] = ["cert_not_after", "cert_days_left"];

pub(super) struct Csv<W: Write> {
    out: csv::Writer<W>,
    /// The run keeps a history: records carry its columns.
    history: bool,
    /// The run checks with `-X head,get`: records carry the `method` column.
    method: bool,
    /// The run checks certificates' expiry: records carry their columns.
    certificates: bool,
    /// The header is written (with the first record, or at the end of an empty run).
    started: bool,
}

impl<W: Write> Csv<W> {
    /// The columns follow what the run does (`Options`): a run without `--history`,
    /// `-X head,get` or `--cert-expiry` keeps the seventeen every run has.
    pub(super) fn new(out: W, options: &Options) -> Self {
        Csv {
            out: csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(out),
            history: options.history,
            method: options.method,
            certificates: options.certificates,
            started: false,
        }
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.started {
            self.started = true;
            let mut header: Vec<&str> = HEADER.to_vec();
            if self.history {
                header.extend(HISTORY_HEADER);
            }
            if self.method {
                header.push("method");
            }
            if self.certificates {
                header.extend(CERT_HEADER);
            }
            header.extend(PHASE_HEADER);
            self.out.write_record(header)?;
        }
        Ok(())
    }
}

/// The columns every run writes.
fn record(r: &UrlResult) -> Vec<String> {
    let c = &r.check;
    let opt = |v: Option<String>| v.unwrap_or_default();
    let sources: Vec<String> = r.sources.iter().map(|s| s.to_string()).collect();
    vec![
        r.url.clone(),
        c.outcome.as_str().to_string(),
        opt(c.status.map(|s| s.to_string())),
        opt(c.error.as_ref().map(|e| e.kind.as_str().to_string())),
        // A blocked answer's reason is its message: there is no error.
        opt(c
            .error
            .as_ref()
            .map(|e| e.message.clone())
            .or_else(|| c.reason.clone())),
        millis(c.elapsed).to_string(),
        opt(c.ttfb.map(|t| millis(t).to_string())),
        c.attempts.to_string(),
        c.redirects.len().to_string(),
        opt(c.final_url.clone()),
        sources.join(";"),
        r.duplicate.to_string(),
    ]
}

/// The phase columns; empty cells for phases that did not happen and lines never fetched.
fn phase_cells(timings: Option<&Timings>) -> Vec<String> {
    let Some(t) = timings else {
        return vec![String::new(); PHASE_HEADER.len()];
    };
    let cell = |d: Option<Duration>| d.map(|d| millis(d).to_string()).unwrap_or_default();
    let mut cells: Vec<String> = t.phases().iter().map(|(_, d)| cell(*d)).collect();
    cells.push(t.reused.to_string());
    cells
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
        self.header()?;
        let mut fields = record(r);
        if self.history {
            fields.extend(history_cells(r.history.as_ref()));
        }
        if self.method {
            fields.push(r.check.method.map_or("", Method::as_str).to_owned());
        }
        if self.certificates {
            let c = r.check.certificate.as_ref();
            fields.push(c.map(|c| rfc3339_seconds(c.not_after)).unwrap_or_default());
            fields.push(c.map(|c| c.days_left.to_string()).unwrap_or_default());
        }
        fields.extend(phase_cells(r.check.timings.as_ref()));
        self.out.write_record(fields)?;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self, _: &Run) -> io::Result<()> {
        // An empty run is still a valid CSV file: the header alone.
        self.header()?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ErrorKind, Outcome, State};
    use crate::report::testing::{result, run, source, with_history};
    use crate::report::tests::history_run;

    fn render(run: &Run) -> Vec<Vec<String>> {
        let history = run.summary.history.is_some();
        let mut out = Vec::new();
        let options = Options {
            history,
            ..crate::report::testing::options()
        };
        crate::report::replay(&mut Csv::new(&mut out, &options), run).unwrap();
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
        assert_eq!(rows[0][12..16], HISTORY_HEADER);
        assert!(rows.iter().all(|r| r.len() == 21), "{rows:#?}");
        let long = &rows[1];
        assert_eq!(long[0], "https://x/long");
        assert_eq!(
            long[12..16],
            ["still", "3", "2027-01-15T07:30:00Z", "2027-01-15T07:15:00Z"]
        );
        let back = &rows[4];
        assert_eq!(back[12..16], ["recovered", "0", "", "2027-01-15T08:00:00Z"]);
    }

    #[test]
    fn lines_outside_the_history_have_empty_history_cells() {
        let at = vec![source("list.txt", 2, None)];
        let new = with_history(
            result("https://x/new", Outcome::Down, Some(500), None, at.clone()),
            State::New,
            1,
        );
        let rows = render(&run(vec![invalid(1), new]));
        assert_eq!(rows[0].len(), 21, "{rows:#?}");
        assert_eq!(rows[1][0], "not a url");
        assert_eq!(rows[1][12..16], ["", "", "", ""]);
        assert_eq!(rows[2][12..14], ["new", "1"]);
        // The same run without a history: the twelve columns, then the phases.
        let plain = result("https://x/new", Outcome::Down, Some(500), None, at);
        let mut no_history = run(vec![invalid(1), plain]);
        no_history.summary.history = None;
        let rows = render(&no_history);
        assert_eq!(rows[0][..12], HEADER);
        assert_eq!(rows[0][12..], PHASE_HEADER);
        assert!(rows.iter().all(|r| r.len() == 17), "{rows:#?}");
    }

    #[test]
    fn a_head_get_run_has_a_method_column_last() {
        let at = |line| vec![source("list.txt", line, None)];
        let mut by_get = result("https://x/get", Outcome::Up, Some(200), None, at(2));
        by_get.check.method = Some(Method::Get);
        by_get.check.attempts = 2;
        let mut by_head = result("https://x/head", Outcome::Up, Some(200), None, at(3));
        by_head.check.method = Some(Method::Head);
        let r = run(vec![invalid(1), by_get, by_head]);
        let mut out = Vec::new();
        let options = Options {
            method: true,
            ..crate::report::testing::options()
        };
        crate::report::replay(&mut Csv::new(&mut out, &options), &r).unwrap();
        let rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(&out[..])
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect();
        assert_eq!(rows[0][..12], HEADER);
        assert_eq!(rows[0][12], "method");
        let methods: Vec<&str> = rows[1..].iter().map(|r| r[12].as_str()).collect();
        assert_eq!(methods, ["", "GET", "HEAD"]);
    }
}
