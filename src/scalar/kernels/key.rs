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
fn header(n: &BigInt, numerator_limbs: usize, denominator_limbs: usize) -> u64 {
    u64::from(n.sign() == Sign::Minus)
        | (numerator_limbs as u64) << 1
        | (denominator_limbs as u64) << 32
}

/// Whether `q`'s header and limbs are the words at `words[at..]`; the position after them if so.
#[inline]
fn same_entry(q: &Q, words: &[u64], at: usize) -> Option<usize> {
    let (n, d) = (q.numer(), q.denom());
    let (mut nl, mut dl) = (
        n.magnitude().iter_u64_digits(),
        d.magnitude().iter_u64_digits(),
    );
    let (ln, ld) = (nl.len(), dl.len());
    let h = header(n, ln, ld);
    let stored = words.get(at..at + 1 + ln + ld)?;
    // One-limb parts (small fractions, most floats) without the iterators' loops.
    let same = stored[0] == h
        && match (ln, ld) {
            (1, 1) => nl.next() == Some(stored[1]) && dl.next() == Some(stored[2]),
            _ => {
                nl.eq(stored[1..1 + ln].iter().copied()) && dl.eq(stored[1 + ln..].iter().copied())
            }
        };
    same.then_some(at + 1 + ln + ld)
}

impl Key {
    /// The key of `view`'s values.
    pub(crate) fn of(view: &Vectors<'_>) -> Key {
        let mut words = Vec::with_capacity(3 * view.count * view.len);
        for v in 0..view.count {
            for t in 0..view.len {
                let (n, d) = (view.at(v, t).numer(), view.at(v, t).denom());
                let (nl, dl) = (
                    n.magnitude().iter_u64_digits(),
                    d.magnitude().iter_u64_digits(),
                );
                words.push(header(n, nl.len(), dl.len()));
                words.extend(nl);
                words.extend(dl);
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
        self.matches_with_tail(view, 0)
    }

    /// Whether this key's vectors are `view`'s, each with one more entry at its end (the key of
    /// `[W | b]` for the view of `W`); stops at the first difference.
    pub(crate) fn matches_but_tail(&self, view: &Vectors<'_>) -> bool {
        self.matches_with_tail(view, 1)
    }

    /// Whether this key's vectors are `view`'s, each followed by `tail` entries not compared.
    fn matches_with_tail(&self, view: &Vectors<'_>, tail: usize) -> bool {
        if view.count != self.count || view.len + tail != self.len {
            return false;
        }
        let words = &self.words[..];
        let mut at = 0;
        // Loops rather than a flattened iterator: this runs once per entry of every large view
        // a check multiplies.
        for v in 0..view.count {
            for t in 0..view.len {
                match same_entry(view.at(v, t), words, at) {
                    Some(next) => at = next,
                    None => return false,
                }
            }
            for _ in 0..tail {
                // Past a tail entry: its header says how many limbs follow.
                let Some(&h) = words.get(at) else {
                    return false;
                };
                at += 1 + ((h >> 1) & 0x7fff_ffff) as usize + (h >> 32) as usize;
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

    #[test]
    fn a_key_of_rows_with_a_tail_matches_but_tail_exactly_the_rows_without_it() {
        let w = [
            q("-3", "4"),
            q("0", "1"),
            q("5", "18446744073709551617"),
            q("7", "2"),
        ];
        let tail = [q("123456789012345678901234567890", "7"), q("-1", "3")];
        let key = Key::of(&Vectors::strided(&w, 2, 2, (2, 1), Some(&tail)));
        assert!(key.matches_but_tail(&Vectors::rows(&w, 2, 2)));
        assert!(!key.matches(&Vectors::rows(&w, 2, 2)));
        // Other shapes, and the same entries read as columns.
        assert!(!key.matches_but_tail(&Vectors::rows(&w, 1, 4)));
        assert!(!key.matches_but_tail(&Vectors::rows(&w[..2], 1, 2)));
        assert!(!key.matches_but_tail(&Vectors::columns(&w, 2, 2)));
        for k in 0..w.len() {
            let mut other = w.clone();
            other[k] = q("1", "5");
            assert!(
                !key.matches_but_tail(&Vectors::rows(&other, 2, 2)),
                "entry {k}"
            );
        }
    }
}
