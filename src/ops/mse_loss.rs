//! Mean squared error against a stored target (`torch.nn.functional.mse_loss`).

use super::loss_reduction::{reduce, reduced_shape, term_cotangents};
use super::{expect_input, Op, OpSpec, Reduction};
use crate::error::Result;
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// The squared errors `(xᵢ − tᵢ)²` for a stored target `t` of the input's shape (any shape, a
/// batch axis included), reduced as torch's `reduction=` says ([`MseLoss::with_reduction`]):
/// by default their mean `(1/n) Σᵢ (xᵢ − tᵢ)²`, a scalar (shape `[]`); or their sum; or
/// themselves (none, the input's shape).
///
/// Rules: `jvp = reduce(2(x − t) ⊙ dx)`; `vjp = 2(x − t) ⊙ δ` (none), `2δ·(x − t)` (sum),
/// `(2δ/n)(x − t)` (mean).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MseLoss {
    target: Tensor<Q>,
    reduction: Reduction,
}

impl MseLoss {
    /// The mean loss against `target`.
    pub fn new(target: Tensor<Q>) -> Self {
        MseLoss {
            target,
            reduction: Reduction::Mean,
        }
    }

    /// The same loss with reduction `reduction` (torch's `reduction=`; [`Reduction::Mean`] is
    /// the default).
    pub fn with_reduction(self, reduction: Reduction) -> Self {
        MseLoss { reduction, ..self }
    }

    /// The target.
    pub fn target(&self) -> &Tensor<Q> {
        &self.target
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }
}

impl MseLoss {
    /// `x − t`, shape-checked.
    fn residual<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        expect_input(x.shape(), self.target.shape(), "MseLoss")?;
        x.sub(&self.target.lifted::<S>())
    }

    /// `2(x − t)`: the slope of every term.
    fn slopes<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(self.residual(x)?.scale(&S::from_i64(2)))
    }
}

impl Op for MseLoss {
    fn name(&self) -> String {
        match self.reduction {
            Reduction::Mean => "MseLoss".into(),
            r => format!("MseLoss(reduction={r})"),
        }
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        expect_input(input, self.target.shape(), "MseLoss")?;
        Ok(reduced_shape(input, self.reduction))
    }
}

impl<S: Scalar> OpSpec<S> for MseLoss {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let r = self.residual(x)?;
        reduce(r.hadamard(&r)?, self.reduction, "MseLoss")
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        reduce(self.slopes(x)?.hadamard(dx)?, self.reduction, "MseLoss")
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let d = term_cotangents(x, dy, self.reduction, "MseLoss")?;
        self.slopes(x)?.hadamard(&d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn mse_passes() {
        let op = MseLoss::new(t(&[2, 2], &["1", "-1/2", "0", "3"]));
        assert_passes(&crate::check_op!(op, [2, 2], cases(64)), false);
    }

    #[test]
    fn mse_is_exact_and_checks_the_target_shape() {
        // ((3−1)² + (0−1)²)/2 = 5/2, gradient (x − t)·2/2 = [2, −1].
        let op = MseLoss::new(t(&[2], &["1", "1"]));
        let g = crate::check::gradient(&op, &t(&[2], &["3", "0"])).unwrap();
        assert_eq!((g.value, g.gradient), (q("5/2"), t(&[2], &["2", "-1"])));
        let r = OpSpec::<Q>::forward(&op, &t(&[3], &["1", "2", "3"]));
        assert!(matches!(r, Err(crate::Error::ShapeMismatch { .. })));
    }

    #[test]
    fn mse_passes_with_every_reduction_on_a_batch() {
        let target = t(&[2, 3], &["1", "-1/2", "0", "3", "2", "-1"]);
        for r in [Reduction::None, Reduction::Sum, Reduction::Mean] {
            let op = MseLoss::new(target.clone()).with_reduction(r);
            assert_passes(&crate::check_op!(op, [2, 3], cases(32)), false);
        }
    }

    #[test]
    fn mse_reductions_are_exact_and_named() {
        // Residuals [2, −1]: squares [4, 1], sum 5, mean 5/2; slopes 2r = [4, −2].
        let x = t(&[2], &["3", "0"]);
        let op = |r| MseLoss::new(t(&[2], &["1", "1"])).with_reduction(r);
        let none = op(Reduction::None);
        assert_eq!(none.forward(&x).unwrap(), t(&[2], &["4", "1"]));
        assert_eq!(
            none.vjp(&x, &t(&[2], &["1", "3"])).unwrap(),
            t(&[2], &["4", "-6"])
        );
        assert_eq!(
            none.jvp(&x, &t(&[2], &["1", "3"])).unwrap(),
            t(&[2], &["4", "-6"])
        );
        let sum = op(Reduction::Sum);
        assert_eq!(sum.forward(&x).unwrap(), t(&[], &["5"]));
        assert_eq!(
            sum.vjp(&x, &t(&[], &["1/2"])).unwrap(),
            t(&[2], &["2", "-1"])
        );
        assert_eq!(
            [none.name(), sum.name(), op(Reduction::Mean).name()],
            [
                "MseLoss(reduction=none)",
                "MseLoss(reduction=sum)",
                "MseLoss"
            ]
        );
        assert_eq!(none.output_shape(&[2]).unwrap(), [2]);
        // none takes a cotangent of the input's shape, the others a scalar one.
        let r = none.vjp(&x, &t(&[], &["1"]));
        assert!(matches!(r, Err(crate::Error::ShapeMismatch { .. })));
        let r = sum.vjp(&x, &t(&[2], &["1", "1"]));
        assert!(matches!(r, Err(crate::Error::ShapeMismatch { .. })));
        // An empty input: none and sum are defined, the mean is a division by zero.
        let empty = Tensor::<Q>::new(vec![0], vec![]).unwrap();
        let op = |r| MseLoss::new(empty.clone()).with_reduction(r);
        assert_eq!(op(Reduction::Sum).forward(&empty).unwrap(), t(&[], &["0"]));
        assert_eq!(op(Reduction::None).forward(&empty).unwrap(), empty);
        let r = op(Reduction::Mean).forward(&empty);
        assert!(matches!(r, Err(crate::Error::DivisionByZero { .. })));
    }

    planted!(SumDividedByN(MseLoss), fn vjp(&op, x, dy) {
        // The mean's 1/n kept in the vjp of the sum reduction.
        let n = S::from_i64(x.len() as i64);
        Ok(op.vjp(x, dy)?.map(|v| v.checked_div(&n).unwrap()))
    });

    #[test]
    fn planted_mse_sum_vjp_divided_by_n() {
        let op = MseLoss::new(t(&[2, 2], &["0"; 4])).with_reduction(Reduction::Sum);
        assert_cx(
            &caught(&SumDividedByN(op), &[2, 2]),
            VJP,
            &[1, 1],
            "1/2",
            "2",
        );
    }

    planted!(NoTwo(MseLoss), fn vjp(&op, x, dy) {
        // d/dx (x − t)² taken as (x − t): the factor 2 lost.
        let half = S::one().checked_div(&S::from_i64(2)).unwrap();
        Ok(op.vjp(x, dy)?.scale(&half))
    });

    #[test]
    fn planted_mse_without_factor_two() {
        let op = NoTwo(MseLoss::new(t(&[2], &["1", "1"])));
        assert_cx(&caught(&op, &[2]), VJP, &[0], "-1/2", "-1");
    }
}
