//! Multiplication by a constant matrix — Lean's `mat_vec_mul_spec` as an op.

use super::{expect_input, Op, OpSpec, Param};
use crate::error::{Error, Result};
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// `f(x) = A·x` for a constant matrix `A` of shape `[m, n]`: `jvp = A·dx`, `vjp = Aᵀ·δ`, and
/// with respect to `A` (row-major) the gradient `δ·xᵀ`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatVec {
    a: Tensor<Q>,
}

impl MatVec {
    /// `x ↦ A·x`; [`Error::ShapeMismatch`] unless `A` is a matrix.
    pub fn new(a: Tensor<Q>) -> Result<Self> {
        if a.shape().len() != 2 {
            return Err(Error::shape_mismatch(
                "MatVec::new: expected a matrix",
                a.shape().to_vec(),
                vec![],
            ));
        }
        Ok(MatVec { a })
    }

    fn dims(&self) -> (usize, usize) {
        (self.a.shape()[0], self.a.shape()[1])
    }

    fn out_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let (m, n) = self.dims();
        expect_input(input, &[n], "MatVec")?;
        Ok(vec![m])
    }
}

impl Op for MatVec {
    fn name(&self) -> String {
        let (m, n) = self.dims();
        format!("MatVec({n}→{m})")
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.out_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
    fn params(&self) -> Vec<Param<'_>> {
        vec![Param::new(self, "matrix", &self.a)]
    }
}

impl<S: Scalar> OpSpec<S> for MatVec {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.a.lifted::<S>().mat_vec_mul(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.out_shape(x.shape())?;
        self.forward(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.out_shape(x.shape())?;
        self.a.lifted::<S>().transpose_mat_vec_mul(dy)
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        params
            .clone()
            .reshape(self.a.shape().to_vec())?
            .mat_vec_mul(x)
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        self.forward_with_params(dparams, x)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let (m, n) = self.dims();
        expect_input(x.shape(), &[n], "MatVec vjp_params")?;
        dy.expect_shape(&[m], "MatVec vjp_params: δ")?;
        Ok(dy.outer(x).flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn mat_vec_passes_and_its_matrix_gradient() {
        let op = MatVec::new(t(&[2, 3], &["1", "-2", "3", "-1", "4", "1/2"])).unwrap();
        assert_passes(&crate::check_op!(op, [3], cases(64)), true);
        assert_params_pass(&op, t(&[3], &["1", "-1/2", "2"]), 32);
    }

    planted!(NoTranspose(MatVec), fn vjp(&op, _x, dy) {
        // A·δ instead of Aᵀ·δ (type-checks for a square A).
        op.forward(dy)
    });

    #[test]
    fn planted_mat_vec_without_transpose() {
        let op = NoTranspose(MatVec::new(t(&[2, 2], &["1", "2", "3", "4"])).unwrap());
        assert_cx(&caught(&op, &[2]), VJP, &[1], "3", "2");
    }
}
