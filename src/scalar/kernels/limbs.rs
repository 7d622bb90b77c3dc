//! Integer vectors packed as fixed-width little-endian `u64` limbs, and the one hot loop of the
//! exact kernels: a signed multiply–accumulate of two such vectors.
//!
//! num-bigint allocates a fresh number for every `&a * &b` and has no multiply–add, so a dot
//! product on `BigInt`s costs an allocation per term. Packing each vector once into a flat limb
//! buffer (one allocation per matrix) and accumulating products with `u128` arithmetic into two
//! reused buffers (positive and negative terms) removes every allocation from the inner loop.

use num_bigint::{BigInt, BigUint, Sign};

/// A family of integer vectors of equal length, every entry stored in `width` limbs.
#[derive(Clone, Debug, Default)]
pub(crate) struct Packed {
    /// Limbs per entry (the widest entry's size).
    pub width: usize,
    /// Entries per vector.
    pub len: usize,
    /// `limbs[(v·len + t)·width ..][..width]`: entry `t` of vector `v`, magnitude.
    pub limbs: Vec<u64>,
    /// Significant limbs of each entry (0 for a zero entry, which the loop skips).
    pub used: Vec<u32>,
    /// Whether each entry is negative.
    pub negative: Vec<bool>,
}

impl Packed {
    /// Room for `count` vectors of `len` entries of `width` limbs, all zero.
    pub fn zeroed(count: usize, len: usize, width: usize) -> Packed {
        Packed {
            width,
            len,
            limbs: vec![0; count * len * width],
            used: vec![0; count * len],
            negative: vec![false; count * len],
        }
    }

    /// The same entries with every sign dropped (`|v|` for every vector `v`).
    pub fn magnitudes(&self) -> Packed {
        Packed {
            negative: vec![false; self.negative.len()],
            ..self.clone()
        }
    }

    /// The limb slot of entry `t` of vector `v`, to be filled by the caller, who then calls
    /// [`Packed::seal`].
    pub fn slot(&mut self, v: usize, t: usize) -> &mut [u64] {
        let k = (v * self.len + t) * self.width;
        &mut self.limbs[k..k + self.width]
    }

    /// Records the sign of entry `(v, t)` and how many of its limbs are significant.
    pub fn seal(&mut self, v: usize, t: usize, negative: bool) {
        let k = v * self.len + t;
        let slot = &self.limbs[k * self.width..(k + 1) * self.width];
        self.used[k] = significant(slot) as u32;
        self.negative[k] = negative;
    }

    /// Writes the magnitude `m` into entry `(v, t)` (it must fit in `width` limbs).
    pub fn put(&mut self, v: usize, t: usize, m: &BigUint, negative: bool) {
        let slot = self.slot(v, t);
        for (d, s) in m.iter_u64_digits().zip(slot.iter_mut()) {
            *s = d;
        }
        self.seal(v, t, negative);
    }
}

/// The number of limbs up to the highest non-zero one.
pub(crate) fn significant(limbs: &[u64]) -> usize {
    limbs.iter().rposition(|&d| d != 0).map_or(0, |p| p + 1)
}

/// Limbs needed for a number of `bits` bits.
pub(crate) fn limbs_for_bits(bits: u64) -> usize {
    (bits as usize).div_ceil(64).max(1)
}

/// Reusable accumulators for one signed dot product.
///
/// Products are added column by column into `u128` sums without propagating carries (the low
/// and high halves of each 128-bit partial product go to neighbouring columns, so a column gets
/// fewer than 2⁶⁰ additions below 2⁶⁵ and cannot overflow); carries are propagated once per dot
/// product. This removes the serial carry chain from the inner loop.
pub(crate) struct Accumulator {
    /// Column sums of the positive terms (`[0]`) and of the negative ones (`[1]`): a term picks
    /// its buffer by index, because a branch on random signs is mispredicted half the time.
    sums: [Vec<u128>; 2],
    out: [Vec<u64>; 2],
}

impl Accumulator {
    /// Accumulators for products of `wa`-limb and `wb`-limb entries.
    pub fn new(wa: usize, wb: usize) -> Accumulator {
        let n = wa + wb + 2;
        Accumulator {
            sums: [vec![0; n], vec![0; n]],
            out: [vec![0; n], vec![0; n]],
        }
    }

    /// `Σₜ a[v]ₜ · b[w]ₜ` as a sign and magnitude limbs (borrowed from the accumulator).
    pub fn dot(&mut self, a: &Packed, v: usize, b: &Packed, w: usize) -> (bool, &[u64]) {
        let narrow = match (a.width, b.width) {
            (1, 1) => Some(dot_narrow::<1, 1>(a, v, b, w)),
            (1, 2) => Some(dot_narrow::<1, 2>(a, v, b, w)),
            (1, 3) => Some(dot_narrow::<1, 3>(a, v, b, w)),
            (2, 1) => Some(dot_narrow::<2, 1>(a, v, b, w)),
            (2, 2) => Some(dot_narrow::<2, 2>(a, v, b, w)),
            (2, 3) => Some(dot_narrow::<2, 3>(a, v, b, w)),
            (3, 1) => Some(dot_narrow::<3, 1>(a, v, b, w)),
            (3, 2) => Some(dot_narrow::<3, 2>(a, v, b, w)),
            (3, 3) => Some(dot_narrow::<3, 3>(a, v, b, w)),
            _ => None,
        };
        if narrow.is_none() {
            self.dot_wide(a, v, b, w);
        }
        let n = self.sums[0].len();
        let sums: [&[u128]; 2] = match &narrow {
            Some([p, q]) => [&p[..n], &q[..n]],
            None => [&self.sums[0], &self.sums[1]],
        };
        let [pos, neg] = &mut self.out;
        settle(sums[0], pos);
        settle(sums[1], neg);
        // |pos − neg| with its sign, computed in `pos`.
        let negative = compare(pos, neg) == std::cmp::Ordering::Less;
        if negative {
            std::mem::swap(pos, neg);
        }
        sub_in_place(pos, neg);
        (negative, pos)
    }

    /// [`Accumulator::dot`]'s column sums for wider entries.
    fn dot_wide(&mut self, a: &Packed, v: usize, b: &Packed, w: usize) {
        self.sums.iter_mut().for_each(|s| s.fill(0));
        let (ia, ib) = (v * a.len, w * b.len);
        for t in 0..a.len {
            let (ua, ub) = (a.used[ia + t] as usize, b.used[ib + t] as usize);
            if ua == 0 || ub == 0 {
                continue;
            }
            let ka = (ia + t) * a.width;
            let kb = (ib + t) * b.width;
            let sign = usize::from(a.negative[ia + t] != b.negative[ib + t]);
            mac(
                &mut self.sums[sign],
                &a.limbs[ka..ka + ua],
                &b.limbs[kb..kb + ub],
            );
        }
    }
}

/// [`Accumulator::dot`]'s column sums (positive terms, negative terms) for entries of at most
/// three limbs (small fractions over a common denominator, the common case): every product is
/// written out and summed in registers, zero entries included (they add nothing), so the loop
/// has no branch. Columns up to `WA + WB ≤ 6` are used.
fn dot_narrow<const WA: usize, const WB: usize>(
    a: &Packed,
    v: usize,
    b: &Packed,
    w: usize,
) -> [[u128; 8]; 2] {
    let n = a.len;
    let (ia, ib) = (v * n, w * n);
    let (la, lb) = (
        &a.limbs[ia * WA..(ia + n) * WA],
        &b.limbs[ib * WB..(ib + n) * WB],
    );
    let (na, nb) = (&a.negative[ia..ia + n], &b.negative[ib..ib + n]);
    let mut sums = [[0u128; 8]; 2];
    for (((x, y), sx), sy) in la.chunks_exact(WA).zip(lb.chunks_exact(WB)).zip(na).zip(nb) {
        let c = &mut sums[usize::from(sx != sy)];
        for (i, &xi) in x.iter().enumerate() {
            for (j, &yj) in y.iter().enumerate() {
                let p = xi as u128 * yj as u128;
                c[i + j] += (p as u64) as u128;
                c[i + j + 1] += p >> 64;
            }
        }
    }
    sums
}

/// `cols += a·b`, column sums without carries.
#[inline]
fn mac(cols: &mut [u128], a: &[u64], b: &[u64]) {
    for (i, &ai) in a.iter().enumerate() {
        let row = &mut cols[i..=i + b.len()];
        // Each column gets the low half of its product plus the high half of the previous one
        // (below 2⁶⁵ per addition).
        let mut hi = 0u128;
        for (c, &bj) in row.iter_mut().zip(b) {
            let p = ai as u128 * bj as u128;
            *c += (p as u64) as u128 + hi;
            hi = p >> 64;
        }
        row[b.len()] += hi;
    }
}

/// Column sums to limbs (the top columns absorb every carry).
fn settle(cols: &[u128], out: &mut [u64]) {
    let mut carry: u128 = 0;
    for (o, &c) in out.iter_mut().zip(cols) {
        let (lo, hi) = ((c as u64) as u128, c >> 64);
        let t = lo + (carry as u64) as u128;
        *o = t as u64;
        carry = (carry >> 64) + hi + (t >> 64);
    }
}

fn compare(a: &[u64], b: &[u64]) -> std::cmp::Ordering {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x.cmp(y);
        }
    }
    std::cmp::Ordering::Equal
}

/// `a −= b` for `a ≥ b`.
fn sub_in_place(a: &mut [u64], b: &[u64]) {
    let mut borrow = false;
    for (x, &y) in a.iter_mut().zip(b) {
        let (d1, b1) = x.overflowing_sub(y);
        let (d2, b2) = d1.overflowing_sub(borrow as u64);
        *x = d2;
        borrow = b1 || b2;
    }
}

/// `limbs mod d` for a single-word `d > 0`.
pub(crate) fn rem_small(limbs: &[u64], d: u64) -> u64 {
    if d <= u32::MAX as u64 {
        // Half-limb steps keep every division in hardware `u64` (a `u128 % u128` is a call).
        let mut r = 0u64;
        for &x in limbs.iter().rev() {
            r = ((r << 32) | (x >> 32)) % d;
            r = ((r << 32) | (x & 0xffff_ffff)) % d;
        }
        return r;
    }
    let mut r: u128 = 0;
    for &x in limbs.iter().rev() {
        r = ((r << 64) | x as u128) % d as u128;
    }
    r as u64
}

/// `limbs /= d` for a single-word `d > 0` that divides `limbs` exactly.
pub(crate) fn div_small(limbs: &mut [u64], d: u64) {
    if d <= u32::MAX as u64 {
        let mut r = 0u64;
        for x in limbs.iter_mut().rev() {
            let hi = (r << 32) | (*x >> 32);
            let (qh, rh) = (hi / d, hi % d);
            let lo = (rh << 32) | (*x & 0xffff_ffff);
            let (ql, rl) = (lo / d, lo % d);
            *x = (qh << 32) | ql;
            r = rl;
        }
        return;
    }
    let mut r: u128 = 0;
    for x in limbs.iter_mut().rev() {
        let cur = (r << 64) | *x as u128;
        *x = (cur / d as u128) as u64;
        r = cur % d as u128;
    }
}

/// `limbs ·= m`, growing the vector when the product needs another limb.
pub(crate) fn mul_small(limbs: &mut Vec<u64>, m: u64) {
    let mut carry: u128 = 0;
    for x in limbs.iter_mut() {
        let t = *x as u128 * m as u128 + carry;
        *x = t as u64;
        carry = t >> 64;
    }
    if carry != 0 {
        limbs.push(carry as u64);
    }
}

/// The natural number with these little-endian limbs.
pub(crate) fn to_biguint(limbs: &[u64]) -> BigUint {
    let n = significant(limbs);
    let mut digits = Vec::with_capacity(2 * n);
    for &d in &limbs[..n] {
        digits.push(d as u32);
        digits.push((d >> 32) as u32);
    }
    BigUint::new(digits)
}

/// The signed integer `±limbs`.
pub(crate) fn to_bigint(negative: bool, limbs: &[u64]) -> BigInt {
    let m = to_biguint(limbs);
    let sign = if negative { Sign::Minus } else { Sign::Plus };
    BigInt::from_biguint(sign, m)
}

/// Greatest common divisor of two words (binary; both may be zero).
pub(crate) fn gcd_u64(mut a: u64, mut b: u64) -> u64 {
    if a == 0 {
        return b;
    }
    if b == 0 {
        return a;
    }
    let shift = (a | b).trailing_zeros();
    a >>= a.trailing_zeros();
    loop {
        b >>= b.trailing_zeros();
        // min and max rather than a swap: the comparison is a coin flip for the branch
        // predictor, and these compile to conditional moves.
        let (lo, hi) = (a.min(b), a.max(b));
        a = lo;
        b = hi - lo;
        if b == 0 {
            return a << shift;
        }
    }
}

/// Below this many multiply–adds a product runs on the calling thread: handing work to another
/// core costs microseconds.
const PARALLEL_MIN: usize = 1 << 14;

/// `entry(state, i, j)` for every `i < rows`, `j < cols`, row-major, where a product of
/// `rows × cols` dot products of length `len` is split across cores (rayon) once it is large
/// enough; each thread makes its own scratch `state` (accumulators, buffers) with `init`. Every
/// entry is computed alone, so the result is the same on any number of threads.
pub fn each_entry<T, Q>(
    (rows, cols, len): (usize, usize, usize),
    init: impl Fn() -> T + Sync + Send,
    entry: impl Fn(&mut T, usize, usize) -> Q + Sync + Send,
) -> Vec<Q>
where
    T: Send,
    Q: Send,
{
    use rayon::prelude::*;
    if rows == 0 || cols == 0 {
        return Vec::new();
    }
    if rows * cols * len < PARALLEL_MIN {
        let mut state = init();
        return (0..rows * cols)
            .map(|k| entry(&mut state, k / cols, k % cols))
            .collect();
    }
    (0..rows * cols)
        .into_par_iter()
        .map_init(init, |state, k| entry(state, k / cols, k % cols))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_dot_matches_bigint() {
        let vals_a: [i128; 3] = [-(1 << 100), 7, 0];
        let vals_b: [i128; 3] = [3, -(1 << 90), 5];
        let mut a = Packed::zeroed(1, 3, 2);
        let mut b = Packed::zeroed(1, 3, 2);
        for t in 0..3 {
            a.put(
                0,
                t,
                &BigInt::from(vals_a[t]).magnitude().clone(),
                vals_a[t] < 0,
            );
            b.put(
                0,
                t,
                &BigInt::from(vals_b[t]).magnitude().clone(),
                vals_b[t] < 0,
            );
        }
        let mut acc = Accumulator::new(2, 2);
        let (neg, m) = acc.dot(&a, 0, &b, 0);
        let got = to_bigint(neg, m);
        let want: BigInt = (0..3)
            .map(|t| BigInt::from(vals_a[t]) * BigInt::from(vals_b[t]))
            .sum();
        assert_eq!(got, want);
    }

    #[test]
    fn dot_products_of_every_width_match_bigint() {
        // Widths 1–3 take the written-out loops, 4 the general one; entries of full width
        // (all ones), zeros, both signs, and a long vector so that columns carry.
        let entry = |width: usize, k: usize| -> BigInt {
            let m = match k % 4 {
                0 => (BigUint::from(1u8) << (64 * width)) - 1u8,
                1 => BigUint::from(0u8),
                2 => BigUint::from(k as u64 + 1) << (64 * (width - 1)),
                _ => BigUint::from(k as u64 * 0x9e37_79b9_7f4a_7c15),
            };
            let sign = if k.is_multiple_of(3) {
                Sign::Minus
            } else {
                Sign::Plus
            };
            BigInt::from_biguint(sign, m)
        };
        let len = 37;
        for wa in 1..=4 {
            for wb in 1..=4 {
                let (mut a, mut b) = (Packed::zeroed(2, len, wa), Packed::zeroed(1, len, wb));
                let (mut va, mut vb) = (Vec::new(), Vec::new());
                for t in 0..len {
                    let (x, y) = (entry(wa, t + 3), entry(wb, 5 * t));
                    a.put(1, t, x.magnitude(), x.sign() == Sign::Minus);
                    b.put(0, t, y.magnitude(), y.sign() == Sign::Minus);
                    va.push(x);
                    vb.push(y);
                }
                let want: BigInt = va.iter().zip(&vb).map(|(x, y)| x * y).sum();
                let mut acc = Accumulator::new(wa, wb);
                // Twice: the accumulator is reused.
                for _ in 0..2 {
                    let (neg, m) = acc.dot(&a, 1, &b, 0);
                    assert_eq!(to_bigint(neg, m), want, "widths {wa} × {wb}");
                }
            }
        }
    }

    #[test]
    fn word_helpers() {
        assert_eq!(gcd_u64(12, 18), 6);
        assert_eq!(gcd_u64(0, 5), 5);
        let mut v = vec![u64::MAX, 1];
        assert_eq!(
            rem_small(&v, 10),
            ((u64::MAX as u128 + (1u128 << 64)) % 10) as u64
        );
        mul_small(&mut v, 6);
        div_small(&mut v, 3);
        assert_eq!(
            to_biguint(&v),
            BigUint::from(u64::MAX as u128 + (1u128 << 64)) * 2u32
        );
    }
}
