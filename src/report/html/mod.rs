//! `--format html`: pages people look at rather than read. One self-contained file each (the
//! style, the one script and the charts inline; a Content-Security-Policy that lets nothing
//! else in), readable with JavaScript off. [`run`] renders a run; [`history`] the run
//! history's uptime page. Values from servers and inputs go through maud, which escapes
//! them; chart labels through plotters' SVG backend, which does too.

mod charts;
mod history;
mod page;
mod run;
mod stats;

pub(crate) use history::render as history_page;
pub(super) use run::render;
