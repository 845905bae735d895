//! The `dcsum` tool's library part: reading dispatcher-ID lists ([`input`]) and the wire
//! messages `dcsum decode` knows by name ([`messages`]). The command-line interface itself is
//! the `dcsum` binary (`src/main.rs`).

pub mod input;
pub mod messages;
