//! The `dcsum` tool's library part: reading dispatcher-ID lists (the simple parser [`input`], and
//! [`ingest`], the streaming reader `dcsum fingerprint` runs, with its measurements in
//! [`ingest_measure`]), the wire messages `dcsum decode` knows by name ([`messages`]), and the
//! check of what a flag's value would allocate against the machine ([`limits`]). The
//! command-line interface itself is the `dcsum` binary (`src/main.rs`).

pub mod ingest;
pub mod ingest_measure;
pub mod input;
pub mod limits;
pub mod messages;
