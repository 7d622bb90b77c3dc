//! The no-kinks hypothesis: the derivative exists at a point only if no guard is zero there.

use crate::error::{Error, Result};
use crate::ops::{Guard, OpSpec};
use crate::scalar::Scalar;
use crate::tensor::Tensor;
use std::cmp::Ordering;

/// The no-kinks hypothesis: every guard of `op` at `x` is non-zero. Returns the guards, or
/// [`Error::Kink`] naming the layer and coordinate of the first zero.
pub fn no_kinks<S: Scalar, O: OpSpec<S> + ?Sized>(op: &O, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
    let guards = op.guards(x)?;
    if let Some(g) = guards.iter().find(|g| g.value.sign() == Ordering::Equal) {
        return Err(Error::kink(g.layer, g.op.clone(), g.coordinate.clone()));
    }
    Ok(guards)
}
