//! The fingerprint kernel family.
//!
//! A *fingerprint* of a multiset of 128-bit dispatcher IDs is five `u64` words: the count, the XOR
//! of every `high` and every `low` half, and the wrapping sum of every `high` and every `low` half
//! (each half on its own, no carry between them). Every kernel here computes exactly that value,
//! bit for bit; they differ only in how fast they get there:
//!
//! | kernel | module | what it is |
//! |---|---|---|
//! | `naive` | [`naive`] | the oracle: an iterator fold, dumb on purpose |
//! | `scalar` | [`scalar`] | eight independent word accumulators (the generic fold), no target features |
//! | `lanes` | [`lanes`] | `wide::u64x4` accumulators; `wide` fixes its ISA at build time |
//! | `avx2` | [`x86_64::avx2`] | `core::arch` loops under `avx2`: four `ymm` XOR and sum accumulators contiguous; masked, `vpshufb` table lookups of 32 state bytes per step |
//! | `avx512` | [`x86_64::avx512`] | the same contiguous loop on `zmm` (AVX-512 F); masked, through mask registers: a `vpermb` (VBMI) or `vpshufb` (BW) lookup of 64 state bytes a block ahead, one `k` mask per four IDs, `vpxorq`/`vpaddq` under it |
//! | `parallel` | [`parallel`] | rayon over chunks, each chunk run by a single-thread kernel (by default the widest; the root crate's automatic choice passes its own) |
//!
//! Every kernel also has a *masked* form over columnar input: a slice of IDs plus a parallel slice of
//! lifecycle state bytes and a 64-bit set of included states; an ID counts only when bit `state` of
//! the set is one (states of 64 and above are never included). The masked forms are branch-free.
//!
//! IDs are passed as [`IdWords`], `[low, high]`; the root crate's `DispatcherId` has that layout.
//! The trick that makes the wide kernels simple: in memory the IDs are the word sequence
//! `low0 high0 low1 high1 ...`, and XOR and wrapping add are word-wise, so a kernel accumulates the
//! flattened words into an even number of lanes and only at the end folds the even lanes into `low`
//! and the odd lanes into `high`. No shuffles in the hot loop.
//!
//! Runtime dispatch has one idiom, memchr's: runtime-detected kernels are *handle* types with
//! `is_available()` on this CPU and a constructor `new() -> Option<Self>` that succeeds only where
//! the kernel can run, and a choice made at run time is cached by [`ifunc!`] (a static `AtomicPtr`
//! that first points at a detection function; see [`widest_function`]). The cargo features
//! `no_avx2` and `no_avx512` make the handles report unavailable so the fallbacks are tested on
//! any CPU.
//! This crate never depends on the rest of the repository.
//!
//! Cargo features, both on by default: `parallel` (rayon; without it [`parallel::Parallel`]
//! reports itself unavailable and its entry points run on the calling thread) and `keyed` (the
//! [`keyed`] family, which needs the `aes` crate).

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod dispatch;
mod generic;
#[cfg(feature = "keyed")]
pub mod keyed;
pub mod lanes;
pub mod naive;
pub mod parallel;
pub mod scalar;
pub mod x86_64;

/// One dispatcher ID as the kernels see it: `[low, high]`.
pub type IdWords = [u64; 2];

/// The five words of a fingerprint, as the kernels produce them.
///
/// The root crate wraps this in its `Fingerprint`, which adds the protocol's operations and
/// external formats; here it is only the value the kernels agree on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RawFingerprint {
    /// Number of IDs, wrapping.
    pub count: u64,
    /// XOR of every `high` half.
    pub xor_high: u64,
    /// XOR of every `low` half.
    pub xor_low: u64,
    /// Wrapping sum of every `high` half.
    pub sum_high: u64,
    /// Wrapping sum of every `low` half.
    pub sum_low: u64,
}

impl RawFingerprint {
    /// The fingerprint of the empty set.
    pub const EMPTY: RawFingerprint = RawFingerprint {
        count: 0,
        xor_high: 0,
        xor_low: 0,
        sum_high: 0,
        sum_low: 0,
    };

    /// This fingerprint with one more ID.
    #[inline]
    #[must_use]
    pub const fn add(self, id: IdWords) -> RawFingerprint {
        RawFingerprint {
            count: self.count.wrapping_add(1),
            xor_high: self.xor_high ^ id[1],
            xor_low: self.xor_low ^ id[0],
            sum_high: self.sum_high.wrapping_add(id[1]),
            sum_low: self.sum_low.wrapping_add(id[0]),
        }
    }

    /// The fingerprint of the multiset union (counts and sums add, XORs combine).
    #[inline]
    #[must_use]
    pub const fn merge(self, other: RawFingerprint) -> RawFingerprint {
        RawFingerprint {
            count: self.count.wrapping_add(other.count),
            xor_high: self.xor_high ^ other.xor_high,
            xor_low: self.xor_low ^ other.xor_low,
            sum_high: self.sum_high.wrapping_add(other.sum_high),
            sum_low: self.sum_low.wrapping_add(other.sum_low),
        }
    }
}

/// Whether an ID in lifecycle state `state` counts under the included-state set `included`
/// (bit `s` of `included` set means state `s` counts; states of 64 and above never count).
#[inline(always)]
pub const fn is_included(state: u8, included: u64) -> bool {
    match included.checked_shr(state as u32) {
        Some(bits) => bits & 1 == 1,
        None => false,
    }
}

/// What every kernel offers; implemented by each kernel's handle type.
pub trait FingerprintKernel: Copy + Send + Sync {
    /// The kernel's name as the CLI and the benches print it.
    fn name(&self) -> &'static str;
    /// The fingerprint of every ID in `ids`.
    fn fingerprint(&self, ids: &[IdWords]) -> RawFingerprint;
    /// The fingerprint of the IDs whose state is in `included` (see [`is_included`]).
    ///
    /// # Panics
    /// If `ids` and `states` differ in length: that is a caller's bug, never a property of input.
    fn fingerprint_masked(&self, ids: &[IdWords], states: &[u8], included: u64) -> RawFingerprint;
}

/// Panics with a message that names both lengths, for the masked kernels' precondition.
#[inline]
#[track_caller]
pub(crate) fn check_columns(ids: &[IdWords], states: &[u8]) {
    assert_eq!(
        ids.len(),
        states.len(),
        "masked fingerprint: {} IDs but {} states; the columns must be the same length",
        ids.len(),
        states.len()
    );
}

/// Every kernel of the family, by name. The automatic choice and the benches iterate over it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kernel {
    /// [`naive::Naive`]
    Naive,
    /// [`scalar::Scalar`]
    Scalar,
    /// [`lanes::Lanes`]
    Lanes,
    /// [`x86_64::avx2::Avx2`]
    Avx2,
    /// [`x86_64::avx512::Avx512`]
    Avx512,
    /// [`parallel::Parallel`]
    Parallel,
}

/// The signature every contiguous kernel entry point has.
pub type FingerprintFn = fn(&[IdWords]) -> RawFingerprint;
/// The signature every masked kernel entry point has.
pub type MaskedFingerprintFn = fn(&[IdWords], &[u8], u64) -> RawFingerprint;

impl Kernel {
    /// Every kernel, oracle first.
    pub const fn all() -> &'static [Kernel] {
        &[
            Kernel::Naive,
            Kernel::Scalar,
            Kernel::Lanes,
            Kernel::Avx2,
            Kernel::Avx512,
            Kernel::Parallel,
        ]
    }

    /// The kernel's name: `naive`, `scalar`, `lanes`, `avx2`, `avx512`, `parallel`.
    pub const fn name(self) -> &'static str {
        match self {
            Kernel::Naive => "naive",
            Kernel::Scalar => "scalar",
            Kernel::Lanes => "lanes",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512",
            Kernel::Parallel => "parallel",
        }
    }

    /// The kernel named `name` (as [`Kernel::name`] spells it), if any.
    pub fn from_name(name: &str) -> Option<Kernel> {
        Kernel::all().iter().copied().find(|k| k.name() == name)
    }

    /// Whether this CPU (and this build's features) can run the kernel.
    pub fn is_available(self) -> bool {
        match self {
            Kernel::Naive | Kernel::Scalar | Kernel::Lanes => true,
            Kernel::Parallel => parallel::is_available(),
            Kernel::Avx2 => x86_64::avx2::Avx2::is_available(),
            Kernel::Avx512 => x86_64::avx512::Avx512::is_available(),
        }
    }

    /// Whether the kernel runs on the calling thread only (everything but `parallel`).
    pub const fn is_single_thread(self) -> bool {
        !matches!(self, Kernel::Parallel)
    }

    /// The kernel's contiguous entry point, or `None` where it cannot run.
    pub fn function(self) -> Option<FingerprintFn> {
        Some(match self {
            Kernel::Naive => naive::fingerprint,
            Kernel::Scalar => scalar::fingerprint,
            Kernel::Lanes => lanes::fingerprint,
            Kernel::Avx2 => x86_64::avx2::Avx2::new()?.function(),
            Kernel::Avx512 => x86_64::avx512::Avx512::new()?.function(),
            Kernel::Parallel => parallel::Parallel::new()?.function(),
        })
    }

    /// The kernel's masked entry point, or `None` where it cannot run.
    pub fn masked_function(self) -> Option<MaskedFingerprintFn> {
        Some(match self {
            Kernel::Naive => naive::fingerprint_masked,
            Kernel::Scalar => scalar::fingerprint_masked,
            Kernel::Lanes => lanes::fingerprint_masked,
            Kernel::Avx2 => x86_64::avx2::Avx2::new()?.masked_function(),
            Kernel::Avx512 => x86_64::avx512::Avx512::new()?.masked_function(),
            Kernel::Parallel => parallel::Parallel::new()?.masked_function(),
        })
    }

    /// Runs the kernel over `ids`, or `None` where it cannot run.
    pub fn fingerprint(self, ids: &[IdWords]) -> Option<RawFingerprint> {
        self.function().map(|f| f(ids))
    }

    /// Runs the kernel's masked form, or `None` where it cannot run.
    ///
    /// # Panics
    /// If `ids` and `states` differ in length.
    pub fn fingerprint_masked(
        self,
        ids: &[IdWords],
        states: &[u8],
        included: u64,
    ) -> Option<RawFingerprint> {
        self.masked_function().map(|f| f(ids, states, included))
    }

    /// The widest single-thread kernel this CPU runs: what `parallel` runs per chunk.
    pub fn widest_single_thread() -> Kernel {
        if Kernel::Avx512.is_available() {
            Kernel::Avx512
        } else if Kernel::Avx2.is_available() {
            Kernel::Avx2
        } else {
            Kernel::Scalar
        }
    }
}

/// The widest single-thread kernel's entry points, or scalar's where it reports none.
fn widest_entry_points() -> (FingerprintFn, MaskedFingerprintFn) {
    let kernel = Kernel::widest_single_thread();
    match (kernel.function(), kernel.masked_function()) {
        (Some(contiguous), Some(masked)) => (contiguous, masked),
        _ => (scalar::fingerprint, scalar::fingerprint_masked),
    }
}

ifunc! {
    /// The contiguous entry point of [`Kernel::widest_single_thread`], picked on the first call
    /// and cached ([`ifunc!`]): what [`parallel`] runs per chunk and what the root crate's
    /// automatic choice calls. `widest_function()(ids)` is one relaxed load and an indirect call.
    pub fn widest_function(ids: &[IdWords]) -> RawFingerprint = widest_entry_points().0;
}

ifunc! {
    /// The masked entry point of [`Kernel::widest_single_thread`], picked once and cached like
    /// [`widest_function`].
    pub fn widest_masked_function(ids: &[IdWords], states: &[u8], included: u64) -> RawFingerprint =
        widest_entry_points().1;
}

impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
