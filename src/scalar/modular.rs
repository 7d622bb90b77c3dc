//! Rationals reduced modulo a prime, each beside a certified `f64` enclosure: the arithmetic of
//! the filtered randomized checks ([`crate::check::modular_params`]).
//!
//! A [`ModP`] holds, for an exact rational `x` that it never stores, its residue `x mod p` for a
//! prime `p < 2⁶²` (u64 arithmetic, Montgomery form) and an `f64` enclosure: a float `v` and a
//! bound `e` with `|x − v| ≤ e`, rounding and underflow accounted for. Every ring operation acts
//! on both. The residue map `ℤ₍ₚ₎ → 𝔽ₚ` is a ring homomorphism, so a generic computation run
//! over `ModP` gives the residue of what the same computation gives over `Q`, provided it takes
//! the same branches and divides by no multiple of `p`. Those are the two things the filter
//! decides:
//!
//! * **Signs** ([`Ordered::sign`], hence `select`, `abs_val`, `max_val`) are taken from the
//!   enclosure when it excludes 0, and are then certain. When it does not (a value on a kink or
//!   very near one, or an enclosure grown too wide) the run is marked [`Undecided`] and its
//!   caller replays it over `Q`: the filtered predicates of computational geometry (CGAL's
//!   filtered kernel), with the whole computation as the predicate.
//! * **Division** by a value whose residue is 0 (a pole, or a prime that divides its numerator)
//!   and a constant whose denominator is a multiple of `p` mark the run undecided as well.
//!
//! **Equality** is the one probabilistic step: different residues, or enclosures that do not
//! overlap, prove two values different; equal residues are taken as equal values, which is
//! wrong only when `p` divides the numerator of their difference. For a numerator of `B` bits
//! that holds for at most `B/60` of the primes in `[2⁶⁰, 2⁶¹)`, of which there are more than
//! `2.7·10¹⁶`; [`random_prime`] draws one uniformly.
//!
//! Outside a [`with_prime`] scope the modulus is the Mersenne prime `2⁶¹ − 1`.

use super::float_filter::{self, rounding, up, Approx, TINY, U};
use super::{Field, FunctionError, Ordered, Ring, Transcendental, Q};
use num_bigint::{BigInt, Sign};
use num_traits::{One, Zero};
use rand::Rng;
use rayon::prelude::*;
use std::cell::{Cell, RefCell};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::{Add, Mul, Neg, Sub};
use std::rc::Rc;

/// Why a run over [`ModP`] could not be trusted to follow the exact run: its caller replays the
/// computation over `Q`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Undecided {
    /// A sign was asked of a value whose enclosure contains 0 (a kink, or a value too close to
    /// one for the float filter).
    Sign,
    /// A division by a value whose residue is 0 (a pole, or an unlucky prime).
    Division,
    /// A constant whose denominator is a multiple of the prime.
    Denominator,
    /// `exp` or `ln`, which have no residue.
    Function,
}

impl fmt::Display for Undecided {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Undecided::Sign => "a sign the float filter could not decide",
            Undecided::Division => "a division by a value whose residue is 0",
            Undecided::Denominator => "a constant whose denominator the prime divides",
            Undecided::Function => "exp or ln, which have no residue",
        })
    }
}

/// The modulus and its Montgomery constants (`R = 2⁶⁴`).
#[derive(Clone, Copy, Debug)]
struct Modulus {
    p: u64,
    /// `−p⁻¹ mod 2⁶⁴`.
    neg_inv: u64,
    /// `R mod p`: one in Montgomery form.
    one: u64,
    /// `R² mod p`: converts into Montgomery form.
    r2: u64,
    /// `R³ mod p`: turns a plain inverse of a Montgomery form into the Montgomery form of the
    /// inverse.
    r3: u64,
    /// `⌊(R mod p)·2⁶⁴/p⌋`: Shoup's precomputed quotient for multiplying by the constant
    /// `R mod p` ([`Modulus::signed`]).
    one_quotient: u64,
}

impl Modulus {
    const fn new(p: u64) -> Modulus {
        // Newton's iteration for p⁻¹ mod 2⁶⁴: each step doubles the correct low bits.
        let mut inv: u64 = 1;
        let mut i = 0;
        while i < 6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(p.wrapping_mul(inv)));
            i += 1;
        }
        let one = ((1u128 << 64) % p as u128) as u64;
        let r2 = ((one as u128 * one as u128) % p as u128) as u64;
        let r3 = ((r2 as u128 * one as u128) % p as u128) as u64;
        Modulus {
            p,
            neg_inv: inv.wrapping_neg(),
            one,
            r2,
            r3,
            one_quotient: (((one as u128) << 64) / p as u128) as u64,
        }
    }

    /// `t·R⁻¹ mod p` for `t < p·R` (Montgomery's REDC).
    #[inline]
    fn redc(&self, t: u128) -> u64 {
        let m = (t as u64).wrapping_mul(self.neg_inv);
        let s = ((t + m as u128 * self.p as u128) >> 64) as u64;
        if s >= self.p {
            s - self.p
        } else {
            s
        }
    }

    #[inline]
    fn mul(&self, a: u64, b: u64) -> u64 {
        self.redc(a as u128 * b as u128)
    }

    #[inline]
    fn add(&self, a: u64, b: u64) -> u64 {
        let s = a + b;
        if s >= self.p {
            s - self.p
        } else {
            s
        }
    }

    #[inline]
    fn sub(&self, a: u64, b: u64) -> u64 {
        if a >= b {
            a - b
        } else {
            a + self.p - b
        }
    }

    /// The Montgomery form of the residue of any `a < 2⁶⁴` (`a·R² < p·R`, so REDC needs no
    /// reduction of `a` first).
    #[inline]
    fn montgomery(&self, a: u64) -> u64 {
        self.mul(a, self.r2)
    }

    /// The Montgomery form of the residue of `n`.
    #[inline]
    fn signed(&self, n: i64) -> u64 {
        // n·R mod p as |n| times the constant R mod p by Shoup's method: one high and two low
        // products, where REDC of |n|·R² takes two full ones (every probe entry goes through
        // here). `q` underestimates ⌊|n|·(R mod p)/p⌋ by at most one, so `r < 2p`.
        let a = n.unsigned_abs();
        let q = ((a as u128 * self.one_quotient as u128) >> 64) as u64;
        let r = a
            .wrapping_mul(self.one)
            .wrapping_sub(q.wrapping_mul(self.p));
        // Branch-free: the probes' signs are random, and a branch on them mispredicts half the
        // time (a branching version of this function made the modular check 13 % slower).
        let r = self.below_p(r);
        let negated = self.below_p(self.p - r);
        let negative = (n >> 63) as u64;
        (negated & negative) | (r & !negative)
    }

    /// `x mod p` for `x < 2p`, without a branch: below `p`, `x − p` wraps past `x`.
    #[inline]
    fn below_p(&self, x: u64) -> u64 {
        x.min(x.wrapping_sub(self.p))
    }

    /// The Montgomery form of `n·s·R⁻²` (`s < p`): with the scale `s = R²` the residue of `n`
    /// itself, with `s = d⁻¹·R²` that of `n/d` — one REDC for a fraction instead of two
    /// (`|n| < 2⁶⁴` and `s < p`, so the product is below `p·R`).
    #[inline]
    fn signed_times(&self, n: i64, s: u64) -> u64 {
        let magnitude = self.redc(n.unsigned_abs() as u128 * s as u128);
        if n < 0 {
            self.sub(0, magnitude)
        } else {
            magnitude
        }
    }

    /// `d⁻¹·R² mod p`, the scale of [`Modulus::signed_times`] that divides by `d`; `None` when
    /// `p | d`.
    fn scale_dividing_by(&self, d: u64) -> Option<u64> {
        // inverse() gives d⁻¹·R, and REDC((d⁻¹R)·R²) = d⁻¹R².
        let inverse = self.inverse(self.montgomery(d))?;
        Some(self.mul(inverse, self.r2))
    }

    /// The plain residue of a Montgomery form.
    fn plain(&self, a: u64) -> u64 {
        self.redc(a as u128)
    }

    /// The Montgomery form of the inverse of the value whose form is `a`; `None` for 0.
    fn inverse(&self, a: u64) -> Option<u64> {
        let plain_inverse = inverse_mod(a, self.p)?;
        // a = xR, so a⁻¹ = x⁻¹R⁻¹ and REDC(a⁻¹·R³) = x⁻¹R.
        Some(self.mul(plain_inverse, self.r3))
    }

    /// The residue of an integer, in Montgomery form.
    fn integer(&self, n: &BigInt) -> u64 {
        let magnitude = n.magnitude().iter_u64_digits().rev().fold(0u64, |r, d| {
            ((((r as u128) << 64) | d as u128) % self.p as u128) as u64
        });
        let form = self.montgomery(magnitude);
        if n.sign() == Sign::Minus {
            self.sub(0, form)
        } else {
            form
        }
    }
}

/// `a⁻¹ mod p` by the extended Euclidean algorithm; `None` unless `gcd(a, p) = 1`. The Bézout
/// coefficients alternate in sign, so they are kept as magnitudes in u64.
fn inverse_mod(a: u64, p: u64) -> Option<u64> {
    let (mut r0, mut r1) = (p, a % p);
    // t0, t1 are |coefficients| of a; the sign of t1 is (−1)^steps.
    let (mut t0, mut t1) = (0u64, 1u64);
    let mut steps = 0u32;
    while r1 != 0 {
        let q = r0 / r1;
        (r0, r1) = (r1, r0 - q * r1);
        (t0, t1) = (t1, t0 + q * t1);
        steps += 1;
    }
    // Now r0 = gcd and ±t0 is the coefficient, negative when steps is even.
    (r0 == 1).then(|| if steps.is_multiple_of(2) { p - t0 } else { t0 })
}

/// `2⁶¹ − 1`, the modulus outside a [`with_prime`] scope.
pub const DEFAULT_PRIME: u64 = (1 << 61) - 1;

thread_local! {
    static MODULUS: Cell<Modulus> = const { Cell::new(Modulus::new(DEFAULT_PRIME)) };
    static UNDECIDED: Cell<Option<Undecided>> = const { Cell::new(None) };
}

#[inline]
fn modulus() -> Modulus {
    MODULUS.with(Cell::get)
}

fn undecided(reason: Undecided) {
    UNDECIDED.with(|u| {
        if u.get().is_none() {
            u.set(Some(reason));
        }
    });
}

/// Runs `f` with arithmetic modulo `p` (an odd prime in `[3, 2⁶¹)`; [`random_prime`] draws one;
/// any other `p` is replaced by [`DEFAULT_PRIME`]),
/// and returns its result with the first reason the run became [`Undecided`], if any. Values
/// made in one scope are meaningless in another. Scopes nest; the outer modulus is restored.
pub fn with_prime<R>(p: u64, f: impl FnOnce() -> R) -> (R, Option<Undecided>) {
    let p = if p % 2 == 1 && (3..1 << 61).contains(&p) {
        p
    } else {
        DEFAULT_PRIME
    };
    let outer = MODULUS.with(|m| m.replace(Modulus::new(p)));
    let outer_flag = UNDECIDED.with(|u| u.replace(None));
    let result = f();
    let flag = UNDECIDED.with(|u| u.replace(outer_flag));
    MODULUS.with(|m| m.set(outer));
    (result, flag)
}

/// The prime of the innermost [`with_prime`] scope ([`DEFAULT_PRIME`] outside one).
pub fn current_prime() -> u64 {
    modulus().p
}

/// A prime drawn uniformly from `[2⁶⁰, 2⁶¹)` (rejection sampling; the deterministic Miller–Rabin
/// test of [`super::symbols`]).
pub fn random_prime(rng: &mut impl Rng) -> u64 {
    loop {
        let candidate = (rng.next_u64() >> 4) | (1 << 60) | 1;
        if super::symbols::is_prime(candidate) {
            return candidate;
        }
    }
}

/// A rational reduced modulo the current prime, beside a certified `f64` enclosure of its value
/// (module docs). Use it only inside a [`with_prime`] scope whose prime made it.
#[derive(Clone, Copy)]
pub struct ModP {
    /// The residue, in Montgomery form.
    form: u64,
    /// The float approximation.
    value: f64,
    /// `|exact − value| ≤ bound`; infinite when nothing is known.
    bound: f64,
}

impl ModP {
    /// The plain residue `x mod p` (in `[0, p)`).
    pub fn residue(&self) -> u64 {
        modulus().plain(self.form)
    }

    /// The integer `n`.
    pub fn from_u64(n: u64) -> ModP {
        let m = modulus();
        let value = n as f64;
        let bound = if n <= 1 << 53 { 0.0 } else { rounding(value) };
        ModP::new(m.montgomery(n), value, bound)
    }

    /// The float approximation and the bound on its error.
    pub fn enclosure(&self) -> (f64, f64) {
        (self.value, self.bound)
    }

    /// Whether the enclosure proves the value non-zero.
    fn certainly_nonzero(&self) -> bool {
        self.value.abs() * (1.0 - 2.0 * U) > self.bound
    }

    fn new(form: u64, value: f64, bound: f64) -> ModP {
        let Approx { value, bound } = Approx::new(value, bound);
        ModP { form, value, bound }
    }

    /// The integer `n`, residue and enclosure.
    fn integer_with(m: &Modulus, n: i64) -> ModP {
        let value = n as f64;
        // Finite, and at least 2⁵³ where it is rounded: no underflow term.
        let bound = if n.unsigned_abs() <= 1 << 53 {
            0.0
        } else {
            value.abs() * U
        };
        ModP {
            form: m.signed(n),
            value,
            bound,
        }
    }

    /// Exactly 0: a zero residue whose float is 0 with no error.
    fn is_exact_zero(&self) -> bool {
        self.form == 0 && self.value == 0.0 && self.bound == 0.0
    }

    /// A residue whose value is not tracked: the enclosure is unbounded, so no sign is decided
    /// from it (a branch on it is [`Undecided`]).
    fn unknown(form: u64) -> ModP {
        ModP {
            form,
            value: f64::NAN,
            bound: f64::INFINITY,
        }
    }

    /// Whether the enclosure is unbounded. Every product and sum with such a term is unbounded
    /// too, so the kernels compute only its residue.
    fn is_unknown(&self) -> bool {
        self.bound == f64::INFINITY
    }

    /// Whether a kernel may treat every entry of `xs` as untracked: its first entry that is not
    /// an exact zero (a mask's) is. Declaring a tracked result untracked is always sound (it
    /// only gives up the float's information), and slices are not mixed in practice: probes and
    /// the values computed from them are untracked throughout, weights and inputs tracked.
    fn untracked(xs: &[ModP]) -> bool {
        xs.iter()
            .find(|x| !x.is_exact_zero())
            .is_some_and(ModP::is_unknown)
    }

    /// The integers `ns` as residues with no enclosure (an unbounded one): how the
    /// randomized checks' probes enter (see `check::modular`). Identities compare residues,
    /// and the kernels skip the float work on them.
    pub fn untracked_integers(ns: &[i64]) -> Vec<ModP> {
        let m = modulus();
        ns.iter().map(|&n| ModP::unknown(m.signed(n))).collect()
    }

    /// `a·b` modulo the given modulus (the kernels fetch it once, not per product).
    fn mul_with(m: &Modulus, a: &ModP, b: &ModP) -> ModP {
        if a.is_exact_zero() || b.is_exact_zero() {
            return ModP::zero();
        }
        let form = m.mul(a.form, b.form);
        if a.is_unknown() || b.is_unknown() {
            return ModP::unknown(form);
        }
        let exact = |x: &ModP| x.bound == 0.0 && (x.value == 0.0 || x.value.abs() == 1.0);
        if exact(a) || exact(b) {
            // 0 and ±1 (masks, signs) multiply without rounding.
            let (unit, other) = if exact(a) { (a, b) } else { (b, a) };
            return ModP::new(
                form,
                unit.value * other.value,
                unit.value.abs() * other.bound,
            );
        }
        let value = a.value * b.value;
        let bound = up(a.value.abs() * b.bound
            + b.value.abs() * a.bound
            + a.bound * b.bound
            + rounding(value));
        ModP::new(form, value, bound)
    }

    /// `Σ aᵢ·bᵢ` (see [`Sum`]).
    fn dot_with(m: &Modulus, terms: impl Iterator<Item = (ModP, ModP)>) -> ModP {
        let mut sum = Sum::default();
        for (a, b) in terms {
            sum.add(m, a, b);
        }
        sum.finish(m)
    }
}

/// A running `Σ aᵢ·bᵢ`: residues accumulated in 128 bits, and one enclosure for the whole sum
/// ([`float_filter::Sum`]).
#[derive(Clone, Copy, Default)]
struct Sum {
    acc: u128,
    pending: u32,
    float: float_filter::Sum,
    n: usize,
}

/// Montgomery forms are below `p < 2⁶¹`: this many products of two and a reduced running sum
/// stay below `2¹²⁸`.
const REDUCE_EVERY: usize = 63;

impl Sum {
    #[inline]
    fn add(&mut self, m: &Modulus, a: ModP, b: ModP) {
        self.accumulate(&a, &b);
        self.pending += 1;
        if self.pending as usize == REDUCE_EVERY {
            self.reduce(m, REDUCE_EVERY);
        }
    }

    /// `a·b` into the sum, without the reduction that [`REDUCE_EVERY`] terms need.
    #[inline(always)]
    fn accumulate(&mut self, a: &ModP, b: &ModP) {
        self.acc += a.form as u128 * b.form as u128;
        self.float.add((a.value, a.bound), (b.value, b.bound));
    }

    /// The reduction after `terms` accumulated terms (at most [`REDUCE_EVERY`] since the last).
    #[inline]
    fn reduce(&mut self, m: &Modulus, terms: usize) {
        self.acc %= m.p as u128;
        self.pending = 0;
        self.n += terms;
    }

    /// `Σ aᵢ·bᵢ` over two slices: reduced once per [`REDUCE_EVERY`] terms, with no per-term
    /// count or branch (the inner loop of the matrix–vector products).
    fn of_slices(m: &Modulus, a: &[ModP], b: &[ModP]) -> ModP {
        if ModP::untracked(a) || ModP::untracked(b) {
            return ModP::unknown(Sum::residue_of_slices(m, a, b));
        }
        let mut sum = Sum::default();
        for (ca, cb) in a.chunks(REDUCE_EVERY).zip(b.chunks(REDUCE_EVERY)) {
            for (x, y) in ca.iter().zip(cb) {
                sum.accumulate(x, y);
            }
            sum.reduce(m, ca.len().min(cb.len()));
        }
        sum.finish(m)
    }

    /// The Montgomery form of `Σ aᵢ·bᵢ`, without enclosure.
    fn residue_of_slices(m: &Modulus, a: &[ModP], b: &[ModP]) -> u64 {
        let mut acc = 0u128;
        for (ca, cb) in a.chunks(REDUCE_EVERY).zip(b.chunks(REDUCE_EVERY)) {
            for (x, y) in ca.iter().zip(cb) {
                acc += x.form as u128 * y.form as u128;
            }
            acc %= m.p as u128;
        }
        m.redc(acc)
    }

    fn finish(&self, m: &Modulus) -> ModP {
        // acc < p·2⁶⁴ after one reduction, and REDC takes the doubled R back out.
        let form = m.redc(self.acc % m.p as u128);
        let Approx { value, bound } = self.float.finish(self.n + self.pending as usize);
        ModP::new(form, value, bound)
    }
}

impl fmt::Display for ModP {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:e}±{:.1e} (≡ {} mod {})",
            self.value,
            self.bound,
            self.residue(),
            current_prime()
        )
    }
}

impl fmt::Debug for ModP {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Equal residues are taken as equal values (the probabilistic step, module docs), unless the
/// enclosures prove the values apart.
impl PartialEq for ModP {
    fn eq(&self, other: &Self) -> bool {
        if self.form != other.form {
            return false;
        }
        let apart = (self.value - other.value).abs() * (1.0 - 2.0 * U)
            > (self.bound + other.bound) * (1.0 + 2.0 * U);
        !apart
    }
}

impl Zero for ModP {
    fn zero() -> Self {
        ModP::new(0, 0.0, 0.0)
    }
    fn is_zero(&self) -> bool {
        self.form == 0 && !self.certainly_nonzero()
    }
}

impl One for ModP {
    fn one() -> Self {
        ModP::new(modulus().one, 1.0, 0.0)
    }
}

impl Add for ModP {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        self.add_ref(&rhs)
    }
}

impl Sub for ModP {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        self.sub_ref(&rhs)
    }
}

impl Mul for ModP {
    type Output = Self;
    fn mul(self, rhs: Self) -> Self {
        self.mul_ref(&rhs)
    }
}

impl Neg for ModP {
    type Output = Self;
    fn neg(self) -> Self {
        self.neg_ref()
    }
}

/// `a + b` with its exact rounding error (Knuth's TwoSum), so exact sums stay exact.
#[inline]
fn sum_bound(a: &ModP, b: &ModP, value: f64) -> f64 {
    let b_virtual = value - a.value;
    let error = (a.value - (value - b_virtual)) + (b.value - b_virtual);
    up(a.bound + b.bound + error.abs())
}

impl Ring for ModP {
    fn add_ref(&self, rhs: &Self) -> Self {
        let m = modulus();
        let value = self.value + rhs.value;
        ModP::new(
            m.add(self.form, rhs.form),
            value,
            sum_bound(self, rhs, value),
        )
    }
    fn sub_ref(&self, rhs: &Self) -> Self {
        self.add_ref(&rhs.neg_ref())
    }
    fn mul_ref(&self, rhs: &Self) -> Self {
        ModP::mul_with(&modulus(), self, rhs)
    }
    fn neg_ref(&self) -> Self {
        ModP::new(modulus().sub(0, self.form), -self.value, self.bound)
    }
    fn from_i64(n: i64) -> Self {
        ModP::integer_with(&modulus(), n)
    }

    fn from_i64_slice(ns: &[i64]) -> Vec<Self> {
        let m = modulus();
        ns.iter().map(|&n| ModP::integer_with(&m, n)).collect()
    }

    fn dot(a: &[Self], b: &[Self]) -> Self {
        Sum::of_slices(&modulus(), a, b)
    }
    fn mat_vec(a: &[Self], rows: usize, cols: usize, v: &[Self]) -> Vec<Self> {
        let m = modulus();
        let row = |i: usize| Sum::of_slices(&m, &a[i * cols..(i + 1) * cols], v);
        if rows * cols < PARALLEL_MIN {
            (0..rows).map(row).collect()
        } else {
            (0..rows).into_par_iter().map(row).collect()
        }
    }
    fn transpose_mat_vec(a: &[Self], rows: usize, cols: usize, v: &[Self]) -> Vec<Self> {
        let m = modulus();
        // Row by row, every column's sum at once: A is read in its own order. The columns are
        // cut into blocks for the cores.
        let untracked = ModP::untracked(v) || (rows > 0 && ModP::untracked(&a[..cols]));
        let block = |(lo, hi): (usize, usize)| -> Vec<ModP> {
            let v = &v[..rows.min(v.len())];
            if untracked {
                let mut sums = vec![0u128; hi - lo];
                for (chunk, vs) in v.chunks(REDUCE_EVERY).enumerate() {
                    for (k, vi) in vs.iter().enumerate() {
                        let i = chunk * REDUCE_EVERY + k;
                        for (sum, aij) in sums.iter_mut().zip(&a[i * cols + lo..i * cols + hi]) {
                            *sum += aij.form as u128 * vi.form as u128;
                        }
                    }
                    for sum in &mut sums {
                        *sum %= m.p as u128;
                    }
                }
                return sums.iter().map(|&s| ModP::unknown(m.redc(s))).collect();
            }
            let mut sums = vec![Sum::default(); hi - lo];
            for (chunk, vs) in v.chunks(REDUCE_EVERY).enumerate() {
                for (k, vi) in vs.iter().enumerate() {
                    let i = chunk * REDUCE_EVERY + k;
                    for (sum, aij) in sums.iter_mut().zip(&a[i * cols + lo..i * cols + hi]) {
                        sum.accumulate(aij, vi);
                    }
                }
                for sum in &mut sums {
                    sum.reduce(&m, vs.len());
                }
            }
            sums.iter().map(|s| s.finish(&m)).collect()
        };
        if rows * cols < PARALLEL_MIN {
            return block((0, cols));
        }
        let blocks = column_blocks(cols);
        blocks.into_par_iter().flat_map_iter(block).collect()
    }
    fn matmul(a: &[Self], rows: usize, k: usize, b: &[Self], n: usize) -> Vec<Self> {
        let m = modulus();
        let row = |i: usize| -> Vec<ModP> {
            let row = &a[i * k..(i + 1) * k];
            (0..n)
                .map(|j| {
                    let column = (0..k).map(|t| b[t * n + j]);
                    ModP::dot_with(&m, row.iter().copied().zip(column))
                })
                .collect()
        };
        if rows * k * n < PARALLEL_MIN {
            (0..rows).flat_map(row).collect()
        } else {
            (0..rows).into_par_iter().flat_map_iter(row).collect()
        }
    }
    fn combination(a: &Self, u: &[Self], b: &Self, w: &[Self]) -> Vec<Self> {
        let m = modulus();
        let (a_abs, b_abs) = (a.value.abs(), b.value.abs());
        // Two products of forms below p < 2⁶¹ sum below p·2⁶⁴: one reduction for both.
        let form = |p: &ModP, q: &ModP| {
            m.redc(a.form as u128 * p.form as u128 + b.form as u128 * q.form as u128)
        };
        if ModP::untracked(u) || ModP::untracked(w) || a.is_unknown() || b.is_unknown() {
            return u
                .iter()
                .zip(w)
                .map(|(p, q)| ModP::unknown(form(p, q)))
                .collect();
        }
        u.iter()
            .zip(w)
            .map(|(p, q)| {
                let form = form(p, q);
                let (s, t) = (a.value * p.value, b.value * q.value);
                let value = s + t;
                // The bounds of two products (as in `mul_with`) and of their sum, in one
                // expression of 17 operations on non-negative terms, rounded up once for all.
                let bound = a_abs * p.bound
                    + p.value.abs() * a.bound
                    + a.bound * p.bound
                    + rounding(s)
                    + b_abs * q.bound
                    + q.value.abs() * b.bound
                    + b.bound * q.bound
                    + rounding(t)
                    + rounding(value);
                ModP::new(form, value, bound * (1.0 + 32.0 * U) + TINY)
            })
            .collect()
    }
    fn outer(u: &[Self], v: &[Self]) -> Vec<Self> {
        let m = modulus();
        // Written in place: a flat_map's collect cannot know its length and grows by copying.
        let mut out = vec![ModP::zero(); u.len() * v.len()];
        let untracked_v = ModP::untracked(v);
        let row = |(row, a): (&mut [ModP], &ModP)| {
            if a.is_exact_zero() {
                // A masked entry (a ReLU's zero): its row is exactly zero, already written.
                return;
            }
            if untracked_v || a.is_unknown() {
                for (o, b) in row.iter_mut().zip(v) {
                    *o = if b.form == 0 && b.is_exact_zero() {
                        ModP::zero()
                    } else {
                        ModP::unknown(m.mul(a.form, b.form))
                    };
                }
                return;
            }
            for (o, b) in row.iter_mut().zip(v) {
                *o = ModP::mul_with(&m, a, b);
            }
        };
        if u.len() * v.len() < PARALLEL_MIN {
            // `max(1)`: chunks of 0 are refused; with `v` empty there is nothing to write.
            out.chunks_mut(v.len().max(1)).zip(u).for_each(row);
        } else {
            out.par_chunks_mut(v.len()).zip(u).for_each(row);
        }
        out
    }
}

/// Below this many products a kernel runs on the calling thread: handing work to another core
/// costs microseconds, and a check makes dozens of such calls. At 2¹⁴ the 32,768-product
/// kernels of a 256×128 layer were split, and the modular check at 256×128×10 was 7 % slower
/// than on one thread (2 cores, one of them busy); a 784×512 layer is still split.
const PARALLEL_MIN: usize = 1 << 17;

/// `[lo, hi)` blocks of columns, one per 64 columns (at least one block).
fn column_blocks(cols: usize) -> Vec<(usize, usize)> {
    (0..cols.div_ceil(64).max(1))
        .map(|b| (b * 64, ((b + 1) * 64).min(cols)))
        .collect()
}

impl Field for ModP {
    fn checked_div(&self, rhs: &Self) -> Option<Self> {
        let m = modulus();
        let Some(inverse) = m.inverse(rhs.form) else {
            // Zero residue: a pole, or a prime dividing the divisor's numerator.
            undecided(Undecided::Division);
            return None;
        };
        let form = m.mul(self.form, inverse);
        let value = self.value / rhs.value;
        let below = rhs.value.abs() - rhs.bound;
        let bound = if below > 0.0 && self.bound == 0.0 && rhs.bound == 0.0 {
            rounding(value)
        } else if below > 0.0 {
            up(
                (self.bound * rhs.value.abs() + self.value.abs() * rhs.bound)
                    / (below * rhs.value.abs())
                    + rounding(value),
            )
        } else {
            f64::INFINITY
        };
        Some(ModP::new(form, value, bound))
    }

    fn from_q(q: &Q) -> Self {
        INVERSES.with(|cache| ModP::from_parts(&modulus(), cache, &Parts::of(q), q))
    }

    fn from_q_slice(qs: &[Q]) -> Vec<Self> {
        // The modulus and the inverse cache fetched once for all entries (a weight matrix).
        let m = modulus();
        INVERSES.with(|cache| {
            qs.iter()
                .map(|q| ModP::from_parts(&m, cache, &Parts::of(q), q))
                .collect()
        })
    }

    fn from_q_named(qs: &[Q], name: u64) -> Vec<Self> {
        if !(PARTS_MIN..=PARTS_KEPT).contains(&qs.len()) {
            return ModP::from_q_slice(qs);
        }
        match remembered_parts(name, qs) {
            Some(prepared) => prepared.residues(&modulus(), qs),
            None => ModP::from_q_slice(qs),
        }
    }
}

/// What a conversion to [`ModP`] needs of a rational besides the prime: its parts when both fit
/// a word, and its float enclosure. Reading two big integers and a float division are most of a
/// conversion's work and do not depend on the prime, so large tensors converted more than once
/// keep their parts across checks ([`remembered_parts`]).
#[derive(Clone, Copy)]
struct Parts {
    numerator: i64,
    /// 0 when a part does not fit a word: then the conversion reads the rational itself.
    denominator: u64,
    value: f64,
    bound: f64,
}

impl Parts {
    fn of(q: &Q) -> Parts {
        if let Some((n, d)) = word_parts(q) {
            // Every weight of a float model and most fractions.
            let Approx { value, bound } = Approx::of_parts(n, d);
            return Parts {
                numerator: n,
                denominator: d,
                value,
                bound,
            };
        }
        let Approx { value, bound } = Approx::of(q);
        Parts {
            numerator: 0,
            denominator: 0,
            value,
            bound,
        }
    }

    /// The residue of `q` (whose parts these are) given the scale that divides by its
    /// denominator ([`Modulus::scale_dividing_by`]), or 0 when there is none (a denominator
    /// that the prime divides, or one past a word). Marks the run undecided when `p` divides
    /// the denominator.
    #[inline]
    fn residue(&self, m: &Modulus, scale: u64, q: &Q) -> ModP {
        let form = if scale != 0 {
            // A scale d⁻¹R² is never 0.
            Some(m.signed_times(self.numerator, scale))
        } else if self.denominator == 0 {
            m.inverse(m.integer(q.denom()))
                .map(|inverse| m.mul(m.integer(q.numer()), inverse))
        } else {
            None
        };
        match form {
            // `of` made value and bound what `ModP::new` would.
            Some(form) => ModP {
                form,
                value: self.value,
                bound: self.bound,
            },
            None => {
                undecided(Undecided::Denominator);
                ModP::zero()
            }
        }
    }
}

/// `q`'s numerator and denominator when both fit a word. Reads the limbs directly: num-bigint's
/// `to_i64` and `to_u64` take several times the instructions, and a first check on fresh
/// weights converts every one of them.
#[inline]
fn word_parts(q: &Q) -> Option<(i64, u64)> {
    fn word(n: &BigInt) -> Option<u64> {
        let mut limbs = n.magnitude().iter_u64_digits();
        match limbs.len() {
            0 => Some(0),
            1 => limbs.next(),
            _ => None,
        }
    }
    let (magnitude, d) = (word(q.numer())?, word(q.denom())?);
    let n = if q.numer().sign() == Sign::Minus {
        // −2⁶³ fits, as i64::MIN.
        (magnitude <= 1 << 63).then(|| (magnitude as i64).wrapping_neg())?
    } else {
        i64::try_from(magnitude).ok()?
    };
    Some((n, d))
}

impl ModP {
    /// [`Field::from_q`] from the parts of `q`, with the modulus and the inverse cache in hand.
    #[inline]
    fn from_parts(m: &Modulus, cache: &Inverses, parts: &Parts, q: &Q) -> ModP {
        let scale = match parts.denominator {
            0 => 0,
            d => cached_scale(m, cache, d).unwrap_or(0),
        };
        parts.residue(m, scale, q)
    }
}

/// The parts of a tensor's values, and its distinct small denominators (float weights have a
/// few dozen powers of two; fractions of small integers, at most their range): a check computes
/// one inverse per distinct denominator, then one REDC per value.
struct Prepared {
    parts: Vec<Parts>,
    /// Per value, its denominator's index in `denominators` (unused for a large one).
    index: Vec<u32>,
    denominators: Vec<u64>,
}

impl Prepared {
    fn of(qs: &[Q]) -> Prepared {
        let mut seen: HashMap<u64, u32, BuildHasherDefault<WordHasher>> = HashMap::default();
        let mut denominators = Vec::new();
        let parts: Vec<Parts> = qs.iter().map(Parts::of).collect();
        let index = parts
            .iter()
            .map(|p| {
                *seen.entry(p.denominator).or_insert_with(|| {
                    denominators.push(p.denominator);
                    (denominators.len() - 1) as u32
                })
            })
            .collect();
        Prepared {
            parts,
            index,
            denominators,
        }
    }

    /// The values `qs` (these parts' rationals) as residues modulo `m`'s prime.
    fn residues(&self, m: &Modulus, qs: &[Q]) -> Vec<ModP> {
        // 0 where there is no scale (see `Parts::residue`).
        let scales: Vec<u64> = self
            .denominators
            .iter()
            .map(|&d| match d {
                0 => 0,
                d => m.scale_dividing_by(d).unwrap_or(0),
            })
            .collect();
        self.parts
            .iter()
            .zip(&self.index)
            .zip(qs)
            .map(|((parts, &i), q)| parts.residue(m, scales[i as usize], q))
            .collect()
    }
}

/// Hashes a word by one multiplication (Fibonacci hashing): [`Prepared::of`] looks up a
/// denominator per value, and the default SipHash cost more than the rest of the preparation.
#[derive(Default)]
struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Tensors with fewer values are converted from scratch: keeping their parts saves little (nor
/// are those with more than [`PARTS_KEPT`] values kept).
const PARTS_MIN: usize = 1024;

/// At most this many values' parts are kept per thread (36 bytes each: 72 MiB), the oldest
/// tensors' forgotten first.
const PARTS_KEPT: usize = 1 << 21;

thread_local! {
    /// `(name, parts)` of the tensors converted last, oldest first.
    static PARTS: RefCell<Vec<(u64, Rc<Prepared>)>> = const { RefCell::new(Vec::new()) };
}

/// How many tensors seen once are remembered by name (their parts are not kept).
const SEEN_ONCE: usize = 64;

thread_local! {
    /// Names of the tensors converted once, oldest first.
    static SEEN: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// The parts of the values `qs` that `name` names for the life of the process
/// ([`Field::from_q_named`]): `None` the first time (then a direct conversion is cheaper than
/// keeping the parts: at 256×128×10 a first check on fresh weights took 2.3 ms that way and
/// 3.1–3.8 ms when it kept them, one thread), computed and kept from the second time on.
fn remembered_parts(name: u64, qs: &[Q]) -> Option<Rc<Prepared>> {
    let hit = PARTS.with(|kept| {
        kept.borrow()
            .iter()
            .find(|(n, prepared)| *n == name && prepared.parts.len() == qs.len())
            .map(|(_, prepared)| Rc::clone(prepared))
    });
    if hit.is_some() {
        return hit;
    }
    let second = SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if let Some(at) = seen.iter().position(|&n| n == name) {
            seen.remove(at);
            return true;
        }
        if seen.len() == SEEN_ONCE {
            seen.remove(0);
        }
        seen.push(name);
        false
    });
    if !second {
        return None;
    }
    let prepared = Rc::new(Prepared::of(qs));
    PARTS.with(|kept| {
        let mut kept = kept.borrow_mut();
        kept.push((name, Rc::clone(&prepared)));
        let mut total: usize = kept.iter().map(|(_, p)| p.parts.len()).sum();
        while total > PARTS_KEPT {
            total -= kept.remove(0).1.parts.len();
        }
    });
    Some(prepared)
}

/// Slots of the cache of the scales dividing by denominators: weights share few denominators
/// (powers of two for float weights), and an inverse costs a Euclidean algorithm.
const INVERSE_SLOTS: usize = 256;

/// `(prime, denominator, the scale that divides by it)`, direct-mapped.
type Inverses = [Cell<(u64, u64, u64)>; INVERSE_SLOTS];

thread_local! {
    static INVERSES: Inverses = const { [const { Cell::new((0, 0, 0)) }; INVERSE_SLOTS] };
}

/// [`Modulus::scale_dividing_by`] `d`, remembered in the thread's `cache`; `None` when `p | d`.
fn cached_scale(m: &Modulus, cache: &Inverses, d: u64) -> Option<u64> {
    let slot = (d.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as usize % INVERSE_SLOTS;
    let (p, denominator, scale) = cache[slot].get();
    if p == m.p && denominator == d {
        return Some(scale);
    }
    let scale = m.scale_dividing_by(d)?;
    cache[slot].set((m.p, d, scale));
    Some(scale)
}

impl Ordered for ModP {
    #[track_caller]
    fn sign(&self) -> Ordering {
        let sign = if self.certainly_nonzero() {
            if self.value > 0.0 {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        } else if self.value == 0.0 && self.bound == 0.0 {
            Ordering::Equal
        } else {
            undecided(Undecided::Sign);
            Ordering::Equal
        };
        super::comparisons::note(std::panic::Location::caller(), sign, None);
        sign
    }
}

impl Transcendental for ModP {
    const FIELD: &'static str = "residues mod p";
    fn exp(&self) -> Result<Self, FunctionError> {
        undecided(Undecided::Function);
        Err(FunctionError::OutsideField {
            function: "exp",
            argument: self.to_string(),
            field: Self::FIELD,
        })
    }
    fn ln(&self) -> Result<Self, FunctionError> {
        undecided(Undecided::Function);
        Err(FunctionError::OutsideField {
            function: "ln",
            argument: self.to_string(),
            field: Self::FIELD,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;
    use num_traits::ToPrimitive;
    use proptest::prelude::*;
    use rand::rngs::ChaCha8Rng;
    use rand::SeedableRng;

    const P: u64 = 2305843009213693951; // 2⁶¹ − 1

    fn q(n: i64, d: i64) -> Q {
        Q::new(BigInt::from(n), BigInt::from(d))
    }

    /// The residue of a rational, computed directly.
    fn residue_of(x: &Q, p: u64) -> Option<u64> {
        let pb = BigInt::from(p);
        let n = ((x.numer() % &pb) + &pb) % &pb;
        let d = ((x.denom() % &pb) + &pb) % &pb;
        let d = d.to_u64()?;
        let inv = inverse_mod(d, p)?;
        Some(((n.to_u64()? as u128 * inv as u128) % p as u128) as u64)
    }

    proptest! {
        /// Shoup's conversion of an integer is REDC's (`signed_times` by `R²`), for primes from
        /// 3 to just below 2⁶¹ and integers up to both ends of `i64`.
        #[test]
        fn integers_convert_as_by_montgomery_reduction(
            seed in any::<u64>(),
            n in prop_oneof![
                Just(0i64), Just(1), Just(-1), Just(i64::MIN), Just(i64::MAX), Just(i64::MIN + 1),
                any::<i64>(),
            ],
        ) {
            let random = random_prime(&mut ChaCha8Rng::seed_from_u64(seed));
            for p in [3, 5, 101, 65_537, 4_294_967_311, random, P] {
                let m = Modulus::new(p);
                for k in [n, n.wrapping_neg(), n / p as i64 * p as i64, (p / 2) as i64] {
                    let got = m.signed(k);
                    prop_assert!(got < p, "{k} mod {p}: {got}");
                    prop_assert_eq!(got, m.signed_times(k, m.r2), "{} mod {}", k, p);
                }
            }
        }
    }

    fn encloses(m: &ModP, x: &Q) -> bool {
        let (v, e) = m.enclosure();
        if !e.is_finite() {
            return true;
        }
        let v = Q::from_float(v).unwrap();
        let e = Q::from_float(e).unwrap();
        let d = x - v;
        d <= e && -d <= e
    }

    fn small_q() -> impl Strategy<Value = Q> {
        (-1_000_000i64..1_000_000, 1i64..1000).prop_map(|(n, d)| q(n, d))
    }

    /// Probe-like values: 64-bit integers, and fractions with 32-bit denominators.
    fn wide_q() -> impl Strategy<Value = Q> {
        prop_oneof![
            any::<i64>().prop_map(|n| q(n, 1)),
            (any::<i64>(), 2i64..(1 << 32) + 2).prop_map(|(n, d)| q(n, d)),
            small_q(),
        ]
    }

    proptest! {
        /// `Ring::combination` (the linearity checks' `a·u + b·w`, with one bound for the two
        /// products and their sum) gives the residue and an enclosure of the exact values.
        #[test]
        fn combinations_follow_the_exact_computation(
            a in wide_q(),
            b in wide_q(),
            uw in prop::collection::vec((wide_q(), wide_q()), 0..20),
            seed in any::<u64>(),
        ) {
            let p = random_prime(&mut ChaCha8Rng::seed_from_u64(seed));
            let (u, w): (Vec<Q>, Vec<Q>) = uw.into_iter().unzip();
            let exact = Q::combination(&a, &u, &b, &w);
            let (checked, _) = with_prime(p, || {
                let lift = |xs: &[Q]| xs.iter().map(ModP::from_q).collect::<Vec<_>>();
                let got = ModP::combination(&ModP::from_q(&a), &lift(&u), &ModP::from_q(&b), &lift(&w));
                got.iter()
                    .zip(&exact)
                    .map(|(g, x)| (g.residue(), residue_of(x, p), encloses(g, x)))
                    .collect::<Vec<_>>()
            });
            prop_assert_eq!(checked.len(), exact.len());
            for (got, expected, enclosed) in checked {
                prop_assert_eq!(Some(got), expected);
                prop_assert!(enclosed);
            }
        }

        /// The residue map is a ring homomorphism and the enclosure holds, through a mixed
        /// computation with a dot product and a division.
        #[test]
        fn residues_and_enclosures_follow_the_exact_computation(
            xs in prop::collection::vec(small_q(), 1..40),
            ys in prop::collection::vec(small_q(), 1..40),
            seed in any::<u64>(),
        ) {
            let p = random_prime(&mut ChaCha8Rng::seed_from_u64(seed));
            let n = xs.len().min(ys.len());
            let (xs, ys) = (&xs[..n], &ys[..n]);
            let exact = Q::dot(xs, ys);
            let exact_quotient = exact.mul_ref(&xs[0]).sub_ref(&ys[0]);
            let ((residues, enclosed), _) = with_prime(p, || {
                let a: Vec<ModP> = xs.iter().map(ModP::from_q).collect();
                let b: Vec<ModP> = ys.iter().map(ModP::from_q).collect();
                let dot = ModP::dot(&a, &b);
                let quotient = dot.mul_ref(&a[0]).sub_ref(&b[0]);
                (
                    (dot.residue(), quotient.residue()),
                    encloses(&dot, &exact) && encloses(&quotient, &exact_quotient),
                )
            });
            prop_assert_eq!(Some(residues.0), residue_of(&exact, p));
            prop_assert_eq!(Some(residues.1), residue_of(&exact_quotient, p));
            prop_assert!(enclosed);
        }
    }

    /// The kernels split large products across threads (rayon, which knows nothing of the
    /// thread's prime); every entry must equal the one-entry computation exactly: residue,
    /// float value and bound.
    #[test]
    fn kernels_on_many_threads_equal_entry_by_entry_products() {
        let same = |a: &ModP, b: &ModP| (a.form, a.value, a.bound) == (b.form, b.value, b.bound);
        let p = random_prime(&mut ChaCha8Rng::seed_from_u64(3));
        let ((), _) = with_prime(p, || {
            let (rows, cols) = (400, 330);
            assert!(rows * cols >= PARALLEL_MIN, "large enough to be split");
            let entry =
                |k: usize| ModP::from_q(&q((k as i64 * 7919) % 2001 - 1000, 1 + k as i64 % 97));
            let a: Vec<ModP> = (0..rows * cols).map(entry).collect();
            let v: Vec<ModP> = (0..cols).map(|k| entry(k + 5)).collect();
            let w: Vec<ModP> = (0..rows).map(|k| entry(k + 11)).collect();
            let mv = ModP::mat_vec(&a, rows, cols, &v);
            for (i, got) in mv.iter().enumerate() {
                assert!(
                    same(got, &ModP::dot(&a[i * cols..(i + 1) * cols], &v)),
                    "row {i}"
                );
            }
            let tv = ModP::transpose_mat_vec(&a, rows, cols, &w);
            for (j, got) in tv.iter().enumerate() {
                let column: Vec<ModP> = (0..rows).map(|i| a[i * cols + j]).collect();
                assert!(same(got, &ModP::dot(&column, &w)), "column {j}");
            }
            let mm = ModP::matmul(&a, rows, cols, &a[..cols * 2], 2);
            for (k, got) in mm.iter().enumerate() {
                let (i, j) = (k / 2, k % 2);
                let column: Vec<ModP> = (0..cols).map(|t| a[t * 2 + j]).collect();
                assert!(
                    same(got, &ModP::dot(&a[i * cols..(i + 1) * cols], &column)),
                    "{i},{j}"
                );
            }
            // Exact zeros (masked entries) leave their rows as zeros without multiplying.
            let mut u = a[..rows].to_vec();
            u[1] = ModP::zero();
            u[rows - 1] = ModP::from_i64(0);
            let outer = ModP::outer(&u, &a[..cols]);
            for (k, got) in outer.iter().enumerate() {
                assert!(same(got, &u[k / cols].mul_ref(&a[k % cols])), "entry {k}");
            }
            // Untracked operands (probes): the same residues, and no enclosure.
            let untracked = |n: usize, shift: i64| {
                ModP::untracked_integers(&(0..n as i64).map(|k| k * 7 - shift).collect::<Vec<_>>())
            };
            let (v, w) = (untracked(cols, 100), untracked(rows, 50));
            let known = |x: &ModP| (x.form, x.is_unknown());
            let mv = ModP::mat_vec(&a, rows, cols, &v);
            for (i, got) in mv.iter().enumerate() {
                let row = &a[i * cols..(i + 1) * cols];
                let one_by_one = row
                    .iter()
                    .zip(&v)
                    .fold(ModP::zero(), |s, (x, y)| s + *x * *y);
                assert_eq!(known(got), (one_by_one.form, true), "row {i}");
            }
            let tv = ModP::transpose_mat_vec(&a, rows, cols, &w);
            for (j, got) in tv.iter().enumerate() {
                let column = (0..rows).map(|i| a[i * cols + j]);
                let one_by_one = column.zip(&w).fold(ModP::zero(), |s, (x, y)| s + x * *y);
                assert_eq!(known(got), (one_by_one.form, true), "column {j}");
            }
            let outer = ModP::outer(&u, &v);
            for (k, got) in outer.iter().enumerate() {
                let (i, j) = (k / cols, k % cols);
                let zero_row = i == 1 || i == rows - 1;
                assert_eq!(
                    known(got),
                    (u[i].mul_ref(&v[j]).form, !zero_row),
                    "entry {k}"
                );
            }
        });
    }

    /// The batch conversions (weights, probes) give what one-by-one conversion gives.
    #[test]
    fn conversions_of_slices_equal_one_by_one() {
        let same = |a: &ModP, b: &ModP| (a.form, a.value, a.bound) == (b.form, b.value, b.bound);
        let p = random_prime(&mut ChaCha8Rng::seed_from_u64(5));
        let ((), _) = with_prime(p, || {
            let big = BigInt::from(3).pow(90);
            let qs = [
                q(0, 1),
                q(-7, 1),
                q(5, 12),
                q(i64::MIN + 1, 3),
                q(1, 1 << 60),
                Q::new(big.clone(), BigInt::from(7)),
                Q::new(BigInt::from(-2), big),
            ];
            for (got, q) in ModP::from_q_slice(&qs).iter().zip(&qs) {
                assert!(same(got, &ModP::from_q(q)), "{q}");
            }
            let ns = [0, 1, -1, 1 << 53, (1 << 53) + 1, i64::MAX, i64::MIN];
            for (got, &n) in ModP::from_i64_slice(&ns).iter().zip(&ns) {
                assert!(same(got, &ModP::from_i64(n)), "{n}");
                assert_eq!(
                    got.residue(),
                    residue_of(&Q::from_integer(n.into()), p).unwrap()
                );
            }
        });
    }

    /// A large tensor is converted directly the first time and its parts are kept from the
    /// second time on ([`Field::from_q_named`]): under each new prime, either way, its residues
    /// are the exact ones, its enclosures those of one-by-one conversion, and a denominator the
    /// prime divides marks the run undecided.
    #[test]
    fn named_conversions_kept_across_primes_equal_exact_residues() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let primes = [0; 3].map(|_| random_prime(&mut rng));
        let big = BigInt::from(3).pow(90);
        let mut qs: Vec<Q> = (0..PARTS_MIN as i64)
            .map(|i| match i % 5 {
                0 => q(i - 500, 1),
                1 => q(i % 201 - 100, i % 97 + 1),
                2 => q(-(i * 7919), 1 << (i % 62)),
                3 => Q::new(big.clone() + i, BigInt::from(i + 2)),
                _ => Q::new(BigInt::from(i), big.clone() * 2 + 1),
            })
            .collect();
        // Denominators the first and the second prime divide: undecided under that prime only.
        qs.extend([q(1, primes[0] as i64), q(3, primes[1] as i64)]);
        let name = u64::MAX - 3;
        for (k, &p) in primes.iter().enumerate() {
            let kept_before = PARTS.with(|p| p.borrow().iter().any(|(n, _)| *n == name));
            assert_eq!(
                kept_before,
                k == 2,
                "parts kept from the second conversion on"
            );
            let (converted, undecided) = with_prime(p, || ModP::from_q_named(&qs, name));
            assert_eq!(
                undecided,
                (k < 2).then_some(Undecided::Denominator),
                "prime {p}"
            );
            for (i, (got, x)) in converted.iter().zip(&qs).enumerate() {
                if i == PARTS_MIN + k {
                    // Marked undecided: no residue to compare.
                    continue;
                }
                let ((form, one_by_one), _) =
                    with_prime(p, || (got.residue(), ModP::from_q(x).enclosure()));
                assert_eq!(Some(form), residue_of(x, p), "{x} mod {p}");
                assert_eq!(got.enclosure(), one_by_one, "{x}");
            }
        }
        // The third prime reused the parts the second computed.
        let kept = remembered_parts(name, &qs).expect("kept");
        assert!(Rc::ptr_eq(
            &kept,
            &remembered_parts(name, &qs).expect("kept")
        ));
        assert_eq!(
            PARTS.with(|p| p.borrow().iter().filter(|(n, _)| *n == name).count()),
            1
        );
    }

    /// The limbs read directly give num-bigint's `to_i64` and `to_u64`, at the edges of a word.
    #[test]
    fn word_parts_are_the_parts_that_fit_a_word() {
        let two = BigInt::from(2);
        let cases = [
            Q::from_integer(0.into()),
            q(-7, 3),
            q(i64::MIN, 1),
            q(i64::MAX, 3),
            Q::new(two.pow(63), 5.into()),
            Q::new(-two.pow(63) - 1, 7.into()),
            Q::new(1.into(), two.pow(64) - 1),
            Q::new(1.into(), two.pow(64) + 1),
            Q::new(two.pow(64) + 1, 3.into()),
        ];
        for x in cases {
            let expected = x.numer().to_i64().zip(x.denom().to_u64());
            assert_eq!(word_parts(&x), expected, "{x}");
        }
    }

    #[test]
    fn montgomery_constants_and_inverse() {
        let m = Modulus::new(P);
        assert_eq!(m.plain(m.one), 1);
        let a = m.montgomery(123_456_789);
        assert_eq!(m.plain(m.mul(a, m.inverse(a).unwrap())), 1);
        assert_eq!(m.inverse(0), None);
        assert_eq!(inverse_mod(3, 7), Some(5));
    }

    #[test]
    fn primes_are_prime_and_in_range() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..20 {
            let p = random_prime(&mut rng);
            assert!((1 << 60..1 << 61).contains(&p));
            assert!((3..2000u64).all(|d| p % d != 0));
        }
    }

    #[test]
    fn signs_are_certain_or_undecided() {
        let (signs, flag) = with_prime(P, || {
            let third = ModP::from_q(&q(1, 3));
            let close = third.sub_ref(&ModP::from_q(&q(
                333_333_333_333_333,
                1_000_000_000_000_000,
            )));
            (third.sign(), close.sign())
        });
        assert_eq!(signs.0, Ordering::Greater);
        // 1/3 − 0.333… (15 digits) = 1/3·10⁻¹⁵ > 0, but the float filter sees it only if its
        // bound is that small; either the sign is right or the run is marked.
        assert!(signs.1 == Ordering::Greater || flag == Some(Undecided::Sign));
        let (zero_sign, flag) = with_prime(P, || {
            let x = ModP::from_q(&q(2, 7));
            x.sub_ref(&x).sign()
        });
        assert_eq!((zero_sign, flag), (Ordering::Equal, Some(Undecided::Sign)));
        let (exact_zero, flag) =
            with_prime(P, || ModP::from_i64(5).sub_ref(&ModP::from_i64(5)).sign());
        assert_eq!((exact_zero, flag), (Ordering::Equal, None));
    }

    #[test]
    fn a_pole_and_an_unlucky_denominator_are_undecided() {
        let (none, flag) = with_prime(P, || ModP::one().checked_div(&ModP::zero()));
        assert!(none.is_none());
        assert_eq!(flag, Some(Undecided::Division));
        let (_, flag) = with_prime(P, || ModP::from_q(&Q::new(1.into(), BigInt::from(P) * 3)));
        assert_eq!(flag, Some(Undecided::Denominator));
        let (_, flag) = with_prime(P, || ModP::from_i64(2).exp());
        assert_eq!(flag, Some(Undecided::Function));
    }

    #[test]
    fn equal_residues_of_values_the_enclosures_keep_apart_are_not_equal() {
        // p and 0 have the same residue; the floats tell them apart.
        let (equal, _) = with_prime(P, || {
            ModP::from_q(&Q::from_integer(BigInt::from(P))) == ModP::zero()
        });
        assert!(!equal);
    }
}
