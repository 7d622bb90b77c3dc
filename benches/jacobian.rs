//! Exact Jacobian `J = W2·diag(relu′(W1·x + b1))·W1` (`Mlp::deriv`) and the deterministic MLP
//! theorem check with respect to `x` (`check::mlp_theorem`, inside `with_kernel_cache`), at the four sizes and two
//! weight kinds. Medians are what scripts/peers.sh compares with the peers; `BENCH_SIZES=2`
//! keeps only the first two sizes for a quick run.

#[path = "common/mod.rs"]
mod common;

use common::{case, cotangent, size_name, Weights, SIZES};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use exactgrad::check::mlp_theorem;
use exactgrad::scalar::with_kernel_cache;
use std::time::Duration;

fn sizes() -> &'static [(usize, usize, usize)] {
    let n = std::env::var("BENCH_SIZES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SIZES.len());
    &SIZES[..n.min(SIZES.len())]
}

fn jacobian(c: &mut Criterion) {
    let mut g = c.benchmark_group("jacobian");
    for &size in sizes() {
        for kind in [Weights::SmallFractions, Weights::ExactF64] {
            let (mlp, x) = case(size, kind);
            g.sample_size(if size.0 >= 784 { 10 } else { 20 });
            g.measurement_time(Duration::from_secs(if size.0 >= 784 { 8 } else { 3 }));
            g.bench_function(BenchmarkId::new(kind.case(), size_name(size)), |b| {
                b.iter(|| mlp.deriv(&x).expect("no kink"))
            });
        }
    }
    g.finish();
}

/// The deterministic check: one jet pass for the Jacobian and one for the kink radius, the
/// rules, adjointness and one exact increment (ten samples: about 0.7 s each at 784×512×10).
fn theorem(c: &mut Criterion) {
    let mut g = c.benchmark_group("theorem_wrt_x");
    for &size in sizes().iter() {
        for kind in [Weights::SmallFractions, Weights::ExactF64] {
            let (mlp, x) = case(size, kind);
            let dy = cotangent(size.2);
            g.sample_size(10);
            g.measurement_time(Duration::from_secs(if size.0 >= 64 { 8 } else { 3 }));
            g.bench_function(BenchmarkId::new(kind.case(), size_name(size)), |b| {
                b.iter(|| {
                    // One scope per run: the passes of one check share packed weights, runs
                    // share nothing.
                    with_kernel_cache(|| mlp_theorem(&mlp, &x, &dy))
                        .expect("the MLP's own rules are sound")
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, jacobian, theorem);
criterion_main!(benches);
