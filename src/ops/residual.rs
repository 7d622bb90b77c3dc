//! A residual connection `x + g(x)`.

use super::{Guard, Op, OpSpec, Param};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f(x) = x + g(x)` for an inner op `g` whose output has the input's shape. Rules:
/// `jvp = dx + g.jvp(x, dx)`, `vjp = δ + g.vjp(x, δ)` — the fan-out of `x` into the skip path and
/// `g` accumulates two gradients. Guards, piecewise linearity, layer numbering and parameters
/// are `g`'s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Residual<O> {
    inner: O,
}

impl<O> Residual<O> {
    /// `x ↦ x + inner(x)`.
    pub fn new(inner: O) -> Self {
        Residual { inner }
    }

    /// The inner op `g`.
    pub fn inner(&self) -> &O {
        &self.inner
    }
}

impl<O: Op> Op for Residual<O> {
    fn name(&self) -> String {
        format!("Residual({})", self.inner.name())
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let out = self.inner.output_shape(input)?;
        super::expect_input(
            &out,
            input,
            "Residual: the inner op must keep the shape; its output",
        )?;
        Ok(out)
    }
    fn is_piecewise_linear(&self) -> bool {
        self.inner.is_piecewise_linear()
    }
    fn depth(&self) -> usize {
        self.inner.depth()
    }
    fn params(&self) -> Vec<Param<'_>> {
        self.inner.params()
    }
    fn param_count(&self) -> usize {
        self.inner.param_count()
    }
}

/// The parameters are the inner op's: `∂f/∂θ = ∂g/∂θ`.
impl<S: Scalar, O: OpSpec<S>> OpSpec<S> for Residual<O> {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.output_shape(x.shape())?;
        x.add(&self.inner.forward(x)?)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.output_shape(x.shape())?;
        dx.add(&self.inner.jvp(x, dx)?)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.output_shape(x.shape())?;
        dy.add(&self.inner.vjp(x, dy)?)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        self.inner.guards(x)
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.output_shape(x.shape())?;
        x.add(&self.inner.forward_with_params(params, x)?)
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        self.inner.jvp_params(x, dparams)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.inner.vjp_params(x, dy)
    }
}
