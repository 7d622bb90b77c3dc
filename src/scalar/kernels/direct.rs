//! Products over ℚ fraction by fraction — FLINT's `fmpq_mat_mul_direct` — for operands whose
//! denominators are huge and mostly coprime.
//!
//! Clearing denominators ([`super::common_denominator`]) scales every entry of a vector by the
//! lcm of its `k` denominators; when those are `D`-bit and coprime, every entry becomes
//! `k·D` bits, each term of an integer dot product a `(k·D)×(k·D)`-bit multiplication, and the
//! final normalisation a gcd of `2k·D`-bit numbers. Fraction by fraction, each product
//! `(a/b)(c/d)` multiplies `D`-bit numbers after two `D`-bit gcds ([`super::mul`]), and each sum
//! `x/y + c/d` costs a remainder of `y` by `d` and a `D`-bit gcd ([`super::add`], Knuth's
//! method: with coprime denominators no further gcd is needed). The values are the same.

use super::Vectors;
use num_bigint::{BigInt, BigUint, Sign};
use num_rational::BigRational as Q;
use num_traits::{One, Zero};
use std::borrow::Cow;
use std::collections::HashSet;

/// One vector with the gcd `g` of its denominators taken out: entry `t` is `c_t / g`, where
/// `c_t = n_t / (d_t / g)` is still in lowest terms (a divisor of `d_t` is coprime to `n_t`).
///
/// Values computed from the same inputs share big factors (every `z_i = (W1·x + b1)_i` has the
/// product of `x`'s denominators in its own; an increment `h = ρ·p` has `ρ`'s denominator in
/// every entry). Summed fraction by fraction, each sum would find that shared factor again with
/// a gcd of its size; taken out once per vector, the terms' gcds are over the small coprime
/// rest, and the shared factor costs one gcd per output, in [`normalise`].
struct Factored<'a> {
    g: BigUint,
    entries: Vec<Cow<'a, Q>>,
}

fn factored<'a>(view: &Vectors<'a>, v: usize) -> Factored<'a> {
    let mut g: Option<BigUint> = None;
    for t in 0..view.len {
        let q = view.at(v, t);
        if q.is_zero() {
            continue;
        }
        let d = q.denom().magnitude();
        g = Some(match g {
            None => d.clone(),
            Some(g) => super::product::gcd(&g, d),
        });
        if g.as_ref().is_some_and(One::is_one) {
            break;
        }
    }
    let g = g.unwrap_or_else(BigUint::one);
    let entries = (0..view.len)
        .map(|t| {
            let q = view.at(v, t);
            if g.is_one() || q.is_zero() {
                Cow::Borrowed(q)
            } else {
                let d = BigInt::from_biguint(Sign::Plus, q.denom().magnitude() / &g);
                Cow::Owned(Q::new_raw(q.numer().clone(), d))
            }
        })
        .collect();
    Factored { g, entries }
}

/// `s / (g_a·g_b)` in lowest terms, for `s` in lowest terms: `s`'s denominator is already
/// coprime to its numerator, so only `g_a` and `g_b` are divided out of the numerator, one
/// gcd each (`gcd(n/g, h/g) = 1` for `g = gcd(n, h)`, and dividing `n` further keeps it so).
fn normalise(s: Q, ga: &BigUint, gb: &BigUint) -> Q {
    if s.is_zero() || (ga.is_one() && gb.is_one()) {
        return s;
    }
    let (n, d) = s.into_raw();
    let (sign, mut n) = n.into_parts();
    let mut d = d.into_parts().1;
    for g in [ga, gb] {
        if g.is_one() {
            continue;
        }
        let c = super::product::gcd(&n, g);
        if c.is_one() {
            d *= g;
        } else {
            n /= &c;
            d *= g / &c;
        }
    }
    Q::new_raw(
        BigInt::from_biguint(sign, n),
        BigInt::from_biguint(Sign::Plus, d),
    )
}

/// `out[i·b.count + j] = ⟪a_i, b_j⟫`, accumulated term by term in lowest terms after the
/// common factor of each vector's denominators is taken out ([`Factored`]).
pub(crate) fn multiply(a: &Vectors<'_>, b: &Vectors<'_>) -> Vec<Q> {
    let fa: Vec<Factored<'_>> = (0..a.count).map(|i| factored(a, i)).collect();
    let fb: Vec<Factored<'_>> = (0..b.count).map(|j| factored(b, j)).collect();
    let mut out = Vec::with_capacity(a.count * b.count);
    for x in &fa {
        for y in &fb {
            let mut acc = Q::zero();
            for (p, q) in x.entries.iter().zip(&y.entries) {
                if p.is_zero() || q.is_zero() {
                    continue;
                }
                acc = super::add(&acc, &super::mul(p, q));
            }
            out.push(normalise(acc, &x.g, &y.g));
        }
    }
    out
}

/// Denominators of more than this many bits count towards [`huge_denominators`].
const WORD_BITS: u64 = 64;

/// Above this many bits of distinct multi-word denominators in one vector, and more than twice
/// its largest denominator, clearing would multiply the entries' sizes: [`multiply`] is used.
const CLEAR_MAX_BITS: u64 = 4096;

/// The largest denominator of a vector must have more than this many bits. Values computed
/// from small fractions can pass a few hundred bits while sharing most of their factors, which
/// clearing handles well: with a lower bar the theorem at 64×64×10 on small fractions took
/// 44–87 ms against 12–21 ms before (one noisy run each).
const HUGE_BITS: u64 = 768;

/// Whether some vector of `view` has multi-word denominators whose distinct values add up to
/// more than [`CLEAR_MAX_BITS`] and to more than twice the largest of them, the largest having
/// more than [`HUGE_BITS`]: the lcm a cleared product would scale by is then probably a product
/// of several of them. Word-sized denominators (small fractions) and powers of two (floats,
/// whose lcm is the largest) never count, so those products keep the cleared kernels.
///
/// A first pass over the sizes alone skips every vector without a huge denominator, so the
/// common case costs one look at each entry; only the others are deduplicated (by hash).
pub(crate) fn huge_denominators(view: &Vectors<'_>) -> bool {
    let counts = |d: &BigInt| d.bits() > WORD_BITS && d.trailing_zeros() != Some(d.bits() - 1);
    let mut distinct: HashSet<&BigInt> = HashSet::new();
    for v in 0..view.count {
        let largest = (0..view.len)
            .map(|t| view.at(v, t).denom())
            .filter(|d| counts(d))
            .map(BigInt::bits)
            .max()
            .unwrap_or(0);
        if largest <= HUGE_BITS {
            continue;
        }
        distinct.clear();
        let mut sum = 0u64;
        for t in 0..view.len {
            let d = view.at(v, t).denom();
            if counts(d) && distinct.insert(d) {
                sum += d.bits();
            }
        }
        if sum > CLEAR_MAX_BITS && sum > 2 * largest {
            return true;
        }
    }
    false
}
