//! Line charts as plain SVG text: log-scale x, log- or linear-scale y, one line per series, a
//! legend. About what a report needs and nothing more; written by hand because the chart crates
//! bring a font and raster stack a benchmark report does not need, and SVG is just text.

use std::fmt::Write;

/// One line of a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The legend's label.
    pub name: String,
    /// `(x, y)` points, drawn in the order given; non-positive values are skipped on log axes.
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed without markers (for reference lines such as a ceiling).
    pub dashed: bool,
}

/// A chart's axes and lines.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Title above the plot.
    pub title: String,
    /// Label under the x axis.
    pub x_label: String,
    /// Label beside the y axis.
    pub y_label: String,
    /// Whether the y axis is logarithmic (the x axis always is).
    pub y_log: bool,
    /// How x tick values are printed (sizes as `1K`, `1M`...).
    pub x_format: fn(f64) -> String,
    /// How y tick values are printed.
    pub y_format: fn(f64) -> String,
    /// The lines.
    pub series: Vec<Series>,
}

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 460.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;
const COLORS: &[&str] = &[
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#7f7f7f", "#bcbd22",
];

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

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
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

impl Chart {
    /// The chart as a standalone SVG document.
    pub fn render(&self) -> String {
        let points = || self.series.iter().flat_map(|s| s.points.iter());
        let x_axis = bounds(points().map(|p| p.0), true);
        let y_axis = bounds(points().map(|p| p.1), self.y_log);
        let plot_width = WIDTH - LEFT - RIGHT;
        let plot_height = HEIGHT - TOP - BOTTOM;
        let to_x = |x: f64| LEFT + x_axis.fraction(x) * plot_width;
        let to_y = |y: f64| TOP + (1.0 - y_axis.fraction(y)) * plot_height;

        let mut svg = String::new();
        // Writing to a String cannot fail; the results are ignored through `let _`.
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(
            svg,
            r#"<rect width="100%" height="100%" fill="white"/><text x="{}" y="22" text-anchor="middle" font-size="15" font-weight="bold">{}</text>"#,
            LEFT + plot_width / 2.0,
            escape(&self.title)
        );
        for tick in x_axis.ticks() {
            let x = to_x(tick);
            let _ = writeln!(
                svg,
                r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                TOP + plot_height,
                TOP + plot_height + 18.0,
                escape(&(self.x_format)(tick))
            );
        }
        for tick in y_axis.ticks() {
            let y = to_y(tick);
            let _ = writeln!(
                svg,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                LEFT + plot_width,
                LEFT - 6.0,
                y + 4.0,
                escape(&(self.y_format)(tick))
            );
        }
        let _ = writeln!(
            svg,
            r##"<rect x="{LEFT}" y="{TOP}" width="{plot_width}" height="{plot_height}" fill="none" stroke="#444"/>"##
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            LEFT + plot_width / 2.0,
            HEIGHT - 16.0,
            escape(&self.x_label)
        );
        let _ = writeln!(
            svg,
            r#"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
            TOP + plot_height / 2.0,
            escape(&self.y_label)
        );
        for (index, series) in self.series.iter().enumerate() {
            let color = COLORS[index % COLORS.len()];
            let visible: Vec<(f64, f64)> = series
                .points
                .iter()
                .copied()
                .filter(|(x, y)| *x > 0.0 && (!self.y_log || *y > 0.0) && y.is_finite())
                .map(|(x, y)| (to_x(x), to_y(y)))
                .collect();
            let path: Vec<String> = visible
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
                r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"{dash}/>"#,
                path.join(" ")
            );
            if !series.dashed {
                for (x, y) in &visible {
                    let _ = writeln!(
                        svg,
                        r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{color}"/>"#
                    );
                }
            }
            let legend_y = TOP + 10.0 + index as f64 * 20.0;
            let legend_x = LEFT + plot_width + 14.0;
            let _ = writeln!(
                svg,
                r#"<line x1="{legend_x}" y1="{legend_y}" x2="{:.1}" y2="{legend_y}" stroke="{color}" stroke-width="2"{dash}/><text x="{:.1}" y="{:.1}">{}</text>"#,
                legend_x + 22.0,
                legend_x + 28.0,
                legend_y + 4.0,
                escape(&series.name)
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
            y_log: true,
            x_format: |x| format!("{x}"),
            y_format: |y| format!("{y}"),
            series: vec![
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
            ],
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
}
