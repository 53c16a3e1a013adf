//! Small parsers for the text formats: the tables of a Markdown report, and Prometheus text
//! with every sample line required to parse.

/// The tables of a Markdown document: each a list of rows (the header first, the separator
/// row dropped), each row a list of cell texts.
pub fn markdown_tables(text: &str) -> Vec<Vec<Vec<String>>> {
    let mut tables = Vec::new();
    let mut current: Vec<Vec<String>> = Vec::new();
    for line in text.lines().chain(std::iter::once("")) {
        let line = line.trim();
        if line.starts_with('|') && line.ends_with('|') {
            let inner = &line[1..line.len() - 1];
            let cells = table_cells(inner);
            let separator = cells
                .iter()
                .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')));
            if !separator {
                current.push(cells);
            }
        } else if !current.is_empty() {
            tables.push(std::mem::take(&mut current));
        }
    }
    tables
}

/// The cells of a table row without its outer pipes; `\|` is a pipe inside a cell.
fn table_cells(inner: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells.iter().map(|c| c.trim().to_string()).collect()
}

/// Prometheus text, parsed by prometheus-parse; every sample line must have been understood
/// (the parser skips what it cannot read, so the count is compared).
pub fn prometheus(text: &str) -> prometheus_parse::Scrape {
    let samples = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .count();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .expect("parse the Prometheus text");
    assert_eq!(
        scrape.samples.len(),
        samples,
        "every sample line parses:\n{text}"
    );
    scrape
}

pub fn gauge(sample: &prometheus_parse::Sample) -> f64 {
    match sample.value {
        prometheus_parse::Value::Gauge(v) => v,
        ref other => panic!("{} is not a gauge (TYPE line?): {other:?}", sample.metric),
    }
}
