//! Products over ℚ when every denominator is a power of two (every `f64` is such a dyadic
//! rational `m·2^e`): no gcd at all.
//!
//! Each vector is scaled by its largest denominator `2^k_v` (a shift per entry), the integer dot
//! products are accumulated as in [`super::common_denominator`], and each output `n / 2^(k_a+k_b)`
//! is brought to lowest terms by cancelling the numerator's trailing zero bits.

use super::limbs::{self, Accumulator, Packed};
use super::Vectors;
use num_bigint::{BigInt, BigUint, Sign};
use num_rational::BigRational as Q;
use num_traits::Zero;

/// Whether `q`'s denominator is a power of two.
pub(crate) fn is_dyadic(q: &Q) -> bool {
    let d = q.denom();
    d.trailing_zeros() == Some(d.bits() - 1)
}

fn exponent(q: &Q) -> u64 {
    q.denom().trailing_zeros().unwrap_or(0)
}

/// A view's vectors scaled to integers, with their exponents `k_v`.
pub(crate) struct DyadicPack {
    packed: Packed,
    ks: Vec<u64>,
}

impl DyadicPack {
    /// The pack of `|v|` for every vector `v` (the same exponents).
    pub(crate) fn magnitudes(&self) -> DyadicPack {
        DyadicPack {
            packed: self.packed.magnitudes(),
            ks: self.ks.clone(),
        }
    }
}

/// Packs `v′ = 2^k_v · v` for every vector of a view whose entries are all dyadic.
pub(crate) fn pack(view: &Vectors<'_>) -> DyadicPack {
    let ks: Vec<u64> = (0..view.count)
        .map(|v| {
            (0..view.len)
                .map(|t| exponent(view.at(v, t)))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut width = 1;
    for (v, &k) in ks.iter().enumerate() {
        for t in 0..view.len {
            let q = view.at(v, t);
            let b = q.numer().bits() + k - exponent(q);
            width = width.max(limbs::limbs_for_bits(b));
        }
    }
    let mut packed = Packed::zeroed(view.count, view.len, width);
    for (v, &k) in ks.iter().enumerate() {
        for t in 0..view.len {
            let q = view.at(v, t);
            if q.numer().is_zero() {
                continue;
            }
            let shift = k - exponent(q);
            let (words, bits) = ((shift / 64) as usize, (shift % 64) as u32);
            let slot = packed.slot(v, t);
            let mut carry = 0u64;
            let mut i = words;
            for d in q.numer().magnitude().iter_u64_digits() {
                slot[i] = if bits == 0 { d } else { (d << bits) | carry };
                carry = if bits == 0 { 0 } else { d >> (64 - bits) };
                i += 1;
            }
            if carry != 0 {
                slot[i] = carry;
            }
            packed.seal(v, t, q.numer().sign() == Sign::Minus);
        }
    }
    DyadicPack { packed, ks }
}

/// `±num / 2^k` in lowest terms.
fn normalise(negative: bool, num: &[u64], k: u64) -> Q {
    let n = limbs::significant(num);
    if n == 0 {
        return Q::zero();
    }
    let tz = num
        .iter()
        .position(|&d| d != 0)
        .map_or(0, |i| 64 * i as u64 + num[i].trailing_zeros() as u64);
    let s = tz.min(k);
    let m = limbs::to_biguint(&num[..n]) >> s;
    let sign = if negative { Sign::Minus } else { Sign::Plus };
    Q::new_raw(
        BigInt::from_biguint(sign, m),
        BigInt::from_biguint(Sign::Plus, BigUint::from(1u32) << (k - s)),
    )
}

/// `out[i·b.count + j] = ⟪a_i, b_j⟫` for dyadic entries.
pub(crate) fn multiply(a: &DyadicPack, b: &DyadicPack) -> Vec<Q> {
    let (pa, pb) = (&a.packed, &b.packed);
    limbs::each_entry(
        (a.ks.len(), b.ks.len(), pa.len),
        || Accumulator::new(pa.width, pb.width),
        |acc, i, j| {
            let (negative, num) = acc.dot(pa, i, pb, j);
            normalise(negative, num, a.ks[i] + b.ks[j])
        },
    )
}
