//! The logistic sigmoid `σ(x) = 1/(1 + e^{−x})`, elementwise (`torch.sigmoid`).

use super::pointwise::{map_at, sigmoid};
use super::{Op, OpSpec};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f(x)ᵢ = σ(xᵢ) = 1/(1 + e^{−xᵢ})`, rule `σ′ = σ·(1 − σ)`. At a rational point both are
/// exponential-polynomial fractions, so the checks decide them exactly over [`crate::Ex`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sigmoid;

impl Sigmoid {
    fn derivs<S: Scalar>(x: &Tensor<S>) -> Result<Tensor<S>> {
        map_at(x, "Sigmoid", |v| {
            let s = sigmoid(v)?;
            Ok(s.mul_ref(&S::one().sub_ref(&s)))
        })
    }
}

impl Op for Sigmoid {
    fn name(&self) -> String {
        "Sigmoid".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}

impl<S: Scalar> OpSpec<S> for Sigmoid {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        map_at(x, "Sigmoid", sigmoid)
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
    fn sigmoid_passes_over_the_exp_field() {
        let report = crate::check_op!(Sigmoid, [2, 3], cases(64));
        assert_passes(&report, false);
        assert_eq!(report.scalar, <crate::Ex as crate::Transcendental>::FIELD);
    }

    planted!(OffByTiny(Sigmoid), fn vjp(&op, x, dy) {
        // Off by a factor 1 + 2⁻¹⁰⁰ in coordinate 0: far below any float tolerance.
        let mut g = op.vjp(x, dy)?.into_data();
        let tiny = S::from_q(&crate::Q::new(1.into(), num_bigint::BigInt::from(1) << 100));
        g[0] = g[0].add_ref(&g[0].mul_ref(&tiny));
        Tensor::new(x.shape().to_vec(), g)
    });

    #[test]
    fn planted_sigmoid_vjp_off_by_two_to_the_minus_100() {
        let c = caught(&OffByTiny(Sigmoid), &[2]);
        println!("{c}");
        assert_eq!((c.check.as_str(), c.coordinate.as_slice()), (VJP, &[0][..]));
    }
}
