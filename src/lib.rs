//! Order-independent fingerprints of dispatcher sets, and the protocol that keeps a node's
//! checkpoint from advancing while its dispatcher set is wrong.
//!
//! - [`DispatcherId`] and its text forms ([`id`]); lifecycle states ([`lifecycle`]);
//! - [`Fingerprint`]: count, XOR and wrapping sum of the 64-bit halves, O(1) to update;
//! - [`Fingerprint::of`] / [`choose`]: the bulk computation by the fastest kernel for the input,
//!   chosen once from CPU features and measured thresholds; [`fingerprint_with`] for an explicit
//!   kernel. The kernels themselves live in the `dispatcher-checksum-kernels` crate, re-exported
//!   here as [`kernels`];
//! - [`protocol`]: the maintainer's expected-set tracker, the node's verifier, the checkpoint
//!   gate; [`wire`]: their prost messages;
//! - [`keyed`], [`sketch`], [`diagnosis`]: the keyed fingerprint and naming the IDs that differ.
//!
//! The simulator that judges the protocol (`dispatcher-checksum-sim`), the `dcsum` tool and the
//! measurement harness (`dispatcher-checksum-bench`) are separate crates built on this one.
//!
//! ```
//! use dispatcher_checksum::{ComponentState, DispatcherId, Fingerprint, StateSet};
//!
//! let ids: Vec<DispatcherId> = vec!["67e55044-10b1-426f-9247-bb680e5fe0c8".parse()?];
//! let expected = Fingerprint::of(&ids); // the fastest kernel for this length
//! let states = vec![ComponentState::Working];
//! let actual = Fingerprint::of_masked(&ids, &states, StateSet::DEFAULT_INCLUDED);
//! assert_eq!(expected, actual);
//! assert!(serde_json::to_string(&expected)?.starts_with(r#"{"count":1,"xorHigh":"#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod choose;
pub mod diagnosis;
pub mod fingerprint;
pub mod id;
#[cfg(feature = "keyed")]
pub mod keyed;
pub mod lifecycle;
pub mod protocol;
#[cfg(feature = "keyed")]
pub mod sketch;
#[cfg(feature = "wire")]
pub mod wire;

pub use choose::{fingerprint_masked_with, fingerprint_with, KernelUnavailable};
pub use dispatcher_checksum_kernels as kernels;
pub use dispatcher_checksum_kernels::Kernel;
pub use fingerprint::Fingerprint;
pub use id::DispatcherId;
pub use lifecycle::{ComponentState, StateSet};
