//! Elementwise product of two operands.

use super::stacked::{operand_shape, stack, unstack};
use super::{Op, OpSpec};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f([a, b]) = a ⊙ b` on two operands stacked as `[2, ...s]` (see the stacking convention in
/// `ops::stacked`). Rules: `jvp = da ⊙ b + a ⊙ db`, `vjp = [δ ⊙ b, δ ⊙ a]`. Bilinear, so smooth
/// but not piecewise linear.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mul;

impl Op for Mul {
    fn name(&self) -> String {
        "Mul".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        operand_shape(input, 2, "Mul")
    }
}

impl<S: Scalar> OpSpec<S> for Mul {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let [a, b] = pair(x)?;
        a.hadamard(&b)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let ([a, b], [da, db]) = (pair(x)?, pair(dx)?);
        da.hadamard(&b)?.add(&a.hadamard(&db)?)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let [a, b] = pair(x)?;
        stack(&[dy.hadamard(&b)?, dy.hadamard(&a)?])
    }
}

/// The two operands of a stacked `[2, ...s]` input.
pub(crate) fn pair<S: Clone>(x: &Tensor<S>) -> Result<[Tensor<S>; 2]> {
    let mut parts = unstack(x, 2, "binary op")?.into_iter();
    match (parts.next(), parts.next()) {
        (Some(a), Some(b)) => Ok([a, b]),
        _ => unreachable!("unstack checked the leading axis is 2"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;
    use crate::scalar::Q;

    #[test]
    fn mul_passes() {
        assert_passes(&crate::check_op!(Mul, [2, 3], cases(64)), false);
    }

    #[test]
    fn one_operand_is_an_error() {
        let r = OpSpec::<Q>::forward(&Mul, &t(&[3], &["1", "2", "3"]));
        assert!(matches!(r, Err(crate::Error::ShapeMismatch { .. })));
    }

    planted!(OperandsSwapped(Mul), fn vjp(&op, x, dy) {
        // Each operand given its own value instead of the other's: [δ⊙a, δ⊙b].
        let g = op.vjp(x, dy)?;
        let n = g.len() / 2;
        let data = [&g.data()[n..], &g.data()[..n]].concat();
        Tensor::new(g.shape().to_vec(), data)
    });

    #[test]
    fn planted_mul_operands_swapped() {
        assert_cx(
            &caught(&OperandsSwapped(Mul), &[2, 1]),
            VJP,
            &[0, 0],
            "0",
            "1",
        );
    }
}
