//! Line charts as plain SVG text: log- or linear-scale axes, one line per series, a legend, and
//! small multiples (panels side by side sharing their axes and legend). About what a report
//! needs and nothing more; written by hand because the chart crates bring a font and raster stack
//! a benchmark report does not need, and SVG is just text. The grid of coloured cells is
//! [`super::grid`]; the two share the text helpers here.

use std::fmt::Write;

/// One line of a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The legend's label; series of the same name in several panels share one colour.
    pub name: String,
    /// `(x, y)` points, drawn in the order given; non-positive values are skipped on log axes.
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed without markers (for reference lines such as a ceiling or a baseline), and
    /// over the solid lines, so it stays visible where a solid line coincides with it.
    pub dashed: bool,
}

/// One plot of a chart: its title (empty for a chart of one panel) and its lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    /// Title above the plot.
    pub title: String,
    /// The lines.
    pub series: Vec<Series>,
}

impl Panel {
    /// The one untitled panel of a single chart.
    pub fn untitled(series: Vec<Series>) -> Panel {
        Panel {
            title: String::new(),
            series,
        }
    }
}

/// A chart's axes and panels.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Title above the plots.
    pub title: String,
    /// Label under the x axis.
    pub x_label: String,
    /// Label beside the y axis.
    pub y_label: String,
    /// Whether the x axis is logarithmic (sizes) rather than linear (time).
    pub x_log: bool,
    /// Whether the y axis is logarithmic.
    pub y_log: bool,
    /// How x tick values are printed (sizes as `1K`, `1M`...).
    pub x_format: fn(f64) -> String,
    /// How y tick values are printed.
    pub y_format: fn(f64) -> String,
    /// The panels, [`Chart::columns`] to a row (small multiples): they share both axes' ranges,
    /// so their lines compare at a glance, and one legend.
    pub panels: Vec<Panel>,
    /// Panels per row (at least 1, at most the panels there are).
    pub columns: usize,
}

/// A plot's size in a chart of one panel (the README's single charts keep their size).
const SINGLE_PLOT: (f64, f64) = (490.0, 360.0);
/// A panel's plot size when there are several.
const MULTI_PLOT: (f64, f64) = (280.0, 240.0);
const LEFT: f64 = 80.0;
const TOP: f64 = 40.0;
/// Room for a panel's title above its plot.
const PANEL_TITLE: f64 = 24.0;
/// Room for the x tick labels under a plot.
const X_TICKS: f64 = 30.0;
/// Room for the x axis's label under the last row.
const BOTTOM: f64 = 30.0;
/// Between two panels side by side: the x tick labels at their facing edges must not touch.
const COLUMN_GAP: f64 = 40.0;
/// A series with more points than this is a line without markers (a time series).
const MARKER_LIMIT: usize = 50;
const COLORS: &[&str] = &[
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#7f7f7f", "#bcbd22",
];

/// The width of `text` at `font_size` in the sans-serif fonts SVG viewers fall back to, for
/// layout: 0.56 em a character, 0.64 in bold (DejaVu Sans's averages over lower-case words,
/// measured; it is the widest of the common ones).
pub(crate) fn text_width(text: &str, font_size: f64, bold: bool) -> f64 {
    let em = if bold { 0.64 } else { 0.56 };
    text.chars().count() as f64 * font_size * em
}

/// `text` with the characters XML reserves escaped.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The opening of a standalone SVG document of this size on a white background, with its title.
pub(crate) fn document(width: f64, height: f64, title: &str) -> String {
    let mut svg = String::new();
    // Writing to a String cannot fail; the results are ignored through `let _`.
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{:.1}" y="22" text-anchor="middle" font-size="15" font-weight="bold">{}</text>"#,
        width / 2.0,
        escape(title)
    );
    svg
}

struct Axis {
    low: f64,
    high: f64,
    log: bool,
}

impl Axis {
    fn fraction(&self, value: f64) -> f64 {
        if self.log {
            (value.log10() - self.low.log10()) / (self.high.log10() - self.low.log10())
        } else {
            (value - self.low) / (self.high - self.low)
        }
    }

    fn ticks(&self) -> Vec<f64> {
        if self.log {
            let first = self.low.log10().floor() as i32;
            let last = self.high.log10().ceil() as i32;
            (first..=last)
                .map(|exponent| 10f64.powi(exponent))
                .filter(|t| *t >= self.low * 0.999 && *t <= self.high * 1.001)
                .collect()
        } else {
            let step = nice_step((self.high - self.low) / 6.0);
            let mut tick = (self.low / step).ceil() * step;
            let mut ticks = Vec::new();
            while tick <= self.high + step * 1e-9 {
                ticks.push(tick);
                tick += step;
            }
            ticks
        }
    }

    /// Whether a value can be drawn on this axis.
    fn shows(&self, value: f64) -> bool {
        value.is_finite() && (!self.log || value > 0.0)
    }
}

fn nice_step(raw: f64) -> f64 {
    let magnitude = 10f64.powf(raw.log10().floor());
    let normalized = raw / magnitude;
    let nice = if normalized <= 1.0 {
        1.0
    } else if normalized <= 2.0 {
        2.0
    } else if normalized <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

fn bounds(values: impl Iterator<Item = f64>, log: bool) -> Axis {
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for value in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
        low = low.min(value);
        high = high.max(value);
    }
    if !low.is_finite() {
        (low, high) = (1.0, 10.0);
    }
    if log {
        // Whole decades, so every line sits between labelled grid lines.
        low = 10f64.powf(low.log10().floor());
        high = 10f64.powf(high.log10().ceil());
        if high <= low {
            high = low * 10.0;
        }
    } else {
        low = low.min(0.0);
        let step = nice_step((high - low).max(f64::MIN_POSITIVE) / 6.0);
        high = (high / step).ceil() * step;
        if high <= low {
            high = low + 1.0;
        }
    }
    Axis { low, high, log }
}

/// The points a line needs at screen resolution: of consecutive points in one pixel column, the
/// first, the lowest, the highest and the last, in their order. The line through them covers
/// the same pixels as the line through all of them, so a long time series stays a small file.
fn thin(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut kept = Vec::new();
    let mut start = 0;
    while start < points.len() {
        let column = points[start].0.round();
        let end = start
            + points[start..]
                .iter()
                .take_while(|(x, _)| x.round() == column)
                .count();
        let group = &points[start..end];
        let by_y = |a: &(usize, &(f64, f64)), b: &(usize, &(f64, f64))| a.1 .1.total_cmp(&b.1 .1);
        let lowest = group.iter().enumerate().min_by(by_y).map_or(0, |(i, _)| i);
        let highest = group.iter().enumerate().max_by(by_y).map_or(0, |(i, _)| i);
        let mut indices = [0, lowest, highest, group.len() - 1];
        indices.sort_unstable();
        let mut last = None;
        for index in indices {
            if last != Some(index) {
                kept.push(group[index]);
                last = Some(index);
            }
        }
        start = end;
    }
    kept
}

impl Chart {
    /// The legend's entries: each series name once, in the order of first appearance, with
    /// whether it is dashed.
    fn legend(&self) -> Vec<(&str, bool)> {
        let mut entries: Vec<(&str, bool)> = Vec::new();
        for series in self.panels.iter().flat_map(|p| &p.series) {
            if !entries.iter().any(|(name, _)| *name == series.name) {
                entries.push((&series.name, series.dashed));
            }
        }
        entries
    }

    /// The chart as a standalone SVG document.
    pub fn render(&self) -> String {
        // No empty column: a row is as wide as its panels.
        let columns = self.columns.clamp(1, self.panels.len().max(1));
        let rows = self.panels.len().div_ceil(columns).max(1);
        let (plot_width, plot_height) = if self.panels.len() > 1 {
            MULTI_PLOT
        } else {
            SINGLE_PLOT
        };
        let titled = self.panels.iter().any(|p| !p.title.is_empty());
        let panel_top = if titled { PANEL_TITLE } else { 0.0 };
        let legend = self.legend();
        let legend_width = legend
            .iter()
            .map(|(name, _)| text_width(name, 12.0, false))
            .fold(100.0, f64::max)
            + 64.0;
        let row_height = panel_top + plot_height + X_TICKS;
        let width = LEFT + columns as f64 * (plot_width + COLUMN_GAP) - COLUMN_GAP + legend_width;
        let height = TOP + rows as f64 * row_height + BOTTOM;

        let points = || {
            self.panels
                .iter()
                .flat_map(|p| &p.series)
                .flat_map(|s| s.points.iter())
        };
        let x_axis = bounds(points().map(|p| p.0), self.x_log);
        let y_axis = bounds(points().map(|p| p.1), self.y_log);
        let colors: Vec<(&str, &str)> = legend
            .iter()
            .enumerate()
            .map(|(index, (name, _))| (*name, COLORS[index % COLORS.len()]))
            .collect();
        let color_of = |name: &str| {
            colors
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(COLORS[0], |(_, c)| *c)
        };

        let mut svg = document(width, height, &self.title);
        for (index, panel) in self.panels.iter().enumerate() {
            let (row, column) = (index / columns, index % columns);
            let left = LEFT + column as f64 * (plot_width + COLUMN_GAP);
            let top = TOP + row as f64 * row_height + panel_top;
            let to_x = |x: f64| left + x_axis.fraction(x) * plot_width;
            let to_y = |y: f64| top + (1.0 - y_axis.fraction(y)) * plot_height;
            if !panel.title.is_empty() {
                let _ = writeln!(
                    svg,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="13" font-weight="bold">{}</text>"#,
                    left + plot_width / 2.0,
                    top - 8.0,
                    escape(&panel.title)
                );
            }
            for tick in x_axis.ticks() {
                let x = to_x(tick);
                let _ = writeln!(
                    svg,
                    r##"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                    top + plot_height,
                    top + plot_height + 18.0,
                    escape(&(self.x_format)(tick))
                );
            }
            for tick in y_axis.ticks() {
                let y = to_y(tick);
                let _ = writeln!(
                    svg,
                    r##"<line x1="{left:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/>"##,
                    left + plot_width,
                );
                // The panels share the y axis: its values are printed left of the first column.
                if column == 0 {
                    let _ = writeln!(
                        svg,
                        r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                        left - 6.0,
                        y + 4.0,
                        escape(&(self.y_format)(tick))
                    );
                }
            }
            let _ = writeln!(
                svg,
                r##"<rect x="{left:.1}" y="{top:.1}" width="{plot_width}" height="{plot_height}" fill="none" stroke="#444"/>"##
            );
            // Solid lines first, the dashed ones over them.
            let mut order: Vec<&Series> = panel.series.iter().collect();
            order.sort_by_key(|s| s.dashed);
            for series in order {
                let color = color_of(&series.name);
                let visible: Vec<(f64, f64)> = series
                    .points
                    .iter()
                    .filter(|(x, y)| x_axis.shows(*x) && y_axis.shows(*y))
                    .map(|(x, y)| (to_x(*x), to_y(*y)))
                    .collect();
                let markers = !series.dashed && visible.len() <= MARKER_LIMIT;
                let drawn = if markers { visible } else { thin(&visible) };
                let path: Vec<String> = drawn
                    .iter()
                    .map(|(x, y)| format!("{x:.1},{y:.1}"))
                    .collect();
                let dash = if series.dashed {
                    r#" stroke-dasharray="6 4""#
                } else {
                    ""
                };
                let _ = writeln!(
                    svg,
                    r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2" stroke-linejoin="round"{dash}/>"#,
                    path.join(" ")
                );
                if markers {
                    for (x, y) in &drawn {
                        let _ = writeln!(
                            svg,
                            r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{color}"/>"#
                        );
                    }
                }
            }
        }
        let plots_width = columns as f64 * (plot_width + COLUMN_GAP) - COLUMN_GAP;
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            LEFT + plots_width / 2.0,
            height - 12.0,
            escape(&self.x_label)
        );
        let _ = writeln!(
            svg,
            r#"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
            TOP + rows as f64 * row_height / 2.0,
            escape(&self.y_label)
        );
        for (index, (name, dashed)) in legend.iter().enumerate() {
            let legend_y = TOP + panel_top + 10.0 + index as f64 * 20.0;
            let legend_x = LEFT + plots_width + 14.0;
            let dash = if *dashed {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            };
            let _ = writeln!(
                svg,
                r#"<line x1="{legend_x:.1}" y1="{legend_y:.1}" x2="{:.1}" y2="{legend_y:.1}" stroke="{}" stroke-width="2"{dash}/><text x="{:.1}" y="{:.1}">{}</text>"#,
                legend_x + 22.0,
                color_of(name),
                legend_x + 28.0,
                legend_y + 4.0,
                escape(name)
            );
        }
        svg.push_str("</svg>\n");
        svg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_series_with_escaped_labels() {
        let chart = Chart {
            title: "cost <per> heartbeat".into(),
            x_label: "dispatchers".into(),
            y_label: "seconds".into(),
            x_log: true,
            y_log: true,
            x_format: |x| format!("{x}"),
            y_format: |y| format!("{y}"),
            columns: 1,
            panels: vec![Panel::untitled(vec![
                Series {
                    name: "a & b".into(),
                    points: vec![(1e4, 1e-4), (1e6, 1e-2), (1e7, 0.0)],
                    dashed: false,
                },
                Series {
                    name: "ceiling".into(),
                    points: vec![(1e4, 3e-6), (1e7, 3e-3)],
                    dashed: true,
                },
            ])],
        };
        let svg = chart.render();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("cost &lt;per&gt; heartbeat") && svg.contains("a &amp; b"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        // The zero point is skipped on a log axis: two markers for the first series.
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("stroke-dasharray"));
    }

    #[test]
    fn linear_axes_start_at_zero_with_round_ticks() {
        let axis = bounds([3.0, 17.0].into_iter(), false);
        assert_eq!(axis.low, 0.0);
        assert!(axis.high >= 17.0);
        assert_eq!(axis.ticks().first(), Some(&0.0));
    }

    fn time_series(name: &str, points: usize, dashed: bool) -> Series {
        Series {
            name: name.into(),
            points: (0..points)
                .map(|i| (i as f64 / 10.0, ((i * 7) % 13) as f64))
                .collect(),
            dashed,
        }
    }

    #[test]
    fn panels_share_one_legend_and_long_series_are_thinned_lines() {
        let panel = |title: &str| Panel {
            title: title.into(),
            series: vec![
                time_series("plain", 6000, false),
                time_series("baseline", 6000, true),
            ],
        };
        let chart = Chart {
            title: "lag".into(),
            x_label: "seconds".into(),
            y_label: "lag".into(),
            x_log: false,
            y_log: false,
            x_format: |x| format!("{x}"),
            y_format: |y| format!("{y}"),
            columns: 2,
            panels: vec![panel("eager"), panel("reference"), panel("third")],
        };
        let svg = chart.render();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        // Columns beyond the panels add no empty room.
        let wide = Chart {
            columns: 5,
            ..chart.clone()
        };
        let three = Chart {
            columns: 3,
            ..chart.clone()
        };
        assert_eq!(wide.render(), three.render());
        assert_ne!(svg, three.render());
        for title in ["eager", "reference", "third"] {
            assert!(svg.contains(&format!(">{title}</text>")), "{title}");
        }
        // Six lines and two legend entries; a series of one name has one colour everywhere.
        assert_eq!(svg.matches("<polyline").count(), 6);
        assert_eq!(svg.matches(">plain</text>").count(), 1);
        assert_eq!(
            svg.matches(r##"stroke="#1f77b4" stroke-width="2" stroke-linejoin"##)
                .count(),
            3
        );
        // A time series has no markers, and 6,000 points over 280 pixels keep at most four per
        // pixel column.
        assert_eq!(svg.matches("<circle").count(), 0);
        let longest = svg
            .lines()
            .filter(|l| l.starts_with("<polyline"))
            .map(|l| l.matches(',').count())
            .max()
            .unwrap();
        assert!(longest <= 4 * 282, "{longest} points");
        // The linear x axis starts at 0 and the dashed lines come after the solid ones.
        assert!(svg.contains(r#"text-anchor="middle">0</text>"#));
        let first_dashed = svg.find("stroke-dasharray").unwrap();
        assert!(svg[first_dashed..].contains("<polyline"));
        let last_solid = svg
            .rfind(r##"stroke="#1f77b4" stroke-width="2" stroke-linejoin="round"/>"##)
            .unwrap();
        assert!(last_solid < svg.rfind(r#"stroke-dasharray="6 4"/>"#).unwrap());
    }

    #[test]
    fn thinning_keeps_each_pixel_columns_extremes_in_order() {
        let points = [(0.1, 5.0), (0.2, 9.0), (0.3, 1.0), (0.4, 4.0), (1.0, 2.0)];
        assert_eq!(
            thin(&points),
            vec![(0.1, 5.0), (0.2, 9.0), (0.3, 1.0), (0.4, 4.0), (1.0, 2.0)]
        );
        let points = [
            (0.1, 5.0),
            (0.2, 9.0),
            (0.25, 7.0),
            (0.3, 1.0),
            (0.4, 4.0),
            (1.0, 2.0),
        ];
        assert_eq!(
            thin(&points),
            vec![(0.1, 5.0), (0.2, 9.0), (0.3, 1.0), (0.4, 4.0), (1.0, 2.0)]
        );
    }
}
