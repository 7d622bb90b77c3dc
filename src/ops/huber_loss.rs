//! Huber loss with a rational threshold, against a stored target
//! (`torch.nn.functional.huber_loss` with `delta = β`).

use super::loss_reduction::{reduce, reduced_shape, term_cotangents};
use super::{expect_input, Guard, Op, OpSpec, Reduction};
use crate::error::{Error, Result};
use crate::scalar::{Ordered, Scalar, Q};
use crate::tensor::Tensor;
use std::cmp::Ordering;

/// The terms `h(xᵢ − tᵢ)` for a stored target `t` of the input's shape (any shape, a batch axis
/// included) with threshold `β > 0`: `h(r) = r²/2` for `|r| ≤ β`, `β(|r| − β/2)` otherwise;
/// reduced as torch's `reduction=` says ([`HuberLoss::with_reduction`]): by default their mean
/// `(1/n) Σᵢ h(xᵢ − tᵢ)`, a scalar (shape `[]`); or their sum; or themselves (none, the input's
/// shape).
///
/// Rule: `h′(r) = r` inside, `β·sign(r)` outside, so `vjp = h′(x − t) ⊙ δ` (none),
/// `δ·h′(x − t)` (sum), `(δ/n)·h′(x − t)` (mean); `jvp = reduce(h′(x − t) ⊙ dx)`.
///
/// `h` is C¹ but its pieces are quadratic and linear, so it is **not** piecewise linear (no
/// fderiv check). At `|r| = β` the two pieces meet with equal slope but different curvature: the
/// guards `rᵢ − β` and `rᵢ + β` (in that order, for every coordinate) refuse those points, so
/// every check, second-order ones included, evaluates one polynomial piece.
#[derive(Clone, PartialEq, Eq)]
pub struct HuberLoss {
    target: Tensor<Q>,
    beta: Q,
    reduction: Reduction,
}

crate::error::debug_with_fractions!(HuberLoss {
    target,
    beta,
    reduction
});

impl HuberLoss {
    /// The mean loss against `target` with threshold `beta`; [`Error::InvalidArgument`] unless
    /// `beta > 0`.
    pub fn new(target: Tensor<Q>, beta: Q) -> Result<Self> {
        if beta.sign() != Ordering::Greater {
            return Err(Error::InvalidArgument {
                op: "HuberLoss".into(),
                argument: "beta".into(),
                value: beta.to_string(),
                requirement: "positive".into(),
            });
        }
        Ok(HuberLoss {
            target,
            beta,
            reduction: Reduction::Mean,
        })
    }

    /// The same loss with reduction `reduction` (torch's `reduction=`; [`Reduction::Mean`] is
    /// the default).
    pub fn with_reduction(self, reduction: Reduction) -> Self {
        HuberLoss { reduction, ..self }
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// The target.
    pub fn target(&self) -> &Tensor<Q> {
        &self.target
    }

    /// The threshold `β`.
    pub fn threshold(&self) -> &Q {
        &self.beta
    }
}

impl HuberLoss {
    fn residual<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        expect_input(x.shape(), self.target.shape(), "HuberLoss")?;
        x.sub(&self.target.lifted::<S>())
    }
}

/// `above` where `r > β`, else `below` where `r < −β`, else `inside` (`|r| ≤ β`, the quadratic
/// piece): chosen by `S::select` on `r − β`, then on `−r − β` — the guards, so that over `Sym`
/// the masks stand for them. Value and slope go through this one nesting, so they describe the
/// same pieces.
fn on_piece<S: Scalar>(r: &S, beta: &S, above: S, below: S, inside: S) -> S {
    let beyond_below = r.neg_ref().sub_ref(beta);
    S::select(
        &r.sub_ref(beta),
        above,
        S::select(&beyond_below, below, inside),
    )
}

fn half<S: Scalar>(v: &S) -> S {
    v.checked_div(&S::from_i64(2)).expect("2 ≠ 0")
}

/// `h(r)`; outside, `β(|r| − β/2)` with `|r|` written as `r` above and `−r` below.
fn value<S: Scalar>(r: &S, beta: &S) -> S {
    let linear = |abs: S| beta.mul_ref(&abs.sub_ref(&half(beta)));
    on_piece(
        r,
        beta,
        linear(r.clone()),
        linear(r.neg_ref()),
        half(&r.mul_ref(r)),
    )
}

fn slope<S: Scalar>(r: &S, beta: &S) -> S {
    on_piece(r, beta, beta.clone(), beta.neg_ref(), r.clone())
}

impl Op for HuberLoss {
    fn name(&self) -> String {
        match self.reduction {
            Reduction::Mean => format!("HuberLoss(β={})", self.beta),
            r => format!("HuberLoss(β={}, reduction={r})", self.beta),
        }
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        expect_input(input, self.target.shape(), "HuberLoss")?;
        Ok(reduced_shape(input, self.reduction))
    }
}

impl HuberLoss {
    fn slopes<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let beta = S::from_q(&self.beta);
        Ok(self.residual(x)?.map(|r| slope(r, &beta)))
    }
}

impl<S: Scalar> OpSpec<S> for HuberLoss {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let beta = S::from_q(&self.beta);
        let terms = self.residual(x)?.map(|r| value(r, &beta));
        reduce(terms, self.reduction, "HuberLoss")
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let terms = self.slopes(x)?.hadamard(dx)?;
        reduce(terms, self.reduction, "HuberLoss")
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let d = term_cotangents(x, dy, self.reduction, "HuberLoss")?;
        self.slopes(x)?.hadamard(&d)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        let beta = S::from_q(&self.beta);
        let r = self.residual(x)?;
        let name = self.name();
        Ok((0..r.len())
            .flat_map(|k| {
                let v = &r.data()[k];
                [v.sub_ref(&beta), v.add_ref(&beta)].map(|value| Guard {
                    layer: 1,
                    op: name.clone(),
                    coordinate: r.multi_index(k),
                    value,
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn huber_passes_on_both_pieces() {
        let op = HuberLoss::new(t(&[3], &["1", "-1/2", "0"]), q("1/3")).unwrap();
        assert_passes(&crate::check_op!(op, [3], cases(64)), false);
    }

    #[test]
    fn huber_is_exact() {
        // β = 1/2: h(2) = (1/2)(2 − 1/4) = 7/8, h(−1) = (1/2)(1 − 1/4) = 3/8; mean 5/8.
        let op = HuberLoss::new(t(&[2], &["1", "1"]), q("1/2")).unwrap();
        let g = crate::check::gradient(&op, &t(&[2], &["3", "0"])).unwrap();
        assert_eq!((g.value, g.gradient), (q("5/8"), t(&[2], &["1/4", "-1/4"])));
    }

    #[test]
    fn the_threshold_is_a_kink_and_beta_must_be_positive() {
        // Residual −1/2 sits on the boundary r + β = 0 of the quadratic piece.
        let huber = HuberLoss::new(t(&[3], &["0", "0", "0"]), q("1/2")).unwrap();
        let x = t(&[3], &["0", "-1/2", "1"]);
        let r = crate::check::jacobian(&huber, &x, &x, &t(&[], &["1"]));
        assert_eq!(kink(r), (1, "HuberLoss(β=1/2)".into(), vec![1]));
        let r = HuberLoss::new(t(&[1], &["0"]), q("0"));
        assert_eq!(
            r.err(),
            Some(crate::Error::InvalidArgument {
                op: "HuberLoss".into(),
                argument: "beta".into(),
                value: "0".into(),
                requirement: "positive".into(),
            })
        );
    }

    #[test]
    fn huber_branches_through_select() {
        let op = HuberLoss::new(t(&[3], &["1", "-1/2", "0"]), q("1/3")).unwrap();
        assert_proved(&op, &[3]);
    }

    #[test]
    fn huber_keeps_its_values_at_the_threshold() {
        // β = 1/2, residuals −1/2, 1/2 (the quadratic piece, as before), 2 and −1:
        // h = 1/8, 1/8, 7/8, 3/8 (mean 3/8); h′ = −1/2, 1/2, 1/2, −1/2 (over n = 4).
        let op = HuberLoss::new(t(&[4], &["0", "0", "0", "0"]), q("1/2")).unwrap();
        let x = t(&[4], &["-1/2", "1/2", "2", "-1"]);
        assert_eq!(op.forward(&x).unwrap(), t(&[], &["3/8"]));
        let g = op.vjp(&x, &t(&[], &["1"])).unwrap();
        assert_eq!(g, t(&[4], &["-1/8", "1/8", "1/8", "-1/8"]));
    }

    #[test]
    fn huber_passes_with_every_reduction_on_a_batch() {
        let target = t(&[2, 2], &["1", "-1/2", "0", "3"]);
        for r in [Reduction::None, Reduction::Sum, Reduction::Mean] {
            let op = HuberLoss::new(target.clone(), q("1/3"))
                .unwrap()
                .with_reduction(r);
            assert_passes(&crate::check_op!(op, [2, 2], cases(32)), false);
            assert_proved(&op, &[2, 2]);
        }
    }

    #[test]
    fn huber_reductions_are_exact_and_keep_their_kinks() {
        // β = 1/2, residuals 2, −1, 1/4: h = 7/8, 3/8, 1/32; h′ = 1/2, −1/2, 1/4.
        let x = t(&[3], &["2", "-1", "1/4"]);
        let op = |r| {
            HuberLoss::new(t(&[3], &["0"; 3]), q("1/2"))
                .unwrap()
                .with_reduction(r)
        };
        let none = op(Reduction::None);
        assert_eq!(none.forward(&x).unwrap(), t(&[3], &["7/8", "3/8", "1/32"]));
        let g = none.vjp(&x, &t(&[3], &["2", "4", "8"])).unwrap();
        assert_eq!(g, t(&[3], &["1", "-2", "2"]));
        let sum = op(Reduction::Sum);
        assert_eq!(sum.forward(&x).unwrap(), t(&[], &["41/32"]));
        let g = sum.vjp(&x, &t(&[], &["2"])).unwrap();
        assert_eq!(g, t(&[3], &["1", "-1", "1/2"]));
        assert_eq!(none.name(), "HuberLoss(β=1/2, reduction=none)");
        let on = t(&[3], &["0", "1/2", "1"]);
        let r = crate::check::jacobian(&sum, &on, &on, &t(&[], &["1"]));
        assert_eq!(
            kink(r),
            (1, "HuberLoss(β=1/2, reduction=sum)".into(), vec![1])
        );
    }

    planted!(SumJvpAsMean(HuberLoss), fn jvp(&op, x, dx) {
        // The sum reduction's jvp divided by n, the mean's rule.
        let n = S::from_i64(x.len() as i64);
        Ok(op.jvp(x, dx)?.map(|v| v.checked_div(&n).unwrap()))
    });

    #[test]
    fn planted_huber_sum_jvp_divided_by_n() {
        let op = HuberLoss::new(t(&[2, 2], &["0"; 4]), q("1/2")).unwrap();
        let op = SumJvpAsMean(op.with_reduction(Reduction::Sum));
        assert_cx(&caught(&op, &[2, 2]), JVP, &[], "1/8", "1/2");
    }

    planted!(Unclipped(HuberLoss), fn vjp(&op, x, dy) {
        // The quadratic piece's slope r used everywhere: the threshold ignored in backward.
        let n = S::from_i64(x.len() as i64);
        let r = x.sub(&op.target().lifted::<S>())?;
        Ok(r.scale(&dy.data()[0].checked_div(&n).unwrap()))
    });

    #[test]
    fn planted_huber_threshold_ignored() {
        let op = Unclipped(HuberLoss::new(t(&[3], &["0", "0", "0"]), q("1/2")).unwrap());
        assert_cx(&caught(&op, &[3]), VJP, &[2], "1/3", "1/6");
    }
}
