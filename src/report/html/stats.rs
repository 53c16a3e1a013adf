//! What the run page's charts and failure groups are made of, from a run's results: the
//! latency of every fetched URL, per host the URLs by outcome and the mean time of each phase,
//! and the failures grouped by outcome and kind.

use std::collections::BTreeMap;
use std::time::Duration;

use super::charts::{self, Series, Svg};
use crate::model::{Outcome, UrlResult};
use crate::report::Run;

/// The failures of one outcome and one kind (an error kind, an HTTP status, a block).
pub(super) struct Group<'r> {
    pub outcome: Outcome,
    pub kind: String,
    pub results: Vec<&'r UrlResult>,
}

/// `failures` (news first) grouped: by outcome in their natural order, then the largest
/// group first; within a group, the order they came in.
pub(super) fn failure_groups(failures: Vec<&UrlResult>) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for r in failures {
        let kind = kind(r);
        let outcome = r.check.outcome;
        match groups
            .iter_mut()
            .find(|g| g.outcome == outcome && g.kind == kind)
        {
            Some(g) => g.results.push(r),
            None => groups.push(Group {
                outcome,
                kind,
                results: vec![r],
            }),
        }
    }
    groups.sort_by_key(|g| (g.outcome as u8, std::cmp::Reverse(g.results.len())));
    groups
}

fn kind(r: &UrlResult) -> String {
    let c = &r.check;
    match (&c.error, c.status) {
        _ if c.reason.is_some() => "blocked".to_string(),
        (Some(e), _) => e.kind.as_str().to_string(),
        (None, Some(s)) => format!("HTTP {s}"),
        (None, None) => c.outcome.as_str().to_string(),
    }
}

/// One chart of the page.
pub(super) struct Figure {
    pub id: &'static str,
    pub caption: String,
    pub svg: Svg,
}

const OUTCOMES: [Series; 6] = [
    Series {
        name: "up",
        color: charts::UP,
    },
    Series {
        name: "down",
        color: charts::DOWN,
    },
    Series {
        name: "error",
        color: charts::ERROR,
    },
    Series {
        name: "invalid",
        color: charts::INVALID,
    },
    Series {
        name: "skipped",
        color: charts::SKIPPED,
    },
    Series {
        name: "blocked",
        color: charts::BLOCKED,
    },
];

const PHASES: [Series; 7] = [
    Series {
        name: "dns",
        color: charts::RGBColor(0x8e, 0x24, 0xaa),
    },
    Series {
        name: "connect",
        color: charts::RGBColor(0x39, 0x49, 0xab),
    },
    Series {
        name: "tls",
        color: charts::RGBColor(0x00, 0x89, 0x7b),
    },
    Series {
        name: "wait (ttfb)",
        color: charts::RGBColor(0xf9, 0xa8, 0x25),
    },
    Series {
        name: "body",
        color: charts::RGBColor(0x6d, 0x4c, 0x41),
    },
    Series {
        name: "redirects",
        color: charts::RGBColor(0x90, 0xa4, 0xae),
    },
    Series {
        name: "retries",
        color: charts::RGBColor(0xd8, 0x1b, 0x60),
    },
];

/// At most this many hosts in a chart: the ones with the most URLs.
const HOSTS: usize = 15;

/// The latency histogram, the hosts' outcomes and the hosts' phases.
pub(super) fn figures(run: &Run) -> Vec<Figure> {
    let s = &run.summary;
    let samples: Vec<f64> = run
        .results
        .iter()
        .filter(|r| r.fetched())
        .map(|r| ms(r.check.elapsed))
        .collect();
    let marks: Vec<(&str, f64)> = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)]
        .into_iter()
        .filter_map(|(name, q)| s.percentile(q).map(|d| (name, ms(d))))
        .collect();
    let hosts = hosts(run);
    let caption = |what: &str| {
        let more = hosts.len().saturating_sub(HOSTS);
        if more > 0 {
            format!("{what} ({HOSTS} hosts with the most URLs; {more} more in the table)")
        } else {
            what.to_string()
        }
    };
    let top: Vec<&(String, Host)> = hosts.iter().take(HOSTS).collect();
    let counts: Vec<(String, Vec<f64>)> = top
        .iter()
        .map(|(h, x)| (h.clone(), x.outcomes.iter().map(|&n| n as f64).collect()))
        .collect();
    let phases: Vec<(String, Vec<f64>)> = top
        .iter()
        .filter(|(_, x)| x.timed > 0)
        .map(|(h, x)| {
            (
                h.clone(),
                x.phases.iter().map(|t| t / x.timed as f64).collect(),
            )
        })
        .collect();
    vec![
        Figure {
            id: "latency-chart",
            caption: format!(
                "Latency of the {} URLs fetched, with p50, p90 and p99",
                samples.len()
            ),
            svg: charts::latency_histogram(&samples, &marks),
        },
        Figure {
            id: "hosts-chart",
            caption: caption("URLs per host, by outcome"),
            svg: charts::stacked_bars(&counts, &OUTCOMES, "URLs", true),
        },
        Figure {
            id: "phases-chart",
            caption: caption("Mean time per URL by host, phase by phase (ms)"),
            svg: charts::stacked_bars(&phases, &PHASES, "ms", false),
        },
    ]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One host's URLs by outcome, and the sums of its fetched URLs' phases.
#[derive(Default)]
struct Host {
    outcomes: [u64; 6],
    timed: u64,
    phases: [f64; 7],
}

/// Per host, most URLs first.
fn hosts(run: &Run) -> Vec<(String, Host)> {
    let mut hosts: BTreeMap<String, Host> = BTreeMap::new();
    for r in &run.results {
        let Some(host) = url::Url::parse(&r.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
        else {
            continue;
        };
        let h = hosts.entry(host).or_default();
        h.outcomes[r.check.outcome as usize] += r.sources.len() as u64;
        if let (true, Some(t)) = (r.fetched(), r.check.timings) {
            h.timed += 1;
            let phase = |d: Option<Duration>| d.map_or(0.0, ms);
            let hops: f64 = r
                .check
                .redirects
                .iter()
                .map(|hop| ms(hop.timings.total))
                .sum();
            let parts = [phase(t.dns), phase(t.connect), phase(t.tls), phase(t.ttfb)];
            let body = (ms(t.total) - parts.iter().sum::<f64>()).max(0.0);
            let retries = (ms(r.check.elapsed) - hops - ms(t.total)).max(0.0);
            let all = [parts[0], parts[1], parts[2], parts[3], body, hops, retries];
            h.phases.iter_mut().zip(all).for_each(|(sum, x)| *sum += x);
        }
    }
    let mut hosts: Vec<(String, Host)> = hosts.into_iter().collect();
    hosts.sort_by_key(|(_, h)| std::cmp::Reverse(h.outcomes.iter().sum::<u64>()));
    hosts
}
