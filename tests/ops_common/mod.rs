//! Shared machinery of the op test files (tests/ops_*.rs): the property-test driver, inputs
//! nudged off kinks, and a macro that plants a wrong rule into a correct op.
#![allow(dead_code)] // each test file uses its own subset

use exactgrad::check::{adjoint, fderiv, jacobian, no_kinks};
use exactgrad::ops::{param_vector, OpSpec, WrtParams};
use exactgrad::{Dual, Error, Jet, Tensor, Q};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// Proptest cases per property: 100 by default (the whole suite stays within minutes), or
/// `PROPTEST_CASES`.
pub fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    ProptestConfig::with_cases(cases)
}

/// A pool of exact values from which tangents of any (small) shape are cut.
pub fn pool() -> impl Strategy<Value = Vec<Q>> {
    proptest::collection::vec(exactgrad::strategy::any_q(), 128)
}

/// The first `shape.product()` values of `pool` as a tensor of `shape`.
pub fn cut(pool: &[Q], shape: &[usize]) -> Tensor<Q> {
    let n: usize = shape.iter().product();
    assert!(
        n <= pool.len(),
        "pool of {} too small for {shape:?}",
        pool.len()
    );
    Tensor::new(shape.to_vec(), pool[..n].to_vec()).expect("length matches")
}

/// Moves `x` off every kink of `op`: an input coordinate named by a zero guard is shifted by a
/// small fraction, until no guard is zero (all these ops guard at input coordinates).
pub fn away_from_kinks<O: OpSpec<Q>>(op: &O, x: Tensor<Q>) -> Tensor<Q> {
    let mut x = x;
    for attempt in 1..=64i64 {
        match no_kinks(op, &x) {
            Err(Error::Kink { coordinate, .. }) => {
                let k = x
                    .offset(&coordinate)
                    .expect("guards name input coordinates");
                let mut data = x.to_vec();
                data[k] = &data[k] + Q::new(1.into(), (attempt + 2).into());
                x = Tensor::new(x.shape().to_vec(), data).expect("same shape");
            }
            _ => return x,
        }
    }
    x
}

/// Every exact check that applies to `op` at `x`: adjoint, the dual-number Jacobian, and fderiv
/// when the op is piecewise linear.
pub fn check_op<O>(op: &O, x: &Tensor<Q>, pool_dx: &[Q], pool_dy: &[Q]) -> Result<(), TestCaseError>
where
    O: OpSpec<Q> + OpSpec<Dual<Q>> + OpSpec<Jet<Q>>,
{
    let out = op.output_shape(x.shape()).map_err(fail)?;
    let (dx, dy) = (cut(pool_dx, x.shape()), cut(pool_dy, &out));
    adjoint(op, x, &dx, &dy).map_err(fail)?;
    jacobian(op, x, &dx, &dy).map_err(fail)?;
    if op.is_piecewise_linear() {
        fderiv(op, x, &dy).map_err(fail)?;
    }
    Ok(())
}

/// The same checks for `op` as a function of its parameters at input `x`.
pub fn check_params<O>(
    op: &O,
    x: &Tensor<Q>,
    pool_dp: &[Q],
    pool_dy: &[Q],
) -> Result<(), TestCaseError>
where
    O: OpSpec<Q> + OpSpec<Dual<Q>> + OpSpec<Jet<Q>>,
{
    let wrt = WrtParams::new(op, x.clone());
    let theta: Tensor<Q> = param_vector(&op);
    let out = op.output_shape(x.shape()).map_err(fail)?;
    let (dp, dy) = (cut(pool_dp, theta.shape()), cut(pool_dy, &out));
    adjoint(&wrt, &theta, &dp, &dy).map_err(fail)?;
    jacobian(&wrt, &theta, &dp, &dy).map_err(fail)?;
    Ok(())
}

pub fn fail(e: Error) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// Parses exact literals into a tensor of `shape`.
pub fn t(shape: &[usize], values: &[&str]) -> Tensor<Q> {
    Tensor::parse(shape.to_vec(), values).expect("valid literals")
}

/// The counterexample of a violated check, or a panic saying what came back instead.
pub fn counterexample<T: std::fmt::Debug>(r: exactgrad::Result<T>) -> exactgrad::Counterexample {
    match r {
        Err(Error::Violated(c)) => *c,
        other => panic!("expected a counterexample, got {other:?}"),
    }
}

/// Asserts the exact fields of a counterexample: check, coordinate, rule, reference, difference.
pub fn assert_counterexample(
    c: &exactgrad::Counterexample,
    check: &str,
    coordinate: &[usize],
    rule: &str,
    reference: &str,
    difference: &str,
) {
    assert_eq!(
        (
            c.check.as_str(),
            c.coordinate.as_slice(),
            c.rule.as_str(),
            c.reference.as_str(),
            c.difference.as_str()
        ),
        (check, coordinate, rule, reference, difference),
        "full counterexample: {c}"
    );
}

/// The check name of a wrong VJP caught by [`jacobian`].
pub const VJP: &str = "jacobian: vjp(x, δ) = Jᵀ·δ";
/// The check name of a wrong JVP caught by [`jacobian`].
pub const JVP: &str = "jacobian: jvp(x, dx) = J·dx";

/// `planted!(Name(Inner), fn vjp(&op, x, dy) { … })` defines `Name(Inner)`, which behaves exactly
/// like the correct op `Inner` except for the one rule given (a wrong `vjp` or `jvp`; `op` is the
/// inner op), generic over the scalar so the checks can run it over `Q` and `Dual<Q>`.
#[macro_export]
macro_rules! planted {
    ($name:ident($inner:ty), fn $rule:ident(&$this:ident, $x:ident, $t:ident) $body:block) => {
        struct $name($inner);
        impl exactgrad::Op for $name {
            fn name(&self) -> String {
                format!("planted {}", exactgrad::Op::name(&self.0))
            }
            fn output_shape(&self, input: &[usize]) -> exactgrad::Result<Vec<usize>> {
                exactgrad::Op::output_shape(&self.0, input)
            }
            fn is_piecewise_linear(&self) -> bool {
                exactgrad::Op::is_piecewise_linear(&self.0)
            }
        }
        impl<S: exactgrad::Scalar> exactgrad::OpSpec<S> for $name
        where
            $inner: exactgrad::OpSpec<S>,
        {
            fn forward(&self, x: &exactgrad::Tensor<S>) -> exactgrad::Result<exactgrad::Tensor<S>> {
                self.0.forward(x)
            }
            fn jvp(
                &self,
                x: &exactgrad::Tensor<S>,
                dx: &exactgrad::Tensor<S>,
            ) -> exactgrad::Result<exactgrad::Tensor<S>> {
                $crate::planted!(@pick jvp $rule self x dx, { let ($this, $x, $t) = (&self.0, x, dx); $body })
            }
            fn vjp(
                &self,
                x: &exactgrad::Tensor<S>,
                dy: &exactgrad::Tensor<S>,
            ) -> exactgrad::Result<exactgrad::Tensor<S>> {
                $crate::planted!(@pick vjp $rule self x dy, { let ($this, $x, $t) = (&self.0, x, dy); $body })
            }
            fn guards(
                &self,
                x: &exactgrad::Tensor<S>,
            ) -> exactgrad::Result<Vec<exactgrad::ops::Guard<S>>> {
                self.0.guards(x)
            }
        }
    };
    (@pick jvp jvp $s:ident $x:ident $t:ident, $body:block) => { $body };
    (@pick vjp vjp $s:ident $x:ident $t:ident, $body:block) => { $body };
    (@pick jvp vjp $s:ident $x:ident $t:ident, $body:block) => { $s.0.jvp($x, $t) };
    (@pick vjp jvp $s:ident $x:ident $t:ident, $body:block) => { $s.0.vjp($x, $t) };
}
