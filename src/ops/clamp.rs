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

/// Which piece a value is on: below, inside or above the interval.
fn piece<S: Scalar>(v: &S, lo: &S, hi: &S) -> Ordering {
    if v.sub_ref(lo).sign() == Ordering::Less {
        Ordering::Less
    } else if v.sub_ref(hi).sign() == Ordering::Greater {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn apply<S: Scalar>(x: &Tensor<S>, lo: &S, hi: &S) -> Tensor<S> {
    x.map(|v| match piece(v, lo, hi) {
        Ordering::Less => lo.clone(),
        Ordering::Greater => hi.clone(),
        Ordering::Equal => v.clone(),
    })
}

/// 1 on the pieces where `x` lies on the `side` of the interval (`Equal` = inside), else 0.
fn indicator<S: Scalar>(x: &Tensor<S>, lo: &S, hi: &S, side: Ordering) -> Tensor<S> {
    x.map(|v| {
        if piece(v, lo, hi) == side {
            S::one()
        } else {
            S::zero()
        }
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
