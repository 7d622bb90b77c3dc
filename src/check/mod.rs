//! The theorems of the reference page as exact checks.
//!
//! Each check returns the values that prove the identity, or an error: a typed input error
//! (shapes, a point on a kink) or [`Error::Violated`] with an exact [`Counterexample`] naming the
//! coordinate, the rule's value, the reference value and their difference.
//!
//! | check | identity | reference side |
//! |---|---|---|
//! | [`adjoint`] | `⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫` (Lean's `OpSpecCorrect`) | the other rule |
//! | [`jacobian`] | `jvp(x, dx) = J·dx`, `vjp(x, δ) = Jᵀ·δ` | `J` from `forward` over `Dual<S>` |
//! | [`fderiv`] | `f(x+h) − f(x) = J·h` in a certified kink-free box; `vjp = Jᵀδ` | exact difference quotients |
//! | [`mlp_theorem`] | `backward(x, δ) = mlpDeriv(x)ᵀ·δ` for Linear → ReLU → Linear | all of the above |
//! | [`gradient`] | scalar loss: `vjp(x, 1) = ∇f(x)` | `J` from dual numbers |
//! | [`randomized_params`] (and `_jacobian`, `_adjoint`) | the JVP/VJP identities on random 64-bit integer probes, w.r.t. `x` and all parameters; miss probability `< 2⁻⁶²` | one dual-number pass |

mod adjoint;
mod fderiv;
mod gradient;
mod jacobian;
mod randomized;
mod theorem;

pub use adjoint::{adjoint, AdjointProof};
pub use fderiv::{fderiv, increment, kink_radius, FDerivProof, IncrementProof, KinkRadius};
pub use gradient::{gradient, GradientProof};
pub use jacobian::{jacobian, reference_jacobian, JacobianProof};
pub use randomized::{
    randomized_adjoint, randomized_jacobian, randomized_params, ProbeScalar, RandomizedProof,
    MISS_PROBABILITY_LOG2,
};
pub use theorem::{mlp_theorem, mlp_theorem_with, TheoremReport};

use crate::error::{Counterexample, Error, Result};
use crate::ops::{Guard, OpSpec};
use crate::scalar::{Ordered, Ring, Scalar};
use crate::tensor::Tensor;
use std::cmp::Ordering;

/// The no-kinks hypothesis: every guard of `op` at `x` is non-zero. Returns the guards, or
/// [`Error::Kink`] naming the layer and coordinate of the first zero.
pub fn no_kinks<S: Ordered, O: OpSpec<S>>(op: &O, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
    let guards = op.guards(x)?;
    if let Some(g) = guards.iter().find(|g| g.value.sign() == Ordering::Equal) {
        return Err(Error::Kink {
            layer: g.layer,
            op: g.op.clone(),
            coordinate: g.coordinate.clone(),
        });
    }
    Ok(guards)
}

/// Checks the shapes of `x`, `dx` and `δ` against the op, and the no-kinks hypothesis; returns
/// the output shape.
fn prepare<S: Scalar, O: OpSpec<S>>(
    op: &O,
    x: &Tensor<S>,
    dx: Option<&Tensor<S>>,
    dy: Option<&Tensor<S>>,
) -> Result<Vec<usize>> {
    let out = op.output_shape(x.shape())?;
    if let Some(dx) = dx {
        dx.expect_shape(
            x.shape(),
            &format!("{}: dx must have the input's shape", op.name()),
        )?;
    }
    if let Some(dy) = dy {
        dy.expect_shape(
            &out,
            &format!("{}: δ must have the output's shape", op.name()),
        )?;
    }
    no_kinks(op, x)?;
    Ok(out)
}

/// [`Error::ShapeMismatch`] if a rule returned a tensor of the wrong shape.
fn expect_rule_shape<S>(value: &Tensor<S>, shape: &[usize], what: &str) -> Result<()> {
    value.expect_shape(
        shape,
        &format!("{what} returned a tensor of the wrong shape (got, expected)"),
    )
}

/// `Ok` if `rule == reference` entry by entry; otherwise the first differing coordinate as an
/// exact counterexample.
fn agree<S: Ring>(
    check: &str,
    rule: &Tensor<S>,
    reference: &Tensor<S>,
    inputs: &[(&str, String)],
) -> Result<()> {
    expect_rule_shape(rule, reference.shape(), check)?;
    match rule
        .data()
        .iter()
        .zip(reference.data())
        .position(|(a, b)| a != b)
    {
        None => Ok(()),
        Some(k) => Err(violation(
            check,
            reference.multi_index(k),
            &rule.data()[k],
            &reference.data()[k],
            inputs,
        )),
    }
}

/// An [`Error::Violated`] for one differing value.
fn violation<S: Ring>(
    check: &str,
    coordinate: Vec<usize>,
    rule: &S,
    reference: &S,
    inputs: &[(&str, String)],
) -> Error {
    Error::Violated(Box::new(Counterexample {
        check: check.to_string(),
        coordinate,
        rule: rule.to_string(),
        reference: reference.to_string(),
        difference: rule.sub_ref(reference).to_string(),
        inputs: inputs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }))
}

/// A fixed, non-degenerate probe of `shape`: entries `±(k + salt + 1)/(k + 2)`, so no entry is
/// zero and no two are equal, while staying small and exact.
pub fn probe<S: Scalar>(shape: &[usize], salt: i64) -> Tensor<S> {
    let n: usize = shape.iter().product();
    let data = (0..n as i64)
        .map(|k| {
            let v = S::from_i64(k + salt + 1)
                .checked_div(&S::from_i64(k + 2))
                .expect("k + 2 > 0");
            if k % 2 == 0 {
                v
            } else {
                v.neg_ref()
            }
        })
        .collect();
    Tensor::new(shape.to_vec(), data).expect("length is the product of the shape")
}
