//! The hyperbolic tangent, elementwise (`torch.tanh`).

use super::pointwise::{map_at, tanh};
use super::{Op, OpSpec};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f(x)ᵢ = tanh xᵢ = (1 − e^{−2xᵢ})/(1 + e^{−2xᵢ})` (`torch.tanh`), rule `tanh′ = 1 − tanh²`
/// (torch's backward is `δ·(1 − y²)` from the saved output `y`). Both are
/// exponential-polynomial fractions at a rational point, decided exactly over [`crate::Ex`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tanh;

impl Tanh {
    fn derivs<S: Scalar>(x: &Tensor<S>) -> Result<Tensor<S>> {
        map_at(x, "Tanh", |v| {
            let t = tanh(v)?;
            Ok(S::one().sub_ref(&t.mul_ref(&t)))
        })
    }
}

impl Op for Tanh {
    fn name(&self) -> String {
        "Tanh".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}

impl<S: Scalar> OpSpec<S> for Tanh {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        map_at(x, "Tanh", tanh)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        Self::derivs(x)?.hadamard(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        Self::derivs(x)?.hadamard(dy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn tanh_passes_over_the_exp_field() {
        let report = crate::check_op!(Tanh, [2, 3], cases(64));
        assert_passes(&report, false);
        assert_eq!(report.scalar, <crate::Ex as crate::Transcendental>::FIELD);
    }

    planted!(SquareMissing(Tanh), fn vjp(&_op, x, dy) {
        // 1 − tanh where 1 − tanh² belongs.
        let d = map_at(x, "Tanh", |v| Ok(S::one().sub_ref(&tanh(v)?)))?;
        d.hadamard(dy)
    });

    #[test]
    fn planted_tanh_derivative_without_the_square() {
        let c = caught(&SquareMissing(Tanh), &[2]);
        println!("{c}");
        // At x = 1: 1 − tanh 1 = 2/(e² + 1) against 1 − tanh² 1 = 4e²/(e² + 1)².
        assert_cx(&c, VJP, &[0], "2/(e^2 + 1)", "4e^2/(e^4 + 2e^2 + 1)");
    }
}
