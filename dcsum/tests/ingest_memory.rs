//! The streaming reader's memory does not grow with its input: the harness's counting allocator
//! (installed in this test binary only) measures the high-water mark of the live heap while
//! `ingest::fingerprint_reader` reads a generated list of millions of lines and a line of 100 MB,
//! against the simple reader on the same list (which holds every record, so the measurement is
//! seen to tell them apart).

use dcsum::ingest::{fingerprint_reader, Fold, Options};
use dcsum::input::{read_records, IdColumns};
use dispatcher_checksum::{DispatcherId, Fingerprint, StateSet};
use dispatcher_checksum_bench::memory::{peak_bytes_during, CountingAllocator};
use std::io::Read;
use std::sync::Mutex;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator::new();

/// The tests measure one at a time: the counters are process-wide.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Heap bytes at the high-water mark while `run` ran, above what was live when it started.
fn peak_during<R>(run: impl FnOnce() -> R) -> (R, usize) {
    let _guard = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    peak_bytes_during(&ALLOCATOR, run)
}

fn id(i: u64) -> DispatcherId {
    DispatcherId::new(i.wrapping_mul(0x9e37_79b9_7f4a_7c15), i ^ 0x5555_5555)
}

/// `lines` UUID lines, made as they are read: the input itself takes no memory.
struct UuidLines {
    next: u64,
    lines: u64,
    pending: Vec<u8>,
    at: usize,
}

impl UuidLines {
    fn new(lines: u64) -> UuidLines {
        UuidLines {
            next: 0,
            lines,
            pending: Vec::with_capacity(64),
            at: 0,
        }
    }
}

impl Read for UuidLines {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let mut written = 0;
        while written < buffer.len() {
            if self.at == self.pending.len() {
                if self.next == self.lines {
                    break;
                }
                self.pending.clear();
                self.pending
                    .extend_from_slice(format!("{}\n", id(self.next)).as_bytes());
                self.next += 1;
                self.at = 0;
            }
            let n = (self.pending.len() - self.at).min(buffer.len() - written);
            buffer[written..written + n].copy_from_slice(&self.pending[self.at..self.at + n]);
            self.at += n;
            written += n;
        }
        Ok(written)
    }
}

const MIB: usize = 1 << 20;

#[test]
fn millions_of_lines_in_constant_memory() {
    let lines = 3_000_000;
    let expected = Fingerprint::from_ids((0..lines).map(id));
    let (streamed, streaming_peak) = peak_during(|| {
        fingerprint_reader(
            UuidLines::new(lines),
            "generated",
            StateSet::ALL,
            Fold::AUTO,
            Options::default(),
        )
    });
    assert_eq!(streamed.expect("valid lines"), expected);
    // Three 2 MiB blocks, the columns of the chunks in flight, rayon's and the test's own.
    assert!(
        streaming_peak < 16 * MIB,
        "streaming peak {streaming_peak} bytes"
    );

    let (simple, simple_peak) = peak_during(|| {
        let records = read_records(std::io::BufReader::new(UuidLines::new(lines)), "generated")
            .expect("valid lines");
        IdColumns::from_records(&records).fingerprint(StateSet::ALL)
    });
    assert_eq!(simple, expected);
    // The simple reader keeps every record: at least 16 bytes per line.
    assert!(
        simple_peak > 16 * lines as usize,
        "simple peak {simple_peak} bytes"
    );
}

#[test]
fn a_100_mb_line_in_constant_memory() {
    let line = std::io::repeat(b'7').take(100 * MIB as u64);
    let input = b"1 2\n".chain(line).chain(&b"\n3 4\n"[..]);
    let (result, peak) = peak_during(|| {
        fingerprint_reader(
            input,
            "generated",
            StateSet::ALL,
            Fold::AUTO,
            Options::default(),
        )
    });
    let error = result.expect_err("line 2 is too long");
    assert_eq!(error.line, 2);
    assert!(
        error.message.starts_with("line too long (over "),
        "{}",
        error.message
    );
    assert!(peak < 16 * MIB, "peak {peak} bytes");
}

/// `dcsum fingerprint FILE` on a file larger than the 64 MB bound maps it in windows: its peak
/// resident set (what `/usr/bin/time -f %M` reports, mapped file pages included) stays under
/// 64 MB. Skipped where `/usr/bin/time` is missing.
#[test]
fn a_mapped_file_larger_than_the_bound_in_bounded_resident_memory() {
    let time = std::path::Path::new("/usr/bin/time");
    if !time.exists() || !cfg!(target_os = "linux") {
        eprintln!("skipped: no /usr/bin/time here");
        return;
    }
    let lines = 2_200_000; // 81 MB of UUID lines
    let path = std::env::temp_dir().join(format!("dcsum-mapped-rss-{}.txt", std::process::id()));
    {
        use std::io::Write;
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("writable"));
        for index in 0..lines {
            writeln!(file, "{}", id(index)).expect("writable");
        }
    }
    let expected = Fingerprint::from_ids((0..lines).map(id));
    let output = std::process::Command::new(time)
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_dcsum"))
        .arg("fingerprint")
        .arg(&path)
        .output()
        .expect("runs");
    let _ = std::fs::remove_file(&path);
    assert!(output.status.success(), "{output:?}");
    let printed: Fingerprint =
        serde_json::from_slice(&output.stdout).expect("one JSON fingerprint");
    assert_eq!(printed, expected);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let peak_kb: usize = stderr
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak in {stderr:?}"));
    assert!(peak_kb * 1024 < 64 * MIB, "peak resident {peak_kb} KB");
}
