//! Order-independent fingerprints of dispatcher sets, and the protocol that keeps a node's
//! checkpoint from advancing while its dispatcher set is wrong.
//!
//! - [`DispatcherId`] and its text forms ([`id`], [`input`]); lifecycle states ([`lifecycle`]);
//! - [`Fingerprint`]: count, XOR and wrapping sum of the 64-bit halves, O(1) to update;
//! - [`Fingerprint::of`] / [`choose`]: the bulk computation by the fastest kernel for the input,
//!   chosen once from CPU features and measured thresholds; [`fingerprint_with`] for an explicit
//!   kernel. The kernels themselves live in the `dispatcher-checksum-kernels` crate, re-exported
//!   here as [`kernels`].

pub mod choose;
pub mod diagnosis;
pub mod fingerprint;
pub mod id;
pub mod input;
pub mod lifecycle;

pub use choose::{fingerprint_masked_with, fingerprint_with, KernelUnavailable};
pub use dispatcher_checksum_kernels as kernels;
pub use dispatcher_checksum_kernels::Kernel;
pub use fingerprint::Fingerprint;
pub use id::DispatcherId;
pub use lifecycle::{ComponentState, StateSet};
pub mod keyed;
pub mod profiling;
pub mod protocol;
pub mod report;
pub mod sim;
pub mod sketch;
pub mod store;
pub mod wire;
