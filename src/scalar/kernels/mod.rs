//! Exact kernels for inner products and matrix products over ℚ, behind [`crate::Ring`]'s
//! overridable methods (`dot`, `mat_vec`, `transpose_mat_vec`, `matmul`, and `products`, the
//! hook through which dual numbers and jets over `Q` reach them).
//!
//! A plain `BigRational` loop runs two or three multi-word gcds per multiply–add. These kernels
//! return exactly the same values (tests/integration/kernels.rs checks that property) with far fewer:
//! * [`dyadic`]: every denominator a power of two (exact `f64` values): shifts, no gcd;
//! * [`common_denominator`]: clear denominators per vector, integer dot products, one
//!   normalisation per output entry (FLINT's method);
//! * [`outer`]: outer products with one word-sized side, by word gcds;
//! * [`dual`]: `Dual<S>` products split into products of `S`, so dual-number passes reach the
//!   `Q` kernels too (through [`crate::Ring::products`], with no test of the type);
//! * [`jet`]: `Jet<S>` products as one matrix product of values by tangent rows;
//! * [`product`]: one product or sum, with a remainder step before each gcd of unequal sizes;
//! * [`direct`]: products fraction by fraction (FLINT's `fmpq_mat_mul_direct`), chosen when the
//!   denominators are huge and mostly distinct, where clearing them would multiply the sizes;
//! * [`gcd`]: Lehmer's gcd, for every gcd of big operands the kernels take.
//!
//! A check multiplies the same matrices many times, so inside [`with_pack_cache`] their packs
//! (and products of two of them) are remembered, found again by their values' exact [`key`]s.
//!
//! Both ℚ kernels share [`limbs`]: integers packed once per matrix into flat `u64` limbs and a
//! signed multiply–accumulate loop with no allocation.

mod common_denominator;
mod direct;
pub(crate) mod dual;
mod dyadic;
mod gcd;
mod heap;
pub(crate) mod jet;
mod key;
mod limbs;
mod outer;
mod product;
mod vectors;

pub(crate) use outer::outer;
pub(crate) use product::{add, div, mul};
pub use vectors::Vectors;

use key::Key;

// The kernels sit below the scalar traits: they name the rational type itself rather than the
// crate's `Q` (whose `Ring` instance calls them), so that no import runs back up.
use num_rational::BigRational as Q;
use num_traits::{One, Signed, Zero};
use std::any::{Any, TypeId};
use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

/// Below this many multiply–adds the plain loop is as fast as packing.
const SMALL: usize = 48;

/// Views with at least this many entries are remembered while a [`with_pack_cache`] scope is
/// open: a check evaluates the same weights many times (forward, rules, dual pass), and packing
/// costs as much as the products of a matrix–vector product. Small enough for the views of a
/// 10×64 output layer (640 entries), which were packed again at every rule call at 1024.
const CACHE_MIN: usize = 256;

/// How many packed views a scope remembers.
const CACHE_SLOTS: usize = 8;

/// A view's values and its packed forms, built on first use.
struct Packs {
    /// The view's values, for an entry the scope remembers.
    key: Option<Key>,
    dyadic: bool,
    /// [`direct::huge_denominators`] of the view.
    huge: bool,
    dy: OnceCell<dyadic::DyadicPack>,
    cd: OnceCell<common_denominator::CommonPack>,
}

thread_local! {
    static CACHE: RefCell<Option<Vec<Rc<Packs>>>> = const { RefCell::new(None) };
    /// Fraction-by-fraction products remembered while a scope is open (see [`direct_product`]).
    static PRODUCTS: RefCell<Vec<Rc<Product>>> = const { RefCell::new(Vec::new()) };
    /// Products of two remembered views (see [`packed_products`]).
    static PACKED_PRODUCTS: RefCell<Vec<PackedProduct>> = const { RefCell::new(Vec::new()) };
    /// Values remembered by [`remembered`]: a key, the value's type, the value.
    static REMEMBERED: RefCell<Vec<Remembered>> = const { RefCell::new(Vec::new()) };
}

/// The product of two remembered views: both entries (held, so that their addresses name them
/// for as long as this lives) and the result.
type PackedProduct = (Rc<Packs>, Rc<Packs>, Rc<Vec<Q>>);

/// How many products of remembered views a scope keeps: a check multiplies the same two
/// matrices twice (the closed-form derivative and the dual-number Jacobian, `W2·diag·W1`).
const PACKED_PRODUCT_SLOTS: usize = 4;

/// A remembered value: its key, its type, the value.
type Remembered = (Box<[u64]>, TypeId, Rc<dyn Any>);

/// How many values a scope remembers (an op's parameter tensors for a few scalars, and layer
/// outputs at the points a check revisits).
const REMEMBERED_SLOTS: usize = 48;

/// What a [`remembered`] value is, the first word of its key: values of different kinds made
/// from the same tensors never share a key.
#[derive(Clone, Copy)]
pub(crate) enum Memo {
    /// [`Tensor::lifted`](crate::Tensor::lifted): a tensor's values in another scalar.
    Lifted,
    /// [`Linear`](crate::ops::Linear)'s output at a point.
    LinearForward,
    /// [`Jet::seed`](crate::Jet::seed): a point's entries as the variables of jets.
    Seeded,
}

/// The value `make` gives for `(memo, ids)`, made once per open [`with_pack_cache`] scope and
/// shared afterwards; `None` outside a scope. The ids must name the value for the whole scope:
/// tensor ids, which never name two different values.
pub(crate) fn remembered<T: 'static>(
    memo: Memo,
    ids: &[u64],
    make: impl FnOnce() -> T,
) -> Option<Rc<T>> {
    if CACHE.with(|c| c.borrow().is_none()) {
        return None;
    }
    let kind = TypeId::of::<T>();
    let same = |k: &[u64]| k.split_first() == Some((&(memo as u64), ids));
    let hit = REMEMBERED.with(|r| {
        r.borrow()
            .iter()
            .find(|(k, t, _)| same(k) && *t == kind)
            .map(|(_, _, v)| v.clone())
    });
    if let Some(value) = hit.and_then(|v| v.downcast::<T>().ok()) {
        return Some(value);
    }
    let value = Rc::new(make());
    REMEMBERED.with(|r| {
        let mut r = r.borrow_mut();
        if r.len() == REMEMBERED_SLOTS {
            r.remove(0);
        }
        let key = std::iter::once(memo as u64).chain(ids.iter().copied());
        r.push((key.collect(), kind, value.clone() as Rc<dyn Any>));
    });
    Some(value)
}

/// Runs `f` with packed matrices remembered (by value: an entry is reused only for a view with
/// exactly the same entries), and forgets them at the end. The results are the same with or
/// without the scope; only the time differs.
pub(crate) fn with_pack_cache<R>(f: impl FnOnce() -> R) -> R {
    struct Close(bool);
    impl Drop for Close {
        fn drop(&mut self) {
            if self.0 {
                CACHE.with(|c| *c.borrow_mut() = None);
                REMEMBERED.with(|r| r.borrow_mut().clear());
                PRODUCTS.with(|p| p.borrow_mut().clear());
                PACKED_PRODUCTS.with(|p| p.borrow_mut().clear());
            }
        }
    }
    let opened = CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let open = c.is_none();
        if open {
            *c = Some(Vec::new());
        }
        open
    });
    if opened {
        heap::settle();
    }
    let _close = Close(opened);
    f()
}

/// The scope's remembered entry whose key satisfies `found`, if a scope is open.
fn remembered_pack(found: impl Fn(&Key) -> bool) -> Option<Rc<Packs>> {
    CACHE.with(|c| {
        c.borrow()
            .as_ref()?
            .iter()
            .find(|p| p.key.as_ref().is_some_and(&found))
            .cloned()
    })
}

/// `a`'s vectors times `b`'s through a remembered pack of `a`'s vectors each with one more
/// entry, `b`'s vectors getting a zero there: a check packs the rows of `[W | b]` for the
/// forward pass, and `W·dx` (the JVP, the kink radius's row sums) then needs no pack of `W`'s
/// rows. `None` when there is no such pack, or it was not built for the kernel `b` needs.
/// `magnitudes`: multiply `|a|` instead of `a`.
fn through_tail_pack(a: &Vectors<'_>, b: &Vectors<'_>, magnitudes: bool) -> Option<Vec<Q>> {
    if !worth_remembering(a) {
        return None;
    }
    let pa = remembered_pack(|k| k.matches_but_tail(a))?;
    let zero = [Q::zero()];
    let zeros = vec![Q::zero(); b.count];
    let tail: &[Q] = if b.count == 1 { &zero } else { &zeros };
    let b = b.with_tail(tail);
    let pb = packs_of(&b);
    if pa.huge || pb.huge {
        return None;
    }
    // Whichever kernel the remembered pack was built for: the common-denominator one takes
    // dyadic values too.
    match (pa.dy.get(), pa.cd.get()) {
        (Some(packed), _) if pb.dyadic => {
            let b = pb.dy.get_or_init(|| dyadic::pack(&b));
            Some(if magnitudes {
                dyadic::multiply(&packed.magnitudes(), b)
            } else {
                dyadic::multiply(packed, b)
            })
        }
        (_, Some(packed)) => {
            let b = pb.cd.get_or_init(|| common_denominator::pack_view(&b));
            Some(if magnitudes {
                common_denominator::multiply(&packed.magnitudes(), b)
            } else {
                common_denominator::multiply(packed, b)
            })
        }
        _ => None,
    }
}

/// Whether a view is large enough to be remembered: single vectors (probes, gradients) are
/// seldom met twice; matrices are.
fn worth_remembering(view: &Vectors<'_>) -> bool {
    view.count >= 2 && view.count * view.len >= CACHE_MIN
}

fn packs_of(view: &Vectors<'_>) -> Rc<Packs> {
    let hit = worth_remembering(view)
        .then(|| remembered_pack(|k| k.matches(view)))
        .flatten();
    hit.unwrap_or_else(|| new_packs(view))
}

/// The packs of a view the scope does not remember yet, remembered from now on when it is
/// worth it.
fn new_packs(view: &Vectors<'_>) -> Rc<Packs> {
    let huge = direct::huge_denominators(view);
    let entry = Packs {
        key: None,
        // Huge denominators take the fraction-by-fraction product, never a pack.
        dyadic: !huge && view.entries().all(dyadic::is_dyadic),
        huge,
        dy: OnceCell::new(),
        cd: OnceCell::new(),
    };
    // Not remembered when huge: `direct_product` remembers its own results.
    if huge || !worth_remembering(view) {
        return Rc::new(entry);
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let Some(slots) = c.as_mut() else {
            return Rc::new(entry);
        };
        let entry = Rc::new(Packs {
            key: Some(Key::of(view)),
            ..entry
        });
        if slots.len() == CACHE_SLOTS {
            slots.remove(0);
        }
        slots.push(entry.clone());
        entry
    })
}

/// A product computed fraction by fraction: its operands (by value) and its result.
struct Product {
    a: Key,
    b: Key,
    out: Vec<Q>,
}

/// How many such products a scope remembers.
const PRODUCT_SLOTS: usize = 16;

/// [`direct::multiply`], remembered by value while a [`with_pack_cache`] scope is open.
///
/// On huge values each product costs gcds of hundreds of thousands of bits, and a check
/// evaluates the same ones several times (the first layer at `x` for every guard check, the
/// forward pass for the Jacobian, the increment and the report). Comparing the operands with a
/// remembered pair costs one pass over their limbs (and stops at the first differing limb); the
/// result is the same value either way.
fn direct_product(a: &Vectors<'_>, b: &Vectors<'_>) -> Vec<Q> {
    if CACHE.with(|c| c.borrow().is_none()) {
        return direct::multiply(a, b);
    }
    let hit = PRODUCTS.with(|p| {
        p.borrow()
            .iter()
            .find(|m| m.a.matches(a) && m.b.matches(b))
            .cloned()
    });
    if let Some(m) = hit {
        return m.out.clone();
    }
    let out = direct::multiply(a, b);
    let memo = Rc::new(Product {
        a: Key::of(a),
        b: Key::of(b),
        out: out.clone(),
    });
    PRODUCTS.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() == PRODUCT_SLOTS {
            p.remove(0);
        }
        p.push(memo);
    });
    out
}

/// `out[i·b.count + j] = ⟪a_i, b_j⟫`, choosing the kernel by the denominators.
pub(crate) fn products(a: &Vectors<'_>, b: &Vectors<'_>) -> Vec<Q> {
    debug_assert_eq!(a.len, b.len);
    let small = a.len < 3 || a.count * b.count * a.len < SMALL;
    if small && (direct::huge_denominators(a) || direct::huge_denominators(b)) {
        return direct_product(a, b);
    }
    if small {
        let mut out = Vec::with_capacity(a.count * b.count);
        for i in 0..a.count {
            for j in 0..b.count {
                // The crate's product and sum (gcds by remainder steps and Lehmer's method)
                // rather than num-rational's operators (binary gcds).
                let mut acc = Q::default();
                for t in 0..a.len {
                    let (x, y) = (a.at(i, t), b.at(j, t));
                    if !x.is_zero() && !y.is_zero() {
                        acc = add(&acc, &mul(x, y));
                    }
                }
                out.push(acc);
            }
        }
        return out;
    }
    // Positions where every vector of one side is zero contribute nothing: dropping them
    // before packing saves their scaling and can shrink the common denominators (a ReLU mask
    // zeroes whole columns of W2, so half of W1 need not be packed for the Jacobian).
    let live = |view: &Vectors<'_>| -> Vec<bool> {
        let mut live = vec![false; view.len];
        for v in 0..view.count {
            for (t, l) in live.iter_mut().enumerate() {
                if !*l && !view.at(v, t).numer().is_zero() {
                    *l = true;
                }
            }
        }
        live
    };
    let (la, lb) = (live(a), live(b));
    let keep: Vec<usize> = (0..a.len).filter(|&t| la[t] && lb[t]).collect();
    if keep.is_empty() {
        return vec![Q::default(); a.count * b.count];
    }
    if keep.len() < a.len {
        let (sa, sb) = (a.picked(&keep), b.picked(&keep));
        return packed_products(&sa, &sb);
    }
    packed_products(a, b)
}

/// [`products`] on the packed kernels (or fraction by fraction for huge denominators), without
/// the small-size and zero-position shortcuts.
fn packed_products(a: &Vectors<'_>, b: &Vectors<'_>) -> Vec<Q> {
    // The views' properties come with their packs, remembered for a matrix met again.
    let hit = worth_remembering(a)
        .then(|| remembered_pack(|k| k.matches(a)))
        .flatten();
    let pa = match hit {
        Some(pa) => pa,
        None => match through_tail_pack(a, b, false) {
            Some(out) => return out,
            None => new_packs(a),
        },
    };
    let pb = packs_of(b);
    if pa.huge || pb.huge {
        return direct_product(a, b);
    }
    // Two remembered entries stand for their values (a lookup compares the view with them
    // entry by entry), so a product of the same two entries is the same product. The pair is
    // held while the result is kept: no other entry can take either address meanwhile.
    let remembered = pa.key.is_some() && pb.key.is_some();
    if remembered {
        let hit = PACKED_PRODUCTS.with(|p| {
            p.borrow()
                .iter()
                .find(|(x, y, _)| Rc::ptr_eq(x, &pa) && Rc::ptr_eq(y, &pb))
                .map(|(_, _, out)| out.clone())
        });
        if let Some(out) = hit {
            return out.as_ref().clone();
        }
    }
    let out = multiply_packs(a, b, &pa, &pb);
    if remembered {
        PACKED_PRODUCTS.with(|p| {
            let mut p = p.borrow_mut();
            if p.len() == PACKED_PRODUCT_SLOTS {
                p.remove(0);
            }
            p.push((pa, pb, Rc::new(out.clone())));
        });
    }
    out
}

/// `a`'s vectors times `b`'s on the packed kernel both views' entries allow.
fn multiply_packs(a: &Vectors<'_>, b: &Vectors<'_>, pa: &Packs, pb: &Packs) -> Vec<Q> {
    if pa.dyadic && pb.dyadic {
        dyadic::multiply(
            pa.dy.get_or_init(|| dyadic::pack(a)),
            pb.dy.get_or_init(|| dyadic::pack(b)),
        )
    } else {
        common_denominator::multiply(
            pa.cd.get_or_init(|| common_denominator::pack_view(a)),
            pb.cd.get_or_init(|| common_denominator::pack_view(b)),
        )
    }
}

/// Σᵢ aᵢ·bᵢ.
pub(crate) fn dot(a: &[Q], b: &[Q]) -> Q {
    assert_eq!(
        a.len(),
        b.len(),
        "dot of lengths {} and {}",
        a.len(),
        b.len()
    );
    let mut out = products(&Vectors::rows(a, 1, a.len()), &Vectors::rows(b, 1, b.len()));
    out.pop().unwrap_or_default()
}

/// `A·v` for a row-major `rows × cols` matrix `A`.
pub(crate) fn mat_vec(a: &[Q], rows: usize, cols: usize, v: &[Q]) -> Vec<Q> {
    products(&Vectors::rows(a, rows, cols), &Vectors::rows(v, 1, cols))
}

/// `A·v + b` as one product `[A | b]·[v; 1]`: one normalisation per entry instead of a
/// product's and then a sum's.
pub(crate) fn affine(a: &[Q], rows: usize, cols: usize, v: &[Q], b: &[Q]) -> Vec<Q> {
    let one = [Q::one()];
    let out = products(
        &Vectors::strided(a, rows, cols, (cols, 1), Some(b)),
        &Vectors::strided(v, 1, cols, (cols, 1), Some(&one)),
    );
    out
}

/// `|A|·1`, the sums `Σ_t |a_{i,t}|` of the rows of a row-major `rows × cols` matrix.
///
/// The rows' pack is the one `A·v` uses (a check's kink radius sums the rows of the weights it
/// has multiplied already), with every sign dropped: no pack of `|A|` is built.
pub(crate) fn abs_row_sums(a: &[Q], rows: usize, cols: usize) -> Vec<Q> {
    let ones = vec![Q::one(); cols];
    let view = Vectors::rows(a, rows, cols);
    let plain = || {
        let abs: Vec<Q> = a.iter().map(|q| q.abs()).collect();
        mat_vec(&abs, rows, cols, &ones)
    };
    if cols < 3 || rows * cols < SMALL {
        return plain();
    }
    let ones_view = Vectors::rows(&ones, 1, cols);
    let hit = worth_remembering(&view)
        .then(|| remembered_pack(|k| k.matches(&view)))
        .flatten();
    let pa = match hit {
        Some(pa) => pa,
        None => match through_tail_pack(&view, &ones_view, true) {
            Some(out) => return out,
            None => new_packs(&view),
        },
    };
    if pa.huge {
        return plain();
    }
    let pb = packs_of(&ones_view);
    if pa.dyadic && pb.dyadic {
        dyadic::multiply(
            &pa.dy.get_or_init(|| dyadic::pack(&view)).magnitudes(),
            pb.dy.get_or_init(|| dyadic::pack(&ones_view)),
        )
    } else {
        common_denominator::multiply(
            &pa.cd
                .get_or_init(|| common_denominator::pack_view(&view))
                .magnitudes(),
            pb.cd
                .get_or_init(|| common_denominator::pack_view(&ones_view)),
        )
    }
}

/// `Aᵀ·v` for a row-major `rows × cols` matrix `A`.
pub(crate) fn transpose_mat_vec(a: &[Q], rows: usize, cols: usize, v: &[Q]) -> Vec<Q> {
    products(&Vectors::columns(a, rows, cols), &Vectors::rows(v, 1, rows))
}

/// `A·B` for row-major `A` (`m × k`) and `B` (`k × n`).
pub(crate) fn matmul(a: &[Q], m: usize, k: usize, b: &[Q], n: usize) -> Vec<Q> {
    products(&Vectors::rows(a, m, k), &Vectors::columns(b, k, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> Q {
        Q::new(n.into(), d.into())
    }

    fn plain(a: &[Q], rows: usize, cols: usize, v: &[Q]) -> Vec<Q> {
        (0..rows)
            .map(|i| (0..cols).map(|t| &a[i * cols + t] * &v[t]).sum())
            .collect()
    }

    #[test]
    fn the_pack_cache_never_serves_a_different_matrix() {
        let (rows, cols) = (40, 30);
        let mut a: Vec<Q> = (0..rows * cols)
            .map(|k| q((k as i64 * 7919) % 201 - 100, (k as i64 % 97) + 1))
            .collect();
        let v: Vec<Q> = (0..cols).map(|k| q(k as i64 - 11, 3)).collect();
        let b: Vec<Q> = (0..rows).map(|k| q(k as i64, 7)).collect();
        with_pack_cache(|| {
            assert_eq!(mat_vec(&a, rows, cols, &v), plain(&a, rows, cols, &v));
            // Same matrix again (a hit), then one entry changed (a miss) and a dyadic matrix.
            assert_eq!(mat_vec(&a, rows, cols, &v), plain(&a, rows, cols, &v));
            a[17] = q(5, 11);
            assert_eq!(mat_vec(&a, rows, cols, &v), plain(&a, rows, cols, &v));
            let with_bias: Vec<Q> = plain(&a, rows, cols, &v)
                .into_iter()
                .zip(&b)
                .map(|(x, y)| x + y)
                .collect();
            assert_eq!(affine(&a, rows, cols, &v, &b), with_bias);
            let d: Vec<Q> = (0..rows * cols).map(|k| q(k as i64 - 600, 64)).collect();
            assert_eq!(mat_vec(&d, rows, cols, &v), plain(&d, rows, cols, &v));
        });
        CACHE.with(|c| assert!(c.borrow().is_none(), "the scope closes the cache"));
    }

    fn plain_matmul(a: &[Q], m: usize, k: usize, b: &[Q], n: usize) -> Vec<Q> {
        (0..m * n)
            .map(|o| (0..k).map(|t| &a[o / n * k + t] * &b[t * n + o % n]).sum())
            .collect()
    }

    #[test]
    fn a_remembered_product_is_served_only_for_the_same_two_matrices() {
        let (m, k, n) = (8, 40, 9);
        let a: Vec<Q> = (0..m * k).map(|i| q(i as i64 % 17 - 8, 3)).collect();
        let mut b: Vec<Q> = (0..k * n).map(|i| q(i as i64 % 23 - 11, 7)).collect();
        let products = || PACKED_PRODUCTS.with(|p| p.borrow().len());
        with_pack_cache(|| {
            assert_eq!(matmul(&a, m, k, &b, n), plain_matmul(&a, m, k, &b, n));
            assert_eq!(products(), 1);
            // A hit: the same value, and no second entry.
            assert_eq!(matmul(&a, m, k, &b, n), plain_matmul(&a, m, k, &b, n));
            assert_eq!(products(), 1);
            // One entry of one side changed: a new product, not the remembered one.
            b[k * n - 1] = q(1, 5);
            assert_eq!(matmul(&a, m, k, &b, n), plain_matmul(&a, m, k, &b, n));
            assert_eq!(products(), 2);
        });
        assert_eq!(products(), 0, "the scope forgets its products");
    }

    /// A `rows × cols` matrix of fractions (with a few zeros) and one of dyadic values.
    fn weights(rows: usize, cols: usize) -> (Vec<Q>, Vec<Q>) {
        let fractions = (0..rows * cols)
            .map(|k| q((k as i64 * 37) % 41 - 20, (k as i64 % 13) + 1))
            .collect();
        let dyadic = (0..rows * cols)
            .map(|k| q((k as i64 * 37) % 41 - 20, 1 << (k % 5)))
            .collect();
        (fractions, dyadic)
    }

    #[test]
    fn absolute_row_sums_are_the_plain_ones_with_or_without_a_remembered_pack() {
        let (rows, cols) = (12, 30);
        let (fractions, dyadic) = weights(rows, cols);
        let ones = vec![Q::one(); cols];
        for a in [&fractions, &dyadic] {
            let abs: Vec<Q> = a.iter().map(|x| x.abs()).collect();
            let expected = plain(&abs, rows, cols, &ones);
            assert_eq!(abs_row_sums(a, rows, cols), expected);
            with_pack_cache(|| {
                // First on a fresh pack, then on the pack a product left (signs kept there).
                assert_eq!(abs_row_sums(a, rows, cols), expected);
                let v: Vec<Q> = (0..cols).map(|k| q(k as i64 - 7, 3)).collect();
                assert_eq!(mat_vec(a, rows, cols, &v), plain(a, rows, cols, &v));
                assert_eq!(abs_row_sums(a, rows, cols), expected);
                assert_eq!(mat_vec(a, rows, cols, &v), plain(a, rows, cols, &v));
            });
        }
    }

    #[test]
    fn products_with_w_go_through_the_pack_of_w_with_its_bias_and_equal_the_plain_ones() {
        let (rows, cols) = (12, 30);
        let (fractions, dyadic) = weights(rows, cols);
        // Biases of the weights' kind, so that [W | b] is dyadic when W is.
        let fraction_bias: Vec<Q> = (0..rows).map(|k| q(k as i64 - 5, 7)).collect();
        let dyadic_bias: Vec<Q> = (0..rows).map(|k| q(k as i64 - 5, 4)).collect();
        // No zero in x or the tangents: a zero position is dropped before packing, and the
        // product then takes a pack of fewer columns. A dyadic x: with dyadic weights, the
        // forward pass builds the dyadic kernel's pack of [W | b].
        let x: Vec<Q> = (0..cols).map(|k| q(2 * k as i64 - 15, 4)).collect();
        let integers: Vec<Q> = (0..cols).map(|k| q(k as i64 % 3 + 1, 1)).collect();
        let fractions_dx: Vec<Q> = (0..cols).map(|k| q(2 * k as i64 - 31, 5)).collect();
        let ones = vec![Q::one(); cols];
        for (w, bias) in [(&fractions, &fraction_bias), (&dyadic, &dyadic_bias)] {
            let abs: Vec<Q> = w.iter().map(|x| x.abs()).collect();
            let mut with_bias = plain(w, rows, cols, &x);
            for (y, b) in with_bias.iter_mut().zip(bias) {
                *y = &*y + b;
            }
            with_pack_cache(|| {
                assert_eq!(affine(w, rows, cols, &x, bias), with_bias);
                assert_eq!(
                    mat_vec(w, rows, cols, &integers),
                    plain(w, rows, cols, &integers)
                );
                assert_eq!(abs_row_sums(w, rows, cols), plain(&abs, rows, cols, &ones));
                // W's rows were never packed on their own: [W | b]'s pack served them.
                let view = Vectors::rows(w, rows, cols);
                assert!(remembered_pack(|k| k.matches(&view)).is_none());
                assert!(remembered_pack(|k| k.matches_but_tail(&view)).is_some());
                // A tangent of fractions meets a dyadic [W | b] whose pack is the dyadic
                // kernel's (W's rows are then packed); the product is the same.
                assert_eq!(
                    mat_vec(w, rows, cols, &fractions_dx),
                    plain(w, rows, cols, &fractions_dx)
                );
                // A matrix that differs from W in one entry does not take W's pack.
                let mut other = w.clone();
                other[rows * cols - 1] = q(1, 997);
                assert_eq!(
                    mat_vec(&other, rows, cols, &x),
                    plain(&other, rows, cols, &x)
                );
            });
        }
    }

    #[test]
    fn a_nested_scope_reuses_the_outer_cache_and_leaves_it_open() {
        let (rows, cols) = (40, 30);
        let a: Vec<Q> = (0..rows * cols).map(|k| q(k as i64 % 13 - 6, 3)).collect();
        let v: Vec<Q> = (0..cols).map(|k| q(k as i64 - 11, 5)).collect();
        let cached = || CACHE.with(|c| c.borrow().as_ref().map(Vec::len));
        with_pack_cache(|| {
            mat_vec(&a, rows, cols, &v);
            assert_eq!(cached(), Some(1));
            with_pack_cache(|| {
                // The inner scope sees the outer entry: a hit, not a second slot.
                assert_eq!(mat_vec(&a, rows, cols, &v), plain(&a, rows, cols, &v));
                assert_eq!(cached(), Some(1));
            });
            assert_eq!(
                cached(),
                Some(1),
                "the inner scope does not close the outer one"
            );
        });
        assert_eq!(cached(), None);
    }
}
