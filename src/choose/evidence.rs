//! The measured preferences per CPU family: what [`super::Plan::estimate`] runs, and the report
//! each preference comes from. One row per family the kernels were *measured* on; a CPU that
//! matches none gets the conservative default (see [`super::Source::NoEvidence`]).
//!
//! To add a family: run `cargo run --release -p dcsum -- kernels --ceiling
//! 1K,16K,256K,1M,4M,16M --evidence reports/kernel-evidence/<family>.md` on it, link the file from
//! `reports/kernels.md`, and add a row here naming the fastest kernels it found.

use dispatcher_checksum_kernels::Kernel;

/// Vendor, family and model from CPUID, as the evidence table matches them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuIdentity {
    /// `AuthenticAMD`, `GenuineIntel`, ...
    pub vendor: [u8; 12],
    /// The display family (base family plus extended family).
    pub family: u32,
    /// The display model (extended model in the high nibble where the family uses it).
    pub model: u32,
}

impl CpuIdentity {
    /// This CPU's identity (off x86-64: an empty vendor, family and model 0).
    pub fn of_this_cpu() -> CpuIdentity {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::__cpuid;
            // CPUID exists on every x86-64 CPU; leaf 0 gives the vendor and leaf 1 the
            // family and model.
            #[allow(unused_unsafe)]
            // SAFETY: CPUID leaves 0 and 1 are defined on every x86-64 processor.
            let (leaf0, leaf1) = unsafe { (__cpuid(0), __cpuid(1)) };
            let mut vendor = [0u8; 12];
            vendor[..4].copy_from_slice(&leaf0.ebx.to_le_bytes());
            vendor[4..8].copy_from_slice(&leaf0.edx.to_le_bytes());
            vendor[8..].copy_from_slice(&leaf0.ecx.to_le_bytes());
            let base_family = (leaf1.eax >> 8) & 0xf;
            let base_model = (leaf1.eax >> 4) & 0xf;
            let family = if base_family == 0xf {
                base_family + ((leaf1.eax >> 20) & 0xff)
            } else {
                base_family
            };
            let model = if base_family == 0x6 || base_family == 0xf {
                base_model | (((leaf1.eax >> 16) & 0xf) << 4)
            } else {
                base_model
            };
            CpuIdentity {
                vendor,
                family,
                model,
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        CpuIdentity {
            vendor: [0; 12],
            family: 0,
            model: 0,
        }
    }

    /// The vendor string.
    pub fn vendor(&self) -> &str {
        std::str::from_utf8(&self.vendor).unwrap_or("unknown")
    }

    fn is(&self, vendor: &str, family: u32, models: &[std::ops::RangeInclusive<u32>]) -> bool {
        self.vendor() == vendor
            && self.family == family
            && models.iter().any(|range| range.contains(&self.model))
    }
}

impl std::fmt::Display for CpuIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} family {} model {} ({:#x}/{:#x})",
            self.vendor(),
            self.family,
            self.model,
            self.family,
            self.model
        )
    }
}

/// One CPU family's measured preferences.
#[derive(Debug)]
pub struct CpuFamilyEvidence {
    /// The family's name (`Zen 4`, ...).
    pub name: &'static str,
    /// Whether a CPU belongs to it.
    pub matches: fn(&CpuIdentity) -> bool,
    /// The fastest (or within noise of the fastest) contiguous single-thread kernel.
    pub contiguous: Kernel,
    /// The fastest masked single-thread kernel.
    pub masked: Kernel,
    /// The report the preference comes from.
    pub evidence: &'static str,
    /// What it measured, in one sentence.
    pub summary: &'static str,
}

/// Families are equal when their names are (the table has one row per name).
impl PartialEq for CpuFamilyEvidence {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for CpuFamilyEvidence {}

/// Every family with evidence, most specific first.
pub static FAMILIES: &[CpuFamilyEvidence] = &[
    CpuFamilyEvidence {
        name: "AMD Zen 4",
        matches: |cpu| {
            cpu.is(
                "AuthenticAMD",
                0x19,
                &[0x10..=0x1f, 0x60..=0x7f, 0xa0..=0xaf],
            )
        },
        contiguous: Kernel::Avx512,
        masked: Kernel::Avx512,
        evidence: "reports/kernel-evidence/zen4.md (EPYC family 25 model 17, 2026-12-05)",
        summary: "masked, the mask-register avx512 kernel is the fastest single-thread kernel \
                  at every size (0.64, 0.98, 0.96, 0.94, 1.09 and 1.21 of the read ceiling at \
                  1K, 16K, 256K, 1M, 4M and 16M IDs, same-run medians, against avx2's 0.33, \
                  0.59, 0.69, 0.79, 0.98 and 1.09); contiguous, avx512 the fastest at 1K (0.96 \
                  against 0.88) and level with avx2 at 16K (0.99), where the plan runs one \
                  thread (from 128 Ki IDs it runs rayon where there is more than one thread)",
    },
    CpuFamilyEvidence {
        name: "Intel Sapphire Rapids",
        matches: |cpu| cpu.is("GenuineIntel", 0x6, &[0x8f..=0x8f]),
        contiguous: Kernel::Avx512,
        masked: Kernel::Avx2,
        evidence: "issue 15 (2-core Sapphire Rapids Xeon, cargo run --release at c8c2e15) and \
                   docs/performance.md",
        summary: "contiguous avx512 read 0.97-1.03x of the ceiling from 16K IDs on; masked, avx2 \
                  beat the then-generic avx512 loop at 5 of 6 sizes (the mask-register kernel \
                  has not been measured there: llvm-mca estimates in docs/kernels.md)",
    },
    CpuFamilyEvidence {
        name: "AMD Zen 1",
        matches: |cpu| cpu.is("AuthenticAMD", 0x17, &[0x00..=0x2f]),
        contiguous: Kernel::Avx2,
        masked: Kernel::Avx2,
        evidence: "reports/kernels.md (2-core EPYC, AVX2 only, 2026-12-02)",
        summary: "avx2 the fastest masked kernel at every size (1K-16M); contiguous avx2 within \
                  3.3% of scalar at every size, the fastest at 16K and 256K",
    },
];

/// The evidence for `cpu`, if any family matches.
pub fn for_cpu(cpu: &CpuIdentity) -> Option<&'static CpuFamilyEvidence> {
    FAMILIES.iter().find(|family| (family.matches)(cpu))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(vendor: &str, family: u32, model: u32) -> CpuIdentity {
        let mut bytes = [0u8; 12];
        bytes.copy_from_slice(vendor.as_bytes());
        CpuIdentity {
            vendor: bytes,
            family,
            model,
        }
    }

    #[test]
    fn families_match_the_cpus_they_were_measured_on_and_nothing_else() {
        let name = |c: CpuIdentity| for_cpu(&c).map(|f| f.name);
        assert_eq!(name(cpu("AuthenticAMD", 25, 17)), Some("AMD Zen 4"));
        assert_eq!(name(cpu("AuthenticAMD", 23, 1)), Some("AMD Zen 1"));
        assert_eq!(
            name(cpu("GenuineIntel", 6, 0x8f)),
            Some("Intel Sapphire Rapids")
        );
        // Zen 3 (family 25 model 1), Zen 2 (23/0x31), Ice Lake-SP (6/0x6a): no evidence.
        assert_eq!(name(cpu("AuthenticAMD", 25, 1)), None);
        assert_eq!(name(cpu("AuthenticAMD", 23, 0x31)), None);
        assert_eq!(name(cpu("GenuineIntel", 6, 0x6a)), None);
    }
}
