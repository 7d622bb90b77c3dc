//! Per-case time of `check_op` at three widths, with the default entries and with small
//! fractions only: `cargo run --release --example check_sizes [CASES] [WIDTHS]` (default 4 cases
//! at widths `16,64,128`).
//!
//! Two ops with float-valued weights (exact dyadic rationals, as a float model's weights are),
//! checked w.r.t. their input and all their parameters: Linear(n → n/2) → ReLU, and a bilinear
//! gate Linear(n → n) → split in halves → product (`a ⊙ b`, GLU without the sigmoid).

use exactgrad::check::{check_op, CheckConfig};
use exactgrad::ops::{Linear, Mul, Relu, Reshape};
use exactgrad::strategy::{f64_q, linear, sample, small_q};
use exactgrad::{Checkable, Compose};
use std::time::Instant;

fn main() {
    let cases: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(4);
    let widths: Vec<usize> = std::env::args()
        .nth(2)
        .map(|a| a.split(',').filter_map(|w| w.parse().ok()).collect())
        .unwrap_or_else(|| vec![16, 64, 128]);
    println!("| op | parameters | default entries, s/case | small fractions only, s/case |");
    println!("|---|---|---|---|");
    for n in widths {
        let layer: Linear = sample(linear(n, n / 2, f64_q()), n as u64);
        row(
            &format!("Linear({n}→{}) → ReLU", n / 2),
            &layer.then(Relu),
            n,
            cases,
        );
        let layer: Linear = sample(linear(n, n, f64_q()), n as u64 + 1);
        let gate = layer.then(Reshape::new(vec![2, n / 2])).then(Mul);
        row(&format!("gate Linear({n}→{n}) → a ⊙ b"), &gate, n, cases);
    }
}

fn row(name: &str, op: &dyn Checkable, n: usize, cases: u32) {
    let time = |config: CheckConfig| {
        let start = Instant::now();
        let report = check_op(&op, &[n], &config.cases(cases).steered_cases(0))
            .unwrap_or_else(|f| panic!("{f}"));
        start.elapsed().as_secs_f64() / f64::from(report.cases)
    };
    let default = time(CheckConfig::default());
    let small = time(CheckConfig::default().elements(small_q()));
    println!(
        "| {name} | {} | {default:.3} | {small:.3} |",
        op.param_count()
    );
}
