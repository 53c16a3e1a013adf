//! CSV with a header row, a record per URL as it completes; for spreadsheets and `xsv`.

use std::io::{self, Write};

use super::{Reporter, Run};
use crate::model::{millis, UrlResult};

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

pub(super) struct Csv<W: Write> {
    out: csv::Writer<W>,
    wrote_header: bool,
}

impl<W: Write> Csv<W> {
    pub(super) fn new(out: W) -> Self {
        Csv {
            out: csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(out),
            wrote_header: false,
        }
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.wrote_header {
            self.wrote_header = true;
            self.out.write_record(HEADER)?;
        }
        Ok(())
    }
}

impl<W: Write> Reporter for Csv<W> {
    fn result(&mut self, r: &UrlResult) -> io::Result<()> {
        self.header()?;
        let c = &r.check;
        let opt = |v: Option<String>| v.unwrap_or_default();
        let sources: Vec<String> = r.sources.iter().map(|s| s.to_string()).collect();
        self.out.write_record([
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
        ])?;
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
