//! What the measurements say the automatic choice's thresholds should be, and whether the
//! compiled choice is within 5% of the fastest kernel at every measured point.

use crate::measure::format_count;
use crate::rows::{ChoiceCheck, KernelRow, ParallelRow, ShortInputRow, Thresholds};
use dispatcher_checksum::{choose, Kernel};
/// The kernel names among `rows` that are real kernels (not ceilings, not `auto`).
fn is_kernel(name: &str) -> bool {
    Kernel::from_name(name).is_some()
}

pub(crate) fn choice_checks(rows: &[KernelRow]) -> Vec<ChoiceCheck> {
    let mut checks = Vec::new();
    let mut keys: Vec<(&'static str, usize)> = rows.iter().map(|r| (r.form, r.ids)).collect();
    keys.dedup();
    for (form, ids) in keys {
        let here: Vec<&KernelRow> = rows
            .iter()
            .filter(|r| r.form == form && r.ids == ids)
            .collect();
        let Some(fastest) = here
            .iter()
            .filter(|r| is_kernel(&r.kernel))
            .min_by(|a, b| a.time.min.total_cmp(&b.time.min))
        else {
            continue;
        };
        let Some(auto) = here.iter().find(|r| r.kernel == "auto") else {
            continue;
        };
        let ratio = auto.time.min / fastest.time.min;
        checks.push(ChoiceCheck {
            form,
            ids,
            chosen: choose::Plan::current()
                .decision_for(ids, form == "masked")
                .kernel
                .name()
                .to_string(),
            fastest: fastest.kernel.clone(),
            ratio,
            within_target: ratio <= 1.05,
        });
    }
    checks
}

/// The smallest size from which `wins` holds at every larger measured size.
fn crossover(points: &[(usize, bool)]) -> Option<usize> {
    let mut answer = None;
    for &(size, wins) in points.iter().rev() {
        if wins {
            answer = Some(size);
        } else {
            break;
        }
    }
    answer
}

pub(crate) fn thresholds(
    kernels: &[KernelRow],
    short_input: &[ShortInputRow],
    parallel: &[ParallelRow],
) -> Thresholds {
    let short = |masked: bool| {
        let points: Vec<(usize, bool)> = short_input
            .iter()
            .map(|r| {
                let (inline, cached) = if masked {
                    (&r.inline_scalar_masked, &r.cached_widest_masked)
                } else {
                    (&r.inline_scalar, &r.cached_widest)
                };
                (r.ids, cached.min < inline.min)
            })
            .collect();
        crossover(&points)
    };
    let short_input_ids = match (short(false), short(true)) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    };
    let threads = |masked: bool| {
        let points: Vec<(usize, bool)> = parallel
            .iter()
            .map(|r| {
                let (one, many) = if masked {
                    (&r.single_thread_masked, &r.forced_parallel_masked)
                } else {
                    (&r.single_thread, &r.forced_parallel)
                };
                (r.ids, many.min < one.min)
            })
            .collect();
        crossover(&points)
    };
    let parallel_min_ids = if rayon::current_num_threads() > 1 {
        match (threads(false), threads(true)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        }
    } else {
        None
    };
    let mut fastest_single_thread = Vec::new();
    let mut keys: Vec<(&'static str, usize)> = kernels.iter().map(|r| (r.form, r.ids)).collect();
    keys.dedup();
    for (form, ids) in keys {
        if let Some(best) = kernels
            .iter()
            .filter(|r| r.form == form && r.ids == ids)
            .filter(|r| Kernel::from_name(&r.kernel).is_some_and(Kernel::is_single_thread))
            .min_by(|a, b| a.time.min.total_cmp(&b.time.min))
        {
            fastest_single_thread.push(format!("{form}/{}: {}", format_count(ids), best.kernel));
        }
    }
    Thresholds {
        short_input_ids,
        parallel_min_ids,
        fastest_single_thread,
        compiled_short_input_ids: choose::SHORT_INPUT_IDS,
        compiled_parallel_min_ids: choose::PARALLEL_MIN_IDS,
        widest_single_thread: Kernel::widest_single_thread().name().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossover_needs_every_larger_size_to_win() {
        assert_eq!(crossover(&[(1, false), (2, true), (4, true)]), Some(2));
        assert_eq!(crossover(&[(1, true), (2, false), (4, true)]), Some(4));
        assert_eq!(crossover(&[(1, true), (2, true), (4, false)]), None);
        assert_eq!(crossover(&[]), None);
    }
}
