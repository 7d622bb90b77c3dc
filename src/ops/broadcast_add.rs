//! Adding a bias that is broadcast to the input's shape (NumPy rules).

use super::gather::{gather, indices, offset_of, scatter_add, strides};
use super::{param_vector, Op, OpSpec, Param};
use crate::error::{Error, Result};
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// `f(x) = x + broadcast(b)`: `b`'s shape is aligned with the input's trailing axes, and each of
/// its axes either matches or has size 1 (repeated). Rules on `x`: the identity. With respect to
/// `b` (the parameters, flattened row-major): `jvp = broadcast(db)`, `vjp` sums `δ` over the
/// broadcast axes — the accumulation a framework must not replace by an overwrite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BroadcastAdd {
    b: Tensor<Q>,
}

impl BroadcastAdd {
    /// `x ↦ x + broadcast(b)`.
    pub fn new(b: Tensor<Q>) -> Self {
        BroadcastAdd { b }
    }

    /// The bias.
    pub fn bias(&self) -> &Tensor<Q> {
        &self.b
    }

    /// For every input entry, the offset of the bias entry added to it.
    fn source(&self, input: &[usize]) -> Result<Vec<usize>> {
        broadcast_source("BroadcastAdd", input, self.b.shape())
    }
}

/// For every entry of a tensor of shape `input`, the offset of the entry of a tensor of shape
/// `b` that NumPy broadcasting pairs with it: `b`'s axes align with `input`'s trailing axes and
/// each matches or has size 1. A shape error naming `op` otherwise.
pub(crate) fn broadcast_source(op: &str, input: &[usize], bs: &[usize]) -> Result<Vec<usize>> {
    let bad = || {
        Error::shape_mismatch(
            &format!("{op}: the constant must broadcast to the input (input, constant)"),
            input.to_vec(),
            bs.to_vec(),
        )
    };
    if bs.len() > input.len() {
        return Err(bad());
    }
    let lead = input.len() - bs.len();
    let st = strides(bs);
    // A size-1 axis repeats: its stride is 0.
    let mut eff = vec![0; input.len()];
    for (a, (&d, &s)) in bs.iter().zip(&st).enumerate() {
        match d {
            1 => {}
            d if d == input[lead + a] => eff[lead + a] = s,
            _ => return Err(bad()),
        }
    }
    Ok(indices(input).map(|i| offset_of(&i, &eff)).collect())
}

impl Op for BroadcastAdd {
    fn name(&self) -> String {
        format!("BroadcastAdd{:?}", self.b.shape())
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.source(input)?;
        Ok(input.to_vec())
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
    fn params(&self) -> Vec<Param<'_>> {
        vec![Param::new(self, "bias", &self.b)]
    }
}

impl<S: Scalar> OpSpec<S> for BroadcastAdd {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.forward_with_params(&param_vector::<S, _>(self), x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.source(x.shape())?;
        dx.expect_shape(x.shape(), "BroadcastAdd jvp: dx")?;
        Ok(dx.clone())
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.source(x.shape())?;
        dy.expect_shape(x.shape(), "BroadcastAdd vjp: δ")?;
        Ok(dy.clone())
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        let src = self.source(x.shape())?;
        params.expect_shape(&[self.b.len()], "BroadcastAdd parameters")?;
        x.add(&gather(params, &src, x.shape().to_vec())?)
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        let src = self.source(x.shape())?;
        dparams.expect_shape(&[self.b.len()], "BroadcastAdd parameter tangent")?;
        gather(dparams, &src, x.shape().to_vec())
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let src = self.source(x.shape())?;
        dy.expect_shape(x.shape(), "BroadcastAdd vjp_params: δ")?;
        scatter_add(dy, &src, &[self.b.len()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn broadcast_add_passes_and_its_bias_gradient() {
        let row = BroadcastAdd::new(t(&[3], &["1", "-1/2", "2"]));
        assert_passes(&crate::check_op!(row, [2, 3], cases(64)), true);
        assert_params_pass(&row, t(&[2, 3], &["1", "2", "3", "4", "5", "6"]), 32);
        let column = BroadcastAdd::new(t(&[2, 1], &["1/3", "-2"]));
        assert_passes(&crate::check_op!(column, [2, 2, 3], cases(32)), true);
        assert_params_pass(&column, t(&[1, 2, 3], &["1", "2", "3", "4", "5", "6"]), 32);
    }

    #[test]
    fn a_column_bias_broadcasts_and_bad_shapes_are_errors() {
        let x = t(&[2, 3], &["1", "2", "3", "4", "5", "6"]);
        let column = BroadcastAdd::new(t(&[2, 1], &["10", "20"]));
        let y = OpSpec::<Q>::forward(&column, &x).unwrap();
        assert_eq!(y, t(&[2, 3], &["11", "12", "13", "24", "25", "26"]));
        // A matrix over a batch of matrices: its second axis is the input's third.
        let matrix = BroadcastAdd::new(t(&[2, 3], &["10", "20", "30", "40", "50", "60"]));
        let batch = t(
            &[2, 2, 3],
            &["1", "2", "3", "4", "5", "6", "0", "0", "0", "0", "0", "1"],
        );
        let y = OpSpec::<Q>::forward(&matrix, &batch).unwrap();
        let sums = [
            "11", "22", "33", "44", "55", "66", "10", "20", "30", "40", "50", "61",
        ];
        assert_eq!(y, t(&[2, 2, 3], &sums));
        let bias = BroadcastAdd::new(t(&[2], &["1", "2"]));
        let r = OpSpec::<Q>::forward(&bias, &x);
        assert!(matches!(r, Err(crate::Error::ShapeMismatch { .. })));
    }

    planted!(BiasOverwrite(BroadcastAdd), fn vjp_params(&op, _x, dy) {
        // Each broadcast copy overwrites the bias gradient instead of accumulating into it, so
        // only the last row of δ survives.
        let n = op.bias().len();
        let mut g = vec![S::zero(); n];
        for (k, d) in dy.data().iter().enumerate() {
            g[k % n] = d.clone();
        }
        Ok(Tensor::from_vec(g))
    });

    #[test]
    fn planted_broadcast_bias_gradient_overwritten() {
        let op = BiasOverwrite(BroadcastAdd::new(t(&[3], &["1", "2", "3"])));
        let c = caught_params(&op, t(&[2, 3], &["0"; 6]));
        assert_cx(&c, VJP, &[2], "0", "1");
    }
}
