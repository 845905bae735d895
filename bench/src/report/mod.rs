//! The main job's reports: `reports/summary.md`, `reports/kernels.md`, the JSON of a run, and the
//! SVG charts they embed.

pub mod summary;
pub mod svg;
