//! An elementwise op built from a user-given scalar function and its derivative.

use super::{Op, OpSpec};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// A scalar function `φ` with its claimed derivative `φ′`, generic over the scalar so that the
/// checks can evaluate `φ` over dual numbers and compare with `φ′` exactly.
///
/// ```
/// use exactgrad::{ops::ScalarFn, Result, Scalar};
/// /// φ(x) = x² + x/3, φ′(x) = 2x + 1/3.
/// struct Poly;
/// impl ScalarFn for Poly {
///     fn name(&self) -> String { "x² + x/3".into() }
///     fn value<S: Scalar>(&self, x: &S) -> Result<S> {
///         Ok(x.mul_ref(x) + x.checked_div(&S::from_i64(3)).unwrap())
///     }
///     fn deriv<S: Scalar>(&self, x: &S) -> Result<S> {
///         Ok(S::from_i64(2).mul_ref(x) + S::one().checked_div(&S::from_i64(3)).unwrap())
///     }
/// }
/// ```
pub trait ScalarFn {
    /// A name for reports.
    fn name(&self) -> String;
    /// `φ(x)`.
    fn value<S: Scalar>(&self, x: &S) -> Result<S>;
    /// The claimed `φ′(x)` (the rule under test).
    fn deriv<S: Scalar>(&self, x: &S) -> Result<S>;
}

/// `f(x)ᵢ = φ(xᵢ)`, with `jvp = φ′(x) ⊙ dx` and `vjp = φ′(x) ⊙ δ`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Elementwise<F>(pub F);

impl<F: ScalarFn> Elementwise<F> {
    fn derivs<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let data = x
            .data()
            .iter()
            .map(|v| self.0.deriv(v))
            .collect::<Result<Vec<_>>>()?;
        Tensor::new(x.shape().to_vec(), data)
    }
}

impl<F: ScalarFn> Op for Elementwise<F> {
    fn name(&self) -> String {
        self.0.name()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}

impl<S: Scalar, F: ScalarFn> OpSpec<S> for Elementwise<F> {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let data = x
            .data()
            .iter()
            .map(|v| self.0.value(v))
            .collect::<Result<Vec<_>>>()?;
        Tensor::new(x.shape().to_vec(), data)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.derivs(x)?.hadamard(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.derivs(x)?.hadamard(dy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    /// φ(x) = x³ − x/2, φ′(x) = 3x² − 1/2.
    struct Cubic;
    impl ScalarFn for Cubic {
        fn name(&self) -> String {
            "x³ − x/2".into()
        }
        fn value<S: Scalar>(&self, x: &S) -> Result<S> {
            let half = S::one().checked_div(&S::from_i64(2)).unwrap();
            Ok(x.mul_ref(x).mul_ref(x).sub_ref(&half.mul_ref(x)))
        }
        fn deriv<S: Scalar>(&self, x: &S) -> Result<S> {
            let half = S::one().checked_div(&S::from_i64(2)).unwrap();
            Ok(S::from_i64(3).mul_ref(x).mul_ref(x).sub_ref(&half))
        }
    }

    #[test]
    fn an_elementwise_op_is_named_by_its_function() {
        assert_eq!(Elementwise(Cubic).name(), "x³ − x/2");
    }

    #[test]
    fn elementwise_passes() {
        assert_passes(
            &crate::check_op!(Elementwise(Cubic), [2, 3], cases(64)),
            false,
        );
    }

    planted!(ValueForDerivative(Elementwise<Cubic>), fn vjp(&op, x, dy) {
        // φ(x) used where φ′(x) belongs.
        op.forward(x)?.hadamard(dy)
    });

    #[test]
    fn planted_elementwise_value_for_derivative() {
        assert_cx(
            &caught(&ValueForDerivative(Elementwise(Cubic)), &[2]),
            VJP,
            &[0],
            "0",
            "-1/2",
        );
    }
}
