//! The theorems of the reference page as exact checks.
//!
//! Each check returns the values that prove the identity, or an error: a typed input error
//! (shapes, a point on a kink) or [`Error::Violated`] with an exact [`Counterexample`] naming the
//! coordinate, the rule's value, the reference value and their difference.
//!
//! | check | identity | reference side |
//! |---|---|---|
//! | [`adjoint`] | `⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫` (Lean's `OpSpecCorrect`) | the other rule |
//! | [`jacobian`] | `jvp(x, dx) = J·dx`, `vjp(x, δ) = Jᵀ·δ` | `J` from `forward` over `Jet<S>` (forward mode, every partial in one pass) |
//! | [`fderiv`] | `f(x+h) − f(x) = J·h` in a certified kink-free box; `vjp = Jᵀδ` | the exact increment `f(x+h) − f(x)` |
//! | [`mlp_theorem`] | `backward(x, δ) = mlpDeriv(x)ᵀ·δ` for Linear → ReLU → Linear | all of the above |
//! | [`deep_mlp_theorem`] | `backward(x, δ) = (W_L·D_{L−1}···D_1·W_1)ᵀ·δ` for MLPs of any depth | all of the above, and the closed-form kink radius |
//! | [`gradgrad`] | `∂ⱼ vjp(x, δ)ᵢ = ∂ᵢ∂ⱼ⟪δ, f⟫`, `∂ⱼ jvp(x, dx) = ∂ⱼ∂_dx f` | `Dual<Dual<S>>` over `forward` |
//! | [`hessian_symmetry`] | `∂ⱼ vjp(x, 1)ᵢ = ∂ᵢ vjp(x, 1)ⱼ` for a scalar loss | none (and nested duals) |
//! | [`gradient`] | scalar loss: `vjp(x, 1) = ∇f(x)` | `J` from forward mode over jets |
//! | [`randomized_params`] (and `_jacobian`, `_adjoint`) | the JVP/VJP identities on random 64-bit integer probes, w.r.t. `x` and all parameters; miss probability `< 2⁻⁶²` | one dual-number pass |
//! | [`modular_params`] (and `_jacobian`) | the same identities on the same probes modulo a random 61-bit prime, branches decided by a certified float filter, replayed over `Q` when undecided or failed | the same dual-number pass, over residues |
//! | [`structural`] | `vjp(x, 0) = 0`, linearity, determinism, batched = looped | the rule itself |
//!
//! [`check_op`] (and the [`check_op!`](crate::check_op) macro) runs all of them over many
//! generated inputs and shrinks a failure to a minimal exact counterexample; see [`suite`] for
//! what a pass means.
//!
//! [`planted!`](crate::planted) plants one wrong rule into a correct op, to show that the checks
//! catch it (every op of the crate has such a test beside its rules).

mod adjoint;
mod deep_theorem;
mod fderiv;
mod grade;
mod gradient;
mod jacobian;
mod model;
mod modular;
mod planted;
mod randomized;
mod second_order;
pub mod structural;
pub mod suite;
mod theorem;

pub use adjoint::{adjoint, AdjointProof};
pub use deep_theorem::{deep_mlp_theorem, deep_mlp_theorem_with, DeepTheoremReport};
pub use fderiv::{fderiv, increment, kink_radius, FDerivProof, IncrementProof, KinkRadius};
pub use grade::{grade, Entry, FloatFormat, Grade, Verdict};
pub use gradient::{gradient, GradientProof};
pub use jacobian::{jacobian, reference_jacobian, JacobianProof};
pub use model::{model_gradients, model_kinks, Closest, ModelGradients};
pub use modular::{
    modular_jacobian, modular_params, prime_for_seed, ModularProof, Replay, Route,
    PRIME_MISS_PER_BIT,
};
pub use randomized::{
    randomized_adjoint, randomized_jacobian, randomized_params, ProbeScalar, RandomizedProof,
    MISS_PROBABILITY_LOG2,
};
pub use second_order::{
    gradgrad, hessian_symmetry, hvp, reference_hessian, rule_hvp, vjp_jacobian, GradGradProof,
    SymmetryProof,
};
pub use structural::{
    batched_equals_looped, deterministic, linear_in_cotangent, linear_in_tangent, zero_tangents,
};
pub use suite::{
    check_at, check_batched, check_family, check_kinks, check_op, check_poles, default_elements,
    default_exp_elements, CheckConfig, CheckFailure, CheckReport, Checkable, KinkReport,
    PoleReport, DEFAULT_SEED,
};
pub use theorem::{mlp_theorem, mlp_theorem_with, TheoremReport};

pub use crate::ops::no_kinks;
// The probe lives with the input generators, below the checks, so that the generators (which
// nudge points along it) do not import the checks that import them.
pub use crate::strategy::probe;

use crate::error::{Counterexample, Error, Result};
use crate::ops::{Guard, OpSpec};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// Checks the shapes of `x`, `dx` and `δ` against the op, and the no-kinks hypothesis; returns
/// the output shape.
fn prepare<S: Scalar, O: OpSpec<S>>(
    op: &O,
    x: &Tensor<S>,
    dx: Option<&Tensor<S>>,
    dy: Option<&Tensor<S>>,
) -> Result<Vec<usize>> {
    Ok(prepare_guards(op, x, dx, dy)?.0)
}

/// [`prepare`], also returning the guards at `x` (none of them zero), for a caller that passes
/// them on instead of evaluating them again.
fn prepare_guards<S: Scalar, O: OpSpec<S>>(
    op: &O,
    x: &Tensor<S>,
    dx: Option<&Tensor<S>>,
    dy: Option<&Tensor<S>>,
) -> Result<(Vec<usize>, Vec<Guard<S>>)> {
    let out = shapes(op, x, dx, dy)?;
    let guards = no_kinks(op, x)?;
    Ok((out, guards))
}

/// The shape half of [`prepare`], for a caller that checked the no-kinks hypothesis at `x`
/// already; returns the output shape.
fn shapes<S: Scalar, O: OpSpec<S>>(
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
fn agree<S: Scalar>(
    check: &str,
    rule: &Tensor<S>,
    reference: &Tensor<S>,
    inputs: &dyn Fn() -> Vec<(&'static str, String)>,
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
            &inputs(),
        )),
    }
}

/// An [`Error::Violated`] for one differing value.
fn violation<S: Scalar>(
    check: &str,
    coordinate: Vec<usize>,
    rule: &S,
    reference: &S,
    inputs: &[(&str, String)],
) -> Error {
    if let Err(reason) = rule.certify_distinct(reference) {
        return Error::Undecided {
            check: check.to_string(),
            coordinate,
            reason,
        };
    }
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
        parameter: None,
        stage: None,
    }))
}
