//! Mean absolute error against a stored target.

use super::mean::per_entry;
use super::piecewise::signum;
use super::sum::{scalar, scalar_cotangent, total};
use super::{expect_input, Guard, Op, OpSpec};
use crate::error::Result;
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// `f(x) = (1/n) Σᵢ |xᵢ − tᵢ|` for a stored target `t`; a scalar (shape `[]`). Rules:
/// `jvp = (1/n) Σ sign(x − t) ⊙ dx`, `vjp = (δ/n)·sign(x − t)`. Kinks where `xᵢ = tᵢ`: the guards
/// are the residuals `xᵢ − tᵢ`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct L1Loss {
    target: Tensor<Q>,
}

impl L1Loss {
    /// The loss against `target`.
    pub fn new(target: Tensor<Q>) -> Self {
        L1Loss { target }
    }

    /// The target.
    pub fn target(&self) -> &Tensor<Q> {
        &self.target
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
        "L1Loss".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        expect_input(input, self.target.shape(), "L1Loss")?;
        Ok(vec![])
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<S: Scalar> OpSpec<S> for L1Loss {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let abs = self.residual(x)?.map(|v| v.abs_val());
        Ok(scalar(per_entry(&total(&abs), x, "L1Loss")?))
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(scalar(per_entry(&self.signs(x)?.dot(dx)?, x, "L1Loss")?))
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let d = per_entry(scalar_cotangent(dy, "L1Loss vjp: δ")?, x, "L1Loss")?;
        Ok(self.signs(x)?.scale(&d))
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
