//! [`Key`]: a view's values written into one flat buffer, which the scope's caches keep and
//! compare new views with.
//!
//! Keeping the values themselves cost two allocations per entry (a `BigRational` is two heap
//! numbers) and comparing with them two calls per entry; this encoding is exact (it holds every
//! limb), so a match is still equality, entry by entry.

use num_bigint::{BigInt, Sign};
use num_rational::BigRational as Q;

use super::Vectors;

/// The shape and exact values of a view: per entry a header word (numerator's sign, both
/// parts' limb counts) and then the limbs of the numerator and of the denominator.
pub(crate) struct Key {
    count: usize,
    len: usize,
    words: Vec<u64>,
}

/// The header word of a numerator and denominator: sign in bit 0, the numerator's limb count
/// in bits 1..32, the denominator's from bit 32.
#[inline]
fn header(n: &BigInt, d: &BigInt) -> u64 {
    let negative = u64::from(n.sign() == Sign::Minus);
    let limbs = |x: &BigInt| x.magnitude().iter_u64_digits().len() as u64;
    negative | limbs(n) << 1 | limbs(d) << 32
}

/// Whether `q`'s parts are `stored` (the limbs after a matching header).
#[inline]
fn same_limbs(q: &Q, stored: &[u64]) -> bool {
    let mut stored = stored.iter();
    let numerator = q.numer().magnitude().iter_u64_digits();
    let denominator = q.denom().magnitude().iter_u64_digits();
    for limb in numerator.chain(denominator) {
        if stored.next() != Some(&limb) {
            return false;
        }
    }
    true
}

impl Key {
    /// The key of `view`'s values.
    pub(crate) fn of(view: &Vectors<'_>) -> Key {
        let mut words = Vec::with_capacity(3 * view.count * view.len);
        for v in 0..view.count {
            for t in 0..view.len {
                let (n, d) = (view.at(v, t).numer(), view.at(v, t).denom());
                words.push(header(n, d));
                words.extend(n.magnitude().iter_u64_digits());
                words.extend(d.magnitude().iter_u64_digits());
            }
        }
        Key {
            count: view.count,
            len: view.len,
            words,
        }
    }

    /// Whether `view` has this key's shape and values; stops at the first difference.
    pub(crate) fn matches(&self, view: &Vectors<'_>) -> bool {
        if view.count != self.count || view.len != self.len {
            return false;
        }
        let words = &self.words[..];
        let mut at = 0;
        // Loops rather than a flattened iterator: this runs once per entry of every large view
        // a check multiplies.
        for v in 0..view.count {
            for t in 0..view.len {
                let q = view.at(v, t);
                let h = header(q.numer(), q.denom());
                if words.get(at) != Some(&h) {
                    return false;
                }
                let end = at + 1 + ((h >> 1) & 0x7fff_ffff) as usize + (h >> 32) as usize;
                match words.get(at + 1..end) {
                    Some(stored) if same_limbs(q, stored) => at = end,
                    _ => return false,
                }
            }
        }
        at == words.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: &str, d: &str) -> Q {
        Q::new(n.parse().unwrap(), d.parse().unwrap())
    }

    #[test]
    fn a_key_matches_exactly_the_views_with_its_shape_and_values() {
        let values = [
            q("-3", "4"),
            q("0", "1"),
            q("123456789012345678901234567890", "7"),
            q("5", "340282366920938463463374607431768211457"),
        ];
        let key = Key::of(&Vectors::rows(&values, 2, 2));
        assert!(key.matches(&Vectors::rows(&values, 2, 2)));
        // Same values, other shape.
        assert!(!key.matches(&Vectors::rows(&values, 1, 4)));
        assert!(!key.matches(&Vectors::columns(&values, 2, 2)));
        // One entry changed in its sign, in a high limb of a part, in the size of a part.
        let changes = [
            (0, q("3", "4")),
            (2, q("123456789012345678901234567891", "7")),
            (3, q("5", "340282366920938463463374607431768211459")),
            (3, q("5", "3")),
            (1, q("1", "18446744073709551616")),
        ];
        for (k, v) in changes {
            let mut other = values.clone();
            other[k] = v;
            assert!(!key.matches(&Vectors::rows(&other, 2, 2)), "entry {k}");
        }
    }
}
