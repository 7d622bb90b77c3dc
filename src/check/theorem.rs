//! The reference page's end-to-end theorem for the 2-layer MLP, checked exactly.

use super::adjoint::adjoint_reusing;
use super::fderiv::{fderiv_reusing, Reuse};
use super::{
    agree, prepare_guards, probe, reference_jacobian, AdjointProof, FDerivProof, KinkRadius,
};
use crate::error::Result;
use crate::ops::{Guard, Mlp, Op, OpSpec};
use crate::scalar::{with_kernel_cache, Jet, Scalar};
use crate::tensor::Tensor;

/// Every value of the theorem at one point, in the order a reader follows the derivation.
#[derive(Clone, Debug, PartialEq)]
pub struct TheoremReport<S> {
    /// The rule under test (the composed op's name).
    pub net: String,
    /// `W1`, `b1`, `W2`, `b2`.
    pub w1: Tensor<S>,
    /// `b1`.
    pub b1: Tensor<S>,
    /// `W2`.
    pub w2: Tensor<S>,
    /// `b2`.
    pub b2: Tensor<S>,
    /// The point.
    pub x: Tensor<S>,
    /// `z1 = W1·x + b1`, no coordinate zero.
    pub z1: Tensor<S>,
    /// `relu′(z1)`.
    pub mask: Tensor<S>,
    /// `f(x)`.
    pub output: Tensor<S>,
    /// `mlpDeriv(x) = W2·diag(relu′(z1))·W1` (closed form).
    pub deriv: Tensor<S>,
    /// The cotangent `δ`.
    pub delta: Tensor<S>,
    /// `backward(x, δ)` from the composed rules.
    pub vjp: Tensor<S>,
    /// The dual-number Jacobian of `forward`, equal to `deriv`.
    pub jacobian: Tensor<S>,
    /// `⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫` at a probe `dx`.
    pub adjoint: AdjointProof<S>,
    /// The probe `dx` used for adjointness.
    pub dx: Tensor<S>,
    /// Kink radius, difference-quotient derivative, increment identity.
    pub fderiv: FDerivProof<S>,
}

/// The theorem for the MLP's own composed rules (`Linear >>> ReLU >>> Linear`):
/// `backward(x, δ) = mlpDeriv(x)ᵀ·δ`, with `mlpDeriv` equal to the dual-number Jacobian and
/// satisfying the exact increment identity `f(x+h) − f(x) = mlpDeriv(x)·h` in the kink-free box,
/// and the rules adjoint — all exact.
pub fn mlp_theorem<S>(mlp: &Mlp, x: &Tensor<S>, dy: &Tensor<S>) -> Result<TheoremReport<S>>
where
    S: Scalar,
{
    with_kernel_cache(|| mlp_theorem_with(mlp, mlp.as_op(), x, dy))
}

/// The theorem with another implementation `rule` of the same network (for example one with a
/// planted bug); the closed form still comes from `mlp`.
pub fn mlp_theorem_with<S, O>(
    mlp: &Mlp,
    rule: &O,
    x: &Tensor<S>,
    dy: &Tensor<S>,
) -> Result<TheoremReport<S>>
where
    S: Scalar,
    O: OpSpec<S> + OpSpec<Jet<S>>,
{
    with_kernel_cache(|| {
        mlp.output_shape(x.shape())?;
        let (_, guards) = prepare_guards(rule, x, None, Some(dy))?;
        let mask = mlp.mask(x)?;
        let deriv = mlp.deriv_masked(&mask)?;
        let ClosedFormProof {
            vjp,
            jacobian,
            dx,
            adjoint,
            fderiv,
        } = against_closed_form(
            "MLP theorem",
            "mlpDeriv(x)",
            (&deriv, &|dy| mlp.transposed_times_masked(&mask, dy)),
            rule,
            (x, dy),
            guards,
            None,
        )?;

        Ok(TheoremReport {
            net: rule.name(),
            w1: mlp.layer1().weight().lifted().into_owned(),
            b1: mlp.layer1().bias().lifted().into_owned(),
            w2: mlp.layer2().weight().lifted().into_owned(),
            b2: mlp.layer2().bias().lifted().into_owned(),
            x: x.clone(),
            z1: mlp.z1(x)?,
            mask,
            output: rule.forward(x)?,
            deriv,
            delta: dy.clone(),
            vjp,
            jacobian,
            adjoint,
            dx,
            fderiv,
        })
    })
}

/// What both MLP theorems prove once their closed-form derivative is known.
pub(super) struct ClosedFormProof<S> {
    pub(super) vjp: Tensor<S>,
    pub(super) jacobian: Tensor<S>,
    pub(super) dx: Tensor<S>,
    pub(super) adjoint: AdjointProof<S>,
    pub(super) fderiv: FDerivProof<S>,
}

/// `δ ↦ derivᵀ·δ` for a closed-form derivative `deriv` (through its factors or its matrix).
pub(super) type TransposedTimes<'a, S> = &'a dyn Fn(&Tensor<S>) -> Result<Tensor<S>>;

/// The steps the 2-layer and the deep theorem share, each naming the first differing coordinate:
/// `rule.vjp(x, δ) = derivᵀ·δ` (`derivᵀ·δ` from `transposed_times`); `deriv` = the Jacobian of
/// `rule.forward` by forward mode; adjointness at a probe; the fderiv check (reusing that
/// Jacobian and, when given, the kink radius); and the exact increment
/// `f(x+h) − f(x) = deriv·h` in the kink-free box. `guards` are the rule's guards at `x`, none
/// zero ([`super::no_kinks`] has passed there).
///
/// Each value is computed once and passed on: the rule's `vjp(x, δ)` serves the adjointness
/// and the fderiv steps too, and `derivᵀ·δ` (equal to the Jacobian's, as `deriv` is found
/// equal to it) the fderiv step.
pub(super) fn against_closed_form<S, O>(
    theorem: &str,
    closed_form: &str,
    (deriv, transposed_times): (&Tensor<S>, TransposedTimes<'_, S>),
    rule: &O,
    (x, dy): (&Tensor<S>, &Tensor<S>),
    guards: Vec<Guard<S>>,
    radius: Option<KinkRadius<S>>,
) -> Result<ClosedFormProof<S>>
where
    S: Scalar,
    O: OpSpec<S> + OpSpec<Jet<S>>,
{
    let inputs = || vec![("x", x.to_string()), ("δ", dy.to_string())];
    let vjp = rule.vjp(x, dy)?;
    let reference = transposed_times(dy)?;
    let check = format!("{theorem}: backward(x, δ) = {closed_form}ᵀ·δ");
    agree(&check, &vjp, &reference, &inputs)?;

    let jacobian = reference_jacobian(rule, x)?;
    let check = format!("{theorem}: {closed_form} = dual-number Jacobian");
    agree(&check, deriv, &jacobian, &inputs)?;

    let dx = probe(x.shape(), 2)?;
    let adjoint = adjoint_reusing(rule, x, &dx, dy, vjp.clone())?;
    let reuse = Reuse {
        derivative: Some(jacobian.clone()),
        radius,
        guards: Some(guards),
        vjp: Some((vjp.clone(), reference)),
    };
    let fderiv = fderiv_reusing(rule, x, dy, reuse)?;
    let inc = &fderiv.increment;
    let check = format!("{theorem}: f(x+h) − f(x) = {closed_form}·h");
    agree(&check, &inc.increment, &deriv.mat_vec_mul(&inc.h)?, &inputs)?;
    Ok(ClosedFormProof {
        vjp,
        jacobian,
        dx,
        adjoint,
        fderiv,
    })
}
