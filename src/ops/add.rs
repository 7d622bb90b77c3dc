//! Adding a constant tensor (a bias), elementwise.

use super::{Op, OpSpec, Parametrized};
use crate::error::Result;
use crate::scalar::{Lift, Ring};
use crate::tensor::Tensor;

/// `f(x) = x + c` for a constant `c` of the input's shape. Both rules pass the tangent through;
/// with respect to `c` the gradient is `δ`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Add<P> {
    c: Tensor<P>,
}

impl<P> Add<P> {
    /// `x ↦ x + c`.
    pub fn new(c: Tensor<P>) -> Self {
        Add { c }
    }

    fn out_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        super::expect_input(input, self.c.shape(), "Add")?;
        Ok(input.to_vec())
    }
}

impl<P> Op for Add<P> {
    fn name(&self) -> String {
        format!("Add{:?}", self.c.shape())
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.out_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<P: Clone + 'static, S: Ring + Lift<P>> OpSpec<S> for Add<P> {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        x.add(&S::lift_tensor(&self.c))
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
}

impl<P: Clone + 'static, S: Ring + Lift<P>> Parametrized<S> for Add<P> {
    fn params(&self) -> Tensor<S> {
        self.c.lift::<S>().flatten()
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
