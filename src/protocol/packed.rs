//! `PackedId`: a dispatcher ID as a hash-map key with alignment 1, so an entry of the tracker's
//! map (ID → node, 16 + 4 bytes) takes 20 bytes instead of 24 and an entry of the verifier's map
//! (ID → state byte, 16 + 1) takes 17 instead of 24: the maps hold millions of entries, so
//! padding is most of what would be saved. Unaligned 16-byte loads cost nothing measurable on the
//! CPUs this runs on.

use crate::DispatcherId;
use std::hash::{Hash, Hasher};

/// A [`DispatcherId`] stored as its 16 bytes (`low` then `high`, native endian).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct PackedId([u8; 16]);

impl PackedId {
    #[inline]
    pub(crate) fn new(id: DispatcherId) -> PackedId {
        PackedId(bytemuck::cast(id))
    }

    #[inline]
    pub(crate) fn id(self) -> DispatcherId {
        bytemuck::cast(self.0)
    }
}

impl std::fmt::Debug for PackedId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.id(), f)
    }
}

impl Hash for PackedId {
    /// One 128-bit write: `ahash` folds it in a single step.
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u128(u128::from_ne_bytes(self.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_and_unpacks_and_is_unaligned() {
        let id = DispatcherId::new(u64::MAX - 3, 17);
        assert_eq!(PackedId::new(id).id(), id);
        assert_eq!(std::mem::align_of::<PackedId>(), 1);
        assert_eq!(
            std::mem::size_of::<(PackedId, crate::protocol::NodeId)>(),
            20
        );
        assert_eq!(std::mem::size_of::<(PackedId, crate::ComponentState)>(), 17);
    }
}
