//! Reshaping: the same entries under another shape of the same size.

use super::{Op, OpSpec};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f(x)` = the entries of `x` (row-major) under `shape`; both rules reshape their tangent
/// (the Jacobian is the identity on the flattened entries).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reshape {
    shape: Vec<usize>,
}

impl Reshape {
    /// Reshaping to `shape`.
    pub fn new(shape: Vec<usize>) -> Self {
        Reshape { shape }
    }
}

impl Op for Reshape {
    fn name(&self) -> String {
        format!("Reshape{:?}", self.shape)
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        if input.iter().product::<usize>() != self.shape.iter().product::<usize>() {
            return Err(Error::ShapeMismatch {
                context: "Reshape: sizes must agree (input, target)".into(),
                left: input.to_vec(),
                right: self.shape.clone(),
            });
        }
        Ok(self.shape.clone())
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for Reshape {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let shape = self.output_shape(x.shape())?;
        x.clone().reshape(shape)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        dx.expect_shape(x.shape(), "Reshape jvp: dx")?;
        self.forward(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        dy.expect_shape(&self.output_shape(x.shape())?, "Reshape vjp: δ")?;
        dy.clone().reshape(x.shape().to_vec())
    }
}
