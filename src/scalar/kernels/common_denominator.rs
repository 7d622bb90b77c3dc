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
    factors: Option<Vec<Factor>>,
}

/// A word factor of a scale, with its prime factorisation when its primes are below [`SEEN`]
/// (empty otherwise): the normalisation then finds the factor's gcd with a numerator by
/// divisibility tests on one residue instead of a word gcd.
#[derive(Clone, Debug, Default, PartialEq)]
struct Factor {
    f: u64,
    primes: Vec<(u16, u8)>,
}

/// Denominators below this are factored by table lookups and remembered per vector, so a
/// repeated one costs nothing.
const SEEN: usize = 1024;

/// The smallest prime factor of every `n < SEEN` (`n ≥ 2`) and the cofactor `n / p`: a small
/// denominator's factorisation then takes no division.
const FACTOR: [(u16, u16); SEEN] = factor_table();

const fn factor_table() -> [(u16, u16); SEEN] {
    let mut t = [(0u16, 0u16); SEEN];
    let mut n = 2;
    while n < SEEN {
        let mut p = 2;
        while p * p <= n && n % p != 0 {
            p += 1;
        }
        if p * p > n {
            p = n;
        }
        t[n] = (p as u16, (n / p) as u16);
        n += 1;
    }
    t
}

/// Scratch space of [`scale_of`], reused from vector to vector.
struct Workspace {
    /// Small denominators met in this vector.
    seen: [bool; SEEN],
    /// The largest exponent of each prime in this vector's small denominators.
    exponent: [u8; SEEN],
    /// The primes with a non-zero exponent.
    primes: Vec<u16>,
}

impl Workspace {
    fn new() -> Workspace {
        Workspace {
            seen: [false; SEEN],
            exponent: [0; SEEN],
            primes: Vec::new(),
        }
    }

    fn clear(&mut self) {
        self.seen.fill(false);
        for &p in &self.primes {
            self.exponent[p as usize] = 0;
        }
        self.primes.clear();
    }

    /// Takes the small denominator `s` into the lcm.
    fn note(&mut self, s: usize) {
        if self.seen[s] {
            return;
        }
        self.seen[s] = true;
        let mut n = s;
        while n > 1 {
            let p = FACTOR[n].0;
            let mut e = 0u8;
            while n > 1 && FACTOR[n].0 == p {
                n = FACTOR[n].1 as usize;
                e += 1;
            }
            let slot = &mut self.exponent[p as usize];
            if *slot == 0 {
                self.primes.push(p);
            }
            *slot = (*slot).max(e);
        }
    }

    /// The lcm of the small denominators noted and of the word-sized `words`, with the word
    /// factors whose product it is.
    fn scale(&self, words: &[u64]) -> Scale {
        // The prime powers merged into as few words as fit, each word with its primes.
        let mut factors: Vec<Factor> = Vec::new();
        let mut cur = Factor {
            f: 1,
            primes: Vec::new(),
        };
        for &p in &self.primes {
            let e = self.exponent[p as usize];
            let power = u64::from(p).pow(u32::from(e));
            match cur.f.checked_mul(power) {
                Some(f) => cur.f = f,
                None => {
                    factors.push(std::mem::take(&mut cur));
                    cur.f = power;
                }
            }
            cur.primes.push((p, e));
        }
        if cur.f > 1 {
            factors.push(cur);
        }
        let mut d = vec![1u64];
        for f in &factors {
            limbs::mul_small(&mut d, f.f);
        }
        let mut others: Vec<u64> = Vec::new();
        for &s in words {
            let g = limbs::gcd_u64(limbs::rem_small(&d, s), s);
            let f = s / g;
            if f > 1 {
                limbs::mul_small(&mut d, f);
                others.push(f);
            }
        }
        factors.extend(chunks(others).into_iter().map(|f| Factor {
            f,
            primes: Vec::new(),
        }));
        Scale {
            d,
            factors: Some(factors),
        }
    }
}

fn scale_of(view: &Vectors<'_>, v: usize, ws: &mut Workspace) -> Scale {
    ws.clear();
    // Word-sized denominators past the table, taken into the lcm at the end.
    let mut words: Vec<u64> = Vec::new();
    let mut big: Option<BigUint> = None;
    for q in view.vector(v) {
        let den = q.denom();
        if den.is_one() {
            continue;
        }
        let cur = match (big.take(), den.to_u64()) {
            (None, Some(s)) => {
                if (s as usize) < SEEN {
                    ws.note(s as usize);
                } else {
                    words.push(s);
                }
                continue;
            }
            (None, None) => limbs::to_biguint(&ws.scale(&words).d),
            (Some(cur), _) => cur,
        };
        // A division is much cheaper than num-bigint's binary gcd, and most denominators
        // already divide the running lcm; of two powers of two (float weights) the lcm is the
        // larger.
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
    }
    match big {
        Some(b) => Scale {
            d: b.iter_u64_digits().collect(),
            factors: None,
        },
        None => ws.scale(&words),
    }
}

/// Merges word factors into as few word factors as possible: normalisation takes one residue
/// and one gcd per factor.
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

/// `2^(32k) mod f` for `k < halves`: a number's residue modulo `f` is then a sum of products
/// and one division, instead of two divisions per limb.
fn powers(f: u64, halves: usize) -> Vec<u64> {
    let mut c = 1 % f;
    (0..halves)
        .map(|_| {
            let here = c;
            // A hardware division when `c·2³²` fits a word (`f` below 2³²); a 128-bit one
            // (a library call) otherwise.
            c = match c.checked_mul(1 << 32) {
                Some(shifted) => shifted % f,
                None => ((u128::from(c) << 32) % u128::from(f)) as u64,
            };
            here
        })
        .collect()
}

/// `num mod f`, `powers[k] = 2^(32k) mod f` for every half-limb of `num`.
fn residue(num: &[u64], f: u64, powers: &[u64]) -> u64 {
    // Each term is below 2⁹⁶, so the sum of up to 2³² of them fits.
    let sum: u128 = num
        .iter()
        .zip(powers.chunks_exact(2))
        .map(|(&x, c)| {
            u128::from(x & 0xffff_ffff) * u128::from(c[0]) + u128::from(x >> 32) * u128::from(c[1])
        })
        .sum();
    (sum % u128::from(f)) as u64
}

/// The word factors of one vector's scale, with their tables of [`powers`] when the vector
/// meets enough others for the tables to pay.
struct Divisors<'a> {
    factors: &'a [Factor],
    powers: Option<Vec<Vec<u64>>>,
}

impl<'a> Divisors<'a> {
    fn of(scale: &'a Scale, halves: usize, tabled: bool) -> Option<Divisors<'a>> {
        let factors = scale.factors.as_deref()?;
        Some(Divisors {
            factors,
            powers: tabled.then(|| factors.iter().map(|f| powers(f.f, halves)).collect()),
        })
    }

    fn residue(&self, k: usize, num: &[u64]) -> u64 {
        match &self.powers {
            Some(p) if 2 * num.len() <= p[k].len() => residue(num, self.factors[k].f, &p[k]),
            _ => limbs::rem_small(num, self.factors[k].f),
        }
    }
}

/// `±num / (d_a·d_b)` in lowest terms, dividing out the word factors of both denominators.
fn normalise(
    negative: bool,
    num: &[u64],
    (a, da): (&Scale, Option<&Divisors>),
    (b, db): (&Scale, Option<&Divisors>),
    buf: &mut Vec<u64>,
) -> Q {
    if limbs::significant(num) == 0 {
        return Q::zero();
    }
    match (da, db) {
        (Some(da), Some(db)) => {
            buf.clear();
            buf.extend_from_slice(&num[..limbs::significant(num)]);
            let mut den = vec![1u64];
            for (d, k) in [da, db]
                .into_iter()
                .flat_map(|d| (0..d.factors.len()).map(move |k| (d, k)))
            {
                let Factor { mut f, ref primes } = d.factors[k];
                // `num mod f` once. With the primes of `f` known, `p^k` divides `num` (for
                // `p^k | f`) exactly when it divides the residue, and dividing both by `p`
                // keeps one the residue of the other modulo `f/p`.
                let mut r = d.residue(k, buf);
                if primes.is_empty() {
                    loop {
                        let g = limbs::gcd_u64(r % f, f);
                        if g == 1 {
                            break;
                        }
                        limbs::div_small(buf, g);
                        f /= g;
                        r = limbs::rem_small(buf, f);
                    }
                } else {
                    let mut g = 1u64;
                    for &(p, e) in primes {
                        for _ in 0..e {
                            match exact_quotient(r, p) {
                                Some(q) => {
                                    r = q;
                                    g *= u64::from(p);
                                }
                                None => break,
                            }
                        }
                    }
                    if g > 1 {
                        limbs::div_small(buf, g);
                        f /= g;
                    }
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

/// `p⁻¹ mod 2⁶⁴` and `⌊(2⁶⁴ − 1)/p⌋` for every odd `p < SEEN` (0 elsewhere): `p` divides `r`
/// exactly when `r·p⁻¹ mod 2⁶⁴ ≤ ⌊(2⁶⁴ − 1)/p⌋`, and the product is then `r/p` (Granlund and
/// Montgomery), a multiplication instead of a division.
const DIVIDES: [(u64, u64); SEEN] = divisibility_table();

const fn divisibility_table() -> [(u64, u64); SEEN] {
    let mut t = [(0u64, 0u64); SEEN];
    let mut p = 3;
    while p < SEEN {
        // Newton's iteration doubles the correct low bits: 3 (x = p is right mod 8), 6, …, 96.
        let mut x = p as u64;
        let mut k = 0;
        while k < 5 {
            x = x.wrapping_mul(2u64.wrapping_sub((p as u64).wrapping_mul(x)));
            k += 1;
        }
        t[p] = (x, u64::MAX / p as u64);
        p += 2;
    }
    t
}

/// `r/p` when the prime `p < SEEN` divides `r`.
#[inline]
fn exact_quotient(r: u64, p: u16) -> Option<u64> {
    if p == 2 {
        return (r & 1 == 0).then_some(r >> 1);
    }
    let (inverse, limit) = DIVIDES[p as usize];
    let q = r.wrapping_mul(inverse);
    (q <= limit).then_some(q)
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
    let mut ws = Workspace::new();
    let scales: Vec<Scale> = (0..view.count)
        .map(|v| scale_of(view, v, &mut ws))
        .collect();
    CommonPack {
        packed: pack(view, &scales),
        scales,
    }
}

/// A vector's factors get tables of [`powers`] when it meets at least this many others: a
/// table costs about as many divisions as the residues of a few products save.
const TABLED_MIN: usize = 8;

/// `out[i·b.count + j] = ⟪a_i, b_j⟫` by common denominators.
pub(crate) fn multiply(a: &CommonPack, b: &CommonPack) -> Vec<Q> {
    let (pa, pb) = (&a.packed, &b.packed);
    // A dot product of fewer than 2⁶⁴ terms has at most `pa.width + pb.width + 1` limbs (a
    // longer one would take the plain remainder).
    let halves = 2 * (pa.width + pb.width + 1);
    fn divisors(p: &CommonPack, halves: usize, others: usize) -> Vec<Option<Divisors<'_>>> {
        let tabled = others >= TABLED_MIN;
        p.scales
            .iter()
            .map(|s| Divisors::of(s, halves, tabled))
            .collect()
    }
    let div_a = divisors(a, halves, b.scales.len());
    let div_b = divisors(b, halves, a.scales.len());
    limbs::each_entry(
        (a.scales.len(), b.scales.len(), pa.len),
        || (Accumulator::new(pa.width, pb.width), Vec::new()),
        |(acc, buf), i, j| {
            let (negative, num) = acc.dot(pa, i, pb, j);
            normalise(
                negative,
                num,
                (&a.scales[i], div_a[i].as_ref()),
                (&b.scales[j], div_b[j].as_ref()),
                buf,
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_integer::Integer;

    #[test]
    fn the_factor_table_gives_each_number_its_smallest_prime_factor() {
        for (n, &(p, rest)) in FACTOR.iter().enumerate().skip(2) {
            assert_eq!(usize::from(p) * usize::from(rest), n);
            assert!((2..usize::from(p)).all(|d| n % d != 0), "{n}: {p}");
        }
    }

    /// The scale of the vector `(1/d)` for each `d` of `dens`.
    fn scale(dens: &[u64]) -> Scale {
        let data: Vec<Q> = dens
            .iter()
            .map(|&d| Q::new(1.into(), BigInt::from(d)))
            .collect();
        let view = Vectors::rows(&data, 1, data.len());
        scale_of(&view, 0, &mut Workspace::new())
    }

    #[test]
    fn a_scale_is_the_lcm_of_the_denominators_and_the_product_of_its_factors() {
        // In the table (repeated, prime powers, 1), just past it, a word-sized prime and its
        // multiple, and the largest word.
        let dens = [
            12,
            18,
            1,
            12,
            1023,
            97 * 97,
            1024,
            1031,
            2 * 1031,
            (1 << 61) - 1,
            u64::MAX,
        ];
        for k in 1..=dens.len() {
            let s = scale(&dens[..k]);
            let lcm = dens[..k]
                .iter()
                .fold(BigUint::one(), |l, &d| l.lcm(&BigUint::from(d)));
            assert_eq!(limbs::to_biguint(&s.d), lcm, "{:?}", &dens[..k]);
            let factors = s.factors.expect("every denominator is a word");
            let product = factors.iter().fold(BigUint::one(), |p, f| p * f.f);
            assert_eq!(product, lcm);
            for f in factors.iter().filter(|f| !f.primes.is_empty()) {
                let from_primes = f.primes.iter().map(|&(p, e)| u64::from(p).pow(e.into()));
                assert_eq!(from_primes.product::<u64>(), f.f, "{f:?}");
            }
        }
    }

    #[test]
    fn exact_quotients_are_the_divisions_that_leave_no_remainder() {
        let primes = (2..SEEN as u16).filter(|&n| FACTOR[n as usize].0 == n);
        for p in primes {
            let p64 = u64::from(p);
            for r in [
                0,
                1,
                p64 - 1,
                p64,
                p64 + 1,
                2 * p64,
                u64::MAX / p64 * p64,
                u64::MAX,
            ] {
                assert_eq!(
                    exact_quotient(r, p),
                    (r % p64 == 0).then(|| r / p64),
                    "{r} / {p}"
                );
            }
        }
    }

    #[test]
    fn residues_through_the_tables_equal_plain_remainders() {
        let num: Vec<u64> = vec![u64::MAX, 0x1234_5678_9abc_def0, u64::MAX - 7, 1 << 63];
        for f in [
            2,
            3,
            97 * 97,
            1031,
            u64::from(u32::MAX),
            (1 << 61) - 1,
            u64::MAX,
        ] {
            let table = powers(f, 2 * num.len());
            for len in 1..=num.len() {
                let want = limbs::rem_small(&num[..len], f);
                assert_eq!(residue(&num[..len], f, &table), want, "mod {f}");
            }
        }
    }
}
