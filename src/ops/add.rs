//! Adding a constant tensor (a bias), elementwise.

use super::{Op, OpSpec, Param};
use crate::error::Result;
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// `f(x) = x + c` for a constant `c` of the input's shape. Both rules pass the tangent through;
/// with respect to `c` the gradient is `δ`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Add {
    c: Tensor<Q>,
}

impl Add {
    /// `x ↦ x + c`.
    pub fn new(c: Tensor<Q>) -> Self {
        Add { c }
    }

    fn out_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        super::expect_input(input, self.c.shape(), "Add")?;
        Ok(input.to_vec())
    }
}

impl Op for Add {
    fn name(&self) -> String {
        format!("Add{:?}", self.c.shape())
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.out_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
    fn params(&self) -> Vec<Param<'_>> {
        vec![Param::new(self, "constant", &self.c)]
    }
}

impl<S: Scalar> OpSpec<S> for Add {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        x.add(&self.c.lifted::<S>())
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.out_shape(x.shape())?;
        dx.expect_shape(x.shape(), "Add jvp: dx")?;
        Ok(dx.clone())
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.out_shape(x.shape())?;
        dy.expect_shape(x.shape(), "Add vjp: δ")?;
        Ok(dy.clone())
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        x.add(&params.clone().reshape(self.c.shape().to_vec())?)
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        self.out_shape(x.shape())?;
        dparams.clone().reshape(x.shape().to_vec())
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.out_shape(x.shape())?;
        dy.expect_shape(x.shape(), "Add vjp_params: δ")?;
        Ok(dy.flatten())
    }
}
