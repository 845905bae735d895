//! The keyed fingerprint family: every ID goes through a keyed 128-bit bijection first.
//!
//! The plain fingerprint aggregates the raw halves, so structured differences that real bugs
//! produce (pairs with equal XOR and AND, low halves swapped between two IDs, `{x, x}` against
//! `{x + 2^63, x + 2^63}`) cancel out exactly. The keyed fingerprint aggregates `mix(key, id)`
//! instead, with the same five words (count, XOR and wrapping sum of each half), so it keeps
//! O(1) add and remove, merge and order independence, and travels in the same wire fields.
//!
//! # The mixing function
//! [`mix`] is four AES encryption rounds over the 128-bit ID (bytes: `low` then `high`, each
//! little-endian, which is how the ID lies in memory) with five independent 128-bit round keys:
//!
//! ```text
//! state = id ^ k0;   state = AESENC(state, k1);  ...  state = AESENC(state, k4)
//! AESENC(s, k) = MixColumns(ShiftRows(SubBytes(s))) ^ k      (one full AES round, FIPS 197)
//! ```
//!
//! Every AES round is a permutation of 128-bit blocks, so `mix` is a bijection for every key
//! ([`unmix`] is its inverse): distinct IDs never map to the same value. Two AES rounds already
//! make every output bit depend on every input bit; over four rounds the wide-trail bound of AES
//! gives at least 25 active S-boxes in any differential or linear trail, so the best trail
//! probability is at most 2^-150. The round keys come from the 128-bit key by a SplitMix64
//! expansion ([`KeySchedule::new`]), not the AES key schedule (round keys here are independent).
//!
//! Why AES rounds: one round is one instruction (`aesenc` on 128 bits with AES-NI, four IDs per
//! `vaesenc` on `zmm` with VAES), and an ID is exactly one AES block, so the keyed loop needs no
//! shuffles and stays close to the memory-bound plain loop. valgrind runs AES-NI (not AVX-512),
//! so the `avx2` keyed kernel (AVX2 + AES-NI) is the one an instruction-count gate can measure.
//! The portable kernels use the `aes` crate's round (`aes::hazmat::cipher_round`), which itself
//! uses AES-NI where the CPU has it and a constant-time bitsliced software round elsewhere.
//!
//! # What it does not promise
//! It is not a cryptographic hash or MAC, and four AES rounds are not a pseudo-random function in
//! the cryptographic sense. Nothing here resists an adversary who knows the key (who can invert
//! [`mix`] and build colliding sets at will) or who can query fingerprints of chosen sets
//! adaptively. What it does give: differences that arise from structure in the IDs themselves
//! (dense ranges, bit flips, swapped halves) behave like random ones, so two different sets of
//! IDs chosen without knowledge of the key collide with probability about 2^-128.
//!
//! # Kernels
//! The same family as the plain fingerprint, each with a masked form: [`naive`] (the oracle, one
//! `aes` crate round at a time), [`scalar`] (eight blocks per `aes` crate call), [`lanes`]
//! (`aes` crate rounds, `wide` lanes for the aggregation), [`x86_64::aesni`] (AVX2 + AES-NI, eight
//! independent `aesenc` chains), [`x86_64::vaes`] (AVX-512F + VAES, four IDs per `vaesenc`) and
//! [`parallel`]. [`Kernel::keyed_function`] maps the plain family's names onto these.

use crate::{IdWords, Kernel, RawFingerprint};
use aes::hazmat::{cipher_round, equiv_inv_cipher_round, inv_mix_columns, mix_columns};
use aes::Block;

pub mod lanes;
pub mod naive;
pub mod parallel;
pub mod scalar;
pub mod x86_64;

/// AES rounds of [`mix`].
pub const ROUNDS: usize = 4;
/// Round keys of [`mix`]: the whitening key and one per round.
pub const ROUND_KEYS: usize = ROUNDS + 1;

/// The round keys [`mix`] uses, expanded once from a 128-bit key; each is `[low, high]` like an
/// ID.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeySchedule {
    round_keys: [IdWords; ROUND_KEYS],
}

/// SplitMix64's output function, used only to expand keys.
const fn splitmix64(x: u64) -> u64 {
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

impl KeySchedule {
    /// Expands a 128-bit key (`[low, high]`) into round keys. Both halves reach every word of
    /// every round key.
    pub const fn new(key: [u64; 2]) -> KeySchedule {
        let mut round_keys = [[0u64; 2]; ROUND_KEYS];
        let mut word = 0;
        while word < 2 * ROUND_KEYS {
            let step = GOLDEN_GAMMA.wrapping_mul(word as u64 + 1);
            round_keys[word / 2][word % 2] = splitmix64(key[0].wrapping_add(step))
                ^ splitmix64(key[1] ^ splitmix64(step)).rotate_left(29);
            word += 1;
        }
        KeySchedule { round_keys }
    }

    /// The round keys, whitening key first.
    #[inline(always)]
    pub const fn round_keys(&self) -> &[IdWords; ROUND_KEYS] {
        &self.round_keys
    }
}

/// Never prints the round keys: they are as secret as the key.
impl std::fmt::Debug for KeySchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeySchedule(..)")
    }
}

/// An ID (or round key) as an AES block: `low` then `high`, little-endian.
#[inline(always)]
pub fn to_block(words: IdWords) -> Block {
    let mut block = Block::default();
    block[..8].copy_from_slice(&words[0].to_le_bytes());
    block[8..].copy_from_slice(&words[1].to_le_bytes());
    block
}

/// The inverse of [`to_block`].
#[inline(always)]
pub fn from_block(block: &Block) -> IdWords {
    let mut low = [0u8; 8];
    let mut high = [0u8; 8];
    low.copy_from_slice(&block[..8]);
    high.copy_from_slice(&block[8..]);
    [u64::from_le_bytes(low), u64::from_le_bytes(high)]
}

/// The keyed bijection: the value the keyed fingerprint aggregates in place of `id`.
#[inline]
pub fn mix(schedule: &KeySchedule, id: IdWords) -> IdWords {
    let keys = schedule.round_keys();
    let mut block = to_block([id[0] ^ keys[0][0], id[1] ^ keys[0][1]]);
    for key in &keys[1..] {
        cipher_round(&mut block, &to_block(*key));
    }
    from_block(&block)
}

/// The inverse of [`mix`]: `unmix(s, mix(s, id)) == id`.
///
/// One AES round is undone as `x = MixColumns(EquivInvRound(InvMixColumns(s ^ k), 0))`, since
/// the equivalent inverse round applies `InvMixColumns` after the inverse S-box and row shift.
pub fn unmix(schedule: &KeySchedule, mixed: IdWords) -> IdWords {
    let keys = schedule.round_keys();
    let zero = Block::default();
    let mut block = to_block(mixed);
    for key in keys[1..].iter().rev() {
        let key = to_block(*key);
        for (byte, key_byte) in block.iter_mut().zip(key.iter()) {
            *byte ^= key_byte;
        }
        inv_mix_columns(&mut block);
        equiv_inv_cipher_round(&mut block, &zero);
        mix_columns(&mut block);
    }
    let [low, high] = from_block(&block);
    [low ^ keys[0][0], high ^ keys[0][1]]
}

/// The round keys laid out for the `aes` crate's eight-block round, prepared once per call by
/// the portable kernels.
pub(crate) struct EightBlockRounds {
    whitening: IdWords,
    round_keys: [aes::Block8; ROUNDS],
}

impl EightBlockRounds {
    pub(crate) fn new(schedule: &KeySchedule) -> Self {
        let keys = schedule.round_keys();
        EightBlockRounds {
            whitening: keys[0],
            round_keys: std::array::from_fn(|round| {
                let block = to_block(keys[round + 1]);
                aes::Block8::from([block; 8])
            }),
        }
    }

    /// [`mix`] of eight IDs at once.
    #[inline]
    pub(crate) fn mix(&self, ids: &[IdWords; 8]) -> [IdWords; 8] {
        let mut blocks = aes::Block8::default();
        for (block, id) in blocks.iter_mut().zip(ids) {
            *block = to_block([id[0] ^ self.whitening[0], id[1] ^ self.whitening[1]]);
        }
        for keys in &self.round_keys {
            aes::hazmat::cipher_round_par(&mut blocks, keys);
        }
        std::array::from_fn(|i| from_block(&blocks[i]))
    }
}

/// `fingerprint` plus `mixed` when `mask` is all ones, unchanged when it is zero, without a
/// branch: the one aggregation step of the portable keyed kernels (the scalar kernel's steps and
/// the scalar and lanes kernels' tails). The oracle ([`naive`]) keeps its own filter and
/// [`RawFingerprint::add`], so the kernels are never checked against their own code.
#[inline(always)]
pub(crate) fn add_masked(fingerprint: RawFingerprint, mixed: IdWords, mask: u64) -> RawFingerprint {
    RawFingerprint {
        count: fingerprint.count.wrapping_add(mask & 1),
        xor_high: fingerprint.xor_high ^ (mixed[1] & mask),
        xor_low: fingerprint.xor_low ^ (mixed[0] & mask),
        sum_high: fingerprint.sum_high.wrapping_add(mixed[1] & mask),
        sum_low: fingerprint.sum_low.wrapping_add(mixed[0] & mask),
    }
}

/// The keyed fingerprint of the few IDs after the portable kernels' eight-ID steps, one [`mix`]
/// each, every ID under its mask (all ones counts, zero does not; `u64::MAX` for contiguous
/// input).
pub(crate) fn tail(
    schedule: &KeySchedule,
    ids: &[IdWords],
    masks: impl IntoIterator<Item = u64>,
) -> RawFingerprint {
    ids.iter()
        .zip(masks)
        .fold(RawFingerprint::EMPTY, |fingerprint, (id, mask)| {
            add_masked(fingerprint, mix(schedule, *id), mask)
        })
}

/// [`mix`] of one ID by the fastest path this CPU has (AES-NI, else the portable round): for
/// callers that need the mixed value itself, one ID at a time (the difference sketch).
#[inline]
pub fn mix_fast(schedule: &KeySchedule, id: IdWords) -> IdWords {
    match x86_64::aesni::AesNi::new() {
        Some(aes_ni) => aes_ni.mix(schedule, id),
        None => mix(schedule, id),
    }
}

/// [`mix`] of every ID of `ids` into `out`, by the fastest path this CPU has (AES-NI, else the
/// `aes` crate's eight-block round): for callers that need the mixed values themselves.
///
/// # Panics
/// If `ids` and `out` differ in length.
pub fn mix_slice(schedule: &KeySchedule, ids: &[IdWords], out: &mut [IdWords]) {
    match x86_64::aesni::AesNi::new() {
        Some(aes_ni) => aes_ni.mix_slice(schedule, ids, out),
        None => mix_slice_portable(schedule, ids, out),
    }
}

/// [`mix_slice`] without AES-NI: the `aes` crate's eight-block round.
///
/// # Panics
/// If `ids` and `out` differ in length.
fn mix_slice_portable(schedule: &KeySchedule, ids: &[IdWords], out: &mut [IdWords]) {
    assert_eq!(
        ids.len(),
        out.len(),
        "mix_slice: input and output lengths differ"
    );
    let rounds = EightBlockRounds::new(schedule);
    let (blocks, tail) = ids.as_chunks::<8>();
    let (out_blocks, out_tail) = out.as_chunks_mut::<8>();
    for (block, out_block) in blocks.iter().zip(out_blocks) {
        *out_block = rounds.mix(block);
    }
    for (id, out) in tail.iter().zip(out_tail) {
        *out = mix(schedule, *id);
    }
}

/// The signature every contiguous keyed kernel entry point has.
pub type KeyedFingerprintFn = fn(&KeySchedule, &[IdWords]) -> RawFingerprint;
/// The signature every masked keyed kernel entry point has.
pub type KeyedMaskedFingerprintFn = fn(&KeySchedule, &[IdWords], &[u8], u64) -> RawFingerprint;

impl Kernel {
    /// The kernel's keyed contiguous entry point, or `None` where it cannot run. The keyed
    /// `avx2` kernel also needs AES-NI, the keyed `avx512` kernel VAES (Ice Lake, Zen 4 and
    /// later); where those are missing the keyed form is unavailable though the plain one runs.
    pub fn keyed_function(self) -> Option<KeyedFingerprintFn> {
        Some(match self {
            Kernel::Naive => naive::fingerprint,
            Kernel::Scalar => scalar::fingerprint,
            Kernel::Lanes => lanes::fingerprint,
            Kernel::Avx2 => x86_64::aesni::Avx2AesNi::new()?.function(),
            Kernel::Avx512 => x86_64::vaes::Avx512Vaes::new()?.function(),
            Kernel::Parallel => parallel::fingerprint,
        })
    }

    /// The kernel's keyed masked entry point, or `None` where it cannot run.
    pub fn keyed_masked_function(self) -> Option<KeyedMaskedFingerprintFn> {
        Some(match self {
            Kernel::Naive => naive::fingerprint_masked,
            Kernel::Scalar => scalar::fingerprint_masked,
            Kernel::Lanes => lanes::fingerprint_masked,
            Kernel::Avx2 => x86_64::aesni::Avx2AesNi::new()?.masked_function(),
            Kernel::Avx512 => x86_64::vaes::Avx512Vaes::new()?.masked_function(),
            Kernel::Parallel => parallel::fingerprint_masked,
        })
    }

    /// Whether the kernel's keyed form runs here.
    pub fn keyed_is_available(self) -> bool {
        self.keyed_function().is_some()
    }

    /// Runs the kernel's keyed form over `ids`, or `None` where it cannot run.
    pub fn keyed_fingerprint(
        self,
        schedule: &KeySchedule,
        ids: &[IdWords],
    ) -> Option<RawFingerprint> {
        self.keyed_function().map(|f| f(schedule, ids))
    }

    /// Runs the kernel's keyed masked form, or `None` where it cannot run.
    ///
    /// # Panics
    /// If `ids` and `states` differ in length.
    pub fn keyed_fingerprint_masked(
        self,
        schedule: &KeySchedule,
        ids: &[IdWords],
        states: &[u8],
        included: u64,
    ) -> Option<RawFingerprint> {
        self.keyed_masked_function()
            .map(|f| f(schedule, ids, states, included))
    }

    /// The fastest single-thread keyed kernel this CPU runs: what keyed `parallel` runs per
    /// chunk and what the automatic choice caches. avx512 where it runs, else avx2, else scalar
    /// (measured by `cargo bench --bench keyed`; see `docs/diagnosis.md`).
    pub fn widest_keyed_single_thread() -> Kernel {
        if Kernel::Avx512.keyed_is_available() {
            Kernel::Avx512
        } else if Kernel::Avx2.keyed_is_available() {
            Kernel::Avx2
        } else {
            Kernel::Scalar
        }
    }
}

/// The fastest single-thread keyed kernel's entry points, or scalar's where it reports none.
fn widest_entry_points() -> (KeyedFingerprintFn, KeyedMaskedFingerprintFn) {
    let kernel = Kernel::widest_keyed_single_thread();
    match (kernel.keyed_function(), kernel.keyed_masked_function()) {
        (Some(contiguous), Some(masked)) => (contiguous, masked),
        _ => (scalar::fingerprint, scalar::fingerprint_masked),
    }
}

crate::ifunc! {
    /// The contiguous entry point of [`Kernel::widest_keyed_single_thread`], picked on the first
    /// call and cached ([`crate::ifunc!`]): what keyed [`parallel`] runs per chunk and what the
    /// root crate's keyed automatic choice calls.
    pub fn widest_function(schedule: &KeySchedule, ids: &[IdWords]) -> RawFingerprint =
        widest_entry_points().0;
}

crate::ifunc! {
    /// The masked entry point of [`Kernel::widest_keyed_single_thread`], cached like
    /// [`widest_function`].
    pub fn widest_masked_function(
        schedule: &KeySchedule,
        ids: &[IdWords],
        states: &[u8],
        included: u64,
    ) -> RawFingerprint = widest_entry_points().1;
}

/// The cached fastest single-thread keyed entry points ([`widest_function`],
/// [`widest_masked_function`]).
pub fn widest_single_thread_functions() -> (KeyedFingerprintFn, KeyedMaskedFingerprintFn) {
    (widest_function(), widest_masked_function())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmix_inverts_mix() {
        let schedule = KeySchedule::new([0x0123_4567_89ab_cdef, 42]);
        for id in [[0, 0], [1, 0], [0, 1], [u64::MAX, u64::MAX], [7, 1 << 63]] {
            assert_eq!(unmix(&schedule, mix(&schedule, id)), id);
        }
    }

    #[test]
    fn mix_slice_is_mix_of_each() {
        let schedule = KeySchedule::new([3, 4]);
        let ids: Vec<IdWords> = (0..37u64).map(|i| [i, i * 7]).collect();
        let mut out = vec![[0, 0]; ids.len()];
        mix_slice(&schedule, &ids, &mut out);
        for (id, mixed) in ids.iter().zip(&out) {
            assert_eq!(mix(&schedule, *id), *mixed);
            assert_eq!(mix_fast(&schedule, *id), *mixed);
        }
        let mut portable = vec![[0, 0]; ids.len()];
        mix_slice_portable(&schedule, &ids, &mut portable);
        assert_eq!(portable, out);
    }

    #[test]
    fn one_round_is_fips_197_aesenc() {
        // SubBytes(0) = 0x63 everywhere; ShiftRows and MixColumns keep a constant state (the
        // MixColumns row 2,3,1,1 sums to 1 in GF(2^8)), so AESENC(0, 0) is 0x63 in every byte.
        let mut block = Block::default();
        cipher_round(&mut block, &Block::default());
        assert!(block.iter().all(|byte| *byte == 0x63));
    }

    #[test]
    fn different_keys_give_different_round_keys() {
        let a = KeySchedule::new([1, 0]);
        let b = KeySchedule::new([0, 1]);
        let c = KeySchedule::new([0, 0]);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(b, c);
        assert_eq!(format!("{a:?}"), "KeySchedule(..)");
    }
}
