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
