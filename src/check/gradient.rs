//! The scalar-loss case: output size 1 and `δ = 1`, where the VJP is the gradient.

use super::{jacobian, JacobianProof};
use crate::error::{Error, Result};
use crate::error::{Short, ShortTensor};
use crate::ops::OpSpec;
use crate::scalar::{with_kernel_cache, Jet, Scalar};
use crate::tensor::Tensor;
use std::fmt;

/// The gradient `∇f(x) = vjp(x, 1)` of a scalar-valued op, proved equal to the dual-number
/// derivative.
#[derive(Clone, PartialEq)]
pub struct GradientProof<S> {
    /// `f(x)`.
    pub value: S,
    /// `∇f(x)`, of the input's shape.
    pub gradient: Tensor<S>,
    /// The underlying Jacobian check with `δ = 1`.
    pub proof: JacobianProof<S>,
}

crate::error::debug_with_fractions!(GradientProof<S> {
    value,
    gradient,
    proof
});

/// Checks the gradient of a scalar loss: `vjp(x, 1)` against the row of the dual-number
/// Jacobian (and `jvp(x, ·)` at a probe). [`Error::ShapeMismatch`] if the output is not a single
/// value.
pub fn gradient<S, O>(op: &O, x: &Tensor<S>) -> Result<GradientProof<S>>
where
    S: Scalar,
    O: OpSpec<S> + OpSpec<Jet<S>>,
{
    with_kernel_cache(|| {
        let out = op.output_shape(x.shape())?;
        if out.iter().product::<usize>() != 1 {
            return Err(Error::shape_mismatch(
                &format!("gradient of {}: a scalar loss has one output", op.name()),
                out,
                vec![1],
            ));
        }
        let one = Tensor::new(out.clone(), vec![S::one()])?;
        let proof = jacobian(op, x, &super::probe(x.shape(), 1)?, &one)?;
        let value = op.forward(x)?.into_data().remove(0);
        Ok(GradientProof {
            value,
            gradient: proof.vjp.clone(),
            proof,
        })
    })
}

impl<S: fmt::Display> fmt::Display for GradientProof<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "gradient: vjp(x, 1) = ∇f(x), exactly, ∇f by dual numbers"
        )?;
        writeln!(f, "  f(x) = {}", Short(&self.value))?;
        write!(f, "  ∇f(x) = {}", ShortTensor(&self.gradient))
    }
}
