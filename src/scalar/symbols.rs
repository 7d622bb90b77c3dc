//! The symbols a [`crate::Sym`] computation uses: named base symbols (inputs, weights,
//! tangents, cotangents), mask symbols with the guard each stands for, and the rational
//! markers through which an op's stored weights become symbols.
//!
//! The table is per thread and scoped ([`scoped`]): a proof opens a fresh table, evaluates the
//! op, and reads the masks and any refusals back. Values of [`crate::Sym`] carry only symbol
//! numbers, so they stay small and cheap to clone.

use super::poly::{Poly, Var, MASK_BIT};
use super::Q;
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Zero};
use std::cell::RefCell;
use std::collections::HashMap;

/// Something a symbolic evaluation met that makes its result unfit for a proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// An op asked for the sign of a non-constant value (a Rust `if` instead of
    /// [`crate::Ordered::select`]).
    Branched {
        /// The value whose sign was asked, printed.
        value: String,
    },
    /// An op computed a constant from its stored weights in `Q` (outside the scalar), so the
    /// result is not a function of the weight symbols.
    DerivedFromWeights {
        /// The constant, printed exactly.
        value: String,
    },
}

/// A mask symbol: it stands for `[guard > 0]`, with `guard` monic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mask {
    /// The mask's variable (with `MASK_BIT`, the top bit set).
    pub var: Var,
    /// The guard, monic; earlier masks may occur in it, later ones never do.
    pub guard: Poly,
}

#[derive(Default)]
struct Table {
    names: Vec<String>,
    masks: Vec<Mask>,
    mask_of: HashMap<Poly, Var>,
    markers: HashMap<Q, Var>,
    /// The product of the markers' denominators: a constant sharing a factor with it was
    /// computed from markers.
    marker_modulus: BigInt,
    refusals: Vec<Refusal>,
}

thread_local! {
    static TABLE: RefCell<Table> = RefCell::new(Table {
        marker_modulus: BigInt::one(),
        ..Table::default()
    });
}

/// Runs `f` with a fresh symbol table, restoring the previous one afterwards.
pub fn scoped<R>(f: impl FnOnce() -> R) -> R {
    let fresh = Table {
        marker_modulus: BigInt::one(),
        ..Table::default()
    };
    let saved = TABLE.with(|t| std::mem::replace(&mut *t.borrow_mut(), fresh));
    let out = f();
    TABLE.with(|t| *t.borrow_mut() = saved);
    out
}

/// A new base symbol called `name`.
pub fn fresh(name: impl Into<String>) -> Var {
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        t.names.push(name.into());
        (t.names.len() - 1) as Var
    })
}

/// A new base symbol called `name`, and the rational that stands for it: an op storing this
/// rational as a weight computes, over [`crate::Sym`], with the symbol instead.
///
/// Markers are `1/p` for distinct primes `p > 2⁶¹`, so that a constant an op derives from its
/// weights in `Q` (a sum, a product) keeps such a `p` in its numerator or denominator and is
/// refused ([`Refusal::DerivedFromWeights`]) instead of being taken for a number.
pub fn marker(name: impl Into<String>) -> (Q, Var) {
    let v = fresh(name);
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        let start = (1u64 << 61) + 2 * t.markers.len() as u64 * 1_000_003;
        let p = next_prime(start);
        let q = Q::new(BigInt::one(), BigInt::from(p));
        t.marker_modulus *= BigInt::from(p);
        t.markers.insert(q.clone(), v);
        (q, v)
    })
}

/// The symbol a marker stands for; `None` for an ordinary constant. A constant derived from
/// markers is recorded as a [`Refusal`].
pub(crate) fn symbol_for(q: &Q) -> Option<Var> {
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        if t.markers.is_empty() {
            return None;
        }
        if let Some(&v) = t.markers.get(q) {
            return Some(v);
        }
        let m = &t.marker_modulus;
        if !q.is_zero() && (shares_factor(q.numer(), m) || shares_factor(q.denom(), m)) {
            let value = crate::scalar::exact_string(q);
            t.refusals.push(Refusal::DerivedFromWeights { value });
        }
        None
    })
}

/// Whether `x` has a prime factor of `m`, the product of the markers' primes (all > 2⁶¹).
fn shares_factor(x: &BigInt, m: &BigInt) -> bool {
    // Below 2⁶¹ no such prime fits: the common case (0, 1, ½, an op's small constants) is free.
    if x.bits() <= 61 {
        return false;
    }
    // One division brings m down to x's size; the binary gcd on the huge m itself would be
    // quadratic in m's length.
    !(m % x).gcd(x).is_one()
}

/// The mask symbol for `[guard > 0]` (`guard` monic): the same guard always gets the same mask.
pub(crate) fn mask_for(guard: &Poly) -> Var {
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        if let Some(&v) = t.mask_of.get(guard) {
            return v;
        }
        let var = MASK_BIT | t.masks.len() as Var;
        t.masks.push(Mask {
            var,
            guard: guard.clone(),
        });
        t.mask_of.insert(guard.clone(), var);
        var
    })
}

/// Records that a value's sign was asked and could not be answered.
pub(crate) fn refuse(refusal: Refusal) {
    TABLE.with(|t| t.borrow_mut().refusals.push(refusal));
}

/// The refusals recorded since the last call, emptied.
pub fn take_refusals() -> Vec<Refusal> {
    TABLE.with(|t| std::mem::take(&mut t.borrow_mut().refusals))
}

/// Every mask created so far, in creation order.
pub fn masks() -> Vec<Mask> {
    TABLE.with(|t| t.borrow().masks.clone())
}

/// How many base symbols exist.
pub fn symbol_count() -> usize {
    TABLE.with(|t| t.borrow().names.len())
}

/// A symbol's name: its given name, or `m{k}` for mask `k`.
pub fn name(v: Var) -> String {
    if v & MASK_BIT != 0 {
        return format!("m{}", v & !MASK_BIT);
    }
    TABLE.with(|t| {
        t.borrow()
            .names
            .get(v as usize)
            .cloned()
            .unwrap_or_else(|| format!("s{v}"))
    })
}

/// The least prime `≥ n` (deterministic Miller–Rabin, exact for 64-bit integers).
fn next_prime(mut n: u64) -> u64 {
    if n.is_multiple_of(2) {
        n += 1;
    }
    while !is_prime(n) {
        n += 2;
    }
    n
}

/// Deterministic Miller–Rabin: the first twelve primes as bases have no strong pseudoprime
/// below `3.3·10²⁴`, so the answer is exact for every `u64`.
pub(crate) fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    for p in BASES {
        if n.is_multiple_of(p) {
            return n == p;
        }
    }
    let (mut d, mut s) = (n - 1, 0);
    while d % 2 == 0 {
        d /= 2;
        s += 1;
    }
    let mul = |a: u64, b: u64| ((a as u128 * b as u128) % n as u128) as u64;
    let pow = |mut b: u64, mut e: u64| {
        let mut r = 1u64;
        while e > 0 {
            if e & 1 == 1 {
                r = mul(r, b);
            }
            b = mul(b, b);
            e >>= 1;
        }
        r
    };
    'witness: for a in BASES {
        let mut x = pow(a, d);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = mul(x, x);
            if x == n - 1 {
                continue 'witness;
            }
        }
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primes_are_found() {
        assert!(is_prime(2_305_843_009_213_693_951)); // 2⁶¹ − 1
        assert!(!is_prime(2_305_843_009_213_693_953));
        assert_eq!(next_prime(100), 101);
    }

    #[test]
    fn markers_stand_for_symbols_and_derived_constants_are_refused() {
        scoped(|| {
            let (a, va) = marker("a");
            let (b, _) = marker("b");
            assert_eq!(symbol_for(&a), Some(va));
            assert_eq!(symbol_for(&Q::new(1.into(), 2.into())), None);
            assert!(take_refusals().is_empty());
            assert_eq!(symbol_for(&(a + b)), None);
            assert!(matches!(
                take_refusals().as_slice(),
                [Refusal::DerivedFromWeights { .. }]
            ));
        });
        // The scope's markers are gone.
        assert_eq!(symbol_count(), 0);
    }

    #[test]
    fn one_mask_per_guard() {
        scoped(|| {
            let g = Poly::var(fresh("x"));
            let m = mask_for(&g);
            assert_eq!(mask_for(&g), m);
            assert_eq!(name(m), "m0");
            assert_eq!(masks().len(), 1);
        });
    }
}
