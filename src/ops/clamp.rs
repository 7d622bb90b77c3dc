//! Clamping to an interval `[lo, hi]` with rational bounds; hardtanh is `[-1, 1]`.

use super::{Guard, Op, OpSpec, Param};
use crate::error::{Error, Result};
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;
use num_traits::One;
use std::cmp::Ordering;

/// `f(x)ᵢ = min(max(xᵢ, lo), hi)`: the identity inside the interval, constant outside.
///
/// Kinks: where `xᵢ = lo` or `xᵢ = hi`; the guards are `xᵢ − lo` and `xᵢ − hi` for every
/// coordinate, in that order. The bounds are parameters: `∂f/∂lo = [xᵢ < lo]`,
/// `∂f/∂hi = [xᵢ > hi]` (flattened as `[lo, hi]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clamp {
    /// `[lo, hi]`, the op's one parameter tensor.
    bounds: Tensor<Q>,
}

impl Clamp {
    /// Clamping to `[lo, hi]`; [`Error::InvalidArgument`] unless `lo < hi`.
    pub fn new(lo: Q, hi: Q) -> Result<Self> {
        if lo >= hi {
            return Err(Error::InvalidArgument {
                op: "Clamp".into(),
                argument: "[lo, hi]".into(),
                value: format!("[{lo}, {hi}]"),
                requirement: "an interval with lo < hi".into(),
            });
        }
        Ok(Clamp {
            bounds: Tensor::from_vec(vec![lo, hi]),
        })
    }

    /// Hardtanh: clamping to `[-1, 1]`.
    pub fn hardtanh() -> Self {
        Clamp {
            bounds: Tensor::from_vec(vec![-Q::one(), Q::one()]),
        }
    }

    /// The bounds `(lo, hi)`.
    pub fn bounds(&self) -> (&Q, &Q) {
        (&self.bounds.data()[0], &self.bounds.data()[1])
    }
}

/// `below` where `v < lo`, else `above` where `v > hi`, else `inside`: the piece chosen by
/// `S::select` on `lo − v`, then on `v − hi`. Values, derivatives and indicators all go through
/// this one nesting, so that over `Sym` (where the two masks are independent symbols) they
/// describe the same pieces.
fn on_piece<S: Scalar>(v: &S, lo: &S, hi: &S, below: S, inside: S, above: S) -> S {
    S::select(
        &lo.sub_ref(v),
        below,
        S::select(&v.sub_ref(hi), above, inside),
    )
}

fn apply<S: Scalar>(x: &Tensor<S>, lo: &S, hi: &S) -> Tensor<S> {
    x.map(|v| on_piece(v, lo, hi, lo.clone(), v.clone(), hi.clone()))
}

/// 1 on the pieces where `x` lies on the `side` of the interval (`Equal` = inside), else 0.
fn indicator<S: Scalar>(x: &Tensor<S>, lo: &S, hi: &S, side: Ordering) -> Tensor<S> {
    let one_on = |s: Ordering| if s == side { S::one() } else { S::zero() };
    x.map(|v| {
        let [below, inside, above] =
            [Ordering::Less, Ordering::Equal, Ordering::Greater].map(one_on);
        on_piece(v, lo, hi, below, inside, above)
    })
}

impl Op for Clamp {
    fn name(&self) -> String {
        let (lo, hi) = self.bounds();
        format!("Clamp[{lo}, {hi}]")
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
    fn params(&self) -> Vec<Param<'_>> {
        vec![Param::new(self, "bounds", &self.bounds)]
    }
}

impl Clamp {
    fn lifted<S: Scalar>(&self) -> (S, S) {
        let (lo, hi) = self.bounds();
        (S::from_q(lo), S::from_q(hi))
    }
}

/// Parameters: `[lo, hi]`.
impl<S: Scalar> OpSpec<S> for Clamp {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let (lo, hi) = self.lifted::<S>();
        Ok(apply(x, &lo, &hi))
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let (lo, hi) = self.lifted::<S>();
        indicator(x, &lo, &hi, Ordering::Equal).hadamard(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let (lo, hi) = self.lifted::<S>();
        indicator(x, &lo, &hi, Ordering::Equal).hadamard(dy)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        let (lo, hi) = self.lifted::<S>();
        let name = self.name();
        Ok((0..x.len())
            .flat_map(|k| {
                let v = &x.data()[k];
                [v.sub_ref(&lo), v.sub_ref(&hi)].map(|value| Guard {
                    layer: 1,
                    op: name.clone(),
                    coordinate: x.multi_index(k),
                    value,
                })
            })
            .collect())
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        params.expect_shape(&[2], "Clamp parameters [lo, hi]")?;
        Ok(apply(x, &params.data()[0], &params.data()[1]))
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        dparams.expect_shape(&[2], "Clamp parameter tangent [dlo, dhi]")?;
        let (lo, hi) = self.lifted::<S>();
        let below = indicator(x, &lo, &hi, Ordering::Less).scale(&dparams.data()[0]);
        let above = indicator(x, &lo, &hi, Ordering::Greater).scale(&dparams.data()[1]);
        below.add(&above)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let (lo, hi) = self.lifted::<S>();
        Ok(Tensor::from_vec(vec![
            indicator(x, &lo, &hi, Ordering::Less).dot(dy)?,
            indicator(x, &lo, &hi, Ordering::Greater).dot(dy)?,
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn clamp_and_hardtanh_pass_and_the_bound_gradients() {
        let op = Clamp::new(q("-1/2"), q("2")).unwrap();
        assert_passes(&crate::check_op!(op, [2, 3], cases(64)), true);
        assert_params_pass(&op, t(&[4], &["-1", "0", "1", "3"]), 32);
        assert_passes(&crate::check_op!(Clamp::hardtanh(), [3], cases(64)), true);
    }

    #[test]
    fn kinks_are_named_and_empty_ranges_refused() {
        let x = t(&[2, 2], &["1", "-2", "0", "3"]);
        let clamp = Clamp::new(q("-2"), q("3")).unwrap();
        let r = crate::check::jacobian(&clamp, &x, &x, &x);
        assert_eq!(kink(r), (1, "Clamp[-2, 3]".into(), vec![0, 1]));
        let r = crate::check::jacobian(&Clamp::hardtanh(), &x, &x, &x);
        assert_eq!(kink(r), (1, "Clamp[-1, 1]".into(), vec![0, 0]));
        assert_eq!(
            Clamp::new(q("1"), q("1")).err(),
            Some(crate::Error::InvalidArgument {
                op: "Clamp".into(),
                argument: "[lo, hi]".into(),
                value: "[1, 1]".into(),
                requirement: "an interval with lo < hi".into(),
            })
        );
    }

    #[test]
    fn clamp_branches_through_select() {
        assert_proved(&Clamp::new(q("-1/2"), q("2")).unwrap(), &[3]);
        assert_proved(&Clamp::hardtanh(), &[2]);
    }

    #[test]
    fn clamp_keeps_its_values_at_the_bounds() {
        // At x = lo and x = hi the inside piece is taken, as before.
        let op = Clamp::new(q("-1/2"), q("2")).unwrap();
        let x = t(&[5], &["-1", "-1/2", "1", "2", "3"]);
        assert_eq!(
            op.forward(&x).unwrap(),
            t(&[5], &["-1/2", "-1/2", "1", "2", "2"])
        );
        let ones = t(&[5], &["1"; 5]);
        assert_eq!(
            op.vjp(&x, &ones).unwrap(),
            t(&[5], &["0", "1", "1", "1", "0"])
        );
        assert_eq!(op.vjp_params(&x, &ones).unwrap(), t(&[2], &["1", "1"]));
    }

    planted!(StraightThrough(Clamp), fn vjp(&_op, _x, dy) {
        // The straight-through estimator passed off as the derivative: clamped entries get δ.
        Ok(dy.clone())
    });

    #[test]
    fn planted_hardtanh_straight_through() {
        assert_cx(
            &caught(&StraightThrough(Clamp::hardtanh()), &[3]),
            VJP,
            &[2],
            "1",
            "0",
        );
    }
}
