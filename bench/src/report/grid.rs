//! A grid of coloured cells as plain SVG text: a row per item with its labels at the left, a
//! column per case, each cell filled with the colour of its category and labelled, and a legend
//! of the categories under it (the simulator's verdict: protocol × ordering by fault mix, each
//! cell coloured by its worst violation kind). Text helpers are shared with [`super::svg`].

use super::svg::{document, escape, text_width};
use std::fmt::Write;

/// A kind of cell: its name in the legend and its fill.
#[derive(Clone, Debug, PartialEq)]
pub struct Category {
    /// The legend's label.
    pub name: String,
    /// The fill, as `#rrggbb` (the labels over it are dark or white, whichever reads).
    pub fill: &'static str,
}

/// One cell of a grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// Index into [`Grid::categories`].
    pub category: usize,
    /// The large label in the middle (a count).
    pub label: String,
    /// A small second line under it (empty for none).
    pub detail: String,
    /// The full text a viewer shows on hover.
    pub tooltip: String,
}

/// A grid's labels, cells and legend.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    /// Title above the grid.
    pub title: String,
    /// One line under the title saying what a cell's label counts.
    pub subtitle: String,
    /// The headers of the label columns at the left (e.g. `protocol`, `ordering`).
    pub row_headers: Vec<String>,
    /// Each row's labels, one per row header; a label equal to the one above it is left out, so
    /// a group of rows reads as one.
    pub rows: Vec<Vec<String>>,
    /// The columns' headers.
    pub columns: Vec<String>,
    /// The cells, a row of `columns.len()` per row; `None` is an empty cell.
    pub cells: Vec<Vec<Option<Cell>>>,
    /// The categories, in the legend's order.
    pub categories: Vec<Category>,
}

const MARGIN: f64 = 12.0;
const HEADER_TOP: f64 = 62.0;
const HEADER: f64 = 26.0;
const CELL_HEIGHT: f64 = 42.0;
const MIN_CELL_WIDTH: f64 = 72.0;
const SWATCH: f64 = 14.0;
const LEGEND_ROW: f64 = 22.0;

/// A row label longer than this is set on two lines (the cell is tall enough for two).
const LABEL_WRAP: f64 = 150.0;

/// `label` as the lines it is set on: one, or two split at the space nearest its middle when it
/// is wider than [`LABEL_WRAP`] (a space after a comma counts as nearer by four characters: a
/// clause is not split).
fn label_lines(label: &str) -> Vec<&str> {
    if text_width(label, 12.0, false) <= LABEL_WRAP {
        return vec![label];
    }
    let middle = label.len() / 2;
    let split = label
        .match_indices(' ')
        .map(|(at, _)| at)
        .min_by_key(|&at| {
            let after_comma = label[..at].ends_with(',');
            at.abs_diff(middle) + if after_comma { 0 } else { 4 }
        });
    match split {
        Some(at) => vec![&label[..at], &label[at + 1..]],
        None => vec![label],
    }
}

/// Whether dark text reads better than white over `fill` (`#rrggbb`), by its luma.
fn dark_text_on(fill: &str) -> bool {
    let channel = |at: usize| {
        fill.get(at..at + 2)
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .map_or(255.0, f64::from)
    };
    0.299 * channel(1) + 0.587 * channel(3) + 0.114 * channel(5) > 140.0
}

impl Grid {
    /// The grid as a standalone SVG document.
    pub fn render(&self) -> String {
        let label_widths: Vec<f64> = self
            .row_headers
            .iter()
            .enumerate()
            .map(|(index, header)| {
                self.rows
                    .iter()
                    .filter_map(|row| row.get(index))
                    .flat_map(|label| label_lines(label))
                    .map(|line| text_width(line, 12.0, false))
                    .fold(text_width(header, 12.0, true), f64::max)
                    + 14.0
            })
            .collect();
        let cell_width = self
            .columns
            .iter()
            .map(|c| text_width(c, 11.0, true) + 8.0)
            .fold(MIN_CELL_WIDTH, f64::max);
        let labels_width: f64 = label_widths.iter().sum();
        let grid_left = MARGIN + labels_width;
        let grid_width = cell_width * self.columns.len() as f64;
        let width =
            (grid_left + grid_width + MARGIN).max(text_width(&self.title, 15.0, true) + 40.0);

        // The legend wraps to the grid's width.
        let mut legend = Vec::new();
        let (mut x, mut y) = (MARGIN, 0.0);
        for category in &self.categories {
            let entry = SWATCH + 6.0 + text_width(&category.name, 12.0, false) + 18.0;
            if x + entry > width - MARGIN && x > MARGIN {
                (x, y) = (MARGIN, y + LEGEND_ROW);
            }
            legend.push((x, y, category));
            x += entry;
        }
        let grid_bottom = HEADER_TOP + HEADER + CELL_HEIGHT * self.rows.len() as f64;
        let legend_top = grid_bottom + 20.0;
        let height = legend_top + y + LEGEND_ROW + MARGIN;

        let mut svg = document(width, height, &self.title);
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="44" text-anchor="middle" fill="#444">{}</text>"##,
            width / 2.0,
            escape(&self.subtitle)
        );
        let header_y = HEADER_TOP + HEADER - 9.0;
        let mut left = MARGIN;
        for (header, column_width) in self.row_headers.iter().zip(&label_widths) {
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{header_y:.1}" font-weight="bold">{}</text>"#,
                left + 4.0,
                escape(header)
            );
            left += column_width;
        }
        for (index, column) in self.columns.iter().enumerate() {
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{header_y:.1}" text-anchor="middle" font-size="11" font-weight="bold">{}</text>"#,
                grid_left + (index as f64 + 0.5) * cell_width,
                escape(column)
            );
        }
        for (row_index, row) in self.rows.iter().enumerate() {
            let top = HEADER_TOP + HEADER + row_index as f64 * CELL_HEIGHT;
            let middle = top + CELL_HEIGHT / 2.0 + 4.0;
            let previous = row_index.checked_sub(1).and_then(|i| self.rows.get(i));
            let mut left = MARGIN;
            for (index, (label, column_width)) in row.iter().zip(&label_widths).enumerate() {
                // A label is left out under the same one, unless a label left of it changed.
                let same_group = previous.is_some_and(|above| above[..=index] == row[..=index]);
                if !same_group {
                    let lines = label_lines(label);
                    let first_y = middle - 7.0 * (lines.len() - 1) as f64;
                    for (number, line) in lines.iter().enumerate() {
                        let _ = writeln!(
                            svg,
                            r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
                            left + 4.0,
                            first_y + 14.0 * number as f64,
                            escape(line)
                        );
                    }
                }
                left += column_width;
            }
            // A rule above each new group of the first label column.
            if previous.is_none_or(|above| above.first() != row.first()) {
                let _ = writeln!(
                    svg,
                    r##"<line x1="{MARGIN}" y1="{top:.1}" x2="{:.1}" y2="{top:.1}" stroke="#999"/>"##,
                    grid_left + grid_width
                );
            }
            for (column, cell) in self.cells.get(row_index).into_iter().flatten().enumerate() {
                let x = grid_left + column as f64 * cell_width;
                let Some(cell) = cell else {
                    continue;
                };
                let fill = self
                    .categories
                    .get(cell.category)
                    .map_or("#ffffff", |c| c.fill);
                let ink = if dark_text_on(fill) { "#111" } else { "white" };
                let (label_y, detail_y) = if cell.detail.is_empty() {
                    (middle + 1.0, 0.0)
                } else {
                    (top + 19.0, top + 35.0)
                };
                let _ = writeln!(
                    svg,
                    r##"<g><title>{}</title><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}" stroke="white" stroke-width="2"/><text x="{:.1}" y="{label_y:.1}" text-anchor="middle" font-size="14" font-weight="bold" fill="{ink}">{}</text>"##,
                    escape(&cell.tooltip),
                    x,
                    top,
                    cell_width,
                    CELL_HEIGHT,
                    x + cell_width / 2.0,
                    escape(&cell.label)
                );
                if !cell.detail.is_empty() {
                    let _ = write!(
                        svg,
                        r#"<text x="{:.1}" y="{detail_y:.1}" text-anchor="middle" font-size="11" fill="{ink}">{}</text>"#,
                        x + cell_width / 2.0,
                        escape(&cell.detail)
                    );
                }
                svg.push_str("</g>\n");
            }
        }
        for (x, y, category) in legend {
            let top = legend_top + y;
            let _ = writeln!(
                svg,
                r##"<rect x="{x:.1}" y="{top:.1}" width="{SWATCH}" height="{SWATCH}" fill="{}" stroke="#999"/><text x="{:.1}" y="{:.1}">{}</text>"##,
                category.fill,
                x + SWATCH + 6.0,
                top + SWATCH - 2.0,
                escape(&category.name)
            );
        }
        svg.push_str("</svg>\n");
        svg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        let cell = |category: usize, label: &str, detail: &str| {
            Some(Cell {
                category,
                label: label.into(),
                detail: detail.into(),
                tooltip: format!("{label} <{detail}>"),
            })
        };
        Grid {
            title: "verdict".into(),
            subtitle: "runs with the worst kind".into(),
            row_headers: vec!["protocol".into(), "ordering".into()],
            rows: vec![
                vec!["ours".into(), "eager".into()],
                vec!["ours".into(), "reference".into()],
                vec!["reference & co".into(), "eager".into()],
            ],
            columns: vec!["none".into(), "network".into()],
            cells: vec![
                vec![cell(0, "0", ""), cell(0, "0", "")],
                vec![cell(0, "0", ""), None],
                vec![cell(1, "12", "+2 kinds"), cell(2, "3", "")],
            ],
            categories: vec![
                Category {
                    name: "none".into(),
                    fill: "#a1d99b",
                },
                Category {
                    name: "checkpoint-ahead".into(),
                    fill: "#b2182b",
                },
                Category {
                    name: "liveness".into(),
                    fill: "#fdae61",
                },
            ],
        }
    }

    #[test]
    fn one_labelled_rect_per_cell_grouped_rows_and_a_legend() {
        let svg = grid().render();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        // Five cells (one is empty), each a group with its tooltip; three legend swatches.
        assert_eq!(svg.matches("<g><title>").count(), 5);
        assert_eq!(svg.matches("</g>").count(), 5);
        assert_eq!(svg.matches(r#"width="14" height="14""#).count(), 3);
        assert!(svg.contains("12 &lt;+2 kinds&gt;"));
        assert!(svg.contains(">+2 kinds</text>") && svg.contains(">12</text>"));
        // `ours` printed once for its two rows; the escaped label of the third.
        assert_eq!(svg.matches(">ours</text>").count(), 1);
        assert!(svg.contains(">reference &amp; co</text>"));
        assert_eq!(svg.matches(">eager</text>").count(), 2);
        // White on the dark red, dark on the light green.
        assert!(svg.contains(r##"fill="#b2182b" stroke="white" stroke-width="2"/><text"##));
        assert!(svg.contains(r#"fill="white">12</text>"#));
        assert!(svg.contains(r##"fill="#111">0</text>"##));
        // Every tag that opens is closed.
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    }

    #[test]
    fn text_over_a_fill_is_dark_or_white_by_its_luma() {
        assert!(dark_text_on("#ffffff") && dark_text_on("#fee08b") && dark_text_on("#f46d43"));
        assert!(!dark_text_on("#000000") && !dark_text_on("#b2182b"));
    }

    #[test]
    fn a_long_row_label_is_set_on_two_lines_split_near_its_middle() {
        assert_eq!(label_lines("ours, plain gate"), ["ours, plain gate"]);
        assert_eq!(
            label_lines("reference (PR 3782, as intended)"),
            ["reference (PR 3782,", "as intended)"]
        );
        assert_eq!(
            label_lines("TiCDC without the checksum"),
            ["TiCDC without", "the checksum"]
        );
        let unbroken = "x".repeat(40);
        assert_eq!(label_lines(&unbroken), [unbroken.as_str()]);
    }
}
