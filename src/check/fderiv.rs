//! The `HasFDerivAt` analogue for piecewise-linear nets: an exact kink-free box around `x`, the
//! exact identity `f(x+h) − f(x) = J·h` inside it (an exact difference quotient), and the VJP
//! against that derivative.

use super::{agree, expect_rule_shape, no_kinks, prepare_guards, reference_jacobian, shapes};
use crate::error::{Error, Result};
use crate::error::{Short, ShortTensor};
use crate::ops::{Guard, OpSpec};
use crate::scalar::{with_kernel_cache, Jet, Scalar};
use crate::tensor::Tensor;
use std::cmp::Ordering;
use std::fmt;

/// The exact ℓ∞ radius `ρ` of the largest box around `x` on which no pre-activation changes
/// sign, so the op is affine there.
#[derive(Clone, PartialEq)]
pub struct KinkRadius<S> {
    /// `ρ = min_k |g_k(x)| / ‖∇g_k‖₁` over the guards `g_k`; `None` when no guard can change
    /// sign (an affine op): the box is unbounded.
    pub radius: Option<S>,
    /// The guard attaining the minimum: the nearest kink.
    pub binding: Option<Guard<S>>,
}

crate::error::debug_with_fractions!(KinkRadius<S> { radius, binding });

impl<S: Scalar> KinkRadius<S> {
    /// Whether `‖h‖∞ ≤ ρ` (on the closed box the identity still holds, by continuity).
    pub fn contains(&self, h: &Tensor<S>) -> bool {
        self.radius
            .as_ref()
            .is_none_or(|r| inf_norm(h).sub_ref(r).sign() != Ordering::Greater)
    }
}

/// The largest power of two `2ᵏ ≤ r` (`k` of either sign), for `r > 0`, in `O(log |k|)`
/// comparisons: steps `2^(2^i)` by squaring until `r` is bracketed, then the smaller steps
/// greedily (a point extremely close to a kink has a radius like `2⁻¹⁰⁰⁰⁰⁰`, which halving one
/// step at a time would take `10⁵` comparisons of long values to reach).
fn power_of_two_at_most<S: Scalar>(r: &S) -> S {
    let at_most = |t: &S| t.sub_ref(r).sign() != Ordering::Greater;
    let mut steps = vec![S::from_i64(2)];
    let mut lo = S::one();
    let up = at_most(&lo);
    loop {
        let step = steps[steps.len() - 1].clone();
        let next = if up {
            lo.mul_ref(&step)
        } else {
            lo.checked_div(&step).expect("a power of two is not 0")
        };
        let fits = at_most(&next);
        if up && !fits {
            break;
        }
        lo = next;
        if !up && fits {
            break;
        }
        steps.push(step.mul_ref(&step));
    }
    // Now lo ≤ r < lo·(last step), and the exponents of the smaller steps add up to one less
    // than the last step's: each is taken when it still fits.
    steps.pop();
    for step in steps.iter().rev() {
        let next = lo.mul_ref(step);
        if at_most(&next) {
            lo = next;
        }
    }
    lo
}

/// `‖h‖∞`.
fn inf_norm<S: Scalar>(h: &Tensor<S>) -> S {
    h.data()
        .iter()
        .fold(S::zero(), |m, v| m.max_val(&v.abs_val()))
}

/// Computes the kink radius of `op` at `x`.
///
/// [`Error::RadiusNotCertified`] when a guard follows a non-linear op (see
/// [`crate::Op::certified_guard_layers`]): its distance to the kink is then not `|g|/‖∇g‖₁`.
///
/// Every guard is a pre-activation; on the current piece it is an affine function of the input,
/// and its gradient comes from one evaluation of the guards over jets seeded with the identity
/// (forward mode with a row of tangents; no rule involved). Its
/// sign cannot change within ℓ∞ distance `|g| / ‖∇g‖₁`, and a point at that distance reaches
/// zero, so the minimum over guards is the exact radius. Layer by layer this carries the radius
/// through the composition: later guards are affine on the box the earlier ones certify.
pub fn kink_radius<S, O>(op: &O, x: &Tensor<S>) -> Result<KinkRadius<S>>
where
    S: Scalar,
    O: OpSpec<S> + OpSpec<Jet<S>>,
{
    with_kernel_cache(|| kink_radius_with(op, x, no_kinks(op, x)?))
}

/// [`kink_radius`] from the guards at `x`, which [`no_kinks`] returned.
pub(super) fn kink_radius_with<S, O>(
    op: &O,
    x: &Tensor<S>,
    guards: Vec<Guard<S>>,
) -> Result<KinkRadius<S>>
where
    S: Scalar,
    O: OpSpec<S> + OpSpec<Jet<S>>,
{
    let certified = op.certified_guard_layers();
    if let Some(g) = guards.iter().find(|g| g.layer > certified) {
        return Err(Error::RadiusNotCertified {
            op: op.name(),
            layer: g.layer,
        });
    }
    let n = x.len();
    let jet_guards = op.guards(&Jet::seed(x)?)?;
    if jet_guards.len() != guards.len() {
        return Err(Error::GuardCountMismatch {
            op: op.name(),
            base: guards.len(),
            jet: jet_guards.len(),
        });
    }
    // ‖∇g‖₁ for every guard at once: the gradients as the rows of a matrix, summed in absolute
    // value by one exact product on the kernels (for the first layer's guards the rows are its
    // weights, whose pack the rules' products made already).
    let mut gradients = Vec::with_capacity(jet_guards.len() * n);
    for g in &jet_guards {
        gradients.extend(g.value.tangent(n).iter().cloned());
    }
    let norms = S::abs_row_sums(&gradients, jet_guards.len(), n);
    let mut best: Option<(S, usize)> = None;
    for (k, (g, norm)) in guards.iter().zip(&norms).enumerate() {
        if let Some(r) = g.value.abs_val().checked_div(norm) {
            if best
                .as_ref()
                .is_none_or(|(b, _)| r.sub_ref(b).sign() == Ordering::Less)
            {
                best = Some((r, k));
            }
        }
    }
    Ok(match best {
        Some((r, k)) => KinkRadius {
            radius: Some(r),
            binding: Some(guards[k].clone()),
        },
        None => KinkRadius {
            radius: None,
            binding: None,
        },
    })
}

/// The values of `f(x+h) − f(x) = J·h` at one increment `h`.
#[derive(Clone, PartialEq)]
pub struct IncrementProof<S> {
    /// The kink-free box around `x`.
    pub radius: KinkRadius<S>,
    /// The increment `h`.
    pub h: Tensor<S>,
    /// Whether `h` lies in the box.
    pub inside: bool,
    /// `f(x+h) − f(x)`, equal to `J·h`.
    pub increment: Tensor<S>,
}

crate::error::debug_with_fractions!(IncrementProof<S> {
    radius,
    h,
    inside,
    increment
});

/// Checks `f(x+h) − f(x) = J·h` exactly, `J` the forward-mode Jacobian
/// ([`reference_jacobian`]). Inside the kink-free box
/// this always holds for a correct piecewise-linear forward; for an `h` that crosses a kink it
/// fails, and the counterexample says `h` left the box.
pub fn increment<S, O>(op: &O, x: &Tensor<S>, h: &Tensor<S>) -> Result<IncrementProof<S>>
where
    S: Scalar,
    O: OpSpec<S> + OpSpec<Jet<S>>,
{
    with_kernel_cache(|| {
        let jac = reference_jacobian(op, x)?;
        let radius = kink_radius(op, x)?;
        increment_with(op, x, h, &jac, radius)
    })
}

/// [`increment`] once [`no_kinks`] has passed at `x` (through the kink radius): the guards are
/// not evaluated again.
fn increment_with<S, O>(
    op: &O,
    x: &Tensor<S>,
    h: &Tensor<S>,
    jac: &Tensor<S>,
    radius: KinkRadius<S>,
) -> Result<IncrementProof<S>>
where
    S: Scalar,
    O: OpSpec<S>,
{
    if !op.is_piecewise_linear() {
        return Err(Error::NotPiecewiseLinear(op.name()));
    }
    let out = shapes(op, x, Some(h), None)?;
    let diff = op.forward(&x.add(h)?)?.sub(&op.forward(x)?)?;
    let j_h = jac.mat_vec_mul(&h.flatten())?.reshape(out)?;
    let inside = radius.contains(h);
    let rho = radius
        .radius
        .as_ref()
        .map_or("∞ (no kinks can be reached)".into(), S::to_string);
    let inputs = || {
        vec![
            ("x", x.to_string()),
            ("h", h.to_string()),
            ("‖h‖∞", inf_norm(h).to_string()),
            ("kink radius ρ", rho.clone()),
            ("h inside the kink-free box", inside.to_string()),
        ]
    };
    agree("fderiv: f(x+h) − f(x) = J·h", &diff, &j_h, &inputs)?;
    Ok(IncrementProof {
        radius,
        h: h.clone(),
        inside,
        increment: diff,
    })
}

/// The values that prove the VJP is the adjoint of the derivative computed from `forward` alone.
#[derive(Clone, PartialEq)]
pub struct FDerivProof<S> {
    /// The kink-free box.
    pub radius: KinkRadius<S>,
    /// The scale `t` of the probe increment (`‖h‖∞ ≤ t`): the largest power of two `≤ ρ/2`, or 1
    /// when the box is unbounded.
    pub step: S,
    /// `Df(x)`, `[out.len, in.len]`, from `forward` over jets, confirmed on the box by
    /// the exact increment identity.
    pub derivative: Tensor<S>,
    /// The increment identity at a probe `h` inside the box.
    pub increment: IncrementProof<S>,
    /// `vjp(x, δ)`, equal to `Df(x)ᵀ·δ`.
    pub vjp: Tensor<S>,
}

crate::error::debug_with_fractions!(FDerivProof<S> {
    radius,
    step,
    derivative,
    increment,
    vjp
});

/// The end-to-end check for a piecewise-linear op (the `HasFDerivAt` analogue): certify the
/// kink-free box of radius `ρ`, take `Df(x)` from `forward` over jets, confirm the exact
/// increment identity `f(x+h) − f(x) = Df(x)·h` for a probe `h` with every coordinate non-zero
/// and `‖h‖∞` at most the largest power of two `≤ ρ/2` (an exact difference quotient: `f` is
/// affine on the box, with slope `Df(x)`), then check `vjp(x, δ) = Df(x)ᵀ·δ` entry by entry.
///
/// One increment rather than a difference quotient per coordinate keeps the cost at one
/// Jacobian: the forward pass over jets already gives every column exactly.
pub fn fderiv<S, O>(op: &O, x: &Tensor<S>, dy: &Tensor<S>) -> Result<FDerivProof<S>>
where
    S: Scalar,
    O: OpSpec<S> + OpSpec<Jet<S>>,
{
    with_kernel_cache(|| fderiv_reusing(op, x, dy, Reuse::default()))
}

/// Values a caller already computed at the same `(op, x)`, for [`fderiv_reusing`].
pub(crate) struct Reuse<S> {
    /// [`reference_jacobian`] at `x`.
    pub derivative: Option<Tensor<S>>,
    /// [`kink_radius`] at `x`.
    pub radius: Option<KinkRadius<S>>,
    /// [`no_kinks`] at `x` (passed: no guard is zero).
    pub guards: Option<Vec<Guard<S>>>,
    /// The rule's `vjp(x, δ)` and `Df(x)ᵀ·δ`, already found equal.
    pub vjp: Option<(Tensor<S>, Tensor<S>)>,
}

impl<S> Default for Reuse<S> {
    fn default() -> Self {
        Reuse {
            derivative: None,
            radius: None,
            guards: None,
            vjp: None,
        }
    }
}

/// [`fderiv`] reusing the Jacobian and the kink radius a caller already computed at the same
/// `(op, x)` (the theorems check them before), so that neither is evaluated twice. Neither comes
/// from a rule under test, so the verdict is the same as [`fderiv`]'s.
pub(crate) fn fderiv_reusing<S, O>(
    op: &O,
    x: &Tensor<S>,
    dy: &Tensor<S>,
    reuse: Reuse<S>,
) -> Result<FDerivProof<S>>
where
    S: Scalar,
    O: OpSpec<S> + OpSpec<Jet<S>>,
{
    if !op.is_piecewise_linear() {
        return Err(Error::NotPiecewiseLinear(op.name()));
    }
    let guards = match reuse.guards {
        Some(guards) => {
            shapes(op, x, None, Some(dy))?;
            guards
        }
        None => prepare_guards(op, x, None, Some(dy))?.1,
    };
    let radius = match reuse.radius {
        Some(r) => r,
        None => kink_radius_with(op, x, guards)?,
    };
    let step = match &radius.radius {
        Some(r) => power_of_two_at_most(&r.checked_div(&S::from_i64(2)).expect("2 ≠ 0")),
        None => S::one(),
    };
    let derivative = match reuse.derivative {
        Some(d) => d,
        None => reference_jacobian(op, x)?,
    };
    // Every coordinate moves, and ‖h‖∞ ≤ ρ/2 keeps h well inside the box. A power of two
    // rather than ρ/2 itself: ρ has the long denominator of a guard over its gradient's norm, and
    // x + h would carry it into every entry of both forward passes.
    let direction = super::probe::<S>(x.shape(), 0)?;
    let norm = inf_norm(&direction);
    let scale = step
        .checked_div(&norm.max_val(&S::one()))
        .expect("max(‖probe‖∞, 1) ≥ 1");
    let h = direction.scale(&scale);
    let increment = increment_with(op, x, &h, &derivative, radius.clone())?;

    let (vjp, reference) = match reuse.vjp {
        Some(pair) => pair,
        None => {
            let vjp = op.vjp(x, dy)?;
            expect_rule_shape(&vjp, x.shape(), "vjp")?;
            let reference = derivative
                .transpose_mat_vec_mul(&dy.flatten())?
                .reshape(x.shape().to_vec())?;
            (vjp, reference)
        }
    };
    let inputs = || vec![("x", x.to_string()), ("δ", dy.to_string())];
    agree("fderiv: vjp(x, δ) = Df(x)ᵀ·δ", &vjp, &reference, &inputs)?;
    Ok(FDerivProof {
        radius,
        step,
        derivative,
        increment,
        vjp,
    })
}

impl<S: fmt::Display> fmt::Display for KinkRadius<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.radius, &self.binding) {
            (None, _) => write!(f, "kink radius ρ = ∞: no guard can change sign"),
            (Some(r), None) => write!(f, "kink radius ρ = {}", Short(r)),
            (Some(r), Some(g)) => write!(
                f,
                "kink radius ρ = {}, to the nearest kink: layer {} ({}) coordinate {:?}, \
                 pre-activation {}",
                Short(r),
                g.layer,
                g.op,
                g.coordinate,
                Short(&g.value)
            ),
        }
    }
}

impl<S: fmt::Display> fmt::Display for IncrementProof<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "increment: f(x+h) − f(x) = J·h, exactly, with h {} the kink-free box",
            if self.inside { "inside" } else { "outside" }
        )?;
        writeln!(f, "  {}", self.radius)?;
        writeln!(f, "  h = {}", ShortTensor(&self.h))?;
        write!(f, "  f(x+h) − f(x) = {}", ShortTensor(&self.increment))
    }
}

impl<S: fmt::Display> fmt::Display for FDerivProof<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "fderiv: f is affine on the kink-free box with slope Df(x), and vjp(x, δ) = \
             Df(x)ᵀ·δ, exactly"
        )?;
        writeln!(f, "  {}", self.radius)?;
        writeln!(f, "  step t = {} (‖h‖∞ ≤ t)", Short(&self.step))?;
        writeln!(f, "  Df(x) = {}", ShortTensor(&self.derivative))?;
        writeln!(f, "  h = {}", ShortTensor(&self.increment.h))?;
        writeln!(
            f,
            "  f(x+h) − f(x) = Df(x)·h = {}",
            ShortTensor(&self.increment.increment)
        )?;
        write!(f, "  vjp(x, δ) = {}", ShortTensor(&self.vjp))
    }
}

#[cfg(test)]
mod tests {
    use super::power_of_two_at_most;
    use crate::scalar::{pow2, Ring, Q};
    use num_bigint::BigInt;

    #[test]
    fn the_largest_power_of_two_below_any_radius_far_from_one_included() {
        let q = |n: i64, d: i64| Q::new(BigInt::from(n), BigInt::from(d));
        for (r, k) in [
            (q(1, 1), 0),
            (q(5, 1), 2),
            (q(4, 1), 2),
            (q(1, 3), -2),
            (q(1, 4), -2),
        ] {
            assert_eq!(power_of_two_at_most(&r), pow2(k), "{r}");
        }
        for k in [-100_000, -1001, -64, 63, 1000, 100_000] {
            let just_above = pow2(k).mul_ref(&q(3, 2));
            let just_below = pow2(k).mul_ref(&q(2_i64.pow(40) - 1, 2_i64.pow(40)));
            assert_eq!(power_of_two_at_most(&pow2(k)), pow2(k));
            assert_eq!(power_of_two_at_most(&just_above), pow2(k));
            assert_eq!(power_of_two_at_most(&just_below), pow2(k - 1));
        }
    }
}
