//! Signs read from floats where a certified error bound allows it: the filtered exact
//! predicates of computational geometry (CGAL's filtered kernel).
//!
//! A rational is carried as an `f64` beside a bound on its distance to the exact value
//! ([`Approx`]); a sum of products gets Higham's bound (*Accuracy and Stability of Numerical
//! Algorithms*, §3.1) plus the propagated input errors ([`Sum`]). A sign is taken from the float
//! only when the bound excludes zero ([`Approx::sign`]), so a decided sign is the exact one; an
//! undecided one is computed exactly by the caller. [`ModP`](super::ModP) carries these
//! enclosures beside its residues, and `Q`'s [`Ordered::affine_signs`](super::Ordered) decides
//! a ReLU layer's activation pattern with them.

use super::Q;
use num_traits::ToPrimitive;
use std::cmp::Ordering;

/// `2⁻⁵³`, the unit roundoff of `f64`.
pub(crate) const U: f64 = f64::EPSILON / 2.0;
/// Covers the absolute error of a few operations on subnormal numbers (each `≤ 2⁻¹⁰⁷⁵`).
pub(crate) const TINY: f64 = 1e-320;

/// `x` rounded up: covers the rounding of the few operations that computed a bound `x` from
/// non-negative terms.
#[inline]
pub(crate) fn up(x: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else {
        x * (1.0 + 8.0 * U) + TINY
    }
}

/// A bound on `|fl(y) − y|` for a product or quotient `y` rounded to `v = fl(y)`.
#[inline]
pub(crate) fn rounding(v: f64) -> f64 {
    v.abs() * U
        + if v.abs() < f64::MIN_POSITIVE {
            TINY
        } else {
            0.0
        }
}

/// A float `value` with `|exact − value| ≤ bound`; the bound is infinite when nothing is known
/// (a value past the float range, or a NaN).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Approx {
    pub value: f64,
    pub bound: f64,
}

impl Approx {
    /// `value ± bound`, with an infinite bound unless both are usable.
    #[inline]
    pub(crate) fn new(value: f64, bound: f64) -> Approx {
        let bound = if value.is_finite() && !bound.is_nan() {
            bound
        } else {
            f64::INFINITY
        };
        Approx { value, bound }
    }

    /// The rational `n/d` (`d ≥ 1`) from its word-sized parts: one division of exact floats.
    #[inline]
    pub(crate) fn of_parts(n: i64, d: u64) -> Approx {
        let value = n as f64 / d as f64;
        let bound = if d == 1 {
            if n.unsigned_abs() <= 1 << 53 {
                0.0
            } else {
                // Finite, and at least 2⁵³ where it is rounded: no underflow term.
                value.abs() * U
            }
        } else if n.unsigned_abs() <= 1 << 53 && d <= 1 << 53 {
            rounding(value)
        } else {
            up(value.abs() * 4.0 * U + TINY)
        };
        Approx::new(value, bound)
    }

    /// Any rational: from its parts when both fit a word, else num-rational's conversion (which
    /// rounds each part and their quotient: a few units in the last place).
    #[inline]
    pub(crate) fn of(q: &Q) -> Approx {
        match (q.numer().to_i64(), q.denom().to_u64()) {
            (Some(n), Some(d)) => Approx::of_parts(n, d),
            _ => {
                let value = q.to_f64().unwrap_or(f64::NAN);
                Approx::new(value, up(value.abs() * 16.0 * U + TINY))
            }
        }
    }

    /// The exact value's sign when the enclosure excludes zero.
    pub(crate) fn sign(&self) -> Option<Ordering> {
        let sign = if self.value > 0.0 {
            Ordering::Greater
        } else {
            Ordering::Less
        };
        (self.value.abs() * (1.0 - 2.0 * U) > self.bound).then_some(sign)
    }
}

/// A running `Σ aᵢ·bᵢ` in floats with one bound for the whole sum:
/// `|Σ aᵢbᵢ − fl(Σ âᵢb̂ᵢ)| ≤ Σ(|âᵢ|e_bᵢ + |b̂ᵢ|e_aᵢ + e_aᵢe_bᵢ) + γₙ·Σ|âᵢb̂ᵢ|` for any order of
/// summation, plus underflow.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct Sum {
    value: f64,
    propagated: f64,
    magnitude: f64,
}

impl Sum {
    /// `a·b` into the sum, `a` and `b` each a float and its bound.
    #[inline(always)]
    pub(crate) fn add(&mut self, (a, ea): (f64, f64), (b, eb): (f64, f64)) {
        let product = a * b;
        self.value += product;
        self.magnitude += product.abs();
        self.propagated += a.abs() * eb + b.abs() * ea + ea * eb;
    }

    /// The sum of `n` terms and its bound (exactly 0 for no term).
    pub(crate) fn finish(&self, n: usize) -> Approx {
        if n == 0 {
            return Approx::new(0.0, 0.0);
        }
        let nu = n as f64 * U;
        let bound = if nu < 0.5 {
            let gamma = nu / (1.0 - nu);
            (self.propagated + gamma * self.magnitude + (n as f64 + 1.0) * TINY)
                * (1.0 + 4.0 * (nu + 4.0 * U))
        } else {
            f64::INFINITY
        };
        Approx::new(self.value, bound)
    }
}

/// The signs of the entries of `A·v + b` (`A` row-major `rows × cols`) that the float filter
/// decides, `None` for the others (an entry that is zero, or too close to zero for the floats,
/// or past their range). Costs one conversion per entry and no exact product.
pub(crate) fn affine_signs(
    a: &[Q],
    rows: usize,
    cols: usize,
    v: &[Q],
    b: &[Q],
) -> Vec<Option<Ordering>> {
    let v: Vec<(f64, f64)> = v
        .iter()
        .take(cols)
        .map(|q| {
            let x = Approx::of(q);
            (x.value, x.bound)
        })
        .collect();
    a.chunks(cols.max(1))
        .take(rows)
        .zip(b)
        .map(|(row, c)| {
            let mut sum = Sum::default();
            for (w, &x) in row.iter().zip(&v) {
                let w = Approx::of(w);
                sum.add((w.value, w.bound), x);
            }
            let c = Approx::of(c);
            sum.add((c.value, c.bound), (1.0, 0.0));
            sum.finish(cols + 1).sign()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ordered;
    use num_bigint::BigInt;
    use num_traits::{One, Zero};

    fn q(n: i64, d: i64) -> Q {
        Q::new(n.into(), d.into())
    }

    /// The exact signs of `A·v + b`.
    fn exact(a: &[Q], rows: usize, cols: usize, v: &[Q], b: &[Q]) -> Vec<Ordering> {
        (0..rows)
            .map(|i| {
                let z: Q = (0..cols).map(|t| &a[i * cols + t] * &v[t]).sum::<Q>() + &b[i];
                z.sign()
            })
            .collect()
    }

    #[test]
    fn a_decided_sign_is_the_exact_sign() {
        // Rows built to be exactly zero, one unit of 2⁻¹⁰⁰ off zero, large, tiny and past the
        // float range, beside ordinary ones.
        let cols = 3;
        let v = vec![q(1, 3), q(-2, 7), q(5, 11)];
        let huge = Q::new(BigInt::one() << 2000, BigInt::one());
        let tiny = Q::new(BigInt::one(), BigInt::one() << 1100);
        let off = Q::new(BigInt::one(), BigInt::one() << 100);
        // Row·v for the row (1, 1, 1) is 1/3 − 2/7 + 5/11 = 116/231.
        let base = q(116, 231);
        let rows: Vec<(Vec<Q>, Q)> = vec![
            (vec![q(1, 1), q(1, 1), q(1, 1)], -base.clone()),
            (vec![q(1, 1), q(1, 1), q(1, 1)], -base.clone() + &off),
            (vec![q(1, 1), q(1, 1), q(1, 1)], -base.clone() - &off),
            (vec![q(3, 1), q(-1, 2), q(0, 1)], q(7, 5)),
            (vec![q(-3, 1), q(1, 2), q(0, 1)], q(-7, 5)),
            (vec![huge.clone(), q(1, 1), q(0, 1)], q(0, 1)),
            (vec![tiny.clone(), q(0, 1), q(0, 1)], q(0, 1)),
            (vec![tiny.clone(), q(0, 1), q(0, 1)], -&tiny * q(1, 3)),
            (vec![q(i64::MAX, 3), q(1, i64::MAX), q(0, 1)], q(-1, 1)),
        ];
        let a: Vec<Q> = rows.iter().flat_map(|(r, _)| r.clone()).collect();
        let b: Vec<Q> = rows.iter().map(|(_, c)| c.clone()).collect();
        let n = rows.len();
        let signs = affine_signs(&a, n, cols, &v, &b);
        let truth = exact(&a, n, cols, &v, &b);
        for (i, (s, t)) in signs.iter().zip(&truth).enumerate() {
            if let Some(s) = s {
                assert_eq!(s, t, "row {i}");
                assert_ne!(*s, Ordering::Equal);
            }
        }
        // The exactly-zero and the 2⁻¹⁰⁰ rows are left to the exact computation; the ordinary,
        // large and word-edge rows are decided.
        assert_eq!(&signs[..3], &[None, None, None]);
        assert_eq!(signs[3], Some(Ordering::Greater));
        assert_eq!(signs[4], Some(Ordering::Less));
        assert_eq!(signs[8], Some(Ordering::Greater));
        // Past the float range nothing is decided.
        assert_eq!(signs[5], None);
    }

    #[test]
    fn random_rows_agree_with_the_exact_signs_and_near_zero_ones_are_left_undecided() {
        use rand::rngs::ChaCha8Rng;
        use rand::{RngExt, SeedableRng};
        let mut rng = ChaCha8Rng::seed_from_u64(13);
        let (rows, cols) = (200, 17);
        let draw = |rng: &mut ChaCha8Rng| {
            let n: i64 = rng.random_range(-1000..=1000);
            let d: i64 = rng.random_range(1..=1000);
            q(n, d)
        };
        let a: Vec<Q> = (0..rows * cols).map(|_| draw(&mut rng)).collect();
        let v: Vec<Q> = (0..cols).map(|_| draw(&mut rng)).collect();
        // Half the biases cancel their row exactly, a quarter up to ±2⁻⁶⁰ of it.
        let b: Vec<Q> = (0..rows)
            .map(|i| {
                let z: Q = (0..cols).map(|t| &a[i * cols + t] * &v[t]).sum();
                match i % 4 {
                    0 | 1 => -z,
                    2 => -z + Q::new(BigInt::from(i as i64 - 100), BigInt::one() << 60),
                    _ => draw(&mut rng),
                }
            })
            .collect();
        let signs = affine_signs(&a, rows, cols, &v, &b);
        let truth = exact(&a, rows, cols, &v, &b);
        let mut decided = 0;
        for i in 0..rows {
            if let Some(s) = signs[i] {
                assert_eq!(s, truth[i], "row {i}");
                decided += 1;
            }
            if truth[i] == Ordering::Equal {
                assert_eq!(signs[i], None, "row {i} is exactly zero");
            }
        }
        assert!(
            decided >= rows / 4,
            "the ordinary rows are decided: {decided}"
        );
    }

    #[test]
    fn an_enclosure_holds_its_rational() {
        for x in [
            q(1, 3),
            q(-7, 1),
            q(i64::MAX, 1),
            q(i64::MIN + 1, 3),
            q(1, i64::MAX),
            Q::new(BigInt::one() << 70, BigInt::from(3)),
            Q::new(BigInt::one(), BigInt::one() << 1080),
        ] {
            let e = Approx::of(&x);
            let (v, b) = (Q::from_float(e.value), Q::from_float(e.bound));
            let (v, b) = (v.unwrap(), b.unwrap());
            let (lo, hi) = (&v - &b, &v + &b);
            assert!(lo <= x && x <= hi, "{x}: {e:?}");
        }
        assert_eq!(Approx::of(&Q::zero()), Approx::new(0.0, 0.0));
        let past = Approx::of(&Q::new(BigInt::one() << 1100, BigInt::one()));
        assert_eq!(past.bound, f64::INFINITY);
        assert_eq!(past.sign(), None);
    }
}
