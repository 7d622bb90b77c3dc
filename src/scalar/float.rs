//! `f64` as a scalar: for side-by-side comparisons with float frameworks, never for verdicts.

use super::{Field, Ordered, Ring, Q};
use num_traits::ToPrimitive;
use std::cmp::Ordering;

impl Ring for f64 {
    fn add_ref(&self, rhs: &Self) -> Self {
        self + rhs
    }
    fn sub_ref(&self, rhs: &Self) -> Self {
        self - rhs
    }
    fn mul_ref(&self, rhs: &Self) -> Self {
        self * rhs
    }
    fn neg_ref(&self) -> Self {
        -self
    }
    fn from_i64(n: i64) -> Self {
        n as f64
    }
}

impl Field for f64 {
    fn checked_div(&self, rhs: &Self) -> Option<Self> {
        (*rhs != 0.0).then(|| self / rhs)
    }
    /// The nearest float (for comparisons with float frameworks; not exact).
    fn from_q(q: &Q) -> Self {
        q.to_f64().unwrap_or(f64::NAN)
    }
}

impl Ordered for f64 {
    fn sign(&self) -> Ordering {
        self.partial_cmp(&0.0).unwrap_or(Ordering::Equal)
    }
}
