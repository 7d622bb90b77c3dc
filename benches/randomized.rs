//! The randomized exact checks (64-bit integer probes, one dual-number pass; miss probability
//! `< 2⁻⁶²`) with respect to `x` (`randomized_jacobian`) and to `x` and all parameters
//! (`randomized_params`), at the four sizes and two weight kinds. The cost grows
//! linearly with the parameter count. The `modular_*` groups run the same checks modulo a random
//! prime behind a float filter (`check::modular_params`). `BENCH_SIZES=2` keeps only the first
//! two sizes.

#[path = "common/mod.rs"]
mod common;

use common::{case, size_name, Weights, SIZES};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use exactgrad::check::{modular_jacobian, modular_params, randomized_jacobian, randomized_params};
use std::time::Duration;

fn sizes() -> &'static [(usize, usize, usize)] {
    let n = std::env::var("BENCH_SIZES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SIZES.len());
    &SIZES[..n.min(SIZES.len())]
}

fn randomized(c: &mut Criterion) {
    for (group, all, modular) in [
        ("randomized_wrt_x", false, false),
        ("randomized_wrt_all", true, false),
        ("modular_wrt_x", false, true),
        ("modular_wrt_all", true, true),
    ] {
        let mut g = c.benchmark_group(group);
        for &size in sizes() {
            for kind in [Weights::SmallFractions, Weights::ExactF64] {
                let (mlp, x) = case(size, kind);
                g.sample_size(10);
                g.measurement_time(Duration::from_secs(if size.0 >= 784 { 10 } else { 3 }));
                g.bench_function(BenchmarkId::new(kind.case(), size_name(size)), |b| {
                    b.iter(|| {
                        match (all, modular) {
                            (true, false) => randomized_params(&mlp, &x, 42).map(|p| p.probes),
                            (false, false) => randomized_jacobian(&mlp, &x, 42).map(|p| p.probes),
                            (true, true) => modular_params(&mlp, &x, 42).map(|p| p.probes),
                            (false, true) => modular_jacobian(&mlp, &x, 42).map(|p| p.probes),
                        }
                        .expect("the MLP's own rules are sound")
                    })
                });
            }
        }
        g.finish();
    }
}

criterion_group!(benches, randomized);
criterion_main!(benches);
