//! The format for a person: a line per URL as it completes, then the failures gathered
//! together, then the summary. Colour only when asked for (see `--color`). With a run history
//! (`--history`), a line says `[newly broken]`, `[recovered]`, `[failing 3 runs in a row]` or
//! `[flapping]`, the newly broken failures come first in the list, and the summary counts them.

use std::fmt::Write as _;
use std::io::{self, Write};

use console::Style;

use super::{
    failure_reason, history_counts, history_note, human_duration, listed_at, urls, write_flush,
    Options, Reporter, Run, NEWLY_BROKEN, RECOVERED,
};
use crate::model::{History, Method, Outcome, State, Timings, UrlResult};
use crate::summary::{StateCounts, Summary};

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
    /// A failing streak or a flapping URL: not news, but not fine either.
    warn: Style,
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
            warn: s().yellow(),
        }
    }

    /// Newly broken stands out most; recovered is good news; a streak or a flapping URL warns.
    fn history(&self, h: &History) -> &Style {
        match h.state {
            _ if h.is_news() => &self.error,
            State::Recovered => &self.up,
            _ => &self.warn,
        }
    }

    /// `[newly broken]`, styled for its state; empty when the history has nothing to say.
    fn history_tag(&self, h: Option<&History>) -> String {
        match h.and_then(|h| Some((h, history_note(h)?))) {
            Some((h, note)) => format!("  {}", self.history(h).apply_to(format!("[{note}]"))),
            None => String::new(),
        }
    }

    fn outcome(&self, o: Outcome) -> &Style {
        match o {
            Outcome::Up => &self.up,
            Outcome::Down => &self.down,
            Outcome::Error => &self.error,
            Outcome::Invalid => &self.invalid,
            Outcome::Skipped => &self.dim,
            Outcome::Blocked => &self.warn,
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
        // Before the error message, which can be long: the news must not scroll off.
        line.push_str(&st.history_tag(r.history.as_ref()));
        if let Some(e) = &c.error {
            let _ = write!(
                line,
                "  {}",
                st.dim
                    .apply_to(format!("{}: {}", e.kind.as_str(), e.message))
            );
        }
        if let Some(reason) = &c.reason {
            let _ = write!(line, "  {}", st.dim.apply_to(reason));
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
        // With -X head,get, HEAD deciding is the expected path: only GET is worth a word.
        if c.method == Some(Method::Get) {
            let _ = write!(line, "  {}", st.dim.apply_to("(GET after HEAD)"));
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
        if let Some(t) = c.timings.as_ref().filter(|_| self.options.verbose) {
            let text = timings_line(t, c.redirects.len());
            let _ = writeln!(line, "{:21}{}", "", st.dim.apply_to(text));
        }
    }
}

/// `dns 1.2ms  connect 0.3ms  tls 4.1ms  ttfb 12ms  total 18ms`: the phases of the final
/// request that happened, or that its connection was reused; and how many redirects came
/// before it (their phases are in the JSON).
fn timings_line(t: &Timings, redirects: usize) -> String {
    let mut text = String::new();
    if t.reused {
        text.push_str("reused connection  ");
    }
    for (phase, time) in t.phases() {
        if let Some(time) = time {
            let _ = write!(text, "{phase} {}  ", human_duration(time));
        }
    }
    let _ = write!(text, "total {}", human_duration(t.total));
    if redirects > 0 {
        let _ = write!(text, "  (final request, after {redirects} redirects)");
    }
    text
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
    let failures = run.failures_news_first(options.fail_on);
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
            let _ = writeln!(
                text,
                "  {} {}{}  {}\n      {}",
                styles
                    .outcome(c.outcome)
                    .apply_to(format!("{:<7}", c.outcome.as_str())),
                r.url,
                styles.history_tag(r.history.as_ref()),
                styles.dim.apply_to(listed_at(r)),
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
    if let Some(counts) = &s.history {
        history_line(text, counts, st);
    }
    if s.offline_suspected() {
        let _ = writeln!(
            text,
            "{}",
            st.error.apply_to(
                "offline?: every URL failed to resolve or connect: the machine looks offline \
                 (--canary URL tells)"
            )
        );
    }
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

/// `history: 3 newly broken, 2 recovered, 5 still broken`, the news in colour when there is
/// any.
fn history_line(text: &mut String, c: &StateCounts, st: &Styles) {
    let parts: Vec<String> = history_counts(c)
        .into_iter()
        .map(|(n, what)| {
            let part = format!("{n} {what}");
            match what {
                NEWLY_BROKEN if n > 0 => st.error.apply_to(part).to_string(),
                RECOVERED if n > 0 => st.up.apply_to(part).to_string(),
                _ => part,
            }
        })
        .collect();
    let _ = writeln!(text, "history: {}", parts.join(", "));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::options;
    use crate::report::tests::history_run;

    /// Everything the human format writes for `run`, streamed lines first.
    fn render(run: &Run, options: Options) -> String {
        let mut out = Vec::new();
        let mut human = Human::new(&mut out, options);
        crate::report::replay(&mut human, run).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The `[...]` tag of the first line among `lines` that names `url`, if it has one.
    fn tag<'a>(lines: impl IntoIterator<Item = &'a str>, url: &str) -> Option<String> {
        let named = format!("{url} ");
        let line = lines
            .into_iter()
            .find(|l| l.contains(&named) || l.ends_with(url))
            .unwrap_or_else(|| panic!("no line names {url}"));
        let (_, rest) = line.split_once(&named)?;
        let tag = rest.trim_start().strip_prefix('[')?;
        Some(tag.split_once(']')?.0.to_string())
    }

    #[test]
    fn stream_lines_tag_what_changed_since_the_last_run() {
        let text = render(&history_run(), options());
        let stream = || text.lines().take_while(|l| !l.is_empty());
        assert_eq!(stream().count(), 6, "{text}");
        let tag = |url| tag(stream(), url);
        assert_eq!(tag("https://x/new").as_deref(), Some("newly broken"));
        assert_eq!(
            tag("https://x/long").as_deref(),
            Some("failing 3 runs in a row")
        );
        assert_eq!(tag("https://x/back").as_deref(), Some("recovered"));
        assert_eq!(tag("https://x/flap").as_deref(), Some("flapping"));
        assert_eq!(tag("https://x/ok"), None);
        assert_eq!(tag("https://x/fresh"), None);
        assert!(
            !text.contains('\u{1b}'),
            "no colour when it is off:\n{text}"
        );
    }

    #[test]
    fn the_tags_are_coloured_only_when_colour_is_on() {
        let mut options = options();
        options.color = true;
        let text = render(&history_run(), options);
        let line = text.lines().find(|l| l.contains("https://x/new")).unwrap();
        let red_bold = Style::new().red().bold().force_styling(true);
        assert!(
            line.contains(&red_bold.apply_to("[newly broken]").to_string()),
            "{line:?}"
        );
        let green = Style::new().green().force_styling(true);
        assert!(
            text.contains(&green.apply_to("[recovered]").to_string()),
            "{text:?}"
        );
        assert!(text.contains(&red_bold.apply_to("1 newly broken").to_string()));
    }

    #[test]
    fn the_failure_list_puts_the_newly_broken_first_and_the_summary_counts_states() {
        let text = render(&history_run(), options());
        let list: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("Failures (3):"))
            .filter(|l| l.starts_with("  down"))
            .collect();
        assert_eq!(list.len(), 3, "{text}");
        assert_eq!(
            tag(list.iter().copied(), "https://x/new").as_deref(),
            Some("newly broken")
        );
        assert!(list[0].contains("https://x/new"), "{list:#?}");
        assert!(list[1].contains("https://x/long"), "{list:#?}");
        assert!(list[2].contains("https://x/flap"), "{list:#?}");
        let history = "history: 1 newly broken, 1 recovered, 1 still broken, 1 flapping, \
                       1 first seen\n";
        assert!(text.contains(history), "{text}");
        let counts = text.lines().position(|l| l.starts_with("6 URLs:")).unwrap();
        assert!(text
            .lines()
            .nth(counts + 1)
            .unwrap()
            .starts_with("history: "));
    }

    #[test]
    fn quiet_output_has_the_history_line_too() {
        let mut options = options();
        options.quiet = true;
        let text = render(&history_run(), options);
        assert!(
            text.starts_with("Failures (3):\n  down    https://x/new  [newly broken]"),
            "{text}"
        );
        assert!(
            text.contains("\nhistory: 1 newly broken, 1 recovered"),
            "{text}"
        );
        assert!(!text.contains("latency"), "{text}");
    }

    #[test]
    fn without_a_history_nothing_changes() {
        let mut run = history_run();
        run.results.iter_mut().for_each(|r| r.history = None);
        run.summary.history = None;
        let text = render(&run, options());
        assert!(!text.contains('['), "{text}");
        assert!(!text.contains("history"), "{text}");
        // Input order.
        let long = text.find("  down    https://x/long").unwrap();
        let new = text.find("  down    https://x/new").unwrap();
        assert!(long < new, "{text}");
    }
}
