//! Helpers shared by the ops' test modules: exact literals, the case counts, the assertions on a
//! passing report and on a planted bug's exact counterexample, and the evaluation over `Sym` that
//! shows an op chooses its pieces through `select` instead of branching on a sign.

use crate::check::{check_at, check_op, default_elements, CheckConfig, CheckReport, Checkable};
use crate::error::{Counterexample, Error};
use crate::ops::{param_vector, OpSpec, WrtParams};
use crate::scalar::symbols::{self, Refusal};
use crate::scalar::{Dual, Sym, Q};
use crate::tensor::Tensor;
use num_traits::Zero;
use proptest::prelude::*;

/// The check name of a wrong VJP caught against the dual-number Jacobian.
pub const VJP: &str = "jacobian: vjp(x, δ) = Jᵀ·δ";
/// The check name of a wrong JVP caught against the dual-number Jacobian.
pub const JVP: &str = "jacobian: jvp(x, dx) = J·dx";

/// Parses exact literals into a tensor of `shape`.
pub fn t(shape: &[usize], literals: &[&str]) -> Tensor<Q> {
    Tensor::parse(shape.to_vec(), literals).expect("valid literals")
}

/// An exact literal.
pub fn q(literal: &str) -> Q {
    crate::scalar::parse_q(literal).expect("a valid literal")
}

/// `n` cases for a correct op, or `PROPTEST_CASES` when it is set (the long run scales up).
pub fn cases(n: u32) -> CheckConfig {
    if std::env::var_os("PROPTEST_CASES").is_some() {
        CheckConfig::default()
    } else {
        CheckConfig::default().cases(n)
    }
}

/// [`cases`] with entries never zero (ops with a pole at 0).
pub fn nonzero_cases(n: u32) -> CheckConfig {
    cases(n).elements(default_elements().prop_filter("a pole at 0", |v| !v.is_zero()))
}

/// The fixed configuration of every planted-bug test: the counterexample depends on it only.
pub fn fixed() -> CheckConfig {
    CheckConfig::default().cases(32)
}

/// Asserts that a correct op's report ran every check, `fderiv` included when the op is
/// piecewise linear, and the parameter checks when it has parameters.
#[track_caller]
pub fn assert_passes(report: &CheckReport, piecewise_linear: bool) {
    assert!(report.cases > 0, "{report}");
    let mut expected = vec![
        "structural: vjp(x, 0) = 0 and jvp(x, 0) = 0",
        "structural: forward, jvp, vjp run twice give identical values",
        "structural: rules ignore state left by forward at another point x′ and by the order of \
         calls",
        "structural: jvp linear in dx, vjp linear in δ",
        "jacobian: jvp(x, dx) = J·dx, vjp(x, δ) = Jᵀ·δ (J by dual numbers)",
    ];
    // Over Ex the adjoint identity follows from the Jacobian check and is not formed.
    let cheap_sums = report.scalar == "Q";
    if cheap_sums {
        expected.push("adjoint: ⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫");
    }
    if piecewise_linear {
        expected.push("fderiv: exact increment in the kink-free box, vjp = Df(x)ᵀ·δ");
    }
    if !report.parameters.is_empty() {
        expected.extend([
            "parameters, structural: vjp_params(x, 0) = 0, jvp_params(x, 0) = 0, deterministic, \
             linear in dθ and δ",
            "parameters, jacobian: jvp_params(x, dθ) = J_θ·dθ, vjp_params(x, δ) = J_θᵀ·δ (J_θ by \
             dual numbers through forward_with_params)",
        ]);
        if cheap_sums {
            expected.push("parameters, adjoint: ⟪jvp_params(x, dθ), δ⟫ = ⟪dθ, vjp_params(x, δ)⟫");
        }
    }
    assert_eq!(report.checks, expected, "{report}");
}

/// The op as a function of its parameters, at input `x`, passes every check (`n` cases of
/// tangents and cotangents).
#[track_caller]
pub fn assert_params_pass<O: Checkable + ?Sized>(op: &O, x: Tensor<Q>, n: u32) {
    let theta: Tensor<Q> = param_vector(op);
    match check_at(&WrtParams::new(op, x), &theta, &cases(n)) {
        Ok(report) => assert!(report.cases > 0, "{report}"),
        Err(failure) => panic!("{failure}"),
    }
}

/// The exact counterexample by which [`check_op`] (with [`fixed`]) rejects a planted bug.
#[track_caller]
pub fn caught<O: Checkable + ?Sized>(op: &O, shape: &[usize]) -> Counterexample {
    counterexample(check_op(op, shape, &fixed()))
}

/// [`caught`] with a configuration of its own (entries, seed).
#[track_caller]
pub fn caught_with<O: Checkable + ?Sized>(
    op: &O,
    shape: &[usize],
    config: &CheckConfig,
) -> Counterexample {
    counterexample(check_op(op, shape, config))
}

/// The exact counterexample by which [`check_at`] rejects a planted parameter rule: `op` as a
/// function of its parameters at input `x`.
#[track_caller]
pub fn caught_params<O: Checkable + ?Sized>(op: &O, x: Tensor<Q>) -> Counterexample {
    let theta: Tensor<Q> = param_vector(op);
    counterexample(check_at(&WrtParams::new(op, x), &theta, &fixed()))
}

#[track_caller]
fn counterexample(result: crate::check::suite::CheckResult<CheckReport>) -> Counterexample {
    match result {
        Ok(report) => panic!("the planted bug was not caught:\n{report}"),
        Err(failure) => match failure.counterexample() {
            Some(c) => c.clone(),
            None => panic!("expected a counterexample, got {failure}"),
        },
    }
}

/// Asserts the exact fields of a counterexample: the check, the coordinate, the rule's value
/// and the reference value (their difference follows).
#[track_caller]
pub fn assert_cx(
    c: &Counterexample,
    check: &str,
    coordinate: &[usize],
    rule: &str,
    reference: &str,
) {
    let name = match c.check.as_str() {
        VJP => "VJP".to_string(),
        JVP => "JVP".to_string(),
        other => format!("{other:?}"),
    };
    assert_eq!(
        (
            c.check.as_str(),
            c.coordinate.as_slice(),
            c.rule.as_str(),
            c.reference.as_str()
        ),
        (check, coordinate, rule, reference),
        "\nACTUAL<<{name}, &{:?}, {:?}, {:?}>>\nfull counterexample: {c}",
        c.coordinate,
        c.rule,
        c.reference
    );
}

/// The kink a check refuses a point for, as `(layer, op, coordinate)`.
#[track_caller]
pub fn kink<T: std::fmt::Debug>(r: crate::Result<T>) -> (usize, String, Vec<usize>) {
    match r {
        Err(Error::Kink {
            layer,
            op,
            coordinate,
        }) => (layer, op, coordinate),
        other => panic!("expected a kink, got {other:?}"),
    }
}

/// What one rule of an op did over [`Sym`]: the error it returned, if any, and the refusals it
/// recorded (a [`Refusal::Branched`] is an `if` on the sign of a non-constant value).
#[derive(Debug)]
pub struct SymbolicCall {
    /// `"forward"`, `"jvp"`, …, or `"forward over Dual<Sym>"`.
    pub rule: &'static str,
    /// The rule's error, if it returned one.
    pub error: Option<Error>,
    /// What it recorded in the symbol table.
    pub refusals: Vec<Refusal>,
}

/// Evaluates every rule of `op` over [`Sym`] at an input of fresh symbols `x0, x1, …` of shape
/// `shape`, with tangent `dx…`, cotangent `dy…`, parameters `θ…` and parameter tangent `dθ…`:
/// `forward`, `jvp`, `vjp`, `guards`, `forward_with_params`, `jvp_params`, `vjp_params`, then
/// `forward` over `Dual<Sym>` with `dx` as the tangent. Returns what each did, in that order.
pub fn symbolic_calls<O>(op: &O, shape: &[usize]) -> Vec<SymbolicCall>
where
    O: OpSpec<Sym> + OpSpec<Dual<Sym>>,
{
    symbols::scoped(|| {
        let fresh = |name: &str, shape: &[usize]| {
            let n = shape.iter().product();
            let data = (0..n)
                .map(|i| Sym::symbol(symbols::fresh(format!("{name}{i}"))))
                .collect();
            Tensor::new(shape.to_vec(), data).expect("one symbol per entry")
        };
        let out = op.output_shape(shape).expect("a valid input shape");
        let n = op.param_count();
        let (x, dx, dy) = (fresh("x", shape), fresh("dx", shape), fresh("dy", &out));
        let (theta, dtheta) = (fresh("θ", &[n]), fresh("dθ", &[n]));
        let dual = Tensor::new(
            shape.to_vec(),
            x.data()
                .iter()
                .zip(dx.data())
                .map(|(re, eps)| Dual::new(re.clone(), eps.clone()))
                .collect(),
        )
        .expect("the input's shape");
        let _ = symbols::take_refusals();
        let call = |rule: &'static str, result: crate::Result<()>| SymbolicCall {
            rule,
            error: result.err(),
            refusals: symbols::take_refusals(),
        };
        vec![
            call("forward", OpSpec::<Sym>::forward(op, &x).map(drop)),
            call("jvp", OpSpec::<Sym>::jvp(op, &x, &dx).map(drop)),
            call("vjp", OpSpec::<Sym>::vjp(op, &x, &dy).map(drop)),
            call("guards", OpSpec::<Sym>::guards(op, &x).map(drop)),
            call(
                "forward_with_params",
                OpSpec::<Sym>::forward_with_params(op, &theta, &x).map(drop),
            ),
            call(
                "jvp_params",
                OpSpec::<Sym>::jvp_params(op, &x, &dtheta).map(drop),
            ),
            call(
                "vjp_params",
                OpSpec::<Sym>::vjp_params(op, &x, &dy).map(drop),
            ),
            call(
                "forward over Dual<Sym>",
                OpSpec::<Dual<Sym>>::forward(op, &dual).map(drop),
            ),
        ]
    })
}

/// Asserts that every rule of `op` evaluates over `Sym` (see [`symbolic_calls`]) without an
/// error and without asking for the sign of a non-constant value — the op chooses its pieces
/// through `select`, so one evaluation covers every piece — and that its rules are then proved
/// for every input of `shape` ([`crate::prove::prove_op`]).
#[track_caller]
pub fn assert_proved<O: crate::prove::Provable>(op: &O, shape: &[usize]) {
    for c in symbolic_calls(op, shape) {
        let name = op.name();
        assert!(
            c.refusals.is_empty(),
            "{name}: {} over Sym asked for a sign: {:?}",
            c.rule,
            c.refusals
        );
        assert!(
            c.error.is_none(),
            "{name}: {} over Sym: {:?}",
            c.rule,
            c.error
        );
    }
    if let Err(e) = crate::prove::prove_op(op, shape) {
        panic!("{}: not proved for all inputs: {e}", op.name());
    }
}

/// For ops built on `exp` or `ln`, which `Sym` does not represent: no rule asks for a sign, the
/// forward pass is refused as [`Error::OutsideField`], and every other rule either evaluates or is
/// refused the same way.
#[track_caller]
pub fn assert_outside_field_not_branched<O>(op: &O, shape: &[usize])
where
    O: OpSpec<Sym> + OpSpec<Dual<Sym>>,
{
    let outside = |e: &Option<Error>| matches!(e, Some(Error::OutsideField { .. }));
    for c in symbolic_calls(op, shape) {
        let name = op.name();
        assert!(
            c.refusals.is_empty(),
            "{name}: {} over Sym asked for a sign: {:?}",
            c.rule,
            c.refusals
        );
        assert!(
            c.error.is_none() || outside(&c.error),
            "{name}: {} over Sym: {:?}",
            c.rule,
            c.error
        );
        if c.rule == "forward" {
            assert!(outside(&c.error), "{name}: forward over Sym: {:?}", c.error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Result;
    use crate::ops::Op;
    use crate::scalar::Scalar;
    use std::cmp::Ordering;

    /// ReLU written the old way, with an `if` on the sign in `forward` (its rules select).
    struct BranchingRelu;

    impl Op for BranchingRelu {
        fn name(&self) -> String {
            "BranchingReLU".into()
        }
        fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
            Ok(input.to_vec())
        }
    }

    impl<S: Scalar> OpSpec<S> for BranchingRelu {
        fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
            Ok(x.map(|v| {
                if v.sign() == Ordering::Greater {
                    v.clone()
                } else {
                    S::zero()
                }
            }))
        }
        fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
            dx.zip_with(x, |d, v| S::select(v, d.clone(), S::zero()))
        }
        fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
            dy.zip_with(x, |d, v| S::select(v, d.clone(), S::zero()))
        }
    }

    #[test]
    fn an_if_on_the_sign_is_recorded_for_the_rule_that_branched() {
        let calls = symbolic_calls(&BranchingRelu, &[2]);
        let branched: Vec<_> = calls
            .iter()
            .filter(|c| !c.refusals.is_empty())
            .map(|c| (c.rule, c.refusals.clone()))
            .collect();
        let at = |value: &str| Refusal::Branched {
            value: value.into(),
        };
        // Over Dual<Sym> the sign is asked of the real part, x0 and x1 again.
        assert_eq!(
            branched,
            [
                ("forward", vec![at("x0"), at("x1")]),
                ("forward_with_params", vec![at("x0"), at("x1")]),
                ("forward over Dual<Sym>", vec![at("x0"), at("x1")]),
            ]
        );
        assert!(calls.iter().all(|c| c.error.is_none()), "{calls:?}");
    }

    #[test]
    #[should_panic(expected = "BranchingReLU: forward over Sym asked for a sign")]
    fn the_assertion_fails_on_an_op_that_branches() {
        assert_proved(&BranchingRelu, &[2]);
    }
}
