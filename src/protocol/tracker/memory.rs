//! How the tracker's dispatcher table is reached in memory. At a million tracked dispatchers and
//! more the table is far larger than the caches, so a batched call hashes each ID a fixed
//! distance ahead and prefetches its slot (as hash-join probes do), and a large table asks for
//! transparent huge pages so its probes stop missing the TLB. Both work from `hashbrown`'s
//! layout, which it does not expose; both are hints that never change memory, so a wrong guess
//! costs speed, not correctness.

use super::PackedId;
use crate::protocol::NodeId;
use crate::DispatcherId;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// How many IDs ahead a batched call prefetches their table slots: about a memory latency
/// (100-200 ns) over the work per ID (10-20 ns once the slot is cached), within the dozen-odd
/// misses a core keeps in flight. 8, 16 and 32 were measured at 1M tracked (see
/// `docs/performance.md`).
pub(super) const PREFETCH_AHEAD: usize = 16;

/// The table slot an ID's probe starts at, for software prefetch: its control-byte group and
/// its first candidate entry.
///
/// `hashbrown` does not expose addresses, so they are computed from its layout (entries stored
/// backwards below the control bytes, the probe starting at `hash & (buckets - 1)`), anchored at
/// one full bucket's real address. A prefetch is only a hint: it never faults and never changes
/// memory, so a wrong guess (another `hashbrown` layout) costs speed, not correctness; the bench
/// `maintainer/batch-*` shows whether it pays.
#[derive(Clone, Copy)]
pub(super) struct SlotHints {
    /// Where the entries end and the control bytes begin.
    data_end: *const u8,
    /// Buckets − 1.
    mask: usize,
}

impl SlotHints {
    /// The hints for `owners` as it is now; `None` when it holds nothing (no anchor).
    pub(super) fn of(owners: &HashTable<(PackedId, NodeId)>) -> Option<SlotHints> {
        if owners.is_empty() {
            return None;
        }
        let index = owners.iter_buckets().next()?;
        let entry: *const (PackedId, NodeId) = owners.get_bucket(index)?;
        Some(SlotHints {
            data_end: entry
                .cast::<u8>()
                .wrapping_add((index + 1) * std::mem::size_of::<(PackedId, NodeId)>()),
            mask: owners.num_buckets() - 1,
        })
    }

    /// Prefetches what a probe starting at `hash`'s bucket reads: the control group it loads
    /// (16 bytes, which may straddle two lines) and the group before it (what a removal reads
    /// to choose between an empty mark and a tombstone), and the entries of the first
    /// [`SlotHints::ENTRIES`] buckets (an ID sits past its first bucket when the buckets before it
    /// are full: about half the time at the table's load, and at a 20-byte stride a neighbour is
    /// often on the next line down). Without these a quarter of the IDs took a second miss after
    /// the prefetched one.
    #[inline(always)]
    fn prefetch(self, hash: u64) {
        const ENTRY: usize = std::mem::size_of::<(PackedId, NodeId)>();
        let position = hash as usize & self.mask;
        let control = self.data_end.wrapping_add(position);
        prefetch(control.wrapping_sub(16));
        prefetch(control.wrapping_add(15));
        // Bucket `position`'s entry ends at `data_end - position * ENTRY`; the entries of the next
        // buckets lie below it, contiguous, so their first and last bytes name every line.
        let entries_end = self.data_end.wrapping_sub(position * ENTRY);
        prefetch(entries_end.wrapping_sub(1));
        prefetch(entries_end.wrapping_sub(Self::ENTRIES * ENTRY));
    }

    /// Buckets whose entries [`SlotHints::prefetch`] covers: 3 × 20 bytes span at most two lines.
    const ENTRIES: usize = 3;
}

#[inline(always)]
fn prefetch(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of x86-64; a prefetch never faults or writes, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(address.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// The hashes of a batch's IDs, computed [`PREFETCH_AHEAD`] IDs before they are used, each
/// one's table slot prefetched when it is computed (as hash-join probes do): the batch's cache
/// misses overlap, where one ID at a time waits a memory latency per ID. A single-ID call keeps
/// no state and prefetches nothing: it hashes its ID where it is used, so the one-ID calls that
/// dominate steady operation pay nothing for the batching (the instruction-count gate's
/// `tracker_apply_delta::*_one` hold it to that).
pub(super) struct HashesAhead {
    batch: Option<Batch>,
}

/// [`HashesAhead`]'s state for a batch of two IDs or more.
struct Batch {
    hashes: [u64; PREFETCH_AHEAD],
    hints: Option<SlotHints>,
}

impl HashesAhead {
    #[inline(always)]
    pub(super) fn start<S: BuildHasher>(
        hasher: &S,
        owners: &HashTable<(PackedId, NodeId)>,
        ids: &[DispatcherId],
    ) -> HashesAhead {
        if ids.len() < 2 {
            return HashesAhead { batch: None };
        }
        let mut batch = Batch {
            hashes: [0; PREFETCH_AHEAD],
            hints: SlotHints::of(owners),
        };
        for (slot, &id) in batch.hashes.iter_mut().zip(ids) {
            *slot = hasher.hash_one(PackedId::new(id));
            if let Some(hints) = batch.hints {
                hints.prefetch(*slot);
            }
        }
        HashesAhead { batch: Some(batch) }
    }

    /// The hash of `ids[i]` (calls come in order `i = 0, 1, ..`), after computing and prefetching
    /// `ids[i + PREFETCH_AHEAD]`'s. Hints follow the table: taken once it holds an entry (a reset
    /// starts empty), retaken when it has grown.
    #[inline(always)]
    pub(super) fn next<S: BuildHasher>(
        &mut self,
        hasher: &S,
        owners: &HashTable<(PackedId, NodeId)>,
        ids: &[DispatcherId],
        i: usize,
    ) -> u64 {
        let Some(batch) = &mut self.batch else {
            return hasher.hash_one(PackedId::new(ids[i]));
        };
        let slot = i % PREFETCH_AHEAD;
        let hash = batch.hashes[slot];
        if let Some(&later) = ids.get(i + PREFETCH_AHEAD) {
            let later = hasher.hash_one(PackedId::new(later));
            batch.hashes[slot] = later;
            if batch
                .hints
                .is_none_or(|hints| hints.mask + 1 != owners.num_buckets())
            {
                batch.hints = SlotHints::of(owners);
            }
            if let Some(hints) = batch.hints {
                hints.prefetch(later);
            }
        }
        hash
    }
}

/// Tables at least this large ask for transparent huge pages ([`advise_huge_pages`]).
pub(super) const HUGE_PAGE: usize = 2 << 20;

/// Asks Linux to back the dispatcher table with transparent huge pages (`madvise(MADV_HUGEPAGE)`
/// over the 2 MiB-aligned part of its allocation), for the pages not yet touched. At a million
/// entries the table spans 40 MiB: in 4 KiB pages every probe of a cold entry also misses the
/// TLB (its second-level entries cover 12 MiB on Zen 4), and under a hypervisor's nested paging a
/// page walk costs several memory accesses of its own; 2 MiB pages take that out of a batched
/// call's per-ID cost (see `docs/performance.md`). Where the kernel's setting is `madvise` (the
/// common default) nothing else gives huge pages; with `always` this changes nothing; with
/// `never` the call is refused, harmlessly. The range comes from the same layout arithmetic as
/// [`SlotHints`]: advice never changes memory contents, so a wrong guess costs nothing but the
/// advice.
pub(super) fn advise_huge_pages(owners: &HashTable<(PackedId, NodeId)>) {
    #[cfg(target_os = "linux")]
    {
        const MADV_HUGEPAGE: i32 = 14;
        extern "C" {
            // The C library std already links on Linux.
            fn madvise(address: *mut std::ffi::c_void, length: usize, advice: i32) -> i32;
        }
        let buckets = owners.num_buckets();
        let entry = std::mem::size_of::<(PackedId, NodeId)>();
        if buckets * entry < 2 * HUGE_PAGE {
            return;
        }
        let Some(hints) = SlotHints::of(owners) else {
            return;
        };
        // Entries below `data_end`, control bytes (one per bucket plus a group) above it.
        let data_end = hints.data_end as usize;
        let start = (data_end - buckets * entry).next_multiple_of(HUGE_PAGE);
        let end = (data_end + buckets) / HUGE_PAGE * HUGE_PAGE;
        if end > start {
            // SAFETY: `[start, end)` lies inside the table's live allocation; MADV_HUGEPAGE only
            // changes how not-yet-touched pages are backed, never their contents, and an error
            // (a kernel without transparent huge pages) leaves everything as it was.
            unsafe {
                madvise(start as *mut std::ffi::c_void, end - start, MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = owners;
}

#[cfg(test)]
mod tests {
    use super::super::{ChangefeedId, ExpectedSetTracker, Mode, TrackerConfig};
    use super::*;
    use crate::Fingerprint;
    use std::time::Duration;

    fn id(n: u64) -> DispatcherId {
        DispatcherId::new(n.wrapping_mul(0x9e37_79b9_7f4a_7c15), n ^ 0x55)
    }

    /// A reset large enough for huge pages keeps every fingerprint, and on Linux the table's
    /// 2 MiB-aligned interior is marked for huge pages (`hg` in its mapping's `VmFlags`), which is
    /// what `madvise(MADV_HUGEPAGE)` records whatever the system's THP setting.
    #[test]
    fn a_large_reset_asks_for_huge_pages_and_keeps_the_fingerprints() {
        let mut tracker = ExpectedSetTracker::new(
            ChangefeedId::default(),
            Mode::Default,
            TrackerConfig::default(),
        );
        let nodes: Vec<NodeId> = (0..4).map(NodeId).collect();
        let lists: Vec<(NodeId, Vec<DispatcherId>)> = nodes
            .iter()
            .map(|&node| {
                let ids = (0..60_000u64)
                    .map(|i| id(i * 4 + u64::from(node.0)))
                    .collect();
                (node, ids)
            })
            .collect();
        tracker.reset_full(1, &nodes, lists.clone(), Duration::ZERO);
        for (node, ids) in &lists {
            assert_eq!(
                tracker.expected(*node),
                Some(Fingerprint::from_ids(ids.iter().copied()))
            );
        }
        let buckets = tracker.owners.num_buckets();
        assert!(buckets * std::mem::size_of::<(PackedId, NodeId)>() >= 2 * HUGE_PAGE);
        #[cfg(target_os = "linux")]
        {
            let hints = SlotHints::of(&tracker.owners).expect("a full table has an anchor");
            // An address inside the advised interior: the middle of the entries.
            let inside =
                hints.data_end as usize - buckets / 2 * std::mem::size_of::<(PackedId, NodeId)>();
            let smaps = std::fs::read_to_string("/proc/self/smaps").expect("procfs");
            let mut in_mapping = false;
            let mut flags = None;
            for line in smaps.lines() {
                if let Some((range, _)) = line.split_once(' ') {
                    if let Some((low, high)) = range.split_once('-') {
                        if let (Ok(low), Ok(high)) = (
                            usize::from_str_radix(low, 16),
                            usize::from_str_radix(high, 16),
                        ) {
                            in_mapping = (low..high).contains(&inside);
                            continue;
                        }
                    }
                }
                if in_mapping {
                    if let Some(rest) = line.strip_prefix("VmFlags:") {
                        flags = Some(rest.to_string());
                    }
                }
            }
            let flags = flags.expect("the table's mapping is listed");
            assert!(
                flags.split_whitespace().any(|flag| flag == "hg"),
                "not advised: {flags}"
            );
        }
    }
}
