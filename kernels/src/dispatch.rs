//! The one runtime-dispatch idiom of the workspace, in two parts.
//!
//! - **Handles** (`runtime_handle!`, crate-internal): a zero-sized type per set of CPU features,
//!   with `is_available()` and `new() -> Option<Self>` (memchr's shape). A handle value exists
//!   only where the CPU has every feature (and the build did not switch the path off with
//!   `no_avx2` / `no_avx512`), so a method taking the handle may call a `#[target_feature]`
//!   function soundly. The plain kernels ([`crate::x86_64::avx2::Avx2`],
//!   [`crate::x86_64::avx512::Avx512`]) and the keyed ones are handles.
//! - **Cached picks** ([`ifunc!`](crate::ifunc), exported at the crate root): memchr's `unsafe_ifunc!`. A static `AtomicPtr`
//!   starts out pointing at a `detect` function; the first call runs `detect`, which evaluates
//!   the pick (typically "the widest handle that exists here"), stores the chosen function pointer
//!   and calls it. Every later call is one relaxed load and an indirect call. The automatic choice
//!   of the root crate, the parallel kernels' per-chunk kernel, the keyed family's and the bench
//!   harness's read ceiling all cache their pick this way.
//!
//! Why relaxed ordering is enough: every value the static ever holds is a valid function pointer
//! of the one type (its initial `detect` and whatever `detect` stores), and picking twice in a race
//! only repeats the detection, which gives the same answer.

/// Defines `fn $name() -> fn(args) -> ret`: the implementation chosen by `$pick` (an expression
/// of that function-pointer type, evaluated once, on the first call), cached in a static
/// `AtomicPtr`. Call the result directly: `$name()(args)` is one relaxed load and an indirect
/// call once the pick is made. Until then the pointer is the detection function itself, which
/// picks, caches and calls, so the pointer may be stored and called at any time.
///
/// `$pick` is evaluated inside a nested function, so it can name items (paths) but not locals.
///
/// ```
/// use dispatcher_checksum_kernels::{ifunc, IdWords, Kernel, RawFingerprint};
///
/// ifunc! {
///     /// The widest single-thread kernel, picked once.
///     fn widest(ids: &[IdWords]) -> RawFingerprint = Kernel::widest_single_thread()
///         .function()
///         .unwrap_or(dispatcher_checksum_kernels::scalar::fingerprint);
/// }
///
/// let ids = [[1, 2], [3, 4]];
/// assert_eq!(widest()(&ids), dispatcher_checksum_kernels::naive::fingerprint(&ids));
/// ```
#[macro_export]
macro_rules! ifunc {
    (
        $(#[$attr:meta])*
        $vis:vis fn $name:ident($($arg:ident: $arg_ty:ty),* $(,)?) -> $ret:ty = $pick:expr;
    ) => {
        $(#[$attr])*
        #[inline]
        $vis fn $name() -> fn($($arg_ty),*) -> $ret {
            type Picked = fn($($arg_ty),*) -> $ret;
            static CHOSEN: ::core::sync::atomic::AtomicPtr<()> =
                ::core::sync::atomic::AtomicPtr::new(detect as *mut ());
            fn detect($($arg: $arg_ty),*) -> $ret {
                let picked: Picked = $pick;
                CHOSEN.store(picked as *mut (), ::core::sync::atomic::Ordering::Relaxed);
                picked($($arg),*)
            }
            let pointer = CHOSEN.load(::core::sync::atomic::Ordering::Relaxed);
            // SAFETY: CHOSEN only ever holds values cast from `Picked` (its initial `detect` and
            // the store in `detect`), and function pointers round-trip through `*mut ()` on every
            // platform Rust supports.
            unsafe { ::core::mem::transmute::<*mut (), Picked>(pointer) }
        }
    };
}

/// Stamps a handle type: a zero-sized proof that this CPU has every feature in `detect` and
/// that none of the cargo features in `disabled_by` is on. Off x86-64 it is never available.
/// The caller adds the methods that call its `#[target_feature]` entry points.
macro_rules! runtime_handle {
    (
        $(#[$attr:meta])*
        handle: $handle:ident,
        detect: [$($feature:tt),+ $(,)?],
        disabled_by: [$($disable_feature:literal),* $(,)?] $(,)?
    ) => {
        $(#[$attr])*
        #[derive(Clone, Copy, Debug)]
        pub struct $handle {
            _available: (),
        }

        impl $handle {
            /// Whether this CPU runs the path (and the build did not switch it off).
            #[inline]
            pub fn is_available() -> bool {
                #[cfg(all(target_arch = "x86_64", not(any($(feature = $disable_feature),*))))]
                {
                    // std caches the CPUID answer in an atomic, so this is a load and a test.
                    true $(&& std::arch::is_x86_feature_detected!($feature))+
                }
                #[cfg(not(all(target_arch = "x86_64", not(any($(feature = $disable_feature),*)))))]
                {
                    false
                }
            }

            /// The handle, or `None` where this CPU cannot run the path.
            #[inline]
            pub fn new() -> Option<$handle> {
                $handle::is_available().then_some($handle { _available: () })
            }
        }
    };
}

pub(crate) use runtime_handle;
