//! Exact vs float: the same op and rules checked by a float finite-difference checker (written
//! over `f64` as the scalar, with PyTorch `gradcheck`'s defaults) and by exactgrad's exact
//! checks, side by side.
//!
//! * a **wrong** rule — the VJP off by a relative error of 1e-9 — at a point far from kinks;
//! * the **correct** rule at a point 1e-12 from a ReLU kink.
//!
//! Run with `cargo run --release --example exact_vs_float`. Every verdict printed is computed
//! here; nothing is hard-coded.

use exactgrad::check::{check_at, kink_radius, CheckConfig};
use exactgrad::ops::{Linear, Relu, Then};
use exactgrad::{Compose, Op, OpSpec, Result, Scalar, Tensor, Q};

/// gradcheck's defaults.
const EPS: f64 = 1e-6;
const ATOL: f64 = 1e-5;
const RTOL: f64 = 1e-3;

/// `ReLU >>> Linear(3→2)`, with its own rules, or with the VJP scaled by `1 + 1e-9`.
struct Net {
    inner: Then<Relu, Linear>,
    wrong: bool,
}

impl Op for Net {
    fn name(&self) -> String {
        let tag = if self.wrong {
            " (vjp × (1 + 1e-9))"
        } else {
            ""
        };
        format!("{}{tag}", self.inner.name())
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.inner.output_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
    fn depth(&self) -> usize {
        self.inner.depth()
    }
}

impl<S: Scalar> OpSpec<S> for Net {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.inner.forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.inner.jvp(x, dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let v = self.inner.vjp(x, dy)?;
        if !self.wrong {
            return Ok(v);
        }
        let tiny = S::one()
            .checked_div(&S::from_i64(1_000_000_000))
            .expect("non-zero");
        Ok(v.scale(&S::one().add_ref(&tiny)))
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<exactgrad::ops::Guard<S>>> {
        self.inner.guards(x)
    }
}

fn net(wrong: bool) -> Net {
    let layer = Linear::new(
        Tensor::parse(vec![2, 3], &["1", "-2", "3/2", "1/2", "1", "-1"]).unwrap(),
        Tensor::parse(vec![2], &["1/4", "-1"]).unwrap(),
    )
    .unwrap();
    Net {
        inner: Relu.then(layer),
        wrong,
    }
}

/// The float verdict: gradcheck's test, written over `f64`. The numerical Jacobian by central
/// differences `(f(x + ε·e_j) − f(x − ε·e_j)) / 2ε`, the analytical one row by row from
/// `vjp(x, e_i)`, and every entry must satisfy `|a − n| ≤ atol + rtol·|n|`.
/// Returns whether it passes, and the entry `(i, j, analytical, numerical)` with the largest
/// `|a − n|`.
fn float_gradcheck(op: &Net, x: &[f64]) -> (bool, (usize, usize, f64, f64)) {
    let n = x.len();
    let xt = Tensor::from_vec(x.to_vec());
    let m = OpSpec::<f64>::forward(op, &xt).unwrap().len();
    let mut pass = true;
    let mut worst = (0, 0, 0.0, 0.0);
    let mut worst_gap = f64::NEG_INFINITY;
    for i in 0..m {
        let row = op.vjp(&xt, &Tensor::basis(&[m], i).unwrap()).unwrap();
        for j in 0..n {
            let shifted = |s: f64| {
                let mut v = x.to_vec();
                v[j] += s;
                OpSpec::<f64>::forward(op, &Tensor::from_vec(v))
                    .unwrap()
                    .data()[i]
            };
            let numerical = (shifted(EPS) - shifted(-EPS)) / (2.0 * EPS);
            let analytical = row.data()[j];
            let gap = (analytical - numerical).abs();
            if gap > ATOL + RTOL * numerical.abs() {
                pass = false;
            }
            if gap > worst_gap {
                worst_gap = gap;
                worst = (i, j, analytical, numerical);
            }
        }
    }
    (pass, worst)
}

/// The exact verdict: the one-call checker at the point (random tangents and cotangents,
/// 256 cases), with the point's kink radius.
fn exact_check(op: &Net, x: &[f64]) -> (bool, String) {
    let xq = Tensor::from_f64_exact(vec![x.len()], x).unwrap();
    let radius = kink_radius(op, &xq).unwrap();
    let rho = radius.radius.map_or("∞".into(), |r: Q| {
        let approx = num_traits::ToPrimitive::to_f64(&r).unwrap();
        format!("{r} ≈ {approx:e}")
    });
    match check_at(op, &xq, &CheckConfig::default()) {
        Ok(report) => (
            true,
            format!(
                "PASS: {} cases exact; exact kink radius ρ = {rho}: the derivative exists",
                report.cases
            ),
        ),
        Err(failure) => {
            let detail = match failure.counterexample() {
                Some(c) => format!(
                    "FAIL: {} at {:?}: rule {} vs reference {} (difference {})",
                    c.check, c.coordinate, c.rule, c.reference, c.difference
                ),
                None => format!("FAIL: {}", failure.error),
            };
            (false, detail)
        }
    }
}

fn main() {
    let far = [0.75, -0.5, 1.25];
    let near = [1e-12, -0.5, 1.25];
    let rows = [
        (
            "wrong rule (vjp rel. error 1e-9), far from kinks",
            net(true),
            far,
        ),
        (
            "correct rule, x₀ = 1e-12 from the ReLU kink",
            net(false),
            near,
        ),
        ("correct rule, far from kinks", net(false), far),
        (
            "wrong rule (vjp rel. error 1e-9), x₀ = 1e-12",
            net(true),
            near,
        ),
    ];
    println!("op: {}", net(false).name());
    println!(
        "float check: central differences over f64, eps {EPS:e}, atol {ATOL:e}, rtol {RTOL:e} \
         (gradcheck's defaults)"
    );
    println!("exact check: exactgrad::check::check_at over Q (the f64 point taken exactly)\n");
    let mut verdicts = Vec::new();
    for (what, op, x) in &rows {
        let (float_ok, (i, j, a, n)) = float_gradcheck(op, x);
        let (exact_ok, exact) = exact_check(op, x);
        let truth = !op.wrong;
        println!("{what}  (x = {x:?})");
        println!(
            "  float: {}  largest gap: entry ({i}, {j}), analytical {a:.12}, numerical \
             {n:.12}, |a − n| = {:.1e} vs allowed {:.1e}",
            if float_ok { "PASS" } else { "FAIL" },
            (a - n).abs(),
            ATOL + RTOL * n.abs()
        );
        if op.wrong && !float_ok && !float_gradcheck(&net(false), x).0 {
            println!(
                "         (the correct rule fails here too: the float check sees the kink, not \
                 the 1e-9 error)"
            );
        }
        println!("  exact: {exact}");
        println!(
            "  right verdict? float {}, exact {}\n",
            if float_ok == truth { "yes" } else { "NO" },
            if exact_ok == truth { "yes" } else { "NO" }
        );
        verdicts.push((float_ok == truth, exact_ok == truth));
    }
    let float_right = verdicts.iter().filter(|v| v.0).count();
    let exact_right = verdicts.iter().filter(|v| v.1).count();
    println!(
        "right verdicts: float {float_right}/{}, exact {exact_right}/{}",
        verdicts.len(),
        verdicts.len()
    );
}
