//! The progress bar on stderr, shown only when stderr is a terminal.

use std::fmt::Write;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// The rate, once there is one: none before the first result, nor while the estimate is 0.
fn measured(s: &ProgressState) -> Option<f64> {
    let rate = s.per_sec();
    (s.pos() > 0 && rate.is_finite() && rate > 0.0).then_some(rate)
}

/// A progress bar on stderr (done/total, rate, ETA); a spinner with a count when the total
/// is unknown (stdin). A rate has one decimal; until there is one, rate and ETA show `-`.
pub(crate) fn progress_bar(total: Option<u64>, label: &str) -> ProgressBar {
    let template = match total {
        Some(_) => "{prefix:>10} [{bar:30}] {pos}/{len} {rate} ETA {left}",
        None => "{prefix:>10} {spinner} {pos} checked {rate}",
    };
    let style = ProgressStyle::with_template(template)
        .expect("valid template")
        .progress_chars("=> ")
        .with_key("rate", |s: &ProgressState, w: &mut dyn Write| {
            let _ = match measured(s) {
                Some(rate) => write!(w, "{rate:.1}/s"),
                None => write!(w, "-/s"),
            };
        })
        .with_key("left", |s: &ProgressState, w: &mut dyn Write| {
            let _ = match measured(s) {
                Some(_) => write!(w, "{:#}", indicatif::HumanDuration(s.eta())),
                None => write!(w, "-"),
            };
        });
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr()).with_style(style);
    bar.set_prefix(label.to_owned());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}
