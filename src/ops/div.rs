//! Elementwise quotient of two operands; division by zero is a typed error.

use super::mul::pair;
use super::stacked::{operand_shape, stack};
use super::{Op, OpSpec};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `f([a, b]) = a ⊘ b` on two operands stacked as `[2, ...s]`. Rules (quotient rule):
/// `jvp = da ⊘ b − a ⊙ db ⊘ b²`, `vjp = [δ ⊘ b, −δ ⊙ a ⊘ b²]`.
///
/// A zero divisor is not a kink but a pole: every method returns [`Error::DivisionByZero`] naming
/// the divisor's coordinate in the stacked input, `[1, ...i]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Div;

impl Op for Div {
    fn name(&self) -> String {
        "Div".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        operand_shape(input, 2, "Div")
    }
}

/// `num ⊘ den`, or the coordinate `[1, ...i]` of the first zero in `den`.
fn quotient<S: Scalar>(num: &Tensor<S>, den: &Tensor<S>) -> Result<Tensor<S>> {
    num.expect_shape(den.shape(), "Div: operands")?;
    let data = num
        .data()
        .iter()
        .zip(den.data())
        .enumerate()
        .map(|(k, (n, d))| {
            n.checked_div(d).ok_or_else(|| {
                let mut coordinate = vec![1];
                coordinate.extend(den.multi_index(k));
                Error::division_by_zero("Div", coordinate)
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Tensor::new(den.shape().to_vec(), data)
}

impl<S: Scalar> OpSpec<S> for Div {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let [a, b] = pair(x)?;
        quotient(&a, &b)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let ([a, b], [da, db]) = (pair(x)?, pair(dx)?);
        let b2 = b.hadamard(&b)?;
        quotient(&da, &b)?.sub(&quotient(&a.hadamard(&db)?, &b2)?)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let [a, b] = pair(x)?;
        let b2 = b.hadamard(&b)?;
        let db = quotient(&dy.hadamard(&a)?, &b2)?.map(|v| v.neg_ref());
        stack(&[quotient(dy, &b)?, db])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;
    use crate::scalar::Q;

    #[test]
    fn div_passes_off_its_poles() {
        assert_passes(&crate::check_op!(Div, [2, 3], nonzero_cases(64)), false);
    }

    #[test]
    fn div_passes_at_the_default_settings_its_poles_moved_off_like_kinks() {
        // The default elements draw exact zeros: a pole of forward is outside the domain, and
        // the draw is moved off it (a zero divisor becomes 1), never reported as a failure.
        let config = crate::check::CheckConfig::default();
        let report = crate::check::check_op(&Div, &[2, 3], &config).unwrap();
        assert_eq!(report.cases, config.case_count(), "{report}");
        // A check called at a pole still names it.
        let x = t(&[2, 3], &["1", "2", "3", "4", "0", "5"]);
        let e = crate::check::check_at(&Div, &x, &fixed()).unwrap_err();
        assert!(
            matches!(&e.error, crate::Error::DivisionByZero { coordinate, .. } if coordinate == &[1, 1]),
            "{e}"
        );
    }

    planted!(VjpRefusesPoint(Div), fn vjp(&op, x, dy) {
        // A rule that divides by zero where forward does not (it divides by the numerator).
        let swapped = Tensor::new(x.shape().to_vec(), [&x.data()[3..], &x.data()[..3]].concat())?;
        op.vjp(&swapped, dy)
    });

    #[test]
    fn a_rule_that_divides_by_zero_where_forward_does_not_fails() {
        let x = t(&[2, 3], &["0", "2", "3", "4", "1", "5"]);
        let e = crate::check::check_at(&VjpRefusesPoint(Div), &x, &fixed()).unwrap_err();
        assert!(
            matches!(e.error, crate::Error::DivisionByZero { .. }),
            "{e}"
        );
    }

    #[test]
    fn division_by_zero_names_the_divisor() {
        let x = t(&[2, 3], &["1", "2", "3", "4", "0", "5"]);
        let zero = crate::Error::division_by_zero("Div", [1, 1]);
        assert_eq!(OpSpec::<Q>::forward(&Div, &x), Err(zero.clone()));
        assert_eq!(
            crate::check::reference_jacobian(&Div, &x).unwrap_err(),
            zero
        );
    }

    planted!(SignLost(Div), fn vjp(&op, x, dy) {
        // The quotient rule without its minus sign: ∂(a/b)/∂b taken as +a/b².
        let g = op.vjp(x, dy)?;
        let n = g.len() / 2;
        let data = g.data().iter().enumerate();
        let data = data.map(|(k, v)| if k >= n { v.neg_ref() } else { v.clone() });
        Tensor::new(g.shape().to_vec(), data.collect())
    });

    #[test]
    fn planted_div_quotient_rule_sign() {
        let c = caught_with(&SignLost(Div), &[2, 1], &nonzero_cases(32).cases(32));
        assert_cx(&c, VJP, &[1, 0], "1", "-1");
    }
}
