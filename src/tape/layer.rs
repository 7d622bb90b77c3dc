//! A ready-made node op for graphs: the primitive layers in one type, each with its parameters.

use crate::error::Result;
use crate::ops::{Add, Guard, Linear, Op, OpSpec, Param, Relu};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// One of the primitive layers, so that a [`super::Graph`] (whose ops share one type) can mix
/// them. Users with other ops write their own enum the same way: delegate every method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layer {
    /// `W·x + b`; parameters `W` (row-major) then `b`.
    Linear(Linear),
    /// `relu(x)`; no parameters.
    Relu,
    /// `x + c`; parameters `c` (flattened).
    Bias(Add),
}

impl Op for Layer {
    fn name(&self) -> String {
        match self {
            Layer::Linear(l) => l.name(),
            Layer::Relu => Relu.name(),
            Layer::Bias(a) => a.name(),
        }
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        match self {
            Layer::Linear(l) => l.output_shape(input),
            Layer::Relu => Relu.output_shape(input),
            Layer::Bias(a) => a.output_shape(input),
        }
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
    fn params(&self) -> Vec<Param<'_>> {
        match self {
            Layer::Linear(l) => l.params(),
            Layer::Relu => Vec::new(),
            Layer::Bias(a) => a.params(),
        }
    }
}

impl<S: Scalar> OpSpec<S> for Layer {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        match self {
            Layer::Linear(l) => l.forward(x),
            Layer::Relu => Relu.forward(x),
            Layer::Bias(a) => a.forward(x),
        }
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        match self {
            Layer::Linear(l) => l.jvp(x, dx),
            Layer::Relu => Relu.jvp(x, dx),
            Layer::Bias(a) => a.jvp(x, dx),
        }
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        match self {
            Layer::Linear(l) => l.vjp(x, dy),
            Layer::Relu => Relu.vjp(x, dy),
            Layer::Bias(a) => a.vjp(x, dy),
        }
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        match self {
            Layer::Relu => OpSpec::<S>::guards(&Relu, x),
            _ => Ok(Vec::new()),
        }
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        match self {
            Layer::Linear(l) => l.forward_with_params(params, x),
            Layer::Relu => {
                params.expect_shape(&[0], "ReLU has no parameters")?;
                Relu.forward(x)
            }
            Layer::Bias(a) => a.forward_with_params(params, x),
        }
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        match self {
            Layer::Linear(l) => l.jvp_params(x, dparams),
            Layer::Relu => {
                dparams.expect_shape(&[0], "ReLU has no parameters")?;
                Ok(x.zeros_like())
            }
            Layer::Bias(a) => a.jvp_params(x, dparams),
        }
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        match self {
            Layer::Linear(l) => l.vjp_params(x, dy),
            Layer::Relu => {
                dy.expect_shape(x.shape(), "ReLU vjp_params: δ")?;
                Ok(Tensor::from_vec(vec![]))
            }
            Layer::Bias(a) => a.vjp_params(x, dy),
        }
    }
}
