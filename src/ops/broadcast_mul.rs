//! Multiplying by a constant that is broadcast to the input's shape (NumPy rules).

use super::broadcast_add::broadcast_source;
use super::gather::{gather, scatter_add};
use super::{param_vector, Op, OpSpec, Param};
use crate::error::Result;
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// `f(x) = x ⊙ broadcast(c)` (an elementwise scaling: `Mul` by a weight, `Div` by a constant):
/// `c`'s axes align with the input's trailing axes, each matching or of size 1. Rules on `x`:
/// `jvp = dx ⊙ c`, `vjp = δ ⊙ c`. With respect to `c` (the parameters, flattened row-major):
/// `jvp = x ⊙ broadcast(dc)`, and `vjp` sums `δ ⊙ x` over the broadcast axes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BroadcastMul {
    c: Tensor<Q>,
}

impl BroadcastMul {
    /// `x ↦ x ⊙ broadcast(c)`.
    pub fn new(c: Tensor<Q>) -> Self {
        BroadcastMul { c }
    }

    /// The factor.
    pub fn factor(&self) -> &Tensor<Q> {
        &self.c
    }

    fn source(&self, input: &[usize]) -> Result<Vec<usize>> {
        broadcast_source("BroadcastMul", input, self.c.shape())
    }

    /// `c` broadcast to the shape of `x`.
    fn spread<S: Scalar>(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        let src = self.source(x.shape())?;
        params.expect_shape(&[self.c.len()], "BroadcastMul parameters")?;
        gather(params, &src, x.shape().to_vec())
    }
}

impl Op for BroadcastMul {
    fn name(&self) -> String {
        format!("BroadcastMul{:?}", self.c.shape())
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.source(input)?;
        Ok(input.to_vec())
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
    fn params(&self) -> Vec<Param<'_>> {
        vec![Param::new(self, "factor", &self.c)]
    }
}

/// Parameters: `c`, flattened row-major.
impl<S: Scalar> OpSpec<S> for BroadcastMul {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.forward_with_params(&param_vector::<S, _>(self), x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        dx.expect_shape(x.shape(), "BroadcastMul jvp: dx")?;
        dx.hadamard(&self.spread(&param_vector::<S, _>(self), x)?)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        dy.expect_shape(x.shape(), "BroadcastMul vjp: δ")?;
        dy.hadamard(&self.spread(&param_vector::<S, _>(self), x)?)
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        x.hadamard(&self.spread(params, x)?)
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        x.hadamard(&self.spread(dparams, x)?)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let src = self.source(x.shape())?;
        dy.expect_shape(x.shape(), "BroadcastMul vjp_params: δ")?;
        scatter_add(&dy.hadamard(x)?, &src, &[self.c.len()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    fn per_column() -> BroadcastMul {
        BroadcastMul::new(t(&[3], &["2", "-1/2", "3"]))
    }

    #[test]
    fn broadcast_mul_passes_and_its_factor_gradient() {
        assert_passes(&crate::check_op!(per_column(), [2, 3], cases(64)), true);
        assert_params_pass(
            &per_column(),
            t(&[2, 3], &["1", "2", "3", "4", "5", "6"]),
            32,
        );
        let scalar = BroadcastMul::new(t(&[], &["1/4"]));
        assert_passes(&crate::check_op!(scalar, [2, 2], cases(32)), true);
    }

    #[test]
    fn a_column_factor_broadcasts_and_bad_shapes_are_errors() {
        let x = t(&[2, 3], &["1", "2", "3", "4", "5", "6"]);
        let column = BroadcastMul::new(t(&[2, 1], &["10", "-1"]));
        let y = OpSpec::<Q>::forward(&column, &x).unwrap();
        assert_eq!(y, t(&[2, 3], &["10", "20", "30", "-4", "-5", "-6"]));
        let r = OpSpec::<Q>::forward(&BroadcastMul::new(t(&[2], &["1", "2"])), &x);
        assert!(matches!(r, Err(crate::Error::ShapeMismatch { .. })));
    }

    planted!(FactorGradientWithoutX(BroadcastMul), fn vjp_params(&op, _x, dy) {
        // ∂c sums δ over the broadcast axes but forgets the factor x.
        let n = op.factor().len();
        let mut g = vec![S::zero(); n];
        for (k, d) in dy.data().iter().enumerate() {
            g[k % n] = g[k % n].add_ref(d);
        }
        Ok(Tensor::from_vec(g))
    });

    #[test]
    fn planted_factor_gradient_without_the_input() {
        let op = FactorGradientWithoutX(per_column());
        let c = caught_params(&op, t(&[2, 3], &["0"; 6]));
        assert_cx(&c, VJP, &[2], "1", "0");
    }
}
