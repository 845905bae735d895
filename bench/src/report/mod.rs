//! The main job's reports: `reports/summary.md`, `reports/kernels.md`, the JSON of a run, and the
//! SVG charts they embed; the chart and grid writers `dcsum simulate` draws its pictures with.

pub mod grid;
pub mod summary;
pub mod svg;
