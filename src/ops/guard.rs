//! Guards: the pre-activations whose signs select the smooth piece, and the no-kinks hypothesis.

use crate::error::{Error, Result};
use crate::ops::OpSpec;
use crate::scalar::Scalar;
use crate::tensor::Tensor;
use std::cmp::Ordering;

/// A pre-activation of a piecewise op at the current point: its sign must not change for the op
/// to stay on one smooth piece.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guard<S> {
    /// 1-based position of the op in the composed network.
    pub layer: usize,
    /// The op's name.
    pub op: String,
    /// The multi-index within that op's input.
    pub coordinate: Vec<usize>,
    /// The pre-activation's value.
    pub value: S,
}

/// The no-kinks hypothesis: every guard of `op` at `x` is non-zero. Returns the guards, or
/// [`Error::Kink`] naming the layer and coordinate of the first zero.
pub fn no_kinks<S: Scalar, O: OpSpec<S> + ?Sized>(op: &O, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
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
