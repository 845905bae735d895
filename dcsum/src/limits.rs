//! What a flag's value would make the tool allocate, checked against what this machine holds,
//! before any of it is allocated: a value too large for the machine is a one-line usage error
//! rather than an allocation failure (an abort) minutes into the run.

/// This machine's physical memory in bytes (`MemTotal` in `/proc/meminfo`); `None` where that is
/// not readable, in which case [`check_fits`] lets every request through.
pub fn machine_memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|line| line.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// `Ok` when `bytes` (what `what` would allocate) fits in this machine's memory, else the error
/// a user reads: what asked for how much, and what the machine has.
pub fn check_fits(what: &str, bytes: u128) -> Result<(), String> {
    check_fits_in(what, bytes, machine_memory_bytes())
}

fn check_fits_in(what: &str, bytes: u128, memory: Option<u64>) -> Result<(), String> {
    match memory {
        Some(memory) if bytes > u128::from(memory) => Err(format!(
            "{what} needs about {} of memory; this machine has {}",
            human_bytes(bytes),
            human_bytes(u128::from(memory))
        )),
        _ => Ok(()),
    }
}

/// `bytes` in binary units, to three significant figures (`1.50 GiB`).
pub fn human_bytes(bytes: u128) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_above_the_machine_is_refused_with_both_sizes() {
        let error = check_fits_in("--sizes 1G", 64 << 30, Some(16 << 30)).unwrap_err();
        assert_eq!(
            error,
            "--sizes 1G needs about 64.00 GiB of memory; this machine has 16.00 GiB"
        );
        assert!(check_fits_in("x", 16 << 30, Some(16 << 30)).is_ok());
        assert!(check_fits_in("x", u128::MAX, None).is_ok());
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.50 KiB");
    }

    #[test]
    fn this_machine_reports_its_memory_where_linux_says_it() {
        if std::path::Path::new("/proc/meminfo").exists() {
            assert!(machine_memory_bytes().is_some_and(|bytes| bytes > 1 << 20));
        }
    }
}
