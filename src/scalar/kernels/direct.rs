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
use num_rational::BigRational as Q;
use num_traits::Zero;

/// `out[i·b.count + j] = ⟪a_i, b_j⟫`, accumulated term by term in lowest terms.
pub(crate) fn multiply(a: &Vectors<'_>, b: &Vectors<'_>) -> Vec<Q> {
    let mut out = Vec::with_capacity(a.count * b.count);
    for i in 0..a.count {
        for j in 0..b.count {
            let mut acc = Q::zero();
            for t in 0..a.len {
                let (x, y) = (a.at(i, t), b.at(j, t));
                if x.is_zero() || y.is_zero() {
                    continue;
                }
                acc = super::add(&acc, &super::mul(x, y));
            }
            out.push(acc);
        }
    }
    out
}

/// Denominators of more than this many bits count towards [`huge_denominators`].
const WORD_BITS: u64 = 64;

/// Above this many bits of distinct multi-word denominators in one vector, and more than twice
/// its largest denominator, clearing would multiply the entries' sizes: [`multiply`] is used.
const CLEAR_MAX_BITS: u64 = 4096;

/// Whether some vector of `view` has multi-word denominators whose distinct values add up to
/// more than [`CLEAR_MAX_BITS`] and to more than twice the largest of them: the lcm a cleared
/// product would scale by is then probably a product of several of them. Word-sized
/// denominators (small fractions, floats) never count, so those products keep the cleared
/// kernels.
pub(crate) fn huge_denominators(view: &Vectors<'_>) -> bool {
    let mut distinct: Vec<&num_bigint::BigInt> = Vec::new();
    for v in 0..view.count {
        distinct.clear();
        let (mut sum, mut largest) = (0u64, 0u64);
        for t in 0..view.len {
            let d = view.at(v, t).denom();
            let bits = d.bits();
            if bits <= WORD_BITS || distinct.contains(&d) {
                continue;
            }
            distinct.push(d);
            sum += bits;
            largest = largest.max(bits);
        }
        if sum > CLEAR_MAX_BITS && sum > 2 * largest {
            return true;
        }
    }
    false
}
