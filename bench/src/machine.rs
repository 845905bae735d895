//! What a report was measured on: CPU model and features, cores, memory, rustc, git revision and
//! the date. Every field degrades to `unknown` rather than failing: a report from a machine without
//! git or `/proc` is still a report.

use serde::Serialize;
use std::process::Command;

/// The CPU features that matter to the kernels, in the order the report prints them.
const INTERESTING_FEATURES: &[&str] = &[
    "sse2", "sse4_2", "avx", "avx2", "bmi2", "avx512f", "avx512bw", "avx512vl", "avx512dq",
];

/// The machine and build a report comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MachineInfo {
    /// CPU model name from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// The kernel-relevant CPU features the CPU has (as `std` detects them).
    pub cpu_features: Vec<String>,
    /// Logical CPUs this process may use.
    pub logical_cpus: usize,
    /// Threads in rayon's pool for this run.
    pub rayon_threads: usize,
    /// Total memory, from `/proc/meminfo`.
    pub memory: String,
    /// `rustc -V`.
    pub rustc: String,
    /// `git describe --always --dirty` of the working tree.
    pub git_revision: String,
    /// UTC date and time the report was made, ISO 8601.
    pub date: String,
    /// `/proc/loadavg`'s 1, 5 and 15-minute load averages when the run started: a load near or
    /// above the CPU count means other work shared the machine and the timings are noisy.
    pub load_average: String,
    /// The operating system and architecture this binary was built for.
    pub target: String,
}

impl MachineInfo {
    /// Collects everything now.
    pub fn collect() -> MachineInfo {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        MachineInfo {
            cpu_model: cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".into()),
            cpu_features: detected_features(),
            logical_cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            rayon_threads: rayon::current_num_threads(),
            memory: std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|text| total_memory(&text))
                .unwrap_or_else(|| "unknown".into()),
            rustc: command_output("rustc", &["-V"]),
            git_revision: command_output("git", &["describe", "--always", "--dirty"]),
            date: utc_date_time(std::time::SystemTime::now()),
            load_average: std::fs::read_to_string("/proc/loadavg")
                .ok()
                .map(|text| {
                    text.split_whitespace()
                        .take(3)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_else(|| "unknown".into()),
            target: format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
        }
    }

    /// One Markdown bullet list.
    pub fn markdown(&self) -> String {
        format!(
            "- CPU: {} ({} logical CPUs; features: {})\n- rayon threads: {}\n- memory: {}\n\
             - rustc: {}\n- git revision: {}\n- target: {}\n- date: {}\n\
             - load average at start (1/5/15 min): {}\n",
            self.cpu_model,
            self.logical_cpus,
            self.cpu_features.join(" "),
            self.rayon_threads,
            self.memory,
            self.rustc,
            self.git_revision,
            self.target,
            self.date,
            self.load_average
        )
    }
}

/// The first `model name` line of `/proc/cpuinfo` text.
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, model)| model.trim().to_string())
}

fn total_memory(meminfo: &str) -> Option<String> {
    let kib: u64 = meminfo
        .lines()
        .find(|line| line.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(format!("{:.1} GiB", kib as f64 / (1024.0 * 1024.0)))
}

fn detected_features() -> Vec<String> {
    #[cfg(target_arch = "x86_64")]
    {
        let detected = |feature: &str| match feature {
            "sse2" => std::arch::is_x86_feature_detected!("sse2"),
            "sse4_2" => std::arch::is_x86_feature_detected!("sse4.2"),
            "avx" => std::arch::is_x86_feature_detected!("avx"),
            "avx2" => std::arch::is_x86_feature_detected!("avx2"),
            "bmi2" => std::arch::is_x86_feature_detected!("bmi2"),
            "avx512f" => std::arch::is_x86_feature_detected!("avx512f"),
            "avx512bw" => std::arch::is_x86_feature_detected!("avx512bw"),
            "avx512vl" => std::arch::is_x86_feature_detected!("avx512vl"),
            "avx512dq" => std::arch::is_x86_feature_detected!("avx512dq"),
            _ => false,
        };
        INTERESTING_FEATURES
            .iter()
            .filter(|feature| detected(feature))
            .map(|feature| feature.to_string())
            .collect()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = INTERESTING_FEATURES;
        Vec::new()
    }
}

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|text| text.trim().to_string())
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// `2026-11-26T04:21:57Z` for a system time (civil-from-days, Howard Hinnant's algorithm; no
/// calendar crate for one line of a report).
pub fn utc_date_time(time: std::time::SystemTime) -> String {
    let seconds = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, in_day) = (seconds / 86_400, seconds % 86_400);
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(utc_date_time(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let leap_day = UNIX_EPOCH + Duration::from_secs(951_782_400 + 3_723);
        assert_eq!(utc_date_time(leap_day), "2000-02-29T01:02:03Z");
        let later = UNIX_EPOCH + Duration::from_secs(1_795_666_917);
        assert_eq!(utc_date_time(later), "2026-11-26T04:21:57Z");
    }

    #[test]
    fn cpuinfo_and_meminfo_parse() {
        let cpuinfo = "processor\t: 0\nmodel name\t: AMD EPYC 9B14\nflags\t: fpu\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("AMD EPYC 9B14"));
        assert_eq!(cpu_model("nothing"), None);
        assert_eq!(
            total_memory("MemTotal:       24576000 kB\n").as_deref(),
            Some("23.4 GiB")
        );
    }
}
