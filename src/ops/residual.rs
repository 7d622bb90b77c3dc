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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;
    use crate::scalar::Q;

    use crate::ops::{Compose, Conv2d, LeakyRelu, Linear, Relu};

    /// A smooth block makes a smooth residual, checked without `fderiv` (which refuses it).
    #[test]
    fn residual_passes_over_a_smooth_block() {
        let block = Residual::new(crate::ops::Tanh);
        assert!(!block.is_piecewise_linear());
        assert_passes(&crate::check_op!(block, [3], cases(16)), false);
    }

    #[test]
    fn residual_passes_over_piecewise_and_parametrised_blocks() {
        let w = t(&[3, 3], &["1", "-2", "0", "1/2", "1", "3", "-1", "0", "2"]);
        let block = Residual::new(
            Linear::new(w, t(&[3], &["0", "1", "-1/3"]))
                .unwrap()
                .then(Relu),
        );
        assert_passes(&crate::check_op!(block, [3], cases(32)), true);
        let leaky = Residual::new(LeakyRelu::new(q("1/3")));
        assert_passes(&crate::check_op!(leaky, [2, 2], cases(32)), true);
        assert_params_pass(&leaky, t(&[3], &["1", "-1", "1/2"]), 32);
        // A same-shape conv block (3×3 kernel, padding 1), its weights checked through the skip.
        let w = t(
            &[1, 1, 3, 3],
            &["1", "0", "-1", "1/2", "2", "0", "-1", "1", "1/3"],
        );
        let conv = Residual::new(Conv2d::new(w, t(&[1], &["1/2"]), (1, 1), (1, 1)).unwrap());
        assert_passes(&crate::check_op!(conv, [1, 3, 3], cases(8)), true);
        let img = t(
            &[1, 3, 3],
            &["1", "-1", "2", "0", "1/2", "3", "-2", "1", "1/4"],
        );
        assert_params_pass(&conv, img, 8);
    }

    #[test]
    fn the_kink_names_the_inner_coordinate_and_the_shapes_must_agree() {
        let block = Residual::new(LeakyRelu::new(q("1/2")));
        let x = t(&[3], &["1", "0", "2"]);
        let r = crate::check::jacobian(&block, &x, &x, &x);
        assert_eq!(kink(r), (1, "LeakyReLU(α=1/2)".into(), vec![1]));
        let l = Linear::new(t(&[1, 2], &["1", "1"]), t(&[1], &["0"])).unwrap();
        let r = OpSpec::<Q>::forward(&Residual::new(l), &t(&[2], &["1", "2"]));
        assert!(matches!(r, Err(crate::Error::ShapeMismatch { .. })));
    }

    planted!(NoSkip(Residual<LeakyRelu>), fn vjp(&op, x, dy) {
        // The skip path's gradient dropped: only the inner block's VJP returned.
        op.inner().vjp(x, dy)
    });

    #[test]
    fn planted_residual_without_skip_gradient() {
        let op = NoSkip(Residual::new(LeakyRelu::new(q("1/2"))));
        assert_cx(&caught(&op, &[2]), VJP, &[0], "1", "2");
    }
}
