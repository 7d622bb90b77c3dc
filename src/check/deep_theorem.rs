//! The reference page's theorem generalised to MLPs of any depth:
//! `backward(x, δ) = (W_L·D_{L−1}·W_{L−1}···D_1·W_1)ᵀ·δ`, checked exactly.

use super::fderiv::kink_radius_with;
use super::theorem::{against_closed_form, ClosedFormProof};
use super::{prepare_guards, violation, AdjointProof, FDerivProof, KinkRadius};
use crate::error::Result;
use crate::ops::{DeepMlp, Op, OpSpec};
use crate::scalar::{with_kernel_cache, Jet, Scalar};
use crate::tensor::Tensor;

/// Every value of the deep theorem at one point.
#[derive(Clone, Debug, PartialEq)]
pub struct DeepTheoremReport<S> {
    /// The rule under test (its name).
    pub net: String,
    /// The widths `[n_0, …, n_L]`.
    pub widths: Vec<usize>,
    /// The point.
    pub x: Tensor<S>,
    /// The hidden pre-activations `z_1, …, z_{L−1}`, none with a zero coordinate.
    pub pre_activations: Vec<Tensor<S>>,
    /// The masks `relu′(z_k)`.
    pub masks: Vec<Tensor<S>>,
    /// `f(x)`.
    pub output: Tensor<S>,
    /// `W_L·D_{L−1}···D_1·W_1` (closed form), `[out, in]`.
    pub deriv: Tensor<S>,
    /// The cotangent `δ`.
    pub delta: Tensor<S>,
    /// `backward(x, δ)` from the rule, equal to `derivᵀ·δ`.
    pub vjp: Tensor<S>,
    /// The dual-number Jacobian of `forward`, equal to `deriv`.
    pub jacobian: Tensor<S>,
    /// The kink radius from the guards (dual numbers), equal to the closed form.
    pub radius: KinkRadius<S>,
    /// Adjointness at a probe `dx`.
    pub adjoint: AdjointProof<S>,
    /// The probe `dx`.
    pub dx: Tensor<S>,
    /// Kink-free box, the exact increment identity, and the VJP against the derivative.
    pub fderiv: FDerivProof<S>,
}

/// The deep theorem for the network's own composed rules.
pub fn deep_mlp_theorem<S>(
    net: &DeepMlp,
    x: &Tensor<S>,
    dy: &Tensor<S>,
) -> Result<DeepTheoremReport<S>>
where
    S: Scalar,
{
    with_kernel_cache(|| deep_mlp_theorem_with(net, net, x, dy))
}

/// The deep theorem for another implementation `rule` of the same network (for example one with
/// a planted bug); the closed form and the closed-form radius still come from `net`.
///
/// Checks, in order, each naming the first differing coordinate on failure: the closed-form
/// kink radius = the radius from `rule`'s guards (the counterexample names the closed form's
/// binding stage and unit); `rule.vjp(x, δ) = derivᵀ·δ`; `deriv` = the Jacobian of
/// `rule.forward` by forward mode; adjointness; and the fderiv check with the exact increment
/// `f(x+h) − f(x) = deriv·h` in the kink-free box.
pub fn deep_mlp_theorem_with<S, O>(
    net: &DeepMlp,
    rule: &O,
    x: &Tensor<S>,
    dy: &Tensor<S>,
) -> Result<DeepTheoremReport<S>>
where
    S: Scalar,
    O: OpSpec<S> + OpSpec<Jet<S>>,
{
    with_kernel_cache(|| {
        net.output_shape(x.shape())?;
        let (_, guards) = prepare_guards(rule, x, None, Some(dy))?;
        let pre_activations = net.pre_activations(x)?;
        let masks = net.masks(x)?;
        let deriv = net.deriv(x)?;
        let inputs = || vec![("x", x.to_string()), ("δ", dy.to_string())];

        let radius = kink_radius_with(rule, x, guards.clone())?;
        let closed = net.kink_radius(x)?;
        if radius.radius != closed.radius {
            let show = |r: &Option<S>| r.as_ref().map_or("∞".to_string(), S::to_string);
            let binding = |stage: Option<(usize, usize)>| {
                stage.map_or(vec![], |(layer, unit)| vec![layer, unit])
            };
            let mut err_inputs = inputs();
            let (rule_r, closed_r) = (show(&radius.radius), show(&closed.radius));
            err_inputs.push(("radius from the rule's guards", rule_r));
            err_inputs.push(("closed-form radius", closed_r));
            let zero = S::zero();
            return Err(violation(
                "deep MLP theorem: kink radius from guards = closed form",
                binding(closed.binding),
                radius.radius.as_ref().unwrap_or(&zero),
                closed.radius.as_ref().unwrap_or(&zero),
                &err_inputs,
            ));
        }

        let ClosedFormProof {
            vjp,
            jacobian,
            dx,
            adjoint,
            fderiv,
        } = against_closed_form(
            "deep MLP theorem",
            "(W_L·D_{L−1}···D_1·W_1)",
            (&deriv, &|dy| deriv.transpose_mat_vec_mul(dy)),
            rule,
            (x, dy),
            guards,
            Some(radius.clone()),
        )?;

        Ok(DeepTheoremReport {
            net: rule.name(),
            widths: net.widths(),
            x: x.clone(),
            pre_activations,
            masks,
            output: rule.forward(x)?,
            deriv,
            delta: dy.clone(),
            vjp,
            jacobian,
            radius,
            adjoint,
            dx,
            fderiv,
        })
    })
}
