//! The format for a person: a line per URL as it completes, then the failures gathered
//! together, then the summary. Colour only when asked for (see `--color`).

use std::fmt::Write as _;
use std::io::{self, Write};

use console::Style;

use super::{failure_reason, human_duration, urls, write_flush, Options, Reporter, Run};
use crate::model::{Outcome, UrlResult};
use crate::summary::Summary;

/// Streams a line per result; at the end, renders the failure list (what counts as a failure
/// is `fail_on`) and the summary. Quiet streams nothing: each failure is shown once, in the
/// list.
pub(super) struct Human<W: Write> {
    out: W,
    options: Options,
    styles: Styles,
    line: String,
}

struct Styles {
    up: Style,
    down: Style,
    error: Style,
    invalid: Style,
    dim: Style,
    bold: Style,
}

impl Styles {
    fn new(color: bool) -> Styles {
        let s = || Style::new().force_styling(color);
        Styles {
            up: s().green(),
            down: s().red(),
            error: s().red().bold(),
            invalid: s().magenta(),
            dim: s().dim(),
            bold: s().bold(),
        }
    }

    fn outcome(&self, o: Outcome) -> &Style {
        match o {
            Outcome::Up => &self.up,
            Outcome::Down => &self.down,
            Outcome::Error => &self.error,
            Outcome::Invalid => &self.invalid,
            Outcome::Skipped => &self.dim,
        }
    }
}

impl<W: Write> Human<W> {
    pub(super) fn new(out: W, options: Options) -> Self {
        Human {
            out,
            options,
            styles: Styles::new(options.color),
            line: String::new(),
        }
    }

    /// `up      200    12ms  https://example.org/ -> https://www.example.org/`
    fn format_result(&mut self, r: &UrlResult) {
        let st = &self.styles;
        let c = &r.check;
        let status = c
            .status
            .map_or_else(|| "---".to_string(), |s| s.to_string());
        let time = if c.attempts == 0 {
            "-".to_string()
        } else {
            human_duration(c.elapsed)
        };
        let line = &mut self.line;
        line.clear();
        let _ = write!(
            line,
            "{} {:>3} {:>7}  {}",
            st.outcome(c.outcome)
                .apply_to(format!("{:<7}", c.outcome.as_str())),
            status,
            time,
            r.url
        );
        if let Some(to) = &c.final_url {
            let _ = write!(line, " -> {to}");
        }
        if let Some(e) = &c.error {
            let _ = write!(
                line,
                "  {}",
                st.dim
                    .apply_to(format!("{}: {}", e.kind.as_str(), e.message))
            );
        }
        // Where a broken link of a document is written matters as much as the URL.
        let in_document = r.sources[0].column.is_some() && c.outcome != Outcome::Up;
        if matches!(c.outcome, Outcome::Invalid | Outcome::Skipped) || r.duplicate || in_document {
            let what = if r.duplicate { "duplicate at " } else { "" };
            let _ = write!(
                line,
                "  {}",
                st.dim.apply_to(format!("({what}{})", r.sources[0]))
            );
        }
        if c.attempts > 1 {
            let _ = write!(
                line,
                "  {}",
                st.dim.apply_to(format!("({} attempts)", c.attempts))
            );
        }
        for w in &c.warnings {
            if c.outcome == Outcome::Skipped {
                let _ = write!(line, "  {}", st.dim.apply_to(format!("({w})")));
            } else {
                let _ = write!(line, "  {}", st.down.apply_to(format!("warning: {w}")));
            }
        }
        line.push('\n');
    }
}

impl<W: Write> Reporter for Human<W> {
    fn result(&mut self, r: &UrlResult) -> io::Result<()> {
        // Quiet shows each failure once, in the list at the end.
        if self.options.quiet {
            return Ok(());
        }
        self.format_result(r);
        self.out.write_all(self.line.as_bytes())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self, run: &Run) -> io::Result<()> {
        let text = render_end(run, self.options, &self.styles);
        write_flush(&mut self.out, text.as_bytes())
    }
}

/// What follows the streamed lines: the failures gathered together, then the summary. Quiet
/// (for cron, which mails whatever is printed): nothing at all when nothing failed, else the
/// failures and one summary line.
fn render_end(run: &Run, options: Options, styles: &Styles) -> String {
    let mut text = String::new();
    let failures: Vec<&UrlResult> = run.failures(options.fail_on).collect();
    if options.quiet && failures.is_empty() && !run.summary.interrupted {
        return text;
    }
    if !failures.is_empty() {
        if !options.quiet {
            text.push('\n');
        }
        let _ = writeln!(
            text,
            "{}",
            styles
                .bold
                .apply_to(format!("Failures ({}):", failures.len()))
        );
        for r in &failures {
            let c = &r.check;
            let why = failure_reason(r);
            let sources: Vec<String> = r.sources.iter().map(|s| s.to_string()).collect();
            let _ = writeln!(
                text,
                "  {} {}  {}\n      {}",
                styles
                    .outcome(c.outcome)
                    .apply_to(format!("{:<7}", c.outcome.as_str())),
                r.url,
                styles.dim.apply_to(sources.join(", ")),
                why.trim_end()
            );
        }
    }
    if !failures.is_empty() || !options.quiet {
        text.push('\n');
    }
    summary_lines(&mut text, &run.summary, styles, !options.quiet);
    text
}

/// The counts line; with `detail`, the latency and error lines too.
fn summary_lines(text: &mut String, s: &Summary, st: &Styles, detail: bool) {
    let mut counts = Vec::new();
    for o in Outcome::ALL {
        let n = s.count(o);
        if n > 0 || matches!(o, Outcome::Up | Outcome::Down | Outcome::Error) {
            counts.push(
                st.outcome(o)
                    .apply_to(format!("{n} {}", o.as_str()))
                    .to_string(),
            );
        }
    }
    let _ = writeln!(
        text,
        "{}: {}  in {} ({:.1} URLs/s)",
        urls(s.total()),
        counts.join(", "),
        human_duration(s.wall),
        s.urls_per_sec()
    );
    if !detail {
        return interrupted_line(text, s, st);
    }
    if let (Some(p50), Some(p90), Some(p99), Some(max)) = (
        s.percentile(0.5),
        s.percentile(0.9),
        s.percentile(0.99),
        s.max(),
    ) {
        let _ = writeln!(
            text,
            "latency: p50 {}  p90 {}  p99 {}  max {}",
            human_duration(p50),
            human_duration(p90),
            human_duration(p99),
            human_duration(max)
        );
    }
    if !s.errors().is_empty() {
        let kinds: Vec<String> = s
            .errors()
            .iter()
            .map(|(k, n)| format!("{n} {}", k.as_str()))
            .collect();
        let _ = writeln!(text, "errors: {}", kinds.join(", "));
    }
    interrupted_line(text, s, st);
}

fn interrupted_line(text: &mut String, s: &Summary, st: &Styles) {
    if s.interrupted {
        let _ = writeln!(
            text,
            "{}",
            st.error
                .apply_to("interrupted: the URLs above are all that were checked")
        );
    }
}
