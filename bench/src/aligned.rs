//! Cache-line-aligned input buffers, so a measurement does not depend on where the allocator
//! happened to put the data (simdutf8's benches pin their inputs the same way): a kernel reading
//! 64-byte vectors from an address 8 bytes off a line boundary touches one more line per vector
//! pair, and a number that moves with the allocator is noise.

use bytemuck::{Pod, Zeroable};
use dispatcher_checksum::DispatcherId;

/// One 64-byte cache line of IDs.
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C, align(64))]
struct IdLine([DispatcherId; 4]);

/// One 64-byte cache line of state bytes.
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C, align(64))]
struct ByteLine([u8; 64]);

/// IDs starting on a cache-line boundary.
#[derive(Clone)]
pub struct AlignedIds {
    lines: Vec<IdLine>,
    len: usize,
}

impl AlignedIds {
    /// A copy of `ids`, aligned.
    pub fn new(ids: &[DispatcherId]) -> AlignedIds {
        let mut lines = vec![IdLine::zeroed(); ids.len().div_ceil(4)];
        bytemuck::cast_slice_mut::<IdLine, DispatcherId>(&mut lines)[..ids.len()]
            .copy_from_slice(ids);
        AlignedIds {
            lines,
            len: ids.len(),
        }
    }

    /// The IDs.
    pub fn as_slice(&self) -> &[DispatcherId] {
        &bytemuck::cast_slice::<IdLine, DispatcherId>(&self.lines)[..self.len]
    }

    /// The IDs as the flat word sequence the read ceiling takes.
    pub fn words(&self) -> &[u64] {
        bytemuck::cast_slice(self.as_slice())
    }
}

/// Bytes (state columns) starting on a cache-line boundary.
#[derive(Clone)]
pub struct AlignedBytes {
    lines: Vec<ByteLine>,
    len: usize,
}

impl AlignedBytes {
    /// A copy of `bytes`, aligned.
    pub fn new(bytes: &[u8]) -> AlignedBytes {
        let mut lines = vec![ByteLine::zeroed(); bytes.len().div_ceil(64)];
        bytemuck::cast_slice_mut::<ByteLine, u8>(&mut lines)[..bytes.len()].copy_from_slice(bytes);
        AlignedBytes {
            lines,
            len: bytes.len(),
        }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &bytemuck::cast_slice::<ByteLine, u8>(&self.lines)[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_copies_are_equal_and_aligned() {
        let ids: Vec<DispatcherId> = (0..13).map(|i| DispatcherId::new(i, i * 3)).collect();
        let aligned = AlignedIds::new(&ids);
        assert_eq!(aligned.as_slice(), &ids[..]);
        assert_eq!(aligned.as_slice().as_ptr() as usize % 64, 0);
        assert_eq!(aligned.words().len(), 26);
        let bytes: Vec<u8> = (0..130).map(|i| i as u8).collect();
        let aligned = AlignedBytes::new(&bytes);
        assert_eq!(aligned.as_slice(), &bytes[..]);
        assert_eq!(aligned.as_slice().as_ptr() as usize % 64, 0);
        assert!(AlignedIds::new(&[]).as_slice().is_empty());
    }
}
