//! Turns [`HeadlineResults`] into the committed report: `summary.md` (the headline tables and
//! charts), `kernels.md` (the evidence the automatic choice's thresholds cite), the SVG charts,
//! and `headline.json` (everything, machine-readable).

use super::svg::{Chart, Panel, Series};
use crate::measure::{format_count, format_seconds, Measurement};
use crate::rows::{HeadlineResults, KernelRow};
use dispatcher_checksum::Kernel;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The files [`write_report`] writes into the output directory.
pub const FILES: &[&str] = &[
    "summary.md",
    "performance.md",
    "kernels.md",
    "heartbeat.svg",
    "kernels-contiguous.svg",
    "kernels-masked.svg",
    "headline.json",
];

fn cell(m: &Measurement) -> String {
    m.display()
}

fn ratio(numerator: f64, denominator: f64) -> String {
    let r = numerator / denominator;
    if r >= 100.0 {
        format!("{r:.0}×")
    } else {
        format!("{r:.1}×")
    }
}

fn percent(fraction: f64) -> String {
    format!("{:.0}%", fraction * 100.0)
}

fn command(results: &HeadlineResults) -> &'static str {
    match results.profile {
        "quick" => "cargo run --release -- --quick",
        "default" => "cargo run --release",
        _ => "cargo run --release -- (custom --sizes/--threads)",
    }
}

/// The per-heartbeat table.
pub fn heartbeat_table(results: &HeadlineResults) -> String {
    let widest = &results.thresholds.widest_single_thread;
    let mut out = format!(
        "| dispatchers | recompute, std map | recompute, ahash map | columnar, 1 thread ({widest}) \
         | columnar, parallel | columnar, auto | incremental verify | map ÷ best columnar \
         | map ÷ incremental |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    for row in &results.heartbeat {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            format_count(row.dispatchers),
            cell(&row.recompute_std),
            cell(&row.recompute_ahash),
            cell(&row.columnar_single_thread),
            cell(&row.columnar_parallel),
            cell(&row.columnar_auto),
            cell(&row.incremental_verify),
            ratio(row.recompute_map_best(), row.columnar_best()),
            ratio(row.recompute_map_best(), row.incremental_verify.median),
        );
    }
    out
}

/// The churn-loop table.
pub fn churn_table(results: &HeadlineResults) -> String {
    let mut out = String::from(
        "| dispatchers | changes per interval | recompute, map | recompute, columnar | incremental \
         | map ÷ incremental |\n|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in &results.churn {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            format_count(row.dispatchers),
            row.changes,
            cell(&row.recompute_map),
            cell(&row.recompute_columnar),
            cell(&row.incremental),
            ratio(row.recompute_map.median, row.incremental.median),
        );
    }
    out
}

/// The per-heartbeat cost of each strategy against the reference (Go) program's: one row per
/// implementation, one column per N, and in parentheses how many times cheaper than the Go
/// `sync.Map` walk (the reference's shape) each row is. `None` when the Go program did not run.
pub fn go_heartbeat_table(results: &HeadlineResults) -> Option<String> {
    let go = results.go_reference.as_ref()?;
    let sizes: Vec<usize> = results.heartbeat.iter().map(|r| r.dispatchers).collect();
    let reference = |n: usize| go.heartbeat.iter().find(|g| g.dispatchers == n);
    let mut out = String::from("| per heartbeat (× = reference (Go) `sync.Map` ÷ this row) |");
    for &n in &sizes {
        let _ = write!(out, " {} |", format_count(n));
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(sizes.len()));
    out.push('\n');
    type Pick = fn(&crate::rows::HeartbeatRow, Option<&crate::rows::GoHeartbeatRow>) -> Option<f64>;
    let lines: [(&str, Pick); 6] = [
        (
            "**reference (Go)**: `sync.Map`, status under each dispatcher's lock",
            |_, go| go.map(|g| g.sync_map.median),
        ),
        (
            "reference (Go): plain map, status under each dispatcher's lock",
            |_, go| go.map(|g| g.plain_map.median),
        ),
        ("recompute, std map (Rust)", |r, _| {
            Some(r.recompute_std.median)
        }),
        ("recompute, ahash map (Rust)", |r, _| {
            Some(r.recompute_ahash.median)
        }),
        ("columnar, auto", |r, _| Some(r.columnar_auto.median)),
        ("incremental verify", |r, _| {
            Some(r.incremental_verify.median)
        }),
    ];
    for (index, (name, pick)) in lines.iter().enumerate() {
        let _ = write!(out, "| {name} |");
        for row in &results.heartbeat {
            let go_row = reference(row.dispatchers);
            let cell = match (pick(row, go_row), go_row) {
                (Some(time), _) if index == 0 => format_seconds(time),
                (Some(time), Some(g)) => {
                    format!(
                        "{} ({})",
                        format_seconds(time),
                        ratio(g.sync_map.median, time)
                    )
                }
                (Some(time), None) => format_seconds(time),
                (None, _) => "—".into(),
            };
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }
    Some(out)
}

/// The maintainer's per-dispatcher operations: this crate's tracker and, when it ran, the
/// reference (Go) program's maintainer, with how many times faster the tracker is.
pub fn maintainer_table(results: &HeadlineResults) -> String {
    let ours = &results.maintainer;
    let go = results
        .go_reference
        .as_ref()
        .and_then(|g| g.maintainer.as_ref());
    let mut out = String::from(
        "| per dispatcher (× = reference (Go) ÷ this crate) | move to another node | add | remove |\n\
         |---|---:|---:|---:|\n",
    );
    // `median ±spread`, and for this crate's row how many times faster than the Go row.
    let cell = |m: &Measurement, reference: Option<&Measurement>| {
        let time = format!(
            "{} ±{:.0}%",
            format_seconds(m.median),
            m.relative_spread() * 50.0
        );
        match reference {
            Some(r) => format!("{time} ({})", ratio(r.median, m.median)),
            None => time,
        }
    };
    let _ = writeln!(
        out,
        "| `ExpectedSetTracker` (this crate) | {} | {} | {} |",
        cell(&ours.move_one, go.map(|g| &g.move_one)),
        cell(&ours.add_one, go.map(|g| &g.add_one)),
        cell(&ours.remove_one, go.map(|g| &g.remove_one)),
    );
    if let Some(go) = go {
        let _ = writeln!(
            out,
            "| **reference (Go)**: dispatcher → node map, per-node checksum, seq and dirty \
             bookkeeping, one mutex | {} | {} | {} |",
            cell(&go.move_one, None),
            cell(&go.add_one, None),
            cell(&go.remove_one, None),
        );
    }
    if let Some(batched) = &ours.batched {
        let _ = write!(
            out,
            "\n| batched call, per ID (`ExpectedSetTracker`) | bootstrap: `reset_full` of all {} | \
             drain a node: {} removed in one call | refill it: {} added in one call | \
             rebalance: {} moved in one call |\n|---|---:|---:|---:|---:|\n\
             | median ns per ID | {:.0} | {:.0} | {:.0} | {:.0} |\n",
            format_count(batched.dispatchers),
            format_count(batched.drain_ids),
            format_count(batched.drain_ids),
            format_count(batched.rebalance_ids),
            batched.bootstrap_ns_per_id,
            batched.drain_ns_per_id,
            batched.refill_ns_per_id,
            batched.rebalance_ns_per_id,
        );
    }
    out
}

/// What the reference (Go) rows are and are not, or why they are missing.
pub fn go_reference_note(results: &HeadlineResults) -> String {
    let Some(go) = &results.go_reference else {
        return format!(
            "*No reference (Go) rows in this run: {}.*\n",
            results
                .go_reference_absent
                .as_deref()
                .unwrap_or("the Go program did not run")
                .trim_end_matches('.')
        );
    };
    let largest = go.heartbeat.iter().max_by_key(|g| g.dispatchers);
    let batches = largest.map_or(String::new(), |g| {
        format!(
            " (at {} its medians are over {} and {} walks)",
            format_count(g.dispatchers),
            g.sync_map.batches,
            g.plain_map.batches
        )
    });
    format!(
        "The **reference (Go)** rows are a different language and runtime, measured on the same \
         machine in the same run: `comparisons/go-reference/`, a Go program ({}, GOMAXPROCS {}) \
         written here from the reference pull request's description, not from its code, with the \
         reference's shape. Its node keeps dispatcher objects behind pointers in a `sync.Map` (and, \
         for comparison, a plain map), reads each status under the dispatcher's own mutex, skips \
         the three excluded states and adds the rest to the checksum; its maintainer keeps a \
         dispatcher → node map (string node IDs), per-node checksums and seq/dirty bookkeeping \
         behind one mutex. It walks the same generated set as the Rust rows, and every fingerprint \
         it printed was checked against the naive oracle before its times were accepted. It is \
         timed the same way (warm-up, calibrated batches, median), with fewer batches where one \
         walk takes seconds{batches}; its garbage collector is off while it times (nothing timed \
         allocates), which favours Go, and its dispatcher objects are smaller than the \
         reference's, so its walk is if anything cheaper than the real one. The ratios against it \
         compare implementations and runtimes as well as strategies: the plain-map row and the \
         Rust recompute rows show how much of the gap is `sync.Map`, locks and runtime, and how \
         much is the strategy.\n",
        go.go_version, go.gomaxprocs,
    )
}

fn rows_at<'a>(
    results: &'a HeadlineResults,
    form: &'a str,
    ids: usize,
) -> impl Iterator<Item = &'a KernelRow> {
    results
        .kernels
        .iter()
        .filter(move |r| r.form == form && r.ids == ids)
}

/// Each kernel's GB/s and share of the read ceiling at `ids`, both forms side by side.
pub fn ceiling_table(results: &HeadlineResults, ids: usize) -> String {
    let mut out = String::from(
        "| kernel | contiguous GB/s | of 1-thread ceiling | of all-threads ceiling | masked GB/s \
         | of 1-thread ceiling | of all-threads ceiling |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for contiguous in rows_at(results, "contiguous", ids) {
        let Some(masked) = rows_at(results, "masked", ids).find(|r| r.kernel == contiguous.kernel)
        else {
            continue;
        };
        let _ = writeln!(
            out,
            "| {} | {:.1} | {} | {} | {:.1} | {} | {} |",
            contiguous.kernel,
            contiguous.gigabytes_per_second,
            percent(contiguous.of_single_thread_ceiling),
            percent(contiguous.of_all_threads_ceiling),
            masked.gigabytes_per_second,
            percent(masked.of_single_thread_ceiling),
            percent(masked.of_all_threads_ceiling),
        );
    }
    out
}

/// What the ingestion rows measure, for the report's section.
const INGEST_METHOD: &str = "The streaming reader behind `dcsum fingerprint` \
(`dcsum/src/ingest.rs`: a regular file mapped in windows, parsed on both cores by the widest \
decoders the CPU runs, each chunk folded by the kernels and dropped) over a 1M-line list in a \
temporary file, read back from the page cache, beside a plain read of the same file in blocks of \
the reader's size into a page-aligned buffer (its ceiling, what `cat FILE > /dev/null` does; \
where a read lands moves its speed by up to seven times, see `docs/performance.md`) and the \
simple reader it \
replaced (`dcsum/src/input.rs`: every record collected, then the automatic kernel choice). Every \
fingerprint is checked against the naive oracle before it is timed; the three are timed \
interleaved. GB/s are 10^9 bytes of text per second.";

/// Reading ID lists as `dcsum fingerprint` does: the streaming reader against a plain read of
/// the same file (its ceiling) and against the simple reader it replaced.
pub fn ingest_table(results: &HeadlineResults) -> String {
    if results.ingest.is_empty() {
        return "*Not measured in this run.*\n".into();
    }
    let mut out = String::from(
        "| lines | form | file | plain read | streaming reader | simple reader | streaming GB/s \
         | of the plain read's speed | streaming ÷ simple |\n\
         |---:|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in &results.ingest {
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} MB | {} | {} | {} | {:.2} | {} | {} faster |",
            format_count(row.lines),
            row.form,
            row.bytes as f64 / 1e6,
            cell(&row.plain_read),
            cell(&row.streaming),
            cell(&row.simple),
            row.gigabytes_per_second(&row.streaming),
            percent(row.plain_read.median / row.streaming.median),
            ratio(row.simple.median, row.streaming.median),
        );
    }
    out
}

fn ingest_reading(results: &HeadlineResults) -> String {
    let forms: Vec<String> = results
        .ingest
        .iter()
        .map(|row| {
            format!(
                "{} {} lines ({:.1} MB) at {:.2} GB/s, {} of the speed of a plain read of the \
                 same file ({:.2} GB/s) and {} faster than the simple reader it replaced",
                format_count(row.lines),
                match row.form {
                    "uuid" => "UUID",
                    "high-low" => "`HIGH LOW`",
                    other => other,
                },
                row.bytes as f64 / 1e6,
                row.gigabytes_per_second(&row.streaming),
                percent(row.plain_read.median / row.streaming.median),
                row.gigabytes_per_second(&row.plain_read),
                ratio(row.simple.median, row.streaming.median),
            )
        })
        .collect();
    if forms.is_empty() {
        return String::new();
    }
    format!(
        "- **Reading ID lists.** `dcsum fingerprint` reads {}; it keeps only its windows and the \
         running fingerprint whatever the list's length.\n",
        forms.join("; ")
    )
}

fn kernel_sizes(results: &HeadlineResults) -> Vec<usize> {
    let mut sizes: Vec<usize> = results.kernels.iter().map(|r| r.ids).collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// The automatic choice against the fastest kernel at every size.
pub fn choice_table(results: &HeadlineResults) -> String {
    let mut out = String::from(
        "| form | IDs | automatic choice runs | fastest measured | auto ÷ fastest (best batches) | within 5% |\n\
         |---|---:|---|---|---:|---|\n",
    );
    for check in &results.choice {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.3} | {} |",
            check.form,
            format_count(check.ids),
            check.chosen,
            check.fastest,
            check.ratio,
            if check.within_target { "yes" } else { "**no**" },
        );
    }
    out
}

fn choice_verdict(results: &HeadlineResults) -> String {
    let total = results.choice.len();
    let within = results.choice.iter().filter(|c| c.within_target).count();
    let worst = results
        .choice
        .iter()
        .max_by(|a, b| a.ratio.total_cmp(&b.ratio));
    match worst {
        Some(worst) => format!(
            "The automatic choice is within 5% of the fastest kernel at {within} of {total} \
             size/form points (worst: {:.3}× at {} {}).",
            worst.ratio,
            worst.form,
            format_count(worst.ids)
        ),
        None => "No kernel sizes were measured.".into(),
    }
}

fn thresholds_text(results: &HeadlineResults) -> String {
    let t = &results.thresholds;
    let show = |value: Option<usize>| match value {
        Some(v) => format!("{v} IDs"),
        None => "none (never pays off in the measured range)".into(),
    };
    format!(
        "- widest single-thread kernel: `{}` (what the automatic choice runs per CPU family, and \
         why, is its plan: `dcsum kernels`); fastest measured single-thread kernel per size: {}\n- short-input bypass: measured crossover {} (compiled `SHORT_INPUT_IDS` = \
         {})\n- parallel threshold: measured crossover {} with {} rayon threads (compiled \
         `MIN_PARALLEL_IDS` = {})\n",
        t.widest_single_thread,
        t.fastest_single_thread.join(", "),
        show(t.short_input_ids),
        t.compiled_short_input_ids,
        show(t.parallel_min_ids),
        results.machine.rayon_threads,
        t.compiled_parallel_min_ids,
    )
}

const METHOD: &str = "Each routine first runs once and its fingerprint is compared with the naive \
oracle (outside the timed region); then it runs for a warm-up period, a batch size is chosen so \
a batch lasts a fixed time, and several batches are timed. Tables show the median per call and \
± half the interquartile range of the batches. Routines that are compared with one \
another (the kernels at one size, the columnar variants, the two maps) are timed interleaved, \
batch by batch, and decisions (the thresholds, the automatic-choice check) compare their fastest \
batches: on a shared machine noise only ever adds time. GB/s are 10^9 bytes per second of \
input (16 bytes per ID; 17 when masked, the state byte included). The read ceiling is an XOR of \
every input word as wide as the CPU allows (`src/report/ceiling.rs`), on one thread and on all \
of rayon's threads: no kernel can read its input faster.";

/// `summary.md`: the headline tables and charts.
pub fn summary_markdown(results: &HeadlineResults) -> String {
    let largest = kernel_sizes(results).last().copied().unwrap_or(0);
    let churn_n = results.churn.first().map_or(0, |r| r.dispatchers);
    let mut out = String::new();
    let _ = write!(
        out,
        "# What verifying a node's dispatcher set costs per heartbeat\n\n\
         Generated by `{}` ({} profile, {:.0} s). Kernel evidence behind the automatic choice: \
         [kernels.md](kernels.md); raw numbers: `headline.json`.\n\n## Machine\n\n{}\n\
         ## Per-heartbeat verification\n\nOne heartbeat's verification on a node holding N \
         dispatchers (97% in an included state). *Recompute* walks every dispatcher as the \
         reference node does, over a hash map of dispatcher objects or over a columnar ID + state \
         store with the masked kernel; *incremental* keeps the fingerprint up to date per \
         lifecycle event, so `verify` is a comparison.\n\n{}\n![per-heartbeat cost](heartbeat.svg)\
         \n\n### Against the reference (Go)\n\n{}\n{}\n## The whole loop under churn ({} \
         dispatchers)\n\nOne heartbeat interval: C \
         lifecycle changes (a quarter each: create, promote to Working, Working↔Stopped, remove) \
         applied to the node's dispatcher map and to the strategy's own bookkeeping, then the \
         heartbeat's verification.\n\n{}\n## The maintainer's bookkeeping ({} dispatchers over \
         {} nodes)\n\nOne `apply_delta` call per dispatcher: a move to another node (the old \
         owner's fingerprint loses it, the new one's gains it, both nodes' seq goes up and both \
         become dirty), an add of a new dispatcher, a remove; adds and removes alternate in \
         rounds of 1,000 so the map keeps its size.\n\n{}\n## Kernels against the memory-read ceiling ({} IDs)\n\n\
         Read ceiling: `{}` XOR, one thread and all threads.\n\n{}\n\
         ![contiguous kernels](kernels-contiguous.svg)\n![masked kernels](kernels-masked.svg)\n\n\
         ## Reading ID lists (`dcsum fingerprint`)\n\n{}\n\n{}\n\
         ## The automatic choice\n\n{}\n\n{}\n## Method\n\n{}\n",
        command(results),
        results.profile,
        results.elapsed_seconds,
        results.machine.markdown(),
        heartbeat_table(results),
        go_heartbeat_table(results).unwrap_or_default(),
        go_reference_note(results),
        format_count(churn_n),
        churn_table(results),
        format_count(results.maintainer.dispatchers),
        results.maintainer.nodes,
        maintainer_table(results),
        format_count(largest),
        results.ceiling_width,
        ceiling_table(results, largest),
        INGEST_METHOD,
        ingest_table(results),
        choice_verdict(results),
        thresholds_text(results),
        METHOD,
    );
    out
}

fn best_row<'a>(
    results: &'a HeadlineResults,
    form: &'a str,
    ids: usize,
    single_thread: bool,
) -> Option<&'a KernelRow> {
    rows_at(results, form, ids)
        .filter(|r| {
            Kernel::from_name(&r.kernel).is_some_and(|k| k.is_single_thread() == single_thread)
        })
        .max_by(|a, b| a.gigabytes_per_second.total_cmp(&b.gigabytes_per_second))
}

fn ceiling_reading(results: &HeadlineResults) -> String {
    let sizes = kernel_sizes(results);
    let (Some(&largest), Some(&smallest)) = (sizes.last(), sizes.first()) else {
        return String::new();
    };
    let mut out = String::new();
    for form in ["contiguous", "masked"] {
        let (Some(single), Some(ceiling)) = (
            best_row(results, form, largest, true),
            rows_at(results, form, largest).find(|r| r.kernel == "ceiling-1t"),
        ) else {
            continue;
        };
        let all = rows_at(results, form, largest).find(|r| r.kernel == "ceiling-all");
        let parallel = best_row(results, form, largest, false);
        let _ = write!(
            out,
            "- **{form}, {} IDs** (out of cache): the fastest single-thread kernel, `{}`, reads \
             {:.1} GB/s, {} of the single-thread read ceiling ({:.1} GB/s)",
            format_count(largest),
            single.kernel,
            single.gigabytes_per_second,
            percent(single.of_single_thread_ceiling),
            ceiling.gigabytes_per_second,
        );
        if let (Some(all), Some(parallel)) = (all, parallel) {
            let _ = write!(
                out,
                "; with all threads the ceiling is {:.1} GB/s and `{}` reaches {}",
                all.gigabytes_per_second,
                parallel.kernel,
                percent(parallel.of_all_threads_ceiling),
            );
        }
        out.push_str(".\n");
        if let (Some(small), Some(small_ceiling)) = (
            best_row(results, form, smallest, true),
            rows_at(results, form, smallest).find(|r| r.kernel == "ceiling-1t"),
        ) {
            let _ = writeln!(
                out,
                "  At {} IDs (in L1/L2) `{}` runs {:.0} GB/s against a {:.0} GB/s read: {}.",
                format_count(smallest),
                small.kernel,
                small.gigabytes_per_second,
                small_ceiling.gigabytes_per_second,
                percent(small.of_single_thread_ceiling),
            );
        }
    }
    out
}

fn growth_reading(results: &HeadlineResults) -> String {
    let (Some(first), Some(last)) = (results.heartbeat.first(), results.heartbeat.last()) else {
        return String::new();
    };
    let per = |seconds: f64, n: usize| seconds / n as f64 * 1e9;
    format!(
        "- **Recompute grows with N, and faster than N once the store leaves the cache.** The \
         hash-map walk costs {} at {} dispatchers and {} at {} ({:.1} ns then {:.1} ns per \
         dispatcher: every entry is a cache line or two of dispatcher object, so the walk is a \
         stream of cache misses). The columnar store with the masked kernel costs {} and {} \
         ({:.2} and {:.2} ns per dispatcher), {} to {} cheaper than the map walk; it reads 17 \
         bytes per dispatcher where the map walk touches its whole object.\n",
        format_seconds(first.recompute_map_best()),
        format_count(first.dispatchers),
        format_seconds(last.recompute_map_best()),
        format_count(last.dispatchers),
        per(first.recompute_map_best(), first.dispatchers),
        per(last.recompute_map_best(), last.dispatchers),
        format_seconds(first.columnar_best()),
        format_seconds(last.columnar_best()),
        per(first.columnar_best(), first.dispatchers),
        per(last.columnar_best(), last.dispatchers),
        ratio(first.recompute_map_best(), first.columnar_best()),
        ratio(last.recompute_map_best(), last.columnar_best()),
    )
}

fn go_reading(results: &HeadlineResults) -> String {
    let Some(go) = &results.go_reference else {
        return String::new();
    };
    // The largest N both sides measured.
    let Some((row, reference)) = results.heartbeat.iter().rev().find_map(|r| {
        Some((
            r,
            go.heartbeat
                .iter()
                .find(|g| g.dispatchers == r.dispatchers)?,
        ))
    }) else {
        return String::new();
    };
    let sync = reference.sync_map.median;
    let mut out = format!(
        "- **Against the reference's shape in Go** (another language and runtime, same machine, \
         same run, same dispatcher set): at {} dispatchers the Go `sync.Map` walk costs {} per \
         heartbeat and the same walk over a plain Go map {} (`sync.Map` alone makes it {} slower). \
         Against the `sync.Map` walk, the Rust map walk is {} cheaper, the columnar recompute {} \
         and the incremental `verify` {}.",
        format_count(row.dispatchers),
        format_seconds(sync),
        format_seconds(reference.plain_map.median),
        ratio(sync, reference.plain_map.median),
        ratio(sync, row.recompute_map_best()),
        ratio(sync, row.columnar_best()),
        ratio(sync, row.incremental_verify.median),
    );
    if let Some(m) = &go.maintainer {
        let ours = &results.maintainer;
        let _ = write!(
            out,
            " On the maintainer ({} dispatchers over {} nodes) the Go map-based move costs {} per \
             dispatcher, `ExpectedSetTracker`'s {} ({}).",
            format_count(m.dispatchers),
            m.nodes,
            format_seconds(m.move_one.median),
            format_seconds(ours.move_one.median),
            ratio(m.move_one.median, ours.move_one.median),
        );
    }
    out.push('\n');
    out
}

fn incremental_reading(results: &HeadlineResults) -> String {
    let verify: Vec<f64> = results
        .heartbeat
        .iter()
        .map(|r| r.incremental_verify.median)
        .collect();
    let (Some(low), Some(high)) = (
        verify.iter().copied().reduce(f64::min),
        verify.iter().copied().reduce(f64::max),
    ) else {
        return String::new();
    };
    let mut out = format!(
        "- **The incremental loop's `verify` does not depend on N**: {} to {} at every size \
         (one fingerprint comparison and the state bookkeeping).",
        format_seconds(low),
        format_seconds(high),
    );
    if let Some(busiest) = results.churn.iter().max_by_key(|r| r.changes) {
        if busiest.changes > 0 {
            let _ = write!(
                out,
                " Its cost moves to the lifecycle events: with {} changes per heartbeat interval \
                 on {} dispatchers the whole loop (events applied to the node's dispatcher map \
                 and to the actual set, then `verify`) costs {}, about {} per change, against {} \
                 for the map-walking loop ({}).",
                busiest.changes,
                format_count(busiest.dispatchers),
                format_seconds(busiest.incremental.median),
                format_seconds(busiest.incremental.median / busiest.changes as f64),
                format_seconds(busiest.recompute_map.median),
                ratio(busiest.recompute_map.median, busiest.incremental.median),
            );
        }
    }
    out.push('\n');
    out
}

/// `performance.md`: the README's Performance section, generated from the same results
/// (`scripts/readme` puts it into the README).
pub fn performance_markdown(results: &HeadlineResults) -> String {
    let largest = kernel_sizes(results).last().copied().unwrap_or(0);
    let churn_n = results.churn.first().map_or(0, |r| r.dispatchers);
    let m = &results.machine;
    format!(
        "## Performance\n\n\
         What verifying a node's dispatcher set costs per heartbeat, measured by the main job. \
         Regenerate every number, table and chart here with\n\n\
         ```sh\ncargo run --release            # about 4-5 minutes on 2 cores; --quick: ~30 s\n```\n\n\
         The reference (Go) rows add about a minute (ten seconds under `--quick`) when `go` is on \
         PATH; `--go-reference skip` leaves them out. \
         It writes `reports/summary.md`, `reports/kernels.md` (the evidence behind the automatic \
         choice), the SVG charts, `reports/headline.json`, and `reports/performance.md`: this section \
         up to the hand-written notes that follow it. These numbers: `{}` ({} profile) \
         on {} ({} logical CPUs, {}), {}, git {}, {}. Load average when the run started: {} \
         (a value near or above the CPU count means other work shared the machine: read the \
         ratios, not the third digit).\n\n\
         ### Per-heartbeat verification\n\n{}\n![per-heartbeat cost vs N](reports/heartbeat.svg)\n\n\
         ### Against the reference (Go)\n\n{}\n{}\n\
         ### The whole loop under churn ({} dispatchers)\n\n{}\n\
         ### The maintainer's bookkeeping ({} dispatchers over {} nodes)\n\n{}\n\
         ### Kernels against the memory-read ceiling ({} IDs)\n\n{}\n\
         ![contiguous kernels](reports/kernels-contiguous.svg)\n\
         ![masked kernels](reports/kernels-masked.svg)\n\n\
         ### Reading ID lists (`dcsum fingerprint`)\n\n{}\n\n{}\n\
         ### Reading\n\n{}{}{}{}{}- **The automatic choice.** {}\n\n{}\n\
         The criterion benches measure the same things with statistics and cover the rest of the \
         maintainer side: `cargo bench` runs `kernels`, `heartbeat`, `maintainer`, `memory` and \
         `ingest` at default sizes (`DCSUM_BENCH_SIZES=full` adds the long ones, \
         `DCSUM_BENCH_SIZES=1K,1M,100M` picks any).\n",
        command(results),
        results.profile,
        m.cpu_model,
        m.logical_cpus,
        m.memory,
        m.rustc,
        m.git_revision,
        m.date,
        m.load_average,
        heartbeat_table(results),
        go_heartbeat_table(results).unwrap_or_default(),
        go_reference_note(results),
        format_count(churn_n),
        churn_table(results),
        format_count(results.maintainer.dispatchers),
        results.maintainer.nodes,
        maintainer_table(results),
        format_count(largest),
        ceiling_table(results, largest),
        INGEST_METHOD,
        ingest_table(results),
        ceiling_reading(results),
        growth_reading(results),
        incremental_reading(results),
        go_reading(results),
        ingest_reading(results),
        choice_verdict(results),
        thresholds_text(results),
    )
}

fn kernel_size_table(results: &HeadlineResults, form: &str) -> String {
    let mut out = String::from(
        "| IDs | kernel | time per call | GB/s | of 1-thread ceiling | of all-threads ceiling |\n\
         |---:|---|---:|---:|---:|---:|\n",
    );
    for ids in kernel_sizes(results) {
        for row in rows_at(results, form, ids) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.2} | {} | {} |",
                format_count(ids),
                row.kernel,
                cell(&row.time),
                row.gigabytes_per_second,
                percent(row.of_single_thread_ceiling),
                percent(row.of_all_threads_ceiling),
            );
        }
    }
    out
}

/// The per-machine evidence the automatic choice's per-CPU-family preferences come from
/// (`src/choose/evidence.rs`), each file written by `dcsum kernels --ceiling .. --evidence`.
const PER_MACHINE_EVIDENCE: &str = "The automatic choice's per-CPU-family preferences \
     (`src/choose/evidence.rs`) come from these runs; each machine's file is written by \
     `cargo run --release -p dcsum -- kernels --ceiling 1000,16000,256000,1000000,4000000,16000000 \
     --evidence reports/kernel-evidence/<family>.md` on it:\n\n\
     - AMD Zen 4 (EPYC family 25 model 17, AVX-512 F/BW/VL/VBMI/VBMI2, VAES): \
     [kernel-evidence/zen4.md](kernel-evidence/zen4.md)\n\
     - AMD Zen 1 (EPYC, AVX2 only): this file as committed at 91e1966 (the main job of \
     2026-12-02; `git show 91e1966:reports/kernels.md`) and `docs/performance.md`\n\
     - Intel Sapphire Rapids (Xeon, AVX-512): issue 15's run at c8c2e15 (avx2 faster than the \
     then-generic avx512 masked loop at 5 of 6 sizes; contiguous avx512 0.97-1.03 of the ceiling \
     from 16K) and `docs/performance.md`; the mask-register avx512 kernel has not been run there \
     (llvm-mca estimates in `docs/kernels.md`)\n";

/// `kernels.md`: the evidence for the kernel order, the short-input bypass and the parallel
/// threshold, and the check of the automatic choice against the fastest kernel.
pub fn kernels_markdown(results: &HeadlineResults) -> String {
    let mut short = String::from(
        "| IDs | inline scalar | cached widest | masked: inline scalar | masked: cached widest \
         |\n\
         |---:|---:|---:|---:|---:|\n",
    );
    for row in &results.short_input {
        let _ = writeln!(
            short,
            "| {} | {} | {} | {} | {} |",
            row.ids,
            format_seconds(row.inline_scalar.min),
            format_seconds(row.cached_widest.min),
            format_seconds(row.inline_scalar_masked.min),
            format_seconds(row.cached_widest_masked.min),
        );
    }
    let mut threads = String::from(
        "| IDs | one thread | rayon (forced) | rayon ÷ one (best batches) | masked: one thread \
         | masked: rayon | rayon ÷ one (best batches) |\n|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in &results.parallel {
        let _ = writeln!(
            threads,
            "| {} | {} | {} | {:.2} | {} | {} | {:.2} |",
            row.ids,
            cell(&row.single_thread),
            cell(&row.forced_parallel),
            row.forced_parallel.min / row.single_thread.min,
            cell(&row.single_thread_masked),
            cell(&row.forced_parallel_masked),
            row.forced_parallel_masked.min / row.single_thread_masked.min,
        );
    }
    let mut out = String::new();
    let _ = write!(
        out,
        "# Kernel evidence for the automatic choice\n\n\
         Generated by `{}` ({} profile). The thresholds in `src/choose.rs` (`SHORT_INPUT_IDS`) \
         and `kernels/src/parallel.rs` (`MIN_PARALLEL_IDS`) and the per-CPU-family kernel \
         preferences in `src/choose/evidence.rs` cite this file and the evidence files below; \
         `cargo bench --bench kernels` re-checks the same comparisons with criterion.\n\n\
         ## Evidence per machine\n\n{}\n\
         ## Machine\n\n{}\n## Recommended thresholds\n\n{}\n\
         ## Decision 1: which single-thread kernel\n\nEvery kernel at every size, contiguous \
         and masked, with the read ceiling. `auto` is the automatic choice (`Fingerprint::of` / \
         `of_masked`).\n\n### Contiguous\n\n{}\n### Masked\n\n{}\n\
         ## Decision 2: the short-input bypass\n\nBelow `SHORT_INPUT_IDS` the automatic choice \
         calls the scalar loop directly instead of the cached widest kernel through its function \
         pointer. The crossover is the smallest length from which the cached kernel is faster at \
         every larger measured length. Times are each routine's fastest batch.\n\n{}\n\
         ## Decision 3: when rayon pays off\n\nThe widest single-thread kernel against the parallel \
         kernel with its threshold forced to zero (`parallel::fingerprint_with(.., 0)`), {} rayon \
         threads, {}-ID chunks. The crossover is the smallest length from which rayon is faster \
         at every larger measured length, contiguous and masked. One run measures one state of the \
         machine: whether rayon wins depends on the second core being free, so the compiled \
         threshold weighs several runs (loaded and idle); the reasoning is on \
         `kernels/src/parallel.rs` `MIN_PARALLEL_IDS`.\n\n{}\n\
         ## Check: the automatic choice against the fastest kernel\n\n{}\n\n{}\n",
        command(results),
        results.profile,
        PER_MACHINE_EVIDENCE,
        results.machine.markdown(),
        thresholds_text(results),
        kernel_size_table(results, "contiguous"),
        kernel_size_table(results, "masked"),
        short,
        results.machine.rayon_threads,
        dispatcher_checksum::kernels::parallel::CHUNK_IDS,
        threads,
        choice_verdict(results),
        choice_table(results),
    );
    out
}

fn size_format(x: f64) -> String {
    format_count(x.round() as usize)
}

fn seconds_format(y: f64) -> String {
    // Axis ticks are whole decades: `10 ns`, `1 µs`, not `10.0 ns`, `1.00 µs`.
    format_seconds(y).replace(".00 ", " ").replace(".0 ", " ")
}

fn gigabytes_format(y: f64) -> String {
    format!("{y:.0}")
}

/// Per-heartbeat cost against N on log-log axes, one line per strategy.
pub fn heartbeat_chart(results: &HeadlineResults) -> Chart {
    type Pick = fn(&crate::rows::HeartbeatRow) -> f64;
    let lines: [(&str, Pick); 6] = [
        ("recompute, std map", |r| r.recompute_std.median),
        ("recompute, ahash map", |r| r.recompute_ahash.median),
        ("columnar, 1 thread", |r| r.columnar_single_thread.median),
        ("columnar, parallel", |r| r.columnar_parallel.median),
        ("columnar, auto", |r| r.columnar_auto.median),
        ("incremental verify", |r| r.incremental_verify.median),
    ];
    let mut series: Vec<Series> = lines
        .iter()
        .map(|(name, pick)| Series {
            name: (*name).into(),
            points: results
                .heartbeat
                .iter()
                .map(|row| (row.dispatchers as f64, pick(row)))
                .collect(),
            dashed: false,
        })
        .collect();
    // The Go program's walks, dashed: another language and runtime (see the report's note).
    if let Some(go) = &results.go_reference {
        type GoPick = fn(&crate::rows::GoHeartbeatRow) -> f64;
        let go_lines: [(&str, GoPick); 2] = [
            ("Go reference, sync.Map", |g| g.sync_map.median),
            ("Go reference, plain map", |g| g.plain_map.median),
        ];
        series.extend(go_lines.iter().map(|(name, pick)| {
            Series {
                name: (*name).into(),
                points: go
                    .heartbeat
                    .iter()
                    .map(|g| (g.dispatchers as f64, pick(g)))
                    .collect(),
                dashed: true,
            }
        }));
    }
    Chart {
        title: "Per-heartbeat verification cost".into(),
        x_label: "dispatchers on the node".into(),
        y_label: "time per heartbeat".into(),
        x_log: true,
        y_log: true,
        x_format: size_format,
        y_format: seconds_format,
        panels: vec![Panel::untitled(series)],
        columns: 1,
    }
}

/// Kernel throughput against size for one form, with both read ceilings dashed.
pub fn kernel_chart(results: &HeadlineResults, form: &str) -> Chart {
    let mut names: Vec<String> = Kernel::all().iter().map(|k| k.name().to_string()).collect();
    names.extend(["auto", "ceiling-1t", "ceiling-all"].map(String::from));
    let series = names
        .iter()
        .filter_map(|name| {
            let points: Vec<(f64, f64)> = results
                .kernels
                .iter()
                .filter(|r| r.form == form && &r.kernel == name)
                .map(|r| (r.ids as f64, r.gigabytes_per_second))
                .collect();
            (!points.is_empty()).then(|| Series {
                name: match name.as_str() {
                    "ceiling-1t" => "read ceiling, 1 thread".into(),
                    "ceiling-all" => "read ceiling, all threads".into(),
                    other => other.into(),
                },
                points,
                dashed: name.starts_with("ceiling"),
            })
        })
        .collect();
    Chart {
        title: format!("Kernel throughput, {form} input"),
        x_label: "IDs per call".into(),
        y_label: "GB/s of input".into(),
        x_log: true,
        y_log: false,
        x_format: size_format,
        y_format: gigabytes_format,
        panels: vec![Panel::untitled(series)],
        columns: 1,
    }
}

/// Writes every file of [`FILES`] into `dir` (created if missing); returns their paths.
pub fn write_report(results: &HeadlineResults, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(results).map_err(std::io::Error::other)?;
    let contents = [
        summary_markdown(results),
        performance_markdown(results),
        kernels_markdown(results),
        heartbeat_chart(results).render(),
        kernel_chart(results, "contiguous").render(),
        kernel_chart(results, "masked").render(),
        json + "\n",
    ];
    FILES
        .iter()
        .zip(contents)
        .map(|(name, text)| {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|error| {
                std::io::Error::new(error.kind(), format!("{}: {error}", path.display()))
            })?;
            Ok(path)
        })
        .collect()
}
