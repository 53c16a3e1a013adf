//! The charts of the HTML pages, drawn by plotters into inline SVG (its SVG backend escapes
//! every label, and lays text out with a fixed-width estimate, so no font is read from the
//! machine). Each function returns one `<svg>` element, or why it could not draw one.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
pub(super) use plotters::style::RGBColor;

/// What a chart gives back: its SVG, or the reason there is none.
pub(super) type Svg = Result<String, String>;

pub(super) const FONT: &str = "sans-serif";
pub(super) const INK: RGBColor = RGBColor(0x33, 0x3a, 0x42);
const MARK: RGBColor = RGBColor(0xc6, 0x28, 0x28);
const BARS: RGBColor = RGBColor(0x3b, 0x6e, 0xa8);

/// The outcomes' colours, as page.css has them, for every chart of either page.
pub(super) const UP: RGBColor = RGBColor(0x2e, 0x7d, 0x32);
pub(super) const DOWN: RGBColor = RGBColor(0xc6, 0x28, 0x28);
pub(super) const ERROR: RGBColor = RGBColor(0xe6, 0x51, 0x00);
pub(super) const INVALID: RGBColor = RGBColor(0x6a, 0x1b, 0x9a);
pub(super) const SKIPPED: RGBColor = RGBColor(0x61, 0x61, 0x61);
pub(super) const BLOCKED: RGBColor = RGBColor(0x15, 0x65, 0xc0);

/// One series of stacked bars: its legend name and colour.
#[derive(Clone, Copy)]
pub(super) struct Series {
    pub name: &'static str,
    pub color: RGBColor,
}

fn failed(e: impl std::fmt::Display) -> String {
    format!("the chart could not be drawn: {e}")
}

/// Draws into an SVG string of `size` with `draw`. No background: the figure's is white.
fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Result<(), String>,
) -> Svg {
    guarded(|| {
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
            draw(&root)?;
            root.present().map_err(failed)?;
        }
        Ok(out)
    })
}

/// `draw`, with a panic inside plotters (its axis code has overflowed on edge cases) turned
/// into a chart that is missing: a report of checked URLs must never be lost to a picture.
fn guarded(draw: impl FnOnce() -> Svg) -> Svg {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(draw))
        .unwrap_or_else(|_| Err("the chart could not be drawn (plotters panicked)".to_string()))
}

/// Log-spaced bins over `lo..hi` (milliseconds), `n` of them, and how many samples fall in
/// each.
fn log_bins(samples: &[f64], n: usize) -> Vec<(f64, f64, u32)> {
    let Some(lo) = samples.iter().copied().reduce(f64::min) else {
        return Vec::new();
    };
    let hi = samples.iter().copied().fold(lo, f64::max);
    let (lo, hi) = (lo.max(0.01) * 0.95, hi.max(0.01) * 1.05);
    let (a, b) = (lo.ln(), hi.ln());
    let step = (b - a) / n as f64;
    let mut bins: Vec<(f64, f64, u32)> = (0..n)
        .map(|i| {
            (
                (a + step * i as f64).exp(),
                (a + step * (i + 1) as f64).exp(),
                0,
            )
        })
        .collect();
    for &s in samples {
        let i = ((s.max(0.01).ln() - a) / step).floor();
        let i = (i.max(0.0) as usize).min(n - 1);
        bins[i].2 += 1;
    }
    bins
}

/// A histogram of latencies (milliseconds) on a log axis, with `marks` (p50, p90, p99) as
/// labelled lines.
pub(super) fn latency_histogram(samples: &[f64], marks: &[(&str, f64)]) -> Svg {
    let bins = log_bins(samples, 28);
    let (Some(first), Some(last)) = (bins.first(), bins.last()) else {
        return Err("no URL was fetched".to_string());
    };
    let (lo, hi) = (first.0, last.1);
    let top = bins.iter().map(|b| b.2).max().unwrap_or(1).max(1);
    let ymax = f64::from(top) * 1.25;
    svg((560, 300), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(44)
            .build_cartesian_2d((lo..hi).log_scale(), 0.0..ymax)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .max_light_lines(0)
            .y_labels((top as usize + 1).min(6))
            .x_labels(6)
            .x_desc("latency (ms, log scale)")
            .y_desc("URLs")
            .x_label_formatter(&|v| short_ms(*v))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style(font(&INK))
            .draw()
            .map_err(failed)?;
        chart
            .draw_series(bins.iter().map(|&(a, b, n)| {
                let mut bar = Rectangle::new([(a, 0.0), (b, f64::from(n))], BARS.filled());
                bar.set_margin(0, 0, 1, 1);
                bar
            }))
            .map_err(failed)?;
        for (i, &(label, at)) in marks.iter().enumerate() {
            let at = at.clamp(lo, hi);
            let line = PathElement::new(vec![(at, 0.0), (at, ymax)], MARK.stroke_width(2));
            chart.draw_series(std::iter::once(line)).map_err(failed)?;
            // Labels step down the chart, on the side of the line with more room.
            let y = ymax * (0.97 - 0.08 * i as f64);
            let right_half = (at / lo).ln() > 0.6 * (hi / lo).ln();
            let (side, x) = if right_half {
                (HPos::Right, at / 1.03)
            } else {
                (HPos::Left, at * 1.03)
            };
            let style = font(&MARK).pos(Pos::new(side, VPos::Top));
            let text = Text::new(format!("{label} {}", short_ms(at)), (x, y), style);
            chart.draw_series(std::iter::once(text)).map_err(failed)?;
        }
        Ok(())
    })
}

/// Labels at 12px: plotters sets a font of size n at n / 1.24 pixels.
pub(super) fn font(color: &RGBColor) -> TextStyle<'static> {
    (FONT, 15).into_font().color(color)
}

/// `0.4`, `12`, `1.2k`: milliseconds on an axis.
fn short_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.1}s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0}")
    } else {
        format!("{ms:.1}")
    }
}

/// Horizontal stacked bars: one row per `(label, values)`, each value a segment of the
/// series of the same position, `unit` naming the axis (whole numbers when `whole`), and a
/// legend of the series that appear, beside the bars rather than over them.
pub(super) fn stacked_bars(
    rows: &[(String, Vec<f64>)],
    series: &[Series],
    unit: &str,
    whole: bool,
) -> Svg {
    if rows.is_empty() {
        return Err("nothing to chart".to_string());
    }
    let widest = rows
        .iter()
        .map(|(_, v)| v.iter().sum::<f64>())
        .fold(0.0, f64::max);
    let xmax = if widest > 0.0 { widest * 1.08 } else { 1.0 };
    let present: Vec<usize> = (0..series.len())
        .filter(|&k| rows.iter().any(|(_, v)| v.get(k).is_some_and(|&x| x > 0.0)))
        .collect();
    let labels: Vec<String> = rows.iter().map(|(l, _)| clip(l, 30)).collect();
    let label_width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(4) as u32 * 7 + 14;
    let height = 64 + 22 * rows.len().max(present.len()) as u32;
    svg((560, height), |root| {
        let (plot, legend) = root.split_horizontally(560 - 110);
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .x_label_area_size(34)
            .y_label_area_size(label_width.min(230))
            .build_cartesian_2d(0.0..xmax, (0..rows.len()).into_segmented())
            .map_err(failed)?;
        let name = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        let ticks = if whole {
            (xmax as usize + 1).clamp(2, 8)
        } else {
            8
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .max_light_lines(1)
            .y_labels(rows.len())
            .y_label_formatter(&name)
            .x_labels(ticks)
            .x_label_formatter(&|v| {
                if whole {
                    format!("{v:.0}")
                } else {
                    short_ms(*v)
                }
            })
            .x_desc(unit)
            .label_style(font(&INK))
            .draw()
            .map_err(failed)?;
        for &k in &present {
            let bars = rows.iter().enumerate().filter_map(|(i, (_, v))| {
                let start: f64 = v[..k].iter().sum();
                let width = v.get(k).copied().unwrap_or(0.0);
                let y = |j| SegmentValue::Exact(j);
                let mut bar = Rectangle::new(
                    [(start, y(i)), (start + width, y(i + 1))],
                    series[k].color.filled(),
                );
                bar.set_margin(3, 3, 0, 0);
                (width > 0.0).then_some(bar)
            });
            chart.draw_series(bars).map_err(failed)?;
        }
        let shown: Vec<Series> = present.iter().map(|&k| series[k]).collect();
        draw_legend(&legend, &shown)?;
        Ok(())
    })
}

/// A strip `size` wide of coloured segments, `(from, to, colour)` in pixels: a URL's runs.
/// The one picture not drawn by plotters, whose SVG backend writes an element of some 85
/// bytes per rectangle: a history page holds up to 80 segments per URL, so here each colour
/// is one `<path>` of all its segments (about 16 bytes each), which keeps a page of 1,000
/// URLs whose every column differs from the next under 5 MB. Only numbers and the page's own
/// colours go into it.
pub(super) fn strip(size: (u32, u32), segments: &[(u32, u32, RGBColor)]) -> Svg {
    use std::fmt::Write as _;
    let (w, h) = size;
    let mut out = format!(
        r#"<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg">"#
    );
    let mut colors: Vec<RGBColor> = Vec::new();
    for &(_, _, c) in segments {
        if !colors.contains(&c) {
            colors.push(c);
        }
    }
    for c in colors {
        let _ = write!(
            out,
            r##"<path fill="#{:02X}{:02X}{:02X}" d=""##,
            c.0, c.1, c.2
        );
        for &(a, b, _) in segments.iter().filter(|s| s.2 == c) {
            let _ = write!(out, "M{a} 0h{}v{h}h-{}z", b - a, b - a);
        }
        out.push_str("\"/>");
    }
    out.push_str("</svg>");
    Ok(out)
}

/// A line `size` wide through `values` (NaN breaks it), scaled from 0 to the largest; a
/// value alone between breaks is a dot, which a one-point line would not show.
pub(super) fn sparkline(size: (u32, u32), values: &[f64]) -> Svg {
    let top = values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let (w, h) = (f64::from(size.0 - 2), f64::from(size.1 - 2));
    let step = w / values.len().saturating_sub(1).max(1) as f64;
    let point = |i: usize, v: f64| {
        let y = if top > 0.0 { h - v / top * h } else { h };
        (
            (1.0 + i as f64 * step).round() as i32,
            (1.0 + y).round() as i32,
        )
    };
    let mut pieces: Vec<Vec<(i32, i32)>> = vec![Vec::new()];
    for (i, &v) in values.iter().enumerate() {
        match pieces.last_mut() {
            Some(piece) if v.is_finite() => piece.push(point(i, v)),
            Some(piece) if !piece.is_empty() => pieces.push(Vec::new()),
            _ => {}
        }
    }
    svg(size, |root| {
        for piece in pieces.into_iter().filter(|p| !p.is_empty()) {
            match piece.as_slice() {
                [dot] => root.draw(&Circle::new(*dot, 1, BARS.filled())),
                _ => root.draw(&PathElement::new(piece, BARS.stroke_width(1))),
            }
            .map_err(failed)?;
        }
        Ok(())
    })
}

/// Stacked columns over time: per `(time, values)` a column of the series' values, with
/// times (unix seconds) labelled as dates.
pub(super) fn time_columns(columns: &[(i64, Vec<f64>)], series: &[Series], unit: &str) -> Svg {
    let (Some(first), Some(last)) = (columns.first(), columns.last()) else {
        return Err("no run in the window".to_string());
    };
    let width = ((last.0 - first.0) as f64 / columns.len().max(1) as f64).max(1.0);
    let (x0, x1) = (first.0 as f64, last.0 as f64 + width);
    let top = columns
        .iter()
        .map(|(_, v)| v.iter().sum::<f64>())
        .fold(0.0, f64::max);
    let ymax = if top > 0.0 { top * 1.15 } else { 1.0 };
    svg((1100, 170), |root| {
        let (plot, legend) = root.split_horizontally(1100 - 110);
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(48)
            .build_cartesian_2d(x0..x1, 0.0..ymax)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .max_light_lines(1)
            .x_labels(8)
            .y_labels(5)
            .x_label_formatter(&|t| date(*t as i64))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .y_desc(unit)
            .label_style(font(&INK))
            .draw()
            .map_err(failed)?;
        for (k, s) in series.iter().enumerate() {
            // A column reaches the next one's start, so uneven runs leave no gaps.
            let ends = columns.iter().skip(1).map(|(t, _)| *t as f64).chain([x1]);
            let bars = columns.iter().zip(ends).filter_map(|((t, v), end)| {
                let start: f64 = v[..k].iter().sum();
                let y = v[k];
                (y > 0.0).then(|| {
                    Rectangle::new([(*t as f64, start), (end, start + y)], s.color.filled())
                })
            });
            chart.draw_series(bars).map_err(failed)?;
        }
        draw_legend(&legend, series)?;
        Ok(())
    })
}

/// `11-30 14:05`, in UTC: the axis of a window of days to weeks.
fn date(t: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.max(0) as u64);
    let text = humantime::format_rfc3339_seconds(t).to_string();
    text[5..16].replace('T', " ")
}

fn draw_legend(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    series: &[Series],
) -> Result<(), String> {
    for (row, s) in series.iter().enumerate() {
        let y = 14 + 22 * row as i32;
        area.draw(&Rectangle::new([(4, y), (16, y + 12)], s.color.filled()))
            .map_err(failed)?;
        area.draw(&Text::new(s.name, (22, y), font(&INK)))
            .map_err(failed)?;
    }
    Ok(())
}

/// `text` cut to `n` characters, with an ellipsis when cut.
fn clip(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(n - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_drawing_is_a_missing_chart() {
        let svg = guarded(|| panic!("inside plotters"));
        assert_eq!(
            svg,
            Err("the chart could not be drawn (plotters panicked)".to_string())
        );
    }

    #[test]
    fn a_sparkline_breaks_at_gaps_and_dots_a_lone_value() {
        let svg = sparkline((120, 24), &[1.0, 2.0, f64::NAN, 3.0, f64::NAN, f64::NAN]).unwrap();
        assert_eq!(svg.matches("<polyline").count(), 1, "{svg}");
        assert_eq!(svg.matches("<circle").count(), 1, "{svg}");
        assert!(!svg.contains("<rect"), "no background: {svg}");
    }

    #[test]
    fn bins_cover_every_sample_once() {
        let samples = [1.0, 2.0, 2.5, 40.0, 900.0, 900.0];
        let bins = log_bins(&samples, 10);
        assert_eq!(bins.len(), 10);
        assert_eq!(bins.iter().map(|b| b.2).sum::<u32>(), 6);
        assert!(bins[0].0 < 1.0 && bins[9].1 > 900.0);
        assert_eq!(bins[9].2, 2, "{bins:?}");
        assert!(log_bins(&[], 10).is_empty());
    }

    #[test]
    fn a_histogram_is_one_svg_with_its_marks() {
        let svg =
            latency_histogram(&[3.0, 5.0, 8.0, 120.0], &[("p50", 5.0), ("p99", 120.0)]).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert_eq!(svg.matches("<svg").count(), 1);
        assert!(
            svg.contains("\np50 5.0\n") && svg.contains("\np99 120\n"),
            "{svg}"
        );
        assert!(latency_histogram(&[], &[]).is_err());
    }

    #[test]
    fn labels_are_escaped_by_the_backend() {
        let rows = vec![("<script>alert(1)</script>".to_string(), vec![1.0, 2.0])];
        let series = [
            Series {
                name: "a",
                color: INK,
            },
            Series {
                name: "b",
                color: MARK,
            },
        ];
        let svg = stacked_bars(&rows, &series, "URLs", true).unwrap();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"), "{svg}");
    }
}
