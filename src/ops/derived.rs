//! Forward-mode defaults for the parameter rules: an op that does not write its own
//! `jvp_params`/`vjp_params` returns these, computed from [`OpSpec::forward_with_params`] over
//! dual numbers and jets.
//!
//! Inside a generic `impl<S: Scalar> OpSpec<S> for MyOp`, the op is also an `OpSpec<Dual<S>>`
//! and an `OpSpec<Jet<S>>`, so each default is one line:
//!
//! ```ignore
//! fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
//!     exactgrad::ops::derived::vjp_params(self, x, dy)
//! }
//! ```
//!
//! A default is exact but costs a forward pass over jets as wide as the parameter vector, and
//! it is the same computation as the checks' reference side, so checking it proves only that
//! `forward_with_params` agrees with `forward`; write the rule by hand where it is the thing
//! under test.

use super::{param_vector, OpSpec};
use crate::error::Result;
use crate::scalar::{Dual, Jet, Scalar};
use crate::tensor::Tensor;

/// `(∂f/∂θ)·dθ` by one forward pass over [`Dual<S>`] at `(θ + ε·dθ, x)`.
pub fn jvp_params<S, O>(op: &O, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>>
where
    S: Scalar,
    O: OpSpec<Dual<S>> + ?Sized,
{
    let theta: Tensor<S> = param_vector(op);
    dparams.expect_shape(theta.shape(), &format!("{}: parameter tangent", op.name()))?;
    let seeded = theta.zip_with(dparams, |t, d| Dual::new(t.clone(), d.clone()))?;
    let y = op.forward_with_params(&seeded, &x.map(|v| Dual::constant(v.clone())))?;
    Ok(y.map(|v| v.eps.clone()))
}

/// `(∂f/∂θ)ᵀ·δ` by one forward pass over [`Jet<S>`] seeded at `θ`: the Jacobian with respect
/// to the parameters, transposed, times `δ`.
pub fn vjp_params<S, O>(op: &O, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>>
where
    S: Scalar,
    O: OpSpec<Jet<S>> + ?Sized,
{
    let theta: Tensor<S> = param_vector(op);
    let n = theta.len();
    let y = op.forward_with_params(&Jet::seed(&theta)?, &x.map(|v| Jet::constant(v.clone())))?;
    dy.expect_shape(
        y.shape(),
        &format!("{}: δ must have the output's shape", op.name()),
    )?;
    let mut grad = vec![S::zero(); n];
    for (v, d) in y.data().iter().zip(dy.data()) {
        for (g, partial) in grad.iter_mut().zip(v.tangent(n).iter()) {
            *g = g.add_ref(&partial.mul_ref(d));
        }
    }
    Ok(Tensor::from_vec(grad))
}

#[cfg(test)]
mod tests {
    use super::{jvp_params, vjp_params};
    use crate::ops::test_support::{q, t};
    use crate::ops::{Clamp, Linear, OpSpec};

    // The defaults against hand-written rules: Linear (parameters enter bilinearly) and Clamp
    // (a piecewise op whose parameters are its bounds), at points off every kink.
    #[test]
    fn the_forward_mode_defaults_equal_the_hand_written_parameter_rules() {
        let linear = Linear::new(
            t(&[2, 3], &["1", "-2", "1/2", "3", "0", "-1/4"]),
            t(&[2], &["1/3", "-1"]),
        )
        .unwrap();
        let (x, dy) = (t(&[3], &["2", "-1/2", "5"]), t(&[2], &["-3", "7/2"]));
        let dtheta = t(&[8], &["1", "0", "-1", "2", "1/2", "3", "-2", "1/7"]);
        assert_eq!(vjp_params(&linear, &x, &dy), linear.vjp_params(&x, &dy));
        assert_eq!(
            jvp_params(&linear, &x, &dtheta),
            linear.jvp_params(&x, &dtheta)
        );

        let clamp = Clamp::new(q("-1"), q("1")).unwrap();
        let (x, dy) = (t(&[3], &["-2", "1/2", "3"]), t(&[3], &["5", "-1", "2"]));
        let dbounds = t(&[2], &["1/3", "-4"]);
        assert_eq!(vjp_params(&clamp, &x, &dy), clamp.vjp_params(&x, &dy));
        assert_eq!(
            jvp_params(&clamp, &x, &dbounds),
            clamp.jvp_params(&x, &dbounds)
        );
        // Values, not only agreement: ∂/∂lo = [x < lo], ∂/∂hi = [x > hi].
        assert_eq!(vjp_params(&clamp, &x, &dy), Ok(t(&[2], &["5", "2"])));
    }
}
