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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn add_passes_and_its_constant_gradient() {
        let op = Add::new(t(&[2, 2], &["1/2", "-1", "3", "0"]));
        assert_passes(&crate::check_op!(op, [2, 2], cases(64)), true);
        assert_params_pass(&op, t(&[2, 2], &["1", "2", "3", "4"]), 32);
    }

    planted!(ConstantInGradient(Add), fn vjp(&op, _x, dy) {
        // The forward pass applied to δ: the constant leaks into the cotangent.
        op.forward(dy)
    });

    #[test]
    fn planted_add_constant_in_the_gradient() {
        let op = ConstantInGradient(Add::new(t(&[2], &["1/2", "-1"])));
        assert_cx(
            &caught(&op, &[2]),
            "structural: vjp(x, 0) = 0",
            &[0],
            "1/2",
            "0",
        );
    }
}
