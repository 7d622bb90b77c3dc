//! Products over ℚ by common denominators — FLINT's `fmpq_mat_mul_cleared` method.
//!
//! Each vector `v` of a family is scaled by the lcm `d_v` of its denominators, so that
//! `v = v′ / d_v` with `v′` integral; then `⟪a, b⟫ = ⟪a′, b′⟫ / (d_a·d_b)`: integer dot products
//! (no gcd in the inner loop) and one normalisation per output entry.
//!
//! When every denominator fits in a word, `d_v` is built as a product of word-sized factors and
//! the normalisation divides those factors out of the numerator one word at a time, so no
//! multi-word gcd is ever computed (num-bigint's gcd has no single-word fast path).

use super::limbs::{self, Accumulator, Packed};
use super::Vectors;
use num_bigint::{BigInt, BigUint, Sign};
use num_rational::BigRational as Q;
use num_traits::{One, ToPrimitive, Zero};
use std::collections::HashMap;

/// How one vector was cleared of denominators.
#[derive(Clone)]
struct Scale {
    /// `d_v` as limbs.
    d: Vec<u64>,
    /// Word factors whose product is `d_v`, when every denominator fits in a word.
    factors: Option<Vec<u64>>,
}

/// Denominators below this are remembered per vector, so a repeated one costs no division.
const SEEN: usize = 1024;

fn scale_of(view: &Vectors<'_>, v: usize, seen: &mut [bool; SEEN]) -> Scale {
    seen.fill(false);
    let mut d = vec![1u64];
    let mut factors = Some(Vec::new());
    let mut big: Option<BigUint> = None;
    for q in view.vector(v) {
        let den = q.denom();
        if den.is_one() {
            continue;
        }
        match (&big, den.to_u64()) {
            (None, Some(s)) => {
                if (s as usize) < SEEN {
                    if seen[s as usize] {
                        continue;
                    }
                    seen[s as usize] = true;
                }
                let g = limbs::gcd_u64(limbs::rem_small(&d, s), s);
                let f = s / g;
                if f > 1 {
                    limbs::mul_small(&mut d, f);
                    if let Some(fs) = factors.as_mut() {
                        fs.push(f);
                    }
                }
            }
            _ => {
                let cur = big.take().unwrap_or_else(|| limbs::to_biguint(&d));
                // A division is much cheaper than num-bigint's binary gcd, and most
                // denominators already divide the running lcm; of two powers of two (float
                // weights) the lcm is the larger.
                let den = den.magnitude();
                big = Some(
                    if power_of_two(den).is_some() && power_of_two(&cur).is_some() {
                        if den > &cur {
                            den.clone()
                        } else {
                            cur
                        }
                    } else if (&cur % den).is_zero() {
                        cur
                    } else {
                        let g = super::product::gcd(&cur, den);
                        cur * (den / g)
                    },
                );
                factors = None;
            }
        }
    }
    if let Some(b) = big {
        d = b.iter_u64_digits().collect();
    }
    Scale {
        d,
        factors: factors.map(chunks),
    }
}

/// Merges word factors into as few factors below 2³² as possible: normalisation divides by
/// each one once, with hardware divisions.
fn chunks(factors: Vec<u64>) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    let mut cur = 1u64;
    for f in factors {
        match cur.checked_mul(f) {
            Some(p) => cur = p,
            _ => {
                if cur > 1 {
                    out.push(cur);
                }
                cur = f;
            }
        }
    }
    if cur > 1 {
        out.push(cur);
    }
    out
}

fn bits(limbs: &[u64]) -> u64 {
    let n = limbs::significant(limbs);
    if n == 0 {
        0
    } else {
        64 * n as u64 - limbs[n - 1].leading_zeros() as u64
    }
}

/// Packs `v′ = d_v·v` for every vector of the view.
fn pack(view: &Vectors<'_>, scales: &[Scale]) -> Packed {
    let mut width = 1;
    for (v, s) in scales.iter().enumerate() {
        let db = bits(&s.d);
        for q in view.vector(v) {
            if !q.numer().is_zero() {
                let b = q.numer().bits() + db + 1 - q.denom().bits().min(db);
                width = width.max(limbs::limbs_for_bits(b));
            }
        }
    }
    let mut packed = Packed::zeroed(view.count, view.len, width);
    let mut quotients: HashMap<u64, Vec<u64>> = HashMap::new();
    // Quotients d_v / den for small den, in one reused buffer: `small[den]` is an offset into
    // `qbuf` (or NONE), and `touched` lists the slots to reset for the next vector.
    const NONE: usize = usize::MAX;
    let mut small: Vec<usize> = vec![NONE; SEEN];
    let mut touched: Vec<usize> = Vec::new();
    let mut qbuf: Vec<u64> = Vec::new();
    for (v, s) in scales.iter().enumerate() {
        quotients.clear();
        for &t in &touched {
            small[t] = NONE;
        }
        touched.clear();
        qbuf.clear();
        let w = s.d.len();
        let d_big = s.factors.is_none().then(|| limbs::to_biguint(&s.d));
        let d_exponent = d_big.as_ref().and_then(power_of_two);
        for (t, q) in view.vector(v).enumerate() {
            let num = q.numer();
            if num.is_zero() {
                continue;
            }
            let negative = num.sign() == Sign::Minus;
            match (&d_big, q.denom().to_u64()) {
                (None, Some(den)) => {
                    let divide = || {
                        let mut x = s.d.clone();
                        limbs::div_small(&mut x, den);
                        x
                    };
                    let quot: &[u64] = if (den as usize) < SEEN {
                        let slot = &mut small[den as usize];
                        if *slot == NONE {
                            *slot = qbuf.len();
                            touched.push(den as usize);
                            qbuf.extend_from_slice(&s.d);
                            limbs::div_small(&mut qbuf[*slot..*slot + w], den);
                        }
                        &qbuf[*slot..*slot + w]
                    } else {
                        quotients.entry(den).or_insert_with(divide)
                    };
                    match num.magnitude().to_u64() {
                        Some(n) => {
                            let slot = packed.slot(v, t);
                            let mut carry: u128 = 0;
                            for (dst, &x) in slot.iter_mut().zip(quot.iter()) {
                                let p = x as u128 * n as u128 + carry;
                                *dst = p as u64;
                                carry = p >> 64;
                            }
                            if carry != 0 {
                                slot[quot.len()] = carry as u64;
                            }
                            packed.seal(v, t, negative);
                        }
                        None => {
                            let m = limbs::to_biguint(quot) * num.magnitude();
                            packed.put(v, t, &m, negative);
                        }
                    }
                }
                _ => {
                    let den = q.denom().magnitude();
                    // A dyadic vector (float weights): d_v/den is a power of two, a shift.
                    let shift = d_exponent.and_then(|e_d| Some(e_d - power_of_two(den)?));
                    let m = match shift {
                        Some(shift) => num.magnitude() << shift,
                        None => {
                            let d = d_big.clone().unwrap_or_else(|| limbs::to_biguint(&s.d));
                            d / den * num.magnitude()
                        }
                    };
                    packed.put(v, t, &m, negative);
                }
            }
        }
    }
    packed
}

/// `k` when `x = 2ᵏ`.
fn power_of_two(x: &BigUint) -> Option<u64> {
    let k = x.trailing_zeros()?;
    (x.bits() == k + 1).then_some(k)
}

/// `±num / (d_a·d_b)` in lowest terms, dividing out the word factors of both denominators.
fn normalise(negative: bool, num: &[u64], a: &Scale, b: &Scale, buf: &mut Vec<u64>) -> Q {
    if limbs::significant(num) == 0 {
        return Q::zero();
    }
    match (&a.factors, &b.factors) {
        (Some(fa), Some(fb)) => {
            buf.clear();
            buf.extend_from_slice(&num[..limbs::significant(num)]);
            let mut den = vec![1u64];
            for &f in fa.iter().chain(fb) {
                let mut f = f;
                loop {
                    let g = limbs::gcd_u64(limbs::rem_small(buf, f), f);
                    if g == 1 {
                        break;
                    }
                    limbs::div_small(buf, g);
                    f /= g;
                }
                if f > 1 {
                    limbs::mul_small(&mut den, f);
                }
            }
            let sign = if negative { Sign::Minus } else { Sign::Plus };
            Q::new_raw(
                BigInt::from_biguint(sign, limbs::to_biguint(buf)),
                BigInt::from_biguint(Sign::Plus, limbs::to_biguint(&den)),
            )
        }
        _ => {
            let den = limbs::to_biguint(&a.d) * limbs::to_biguint(&b.d);
            super::product::reduce(
                limbs::to_bigint(negative, num),
                BigInt::from_biguint(Sign::Plus, den),
            )
        }
    }
}

/// A view's vectors cleared of denominators.
pub(crate) struct CommonPack {
    packed: Packed,
    scales: Vec<Scale>,
}

impl CommonPack {
    /// The pack of `|v|` for every vector `v` (the same scales).
    pub(crate) fn magnitudes(&self) -> CommonPack {
        CommonPack {
            packed: self.packed.magnitudes(),
            scales: self.scales.clone(),
        }
    }
}

/// Clears every vector of the view of its denominators.
pub(crate) fn pack_view(view: &Vectors<'_>) -> CommonPack {
    let mut seen = [false; SEEN];
    let scales: Vec<Scale> = (0..view.count)
        .map(|v| scale_of(view, v, &mut seen))
        .collect();
    CommonPack {
        packed: pack(view, &scales),
        scales,
    }
}

/// `out[i·b.count + j] = ⟪a_i, b_j⟫` by common denominators.
pub(crate) fn multiply(a: &CommonPack, b: &CommonPack) -> Vec<Q> {
    let (pa, pb) = (&a.packed, &b.packed);
    limbs::each_entry(
        (a.scales.len(), b.scales.len(), pa.len),
        || (Accumulator::new(pa.width, pb.width), Vec::new()),
        |(acc, buf), i, j| {
            let (negative, num) = acc.dot(pa, i, pb, j);
            normalise(negative, num, &a.scales[i], &b.scales[j], buf)
        },
    )
}
