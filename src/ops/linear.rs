//! The affine layer `W·x + b` — Lean's `Spec.linear_spec`.

use super::params::{join_params, split_params};
use super::{expect_input, Op, OpSpec, Parametrized};
use crate::error::{Error, Result};
use crate::scalar::{Lift, Ring};
use crate::tensor::Tensor;

/// `f(x) = W·x + b` with `W` of shape `[m, n]` and `b` of shape `[m]`.
///
/// Rules: `jvp = W·dx`, `vjp = Wᵀ·δ`; with respect to the parameters (flattened as `W`
/// row-major, then `b`): `∂W = δ·xᵀ`, `∂b = δ`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Linear<P> {
    w: Tensor<P>,
    b: Tensor<P>,
}

impl<P: Clone> Linear<P> {
    /// A layer from `W` (`[m, n]`) and `b` (`[m]`); [`Error::ShapeMismatch`] otherwise.
    pub fn new(w: Tensor<P>, b: Tensor<P>) -> Result<Self> {
        match *w.shape() {
            [m, _] if b.shape() == [m] => Ok(Linear { w, b }),
            _ => Err(Error::ShapeMismatch {
                context: "Linear::new: W must be [m, n] and b [m]".into(),
                left: w.shape().to_vec(),
                right: b.shape().to_vec(),
            }),
        }
    }

    /// The weight matrix `W`.
    pub fn weight(&self) -> &Tensor<P> {
        &self.w
    }

    /// The bias `b`.
    pub fn bias(&self) -> &Tensor<P> {
        &self.b
    }

    /// `(m, n)`: output and input sizes.
    pub fn dims(&self) -> (usize, usize) {
        (self.w.shape()[0], self.w.shape()[1])
    }

    fn out_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let (m, n) = self.dims();
        expect_input(input, &[n], "Linear")?;
        Ok(vec![m])
    }
}

impl<P: Clone + 'static> Linear<P> {
    /// The gradient with respect to `W`: `δ·xᵀ`, shape `[m, n]`.
    pub fn vjp_weight<S: Ring + Lift<P>>(
        &self,
        x: &Tensor<S>,
        dy: &Tensor<S>,
    ) -> Result<Tensor<S>> {
        let (m, n) = self.dims();
        expect_input(x.shape(), &[n], "Linear vjp_weight")?;
        dy.expect_shape(&[m], "Linear vjp_weight: δ")?;
        Ok(dy.outer(x))
    }

    /// The gradient with respect to `b`: `δ`.
    pub fn vjp_bias<S: Ring + Lift<P>>(&self, dy: &Tensor<S>) -> Result<Tensor<S>> {
        dy.expect_shape(&[self.dims().0], "Linear vjp_bias: δ")?;
        Ok(dy.clone())
    }
}

impl<P: Clone> Op for Linear<P> {
    fn name(&self) -> String {
        let (m, n) = self.dims();
        format!("Linear({n}→{m})")
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.out_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<P: Clone + 'static, S: Ring + Lift<P>> OpSpec<S> for Linear<P> {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        S::lift_tensor(&self.w).linear(&S::lift_tensor(&self.b), x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.out_shape(x.shape())?;
        S::lift_tensor(&self.w).mat_vec_mul(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.out_shape(x.shape())?;
        S::lift_tensor(&self.w).transpose_mat_vec_mul(dy)
    }
}

impl<P: Clone + 'static, S: Ring + Lift<P>> Parametrized<S> for Linear<P> {
    fn params(&self) -> Tensor<S> {
        join_params(&[&self.w.lift(), &self.b.lift()])
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        let [w, b] = <[_; 2]>::try_from(split_params(params, &[self.w.shape(), self.b.shape()])?)
            .expect("two shapes give two parts");
        w.linear(&b, x)
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        self.forward_with_params(dparams, x)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(join_params(&[
            &self.vjp_weight(x, dy)?,
            &self.vjp_bias(dy)?,
        ]))
    }
}
