//! Clamping to an interval `[lo, hi]` with rational bounds; hardtanh is `[-1, 1]`.

use super::{Guard, Op, OpSpec, Parametrized};
use crate::error::{Error, Result};
use crate::scalar::{Lift, Ordered};
use crate::tensor::Tensor;
use std::cmp::Ordering;
use std::fmt::Display;

/// `f(x)ᵢ = min(max(xᵢ, lo), hi)`: the identity inside the interval, constant outside.
///
/// Kinks: where `xᵢ = lo` or `xᵢ = hi`; the guards are `xᵢ − lo` and `xᵢ − hi` for every
/// coordinate, in that order. The bounds are parameters: `∂f/∂lo = [xᵢ < lo]`,
/// `∂f/∂hi = [xᵢ > hi]` (flattened as `[lo, hi]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clamp<P> {
    lo: P,
    hi: P,
}

impl<P: Ordered> Clamp<P> {
    /// Clamping to `[lo, hi]`; [`Error::InvalidArgument`] unless `lo < hi`.
    pub fn new(lo: P, hi: P) -> Result<Self> {
        if lo.sub_ref(&hi).sign() != Ordering::Less {
            return Err(Error::InvalidArgument {
                op: "Clamp".into(),
                argument: "[lo, hi]".into(),
                value: format!("[{lo}, {hi}]"),
                requirement: "an interval with lo < hi".into(),
            });
        }
        Ok(Clamp { lo, hi })
    }

    /// Hardtanh: clamping to `[-1, 1]`.
    pub fn hardtanh() -> Self {
        Clamp {
            lo: P::one().neg_ref(),
            hi: P::one(),
        }
    }

    /// The bounds `(lo, hi)`.
    pub fn bounds(&self) -> (&P, &P) {
        (&self.lo, &self.hi)
    }
}

/// Which piece a value is on: below, inside or above the interval.
fn piece<S: Ordered>(v: &S, lo: &S, hi: &S) -> Ordering {
    if v.sub_ref(lo).sign() == Ordering::Less {
        Ordering::Less
    } else if v.sub_ref(hi).sign() == Ordering::Greater {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn apply<S: Ordered>(x: &Tensor<S>, lo: &S, hi: &S) -> Tensor<S> {
    x.map(|v| match piece(v, lo, hi) {
        Ordering::Less => lo.clone(),
        Ordering::Greater => hi.clone(),
        Ordering::Equal => v.clone(),
    })
}

/// 1 on the pieces where `x` lies on the `side` of the interval (`Equal` = inside), else 0.
fn indicator<S: Ordered>(x: &Tensor<S>, lo: &S, hi: &S, side: Ordering) -> Tensor<S> {
    x.map(|v| {
        if piece(v, lo, hi) == side {
            S::one()
        } else {
            S::zero()
        }
    })
}

impl<P: Display> Op for Clamp<P> {
    fn name(&self) -> String {
        format!("Clamp[{}, {}]", self.lo, self.hi)
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
}

impl<P: Clone + 'static> Clamp<P> {
    fn lifted<S: Ordered + Lift<P>>(&self) -> (S, S) {
        (S::lift(&self.lo), S::lift(&self.hi))
    }
}

impl<P: Display + Clone + 'static, S: Ordered + Lift<P>> OpSpec<S> for Clamp<P> {
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
}

/// Parameters: `[lo, hi]`.
impl<P: Display + Clone + 'static, S: Ordered + Lift<P>> Parametrized<S> for Clamp<P> {
    fn params(&self) -> Tensor<S> {
        let (lo, hi) = self.lifted::<S>();
        Tensor::from_vec(vec![lo, hi])
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
