//! What `check_op` costs for the exp/log ops over `Ex`: milliseconds per case at widths 4, 16
//! and 64, and for the ReLU classifier Linear(16→16) → ReLU → Linear(16→10) → CrossEntropy
//! (input and all 442 parameter gradients). Prints a markdown table; run by hand
//! (`cargo run --release --example exp_cost [CASES] [ROW-FILTER] [MAX-WIDTH]`, default 8 cases
//! per cell; the
//! axis ops at width 64 and the classifier run 1 case, which takes seconds to minutes).

use exactgrad::check::{check_op, CheckConfig};
use exactgrad::ops::{
    CrossEntropy, Elu, Exp, GeluTanh, Log, LogSoftmax, Reduction, Relu, Reshape, Sigmoid, Silu,
    Softmax, Softplus, Tanh,
};
use exactgrad::{strategy, Checkable, Compose};
use std::time::Instant;

/// Milliseconds per case of `check_op` on `op` at `shape`, or the error.
fn per_case<O: Checkable + ?Sized>(op: &O, shape: &[usize], cases: u32) -> String {
    let t = Instant::now();
    match check_op(op, shape, &CheckConfig::default().cases(cases)) {
        Ok(r) => format!(
            "{:.1}",
            t.elapsed().as_secs_f64() * 1000.0 / f64::from(r.cases.max(1))
        ),
        Err(f) => format!("failed: {}", f.error),
    }
}

fn main() {
    let cases: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let max_width: usize = std::env::args()
        .nth(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let widths: Vec<usize> = [4usize, 16, 64]
        .into_iter()
        .filter(|&w| w <= max_width)
        .collect();
    println!("check_op over Ex, {cases} cases per cell, default entries; ms per case");
    println!("| op | width 4 | width 16 | width 64 |");
    println!("|---|---|---|---|");
    let only = std::env::args().nth(2).unwrap_or_default();
    // A softmax lane of width 64 has a 64-term denominator, squared in its Jacobian: one case.
    let axis_cases = move |w: usize| if w >= 64 { 1 } else { cases };
    type Row = (&'static str, Box<dyn Fn(usize) -> String>);
    let rows: Vec<Row> = vec![
        (
            "Relu (over Q, for scale)",
            Box::new(move |w| per_case(&Relu, &[w], cases)),
        ),
        ("Exp", Box::new(move |w| per_case(&Exp, &[w], cases))),
        ("Log", Box::new(move |w| per_case(&Log, &[w], cases))),
        (
            "Sigmoid",
            Box::new(move |w| per_case(&Sigmoid, &[w], cases)),
        ),
        ("Tanh", Box::new(move |w| per_case(&Tanh, &[w], cases))),
        ("Silu", Box::new(move |w| per_case(&Silu, &[w], cases))),
        (
            "Softplus",
            Box::new(move |w| per_case(&Softplus::default(), &[w], cases)),
        ),
        (
            "Elu",
            Box::new(move |w| per_case(&Elu::default(), &[w], cases)),
        ),
        (
            "GeluTanh",
            Box::new(move |w| per_case(&GeluTanh, &[w], cases)),
        ),
        (
            "Softmax [1, w], dim 1",
            Box::new(move |w| per_case(&Softmax::new(1), &[1, w], cases)),
        ),
        (
            "LogSoftmax [1, w], dim 1",
            Box::new(move |w| per_case(&LogSoftmax::new(1), &[1, w], cases)),
        ),
        (
            "CrossEntropy [2, w], classes, mean",
            Box::new(move |w| {
                let ce = CrossEntropy::classes(vec![0, w - 1], Reduction::Mean).expect("valid");
                per_case(&ce, &[2, w], axis_cases(w))
            }),
        ),
    ];
    for (name, run) in rows
        .into_iter()
        .filter(|(name, _)| name.contains(only.as_str()))
    {
        let cells: Vec<String> = widths.iter().map(|&w| run(w)).collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
    let first = strategy::sample(strategy::linear(16, 16, strategy::small_q()), 1);
    let last = strategy::sample(strategy::linear(16, 10, strategy::small_q()), 2);
    let net = first
        .then(Relu)
        .then(last)
        .then(Reshape::new(vec![1, 10]))
        .then(CrossEntropy::classes(vec![3], Reduction::Mean).expect("class 3 of 10"));
    println!(
        "\nclassifier Linear(16→16) → ReLU → Linear(16→10) → CrossEntropy: {} ms per case",
        per_case(&net, &[16], 1)
    );
}
