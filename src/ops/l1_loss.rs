//! Mean absolute error against a stored target (`torch.nn.functional.l1_loss`).

use super::loss_reduction::{reduce, reduced_shape, term_cotangents};
use super::piecewise::signum;
use super::{expect_input, Guard, Op, OpSpec, Reduction};
use crate::error::Result;
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// The absolute errors `|xᵢ − tᵢ|` for a stored target `t` of the input's shape (any shape, a
/// batch axis included), reduced as torch's `reduction=` says ([`L1Loss::with_reduction`]): by
/// default their mean `(1/n) Σᵢ |xᵢ − tᵢ|`, a scalar (shape `[]`); or their sum; or themselves
/// (none, the input's shape).
///
/// Rules: `jvp = reduce(sign(x − t) ⊙ dx)`; `vjp = sign(x − t) ⊙ δ` (none), `δ·sign(x − t)`
/// (sum), `(δ/n)·sign(x − t)` (mean). Kinks where `xᵢ = tᵢ`, whatever the reduction: the guards
/// are the residuals `xᵢ − tᵢ`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct L1Loss {
    target: Tensor<Q>,
    reduction: Reduction,
}

impl L1Loss {
    /// The mean loss against `target`.
    pub fn new(target: Tensor<Q>) -> Self {
        L1Loss {
            target,
            reduction: Reduction::Mean,
        }
    }

    /// The same loss with reduction `reduction` (torch's `reduction=`; [`Reduction::Mean`] is
    /// the default).
    pub fn with_reduction(self, reduction: Reduction) -> Self {
        L1Loss { reduction, ..self }
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

impl L1Loss {
    fn residual<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        expect_input(x.shape(), self.target.shape(), "L1Loss")?;
        x.sub(&self.target.lifted::<S>())
    }

    /// `sign(x − t)`, 0 at the kink, through selects ([`signum`]).
    fn signs<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(self.residual(x)?.map(|v| signum(v)))
    }
}

impl Op for L1Loss {
    fn name(&self) -> String {
        match self.reduction {
            Reduction::Mean => "L1Loss".into(),
            r => format!("L1Loss(reduction={r})"),
        }
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        expect_input(input, self.target.shape(), "L1Loss")?;
        Ok(reduced_shape(input, self.reduction))
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for L1Loss {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let abs = self.residual(x)?.map(|v| v.abs_val());
        reduce(abs, self.reduction, "L1Loss")
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        reduce(self.signs(x)?.hadamard(dx)?, self.reduction, "L1Loss")
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let d = term_cotangents(x, dy, self.reduction, "L1Loss")?;
        self.signs(x)?.hadamard(&d)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        let r = self.residual(x)?;
        Ok(super::coordinate_guards::coordinate_guards(&r, "L1Loss"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn l1_passes_off_zero_residuals() {
        let op = L1Loss::new(t(&[2, 2], &["1", "-1/2", "0", "3"]));
        assert_passes(&crate::check_op!(op, [2, 2], cases(64)), true);
    }

    #[test]
    fn l1_is_exact_and_a_zero_residual_is_a_kink() {
        // (|2| + |−1|)/2 = 3/2; gradient sign/2.
        let l1 = L1Loss::new(t(&[2], &["1", "1"]));
        let g = crate::check::gradient(&l1, &t(&[2], &["3", "0"])).unwrap();
        assert_eq!((g.value, g.gradient), (q("3/2"), t(&[2], &["1/2", "-1/2"])));
        let x = t(&[3], &["1", "0", "2"]);
        let r = crate::check::jacobian(&L1Loss::new(t(&[3], &["0"; 3])), &x, &x, &t(&[], &["1"]));
        assert_eq!(kink(r), (1, "L1Loss".into(), vec![1]));
    }

    #[test]
    fn l1_branches_through_select() {
        assert_proved(&L1Loss::new(t(&[2, 2], &["1", "-1/2", "0", "3"])), &[2, 2]);
    }

    #[test]
    fn l1_sign_is_zero_at_a_zero_residual() {
        let l1 = L1Loss::new(t(&[3], &["0"; 3]));
        let g = l1
            .vjp(&t(&[3], &["1", "0", "-2"]), &t(&[], &["3"]))
            .unwrap();
        assert_eq!(g, t(&[3], &["1", "0", "-1"]));
    }

    #[test]
    fn l1_passes_with_every_reduction_on_a_batch() {
        let target = t(&[2, 3], &["1", "-1/2", "0", "3", "2", "-1"]);
        for r in [Reduction::None, Reduction::Sum, Reduction::Mean] {
            let op = L1Loss::new(target.clone()).with_reduction(r);
            assert_passes(&crate::check_op!(op, [2, 3], cases(32)), true);
            assert_proved(&op, &[2, 3]);
        }
    }

    #[test]
    fn l1_reductions_are_exact_and_keep_their_kinks() {
        let x = t(&[3], &["3", "0", "1"]);
        let op = |r| L1Loss::new(t(&[3], &["1", "1", "1"])).with_reduction(r);
        let none = op(Reduction::None);
        assert_eq!(none.forward(&x).unwrap(), t(&[3], &["2", "1", "0"]));
        let dy = t(&[3], &["5", "7", "11"]);
        assert_eq!(none.vjp(&x, &dy).unwrap(), t(&[3], &["5", "-7", "0"]));
        let sum = op(Reduction::Sum);
        assert_eq!(sum.forward(&x).unwrap(), t(&[], &["3"]));
        assert_eq!(
            sum.vjp(&x, &t(&[], &["2"])).unwrap(),
            t(&[3], &["2", "-2", "0"])
        );
        assert_eq!(sum.name(), "L1Loss(reduction=sum)");
        let r = crate::check::jacobian(&none, &x, &x, &dy);
        assert_eq!(kink(r), (1, "L1Loss".into(), vec![2]));
    }

    planted!(NoneReadsFirstCotangent(L1Loss), fn vjp(&op, x, dy) {
        // The none reduction's cotangent read as a scalar: δ₀ on every entry.
        let signs = x.sub(&op.target().lifted::<S>())?.map(|v| signum(v));
        Ok(signs.scale(&dy.data()[0]))
    });

    #[test]
    fn planted_l1_none_vjp_with_one_cotangent_for_all() {
        let op = L1Loss::new(t(&[2, 2], &["0"; 4])).with_reduction(Reduction::None);
        assert_cx(
            &caught(&NoneReadsFirstCotangent(op), &[2, 2]),
            VJP,
            &[1, 1],
            "0",
            "1",
        );
    }

    planted!(ResidualForSign(L1Loss), fn vjp(&op, x, dy) {
        // The residual itself used where its sign belongs (the MSE rule pasted into L1).
        let n = S::from_i64(x.len() as i64);
        let r = x.sub(&op.target().lifted::<S>())?;
        Ok(r.scale(&dy.data()[0].checked_div(&n).unwrap()))
    });

    #[test]
    fn planted_l1_residual_instead_of_sign() {
        let op = ResidualForSign(L1Loss::new(t(&[2], &["0", "0"])));
        assert_cx(&caught(&op, &[2]), VJP, &[1], "1/6", "1/2");
    }
}
