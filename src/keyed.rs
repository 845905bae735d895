//! The keyed fingerprint: the plain fingerprint's five words over `mix(key, id)` instead of `id`.
//!
//! The plain fingerprint ([`Fingerprint`]) is the reference system's definition and is blind to
//! some structured differences (`tests/plain_collisions.rs`). A [`KeyedFingerprint`] is chosen
//! explicitly, never in place of the plain one: each ID first goes through a keyed 128-bit
//! bijection (four AES rounds with key-derived round keys, see
//! [`dispatcher_checksum_kernels::keyed`]), and the mixed values are aggregated exactly as
//! before, so it keeps O(1) add and remove, merge, subtract and order independence.
//!
//! - **Key.** A [`FingerprintKey`] is 128 bits, one per changefeed (derive it with
//!   [`FingerprintKey::derive`] from a cluster secret and the changefeed ID). Both sides of the
//!   protocol must hold the same key; it is never sent and never printed (`Debug` hides it).
//! - **Wire.** A keyed fingerprint travels in the same five fields as the plain one
//!   ([`KeyedFingerprint::wire`] / [`KeyedFingerprint::from_wire`]); JSON uses the same names.
//! - **Speed.** The same kernel family computes it (scalar, lanes, avx2 = AVX2 + AES-NI,
//!   avx512 = AVX-512 + VAES, parallel, masked forms), chosen automatically here ([`decision_for`]).
//!
//! What it does not promise: it is not a cryptographic hash or MAC. Someone who knows the key can
//! invert the mixing and build different sets with equal keyed fingerprints; the guarantee is
//! only that differences arising from structure in the IDs (dense ranges, bit flips, swapped
//! halves) look like random ones, so two different sets collide with probability about 2^-128.
//!
//! ```
//! use dispatcher_checksum::keyed::{FingerprintKey, KeyedFingerprint};
//! use dispatcher_checksum::DispatcherId;
//!
//! let key = FingerprintKey::new(0x5eed).derive(DispatcherId::new(0, 42)); // per changefeed
//! let ids: Vec<DispatcherId> = (1..=1000).map(|i| DispatcherId::new(i, i)).collect();
//! let mut incremental = KeyedFingerprint::of(&key, &ids[..999]);
//! incremental.add(&key, ids[999]);
//! assert_eq!(incremental, KeyedFingerprint::of(&key, &ids));
//! ```

use crate::choose::{self_test, Decision, KernelUnavailable};
use crate::diagnosis::SingleDifference;
use crate::lifecycle::{ComponentState, StateSet};
use crate::{DispatcherId, Fingerprint};
use dispatcher_checksum_kernels::keyed::{
    self as kernels, parallel, KeySchedule, KeyedFingerprintFn, KeyedMaskedFingerprintFn,
};
use dispatcher_checksum_kernels::{Kernel, RawFingerprint};
use std::fmt;

/// A 128-bit fingerprint key. Keep it secret from whoever chooses dispatcher IDs; never send it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FingerprintKey {
    words: [u64; 2],
    schedule: KeySchedule,
}

impl FingerprintKey {
    /// The key with these 128 bits.
    pub const fn new(key: u128) -> FingerprintKey {
        FingerprintKey::from_words([key as u64, (key >> 64) as u64])
    }

    /// The key with these two 64-bit words (`[low, high]`).
    pub const fn from_words(words: [u64; 2]) -> FingerprintKey {
        FingerprintKey {
            words,
            schedule: KeySchedule::new(words),
        }
    }

    /// A fresh random key from the operating system's generator.
    ///
    /// # Panics
    /// If the operating system has no random source to give (`getrandom` fails), which no
    /// supported platform does after boot.
    pub fn random() -> FingerprintKey {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system's random source");
        FingerprintKey::new(u128::from_le_bytes(bytes))
    }

    /// A key for one context (for example a changefeed, by its 128-bit ID) derived from this
    /// one (for example a cluster secret): the context mixed under this key. Different contexts
    /// get unrelated keys; the same context always gets the same key.
    pub fn derive(&self, context: DispatcherId) -> FingerprintKey {
        FingerprintKey::from_words(kernels::mix(&self.schedule, context.words()))
    }

    /// The 128 bits of the key, for storing it (not for logs).
    pub const fn to_u128(&self) -> u128 {
        (self.words[0] as u128) | ((self.words[1] as u128) << 64)
    }

    /// The expanded round keys, as the kernels take them.
    pub const fn schedule(&self) -> &KeySchedule {
        &self.schedule
    }

    /// The keyed bijection of one ID: what the keyed fingerprint aggregates in its place.
    pub fn mix(&self, id: DispatcherId) -> DispatcherId {
        let [low, high] = kernels::mix_fast(&self.schedule, id.words());
        DispatcherId { low, high }
    }

    /// The inverse of [`FingerprintKey::mix`].
    pub fn unmix(&self, mixed: DispatcherId) -> DispatcherId {
        let [low, high] = kernels::unmix(&self.schedule, mixed.words());
        DispatcherId { low, high }
    }
}

/// Never prints the key.
impl fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FingerprintKey(..)")
    }
}

/// A fingerprint computed under a key: the five words of [`Fingerprint`] over mixed IDs.
///
/// A distinct type, so a keyed value is never compared with a plain one by mistake; it
/// serializes exactly as a [`Fingerprint`] (the same five field names).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct KeyedFingerprint(Fingerprint);

impl KeyedFingerprint {
    /// The keyed fingerprint of the empty set (equal to the plain one's: all zeros).
    pub const EMPTY: KeyedFingerprint = KeyedFingerprint(Fingerprint::EMPTY);

    /// The keyed fingerprint of `ids`, by the automatic kernel choice ([`decision_for`]).
    pub fn of(key: &FingerprintKey, ids: &[DispatcherId]) -> KeyedFingerprint {
        let words = DispatcherId::slice_words(ids);
        KeyedFingerprint::from_raw(if words.len() >= PARALLEL_MIN_IDS {
            parallel::fingerprint_with(
                key.schedule(),
                words,
                single_thread_function(),
                PARALLEL_MIN_IDS,
            )
        } else {
            single_thread_function()(key.schedule(), words)
        })
    }

    /// The keyed fingerprint of the IDs whose state is in `included`; `states[i]` is the state
    /// of `ids[i]`.
    ///
    /// # Panics
    /// If the two columns differ in length.
    pub fn of_masked(
        key: &FingerprintKey,
        ids: &[DispatcherId],
        states: &[ComponentState],
        included: StateSet,
    ) -> KeyedFingerprint {
        KeyedFingerprint::from_raw(parallel::fingerprint_masked_with(
            key.schedule(),
            DispatcherId::slice_words(ids),
            bytemuck::cast_slice(states),
            included.bits(),
            single_thread_masked_function(),
            PARALLEL_MIN_IDS,
        ))
    }

    /// The keyed fingerprint of `ids` by an explicit kernel (benchmarks, comparisons).
    pub fn of_with(
        kernel: Kernel,
        key: &FingerprintKey,
        ids: &[DispatcherId],
    ) -> Result<KeyedFingerprint, KernelUnavailable> {
        kernel
            .keyed_fingerprint(key.schedule(), DispatcherId::slice_words(ids))
            .map(KeyedFingerprint::from_raw)
            .ok_or(KernelUnavailable(kernel))
    }

    /// The keyed fingerprint of every ID an iterator yields.
    pub fn from_ids(
        key: &FingerprintKey,
        ids: impl IntoIterator<Item = DispatcherId>,
    ) -> KeyedFingerprint {
        let mut fingerprint = KeyedFingerprint::EMPTY;
        for id in ids {
            fingerprint.add(key, id);
        }
        fingerprint
    }

    fn from_raw(raw: RawFingerprint) -> KeyedFingerprint {
        KeyedFingerprint(raw.into())
    }

    /// Adds one ID: O(1), one mixing.
    #[inline]
    pub fn add(&mut self, key: &FingerprintKey, id: DispatcherId) {
        self.0.add(key.mix(id));
    }

    /// Removes one ID (wrapping, like [`Fingerprint::remove`]).
    #[inline]
    pub fn remove(&mut self, key: &FingerprintKey, id: DispatcherId) {
        self.0.remove(key.mix(id));
    }

    /// The keyed fingerprint of the multiset union (both under the same key).
    #[must_use]
    pub const fn merge(self, other: KeyedFingerprint) -> KeyedFingerprint {
        KeyedFingerprint(self.0.merge(other.0))
    }

    /// The inverse of [`merge`](KeyedFingerprint::merge).
    #[must_use]
    pub const fn subtract(self, other: KeyedFingerprint) -> KeyedFingerprint {
        KeyedFingerprint(self.0.subtract(other.0))
    }

    /// Whether this is the fingerprint of the empty set.
    pub const fn is_empty(self) -> bool {
        self.0.is_empty()
    }

    /// The number of IDs (wrapping), as in the plain fingerprint.
    pub const fn count(self) -> u64 {
        self.0.count
    }

    /// The five words as they travel on the wire (the key is not among them).
    pub const fn wire(self) -> Fingerprint {
        self.0
    }

    /// A keyed fingerprint received in the five wire fields.
    pub const fn from_wire(words: Fingerprint) -> KeyedFingerprint {
        KeyedFingerprint(words)
    }

    /// The one ID by which `self` (expected) and `actual` differ, when the difference is exactly
    /// one ID: the plain rule over mixed values, then the mixing undone with the key. Unlike the
    /// plain rule, a larger difference reads as one ID only with probability about 2^-128 for
    /// IDs chosen without the key.
    pub fn single_difference(
        &self,
        actual: &KeyedFingerprint,
        key: &FingerprintKey,
    ) -> SingleDifference {
        match self.0.single_difference(&actual.0) {
            SingleDifference::Missing(mixed) => SingleDifference::Missing(key.unmix(mixed)),
            SingleDifference::Extra(mixed) => SingleDifference::Extra(key.unmix(mixed)),
            SingleDifference::CannotTell => SingleDifference::CannotTell,
        }
    }
}

/// The same text as [`Fingerprint`]'s, prefixed `keyed`.
impl fmt::Display for KeyedFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "keyed {}", self.0)
    }
}

/// From this many IDs on, the keyed parallel kernel runs when rayon has more than one thread.
/// The kernels crate's number, equal to the plain threshold (see its docs for the measurement).
pub const PARALLEL_MIN_IDS: usize = parallel::MIN_PARALLEL_IDS;

/// The fastest single-thread keyed kernel that runs here and passed its known-answer self-test
/// (VAES, else AES-NI, else the `aes` crate's portable round): wider is faster for the keyed
/// family, which is bound by AES rounds rather than memory (`cargo bench --bench keyed`,
/// `docs/diagnosis.md`); a failed kernel is skipped ([`crate::choose::self_test`]).
pub fn single_thread_kernel() -> Kernel {
    static CHOSEN: std::sync::OnceLock<Kernel> = std::sync::OnceLock::new();
    *CHOSEN.get_or_init(|| {
        [Kernel::Avx512, Kernel::Avx2]
            .into_iter()
            .find(|&kernel| kernel.keyed_is_available() && self_test::passed_keyed(kernel))
            .unwrap_or(Kernel::Scalar)
    })
}

/// What the keyed automatic choice runs for `len` IDs on this machine, and why: the keyed
/// kernel choice's "why". There is no short-input bypass: the portable mixing costs more per ID
/// than one indirect call to the AES kernel.
pub fn decision_for(len: usize) -> Decision {
    let single = single_thread_kernel();
    if len >= PARALLEL_MIN_IDS
        && Kernel::Parallel.is_available()
        && self_test::passed(Kernel::Parallel)
        && dispatcher_checksum_kernels::parallel::threads() > 1
    {
        Decision {
            kernel: Kernel::Parallel,
            reason: format!(
                "keyed: at least {PARALLEL_MIN_IDS} IDs and more than one rayon thread: chunks \
                 over rayon, each by keyed {single}"
            ),
        }
    } else {
        let failed: Vec<String> = self_test::report()
            .failed()
            .filter(|outcome| outcome.keyed)
            .map(|outcome| outcome.kernel.to_string())
            .collect();
        Decision {
            kernel: single,
            reason: if failed.is_empty() {
                "keyed: the widest keyed kernel that passed its self-test (VAES, else AES-NI, \
                 else the aes crate's round)"
                    .to_string()
            } else {
                format!(
                    "keyed: the widest keyed kernel that passed its self-test ({} failed)",
                    failed.join(", ")
                )
            },
        }
    }
}

/// The keyed single-thread contiguous entry point of [`single_thread_kernel`].
#[inline]
pub fn single_thread_function() -> KeyedFingerprintFn {
    static CHOSEN: std::sync::OnceLock<KeyedFingerprintFn> = std::sync::OnceLock::new();
    *CHOSEN.get_or_init(|| {
        single_thread_kernel()
            .keyed_function()
            .unwrap_or(kernels::scalar::fingerprint)
    })
}

/// The keyed single-thread masked entry point of [`single_thread_kernel`].
#[inline]
pub fn single_thread_masked_function() -> KeyedMaskedFingerprintFn {
    static CHOSEN: std::sync::OnceLock<KeyedMaskedFingerprintFn> = std::sync::OnceLock::new();
    *CHOSEN.get_or_init(|| {
        single_thread_kernel()
            .keyed_masked_function()
            .unwrap_or(kernels::scalar::fingerprint_masked)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn ids(seed: u64, n: usize) -> Vec<DispatcherId> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| DispatcherId::new(rng.random(), rng.random()))
            .collect()
    }

    #[test]
    fn automatic_choice_equals_every_kernel_and_the_incremental_form() {
        let key = FingerprintKey::new(0x5eed);
        for n in [0, 1, 15, 16, 17, 1000, PARALLEL_MIN_IDS + 7] {
            let ids = ids(n as u64, n);
            let automatic = KeyedFingerprint::of(&key, &ids);
            for kernel in Kernel::all() {
                if let Ok(explicit) = KeyedFingerprint::of_with(*kernel, &key, &ids) {
                    assert_eq!(explicit, automatic, "{kernel}, {n} IDs");
                }
            }
            if n <= 1000 {
                assert_eq!(
                    KeyedFingerprint::from_ids(&key, ids.iter().copied()),
                    automatic
                );
            }
            assert_eq!(automatic.count(), n as u64);
        }
    }

    #[test]
    fn masked_automatic_choice_follows_the_lifecycle_rule() {
        let key = FingerprintKey::new(7);
        let ids = ids(3, 5000);
        let states: Vec<ComponentState> = (0..ids.len())
            .map(|i| ComponentState::ALL[i % ComponentState::ALL.len()])
            .collect();
        let included: Vec<DispatcherId> = ids
            .iter()
            .zip(&states)
            .filter(|(_, state)| StateSet::DEFAULT_INCLUDED.contains(**state))
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(
            KeyedFingerprint::of_masked(&key, &ids, &states, StateSet::DEFAULT_INCLUDED),
            KeyedFingerprint::of(&key, &included)
        );
    }

    #[test]
    fn add_remove_merge_subtract_and_order_independence() {
        let key = FingerprintKey::random();
        let all = ids(4, 300);
        let (left, right) = all.split_at(120);
        let whole = KeyedFingerprint::of(&key, &all);
        let merged = KeyedFingerprint::of(&key, left).merge(KeyedFingerprint::of(&key, right));
        assert_eq!(merged, whole);
        assert_eq!(
            whole.subtract(KeyedFingerprint::of(&key, right)),
            KeyedFingerprint::of(&key, left)
        );
        let mut reversed = all.clone();
        reversed.reverse();
        assert_eq!(KeyedFingerprint::of(&key, &reversed), whole);
        let mut incremental = whole;
        for id in right {
            incremental.remove(&key, *id);
        }
        assert_eq!(incremental, KeyedFingerprint::of(&key, left));
        for id in right {
            incremental.add(&key, *id);
        }
        assert_eq!(incremental, whole);
    }

    #[test]
    fn different_keys_differ_and_the_key_is_never_printed() {
        let ids = ids(5, 10);
        let a = FingerprintKey::new(1);
        let b = FingerprintKey::new(2);
        assert_ne!(
            KeyedFingerprint::of(&a, &ids),
            KeyedFingerprint::of(&b, &ids)
        );
        assert_eq!(format!("{a:?}"), "FingerprintKey(..)");
        assert_eq!(FingerprintKey::new(a.to_u128()), a);
        let derived = a.derive(DispatcherId::new(1, 2));
        assert_ne!(derived, a);
        assert_eq!(derived, a.derive(DispatcherId::new(1, 2)));
        assert_ne!(derived, a.derive(DispatcherId::new(1, 3)));
    }

    #[test]
    fn travels_in_the_five_plain_fields() {
        let key = FingerprintKey::new(9);
        let keyed = KeyedFingerprint::of(&key, &ids(6, 20));
        let json = serde_json::to_string(&keyed).unwrap();
        let plain_json = serde_json::to_string(&keyed.wire()).unwrap();
        assert_eq!(json, plain_json);
        assert!(json.contains("\"xorHigh\""));
        let back: KeyedFingerprint = serde_json::from_str(&json).unwrap();
        assert_eq!(back, keyed);
        assert_eq!(KeyedFingerprint::from_wire(keyed.wire()), keyed);
    }

    #[test]
    fn single_difference_names_the_id_under_the_key() {
        let key = FingerprintKey::new(11);
        let all = ids(7, 50);
        let expected = KeyedFingerprint::of(&key, &all);
        let actual = KeyedFingerprint::of(&key, &all[1..]);
        assert_eq!(
            expected.single_difference(&actual, &key),
            SingleDifference::Missing(all[0])
        );
        assert_eq!(
            actual.single_difference(&expected, &key),
            SingleDifference::Extra(all[0])
        );
        // The plain rule's aliasing case: missing {4, 7, x}, extra {5, 6}.
        let low = |v: u64| DispatcherId::new(0, v);
        let expected = KeyedFingerprint::of(&key, &[low(4), low(7), low(1000)]);
        let actual = KeyedFingerprint::of(&key, &[low(5), low(6)]);
        assert_eq!(
            expected.single_difference(&actual, &key),
            SingleDifference::CannotTell
        );
    }

    #[test]
    fn decision_names_an_available_kernel() {
        for len in [0, 100, PARALLEL_MIN_IDS, 10 * PARALLEL_MIN_IDS] {
            let choice = decision_for(len);
            assert!(choice.kernel.keyed_is_available(), "{len}: {choice:?}");
        }
    }
}
