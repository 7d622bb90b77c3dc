//! The outer product `u·vᵀ` over ℚ (parameter gradients `δ·xᵀ`) when one side has word-sized
//! numerators and denominators: `(a/b)(c/d)` in lowest terms is
//! `(a/g₁)(c/g₂) / ((b/g₂)(d/g₁))` with `g₁ = gcd(a, d)`, `g₂ = gcd(c, b)`, and with `c`, `d`
//! single words both gcds reduce to a single-word remainder of the big side and a word gcd —
//! instead of two multi-word gcds per entry.

use super::limbs;
use num_bigint::{BigInt, Sign};
use num_rational::BigRational as Q;
use num_traits::{ToPrimitive, Zero};

/// A rational whose numerator's magnitude and denominator fit in a word.
#[derive(Clone, Copy)]
struct Word {
    n: u64,
    d: u64,
    negative: bool,
}

fn word(q: &Q) -> Option<Word> {
    Some(Word {
        n: q.numer().magnitude().to_u64()?,
        d: q.denom().to_u64()?,
        negative: q.numer().sign() == Sign::Minus,
    })
}

/// `big · small`, in lowest terms.
fn times(num: &[u64], den: &[u64], negative: bool, w: Word) -> Q {
    if w.n == 0 || limbs::significant(num) == 0 {
        return Q::zero();
    }
    let g1 = if w.d == 1 {
        1
    } else {
        limbs::gcd_u64(limbs::rem_small(num, w.d), w.d)
    };
    let g2 = if w.n == 1 {
        1
    } else {
        limbs::gcd_u64(limbs::rem_small(den, w.n), w.n)
    };
    let mut n = num.to_vec();
    let mut d = den.to_vec();
    if g1 > 1 {
        limbs::div_small(&mut n, g1);
    }
    if g2 > 1 {
        limbs::div_small(&mut d, g2);
    }
    limbs::mul_small(&mut n, w.n / g2);
    limbs::mul_small(&mut d, w.d / g1);
    let sign = if negative != w.negative {
        Sign::Minus
    } else {
        Sign::Plus
    };
    Q::new_raw(
        BigInt::from_biguint(sign, limbs::to_biguint(&n)),
        BigInt::from_biguint(Sign::Plus, limbs::to_biguint(&d)),
    )
}

/// `out[i·len v + j] = uᵢ·vⱼ`.
pub(crate) fn outer(u: &[Q], v: &[Q]) -> Vec<Q> {
    let small_v: Option<Vec<Word>> = v.iter().map(word).collect();
    let small_u: Option<Vec<Word>> = match small_v {
        Some(_) => None,
        None => u.iter().map(word).collect(),
    };
    let parts = |q: &Q| -> (Vec<u64>, Vec<u64>, bool) {
        (
            q.numer().magnitude().iter_u64_digits().collect(),
            q.denom().magnitude().iter_u64_digits().collect(),
            q.numer().sign() == Sign::Minus,
        )
    };
    let mut out = Vec::with_capacity(u.len() * v.len());
    match (small_v, small_u) {
        (Some(ws), _) => {
            for a in u {
                let (n, d, neg) = parts(a);
                out.extend(ws.iter().map(|&w| times(&n, &d, neg, w)));
            }
        }
        (None, Some(ws)) => {
            let big: Vec<_> = v.iter().map(parts).collect();
            for &w in &ws {
                out.extend(big.iter().map(|(n, d, neg)| times(n, d, *neg, w)));
            }
        }
        (None, None) => {
            for a in u {
                out.extend(v.iter().map(|b| super::mul(a, b)));
            }
        }
    }
    out
}
