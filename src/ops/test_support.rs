//! Helpers shared by the ops' test modules: exact literals, the case counts, and the assertions
//! on a passing report and on a planted bug's exact counterexample.

use crate::check::{check_at, check_op, default_elements, CheckConfig, CheckReport, Checkable};
use crate::error::{Counterexample, Error};
use crate::ops::{param_vector, WrtParams};
use crate::scalar::Q;
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
