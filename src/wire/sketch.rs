//! The diagnosis pair (ours, not the reference system's): a node that stays MISMATCH past a
//! threshold asks for the maintainer's difference sketch of its expected set, sending its own
//! actual sketch; both sides decode the difference and name the dispatchers (see
//! [`crate::diagnosis::exchange`] and [`crate::sketch`] for the sketch bytes).
//!
//! The request and the response carry the same fields, so one definition stamps both:
//! 1 changefeedID, 2 epoch `uint64`, 3 mode `int64`, 4 seq `uint64`, 5 node `uint32`,
//! 6 sketch `bytes`.

use super::checksum::ChangefeedIdMessage;
use super::{named, OUR_PACKAGE};

/// One sketch message: the fields above, with what each means for this direction.
macro_rules! sketch_message {
    (
        $(#[$doc:meta])*
        $message:ident,
        epoch: $epoch:literal,
        seq: $seq:literal,
        node: $node:literal,
        sketch: $sketch:literal $(,)?
    ) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(
            feature = "serde",
            serde(rename_all = "camelCase", deny_unknown_fields)
        )]
        pub struct $message {
            /// The changefeed.
            #[prost(message, optional, tag = "1")]
            #[cfg_attr(feature = "serde", serde(rename = "changefeedID"))]
            pub changefeed_id: Option<ChangefeedIdMessage>,
            #[doc = $epoch]
            #[prost(uint64, tag = "2")]
            pub epoch: u64,
            /// The mode (0 default, 1 redo).
            #[prost(int64, tag = "3")]
            pub mode: i64,
            #[doc = $seq]
            #[prost(uint64, tag = "4")]
            pub seq: u64,
            #[doc = $node]
            #[prost(uint32, tag = "5")]
            pub node: u32,
            #[doc = $sketch]
            #[prost(bytes = "vec", tag = "6")]
            pub sketch: Vec<u8>,
        }

        named!($message, stringify!($message), OUR_PACKAGE);
    };
}

sketch_message!(
    /// Node → maintainer: "I have been MISMATCH for a while; here is my actual sketch, send
    /// yours". `seq` is the expected version the node holds.
    DispatcherSetSketchRequest,
    epoch: "The epoch of the expected value the node holds.",
    seq: "The seq of the expected value the node holds.",
    node: "The asking node.",
    sketch: "The node's actual difference sketch (`DifferenceSketch::to_bytes`).",
);

sketch_message!(
    /// Maintainer → node: the difference sketch of the node's expected set. `seq` is the
    /// maintainer's current version for the node.
    DispatcherSetSketchResponse,
    epoch: "The maintainer's epoch.",
    seq: "The maintainer's current seq for the node.",
    node: "The node it answers.",
    sketch: "The expected difference sketch (`DifferenceSketch::to_bytes`).",
);
