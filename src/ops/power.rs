//! Integer powers `xⁿ` elementwise (`n` may be negative); the square is `n = 2`.

use super::{Op, OpSpec};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f(x)ᵢ = xᵢⁿ` with rule `n·xᵢⁿ⁻¹` (and derivative 0 for `n = 0`).
///
/// For `n < 0` a zero input is a pole: [`Error::DivisionByZero`] names its coordinate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Power {
    n: i32,
}

impl Power {
    /// `x ↦ xⁿ`.
    pub fn new(n: i32) -> Self {
        Power { n }
    }

    /// `x ↦ x²`.
    pub fn square() -> Self {
        Power { n: 2 }
    }

    /// The exponent.
    pub fn exponent(&self) -> i32 {
        self.n
    }

    /// `vᵏ` for `k ≥ 0`, by repeated squaring.
    fn pow_nat<S: Scalar>(v: &S, mut k: u32) -> S {
        let (mut base, mut acc) = (v.clone(), S::one());
        while k > 0 {
            if k & 1 == 1 {
                acc = acc.mul_ref(&base);
            }
            base = base.mul_ref(&base);
            k >>= 1;
        }
        acc
    }

    /// `vᵏ` for any integer `k`; `None` for a negative power of zero.
    fn pow<S: Scalar>(v: &S, k: i64) -> Option<S> {
        let p = Self::pow_nat(v, k.unsigned_abs() as u32);
        if k >= 0 {
            Some(p)
        } else {
            S::one().checked_div(&p)
        }
    }

    fn map_checked<S: Scalar>(
        &self,
        x: &Tensor<S>,
        f: impl Fn(&S) -> Option<S>,
    ) -> Result<Tensor<S>> {
        let data = x
            .data()
            .iter()
            .enumerate()
            .map(|(k, v)| {
                f(v).ok_or_else(|| Error::division_by_zero(Op::name(self), x.multi_index(k)))
            })
            .collect::<Result<Vec<_>>>()?;
        Tensor::new(x.shape().to_vec(), data)
    }

    /// `n·xⁿ⁻¹` elementwise.
    fn derivs<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let n = i64::from(self.n);
        self.map_checked(x, |v| {
            if n == 0 {
                Some(S::zero())
            } else {
                Self::pow(v, n - 1).map(|p| S::from_i64(n).mul_ref(&p))
            }
        })
    }
}

impl Op for Power {
    fn name(&self) -> String {
        format!("Power(x^{})", self.n)
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
    fn is_piecewise_linear(&self) -> bool {
        self.n == 0 || self.n == 1
    }
}

impl<S: Scalar> OpSpec<S> for Power {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.map_checked(x, |v| Self::pow(v, i64::from(self.n)))
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
    use crate::scalar::Q;

    #[test]
    fn integer_powers_pass() {
        assert_passes(&crate::check_op!(Power::new(3), [2, 2], cases(64)), false);
        assert_passes(&crate::check_op!(Power::square(), [3], cases(64)), false);
        assert_passes(
            &crate::check_op!(Power::new(-2), [3], nonzero_cases(64)),
            false,
        );
    }

    #[test]
    fn powers_zero_and_one_are_piecewise_linear_and_get_the_exact_increment_check() {
        // A constant and the identity: `fderiv` checks them, and no other power.
        assert_passes(&crate::check_op!(Power::new(0), [3], cases(16)), true);
        assert_passes(&crate::check_op!(Power::new(1), [3], cases(16)), true);
        assert!(!Power::new(2).is_piecewise_linear() && !Power::new(-1).is_piecewise_linear());
    }

    #[test]
    fn a_negative_power_passes_at_the_default_settings_its_pole_moved_off() {
        let config = crate::check::CheckConfig::default();
        let report = crate::check::check_op(&Power::new(-2), &[3], &config).unwrap();
        assert_eq!(report.cases, config.case_count(), "{report}");
    }

    #[test]
    fn a_negative_power_of_zero_names_the_pole() {
        let pole = crate::Error::division_by_zero("Power(x^-2)", [2]);
        let r = OpSpec::<Q>::forward(&Power::new(-2), &t(&[3], &["1", "2", "0"]));
        assert_eq!(r, Err(pole));
    }

    planted!(ExponentNotLowered(Power), fn vjp(&op, x, dy) {
        // n·xⁿ instead of n·xⁿ⁻¹.
        let n = S::from_i64(i64::from(op.exponent()));
        Ok(op.forward(x)?.hadamard(dy)?.scale(&n))
    });

    #[test]
    fn planted_power_exponent_not_lowered() {
        assert_cx(
            &caught(&ExponentNotLowered(Power::new(3)), &[2]),
            VJP,
            &[0],
            "-3",
            "3",
        );
    }
}
