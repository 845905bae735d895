//! Scratch driver (not committed): medians of interleaved batches of the steady-state ops.
use dispatcher_checksum_bench::maintainer::SteadyState;
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes: Vec<usize> = args.get(1).map_or(vec![1_000_000], |s| {
        s.split(',').map(|x| x.parse().unwrap()).collect()
    });
    let reps: usize = args.get(2).map_or(15, |s| s.parse().unwrap());
    let ops: u64 = args.get(3).map_or(20_000, |s| s.parse().unwrap());
    for n in sizes {
        let mut steady = SteadyState::new(n);
        // Warm-up: a full pass over the ring for each op kind (bounded).
        let warm = (n as u64).min(200_000);
        steady.churn(warm);
        steady.moves(warm);
        let (mut add, mut remove, mut moved) = (vec![], vec![], vec![]);
        for _ in 0..reps {
            let (a, r) = steady.churn(ops);
            let m = steady.moves(ops);
            let per = |d: Duration| d.as_nanos() as f64 / ops as f64;
            add.push(per(a));
            remove.push(per(r));
            moved.push(per(m));
        }
        steady.check("scratch");
        let med = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            (v[v.len() / 4], v[v.len() / 2], v[3 * v.len() / 4])
        };
        let (a, r, m) = (med(&mut add), med(&mut remove), med(&mut moved));
        println!(
            "n={n}: add {:.1} [{:.1}..{:.1}]  remove {:.1} [{:.1}..{:.1}]  move {:.1} [{:.1}..{:.1}] ns/op",
            a.1, a.0, a.2, r.1, r.0, r.2, m.1, m.0, m.2
        );
    }
}
