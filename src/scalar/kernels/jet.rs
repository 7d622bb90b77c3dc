//! Products of jets as matrix products of their parts, so that a forward pass over
//! [`Jet<Q>`](crate::scalar::Jet) costs about one pass over `Q` plus one matrix product per layer:
//! `Σₜ (aₜ + aₜ′)(bₜ + bₜ′) = Σₜ aₜbₜ + (Σₜ aₜ·bₜ′ + Σₜ aₜ′·bₜ)`.
//!
//! * A side whose tangents are all absent or seeds `e_p` needs no multiplication: its term adds
//!   the other side's values into column `p` (at the identity seed, `W·x` has tangent block `W`).
//! * Otherwise, when the scalar has a product kernel ([`Ring::products`]; over `Q` it also drops
//!   positions whose tangent rows are all zero, the rows a ReLU masked), the term is one product
//!   of the values of one side with the tangent rows of the other.
//! * Any other scalar accumulates entry by entry.
//!
//! The kernel reads entries through [`Parts`] rather than naming the jet type, so that the jet
//! (which calls it) and the kernel do not import each other.

use super::Vectors;
use crate::scalar::tangent::{add, Tangent};
use crate::scalar::Ring;

/// How the two operands of a product are read as families of vectors.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Layout {
    /// `⟪a, b⟫` of length `n`.
    Dot(usize),
    /// `A·v`, `A` row-major `rows × cols`.
    MatVec(usize, usize),
    /// `Aᵀ·v`.
    TransposeMatVec(usize, usize),
    /// `A·B`, `m × k` times `k × n`.
    MatMul(usize, usize, usize),
    /// `u·vᵀ` of lengths `(len u, len v)`.
    Outer(usize, usize),
}

/// Output `(i, j)`, at `i·count_b + j`, is `Σₜ a[i, t]·b[j, t]`, `t < len`, where vector `i` of
/// `a` reads `a[i·a_stride.0 + t·a_stride.1]` (likewise `b`).
#[derive(Clone, Copy)]
struct Geometry {
    count_a: usize,
    count_b: usize,
    len: usize,
    a_stride: (usize, usize),
    b_stride: (usize, usize),
}

impl Geometry {
    fn of(layout: Layout) -> Geometry {
        let g = |count_a, count_b, len, a_stride, b_stride| Geometry {
            count_a,
            count_b,
            len,
            a_stride,
            b_stride,
        };
        match layout {
            Layout::Dot(n) => g(1, 1, n, (n, 1), (n, 1)),
            Layout::MatVec(rows, cols) => g(rows, 1, cols, (cols, 1), (cols, 1)),
            Layout::TransposeMatVec(rows, cols) => g(cols, 1, rows, (1, cols), (rows, 1)),
            Layout::MatMul(m, k, n) => g(m, n, k, (k, 1), (1, n)),
            Layout::Outer(nu, nv) => g(nu, nv, 1, (1, 1), (1, 1)),
        }
    }
    fn a(&self, i: usize, t: usize) -> usize {
        i * self.a_stride.0 + t * self.a_stride.1
    }
    fn b(&self, j: usize, t: usize) -> usize {
        j * self.b_stride.0 + t * self.b_stride.1
    }
    fn outputs(&self) -> usize {
        self.count_a * self.count_b
    }
}

/// How the kernel reads an entry `T` of a jet: its value and its tangent row.
pub(crate) struct Parts<T, S> {
    /// The value.
    pub(crate) value: fn(&T) -> &S,
    /// The row of partials.
    pub(crate) tangent: fn(&T) -> &Tangent<S>,
}

impl<T, S> Clone for Parts<T, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, S> Copy for Parts<T, S> {}

/// One output of a product: its value, and its row of partials unless it is a constant.
pub(crate) type Entry<S> = (S, Option<Vec<S>>);

/// Which side's tangents a term reads (the other side contributes its values).
#[derive(Clone, Copy, PartialEq)]
enum Side {
    A,
    B,
}

/// The product `layout` of `a` and `b`, plus `bias` on each output when given (an affine map
/// `A·v + b`, layout [`Layout::MatVec`]).
pub(crate) fn bilinear<T, S: Ring>(
    a: &[T],
    b: &[T],
    p: Parts<T, S>,
    layout: Layout,
    bias: Option<&[T]>,
) -> Vec<Entry<S>> {
    let g = Geometry::of(layout);
    let values = values(a, b, p, layout, &g, bias);
    let width = a
        .iter()
        .chain(b)
        .chain(bias.unwrap_or(&[]))
        .find_map(|x| (p.tangent)(x).width());
    let Some(width) = width else {
        return values.into_iter().map(|v| (v, None)).collect();
    };
    let mut rows: Vec<Option<Vec<S>>> = vec![None; g.outputs()];
    for side in [Side::B, Side::A] {
        let tangents = if side == Side::A { a } else { b };
        let seeds_only = tangents
            .iter()
            .all(|x| !matches!((p.tangent)(x), Tangent::Dense(_)));
        if tangents
            .iter()
            .all(|x| matches!((p.tangent)(x), Tangent::Zero))
        {
            continue;
        }
        if side == Side::B && rows.iter().all(Option::is_none) && identity_seed(b, p, &g, width) {
            // Σₜ a[i, t]·e_t is row i of `a` itself: copied, with no arithmetic.
            for (i, row) in rows.iter_mut().enumerate() {
                *row = Some(
                    (0..g.len)
                        .map(|t| (p.value)(&a[g.a(i, t)]).clone())
                        .collect(),
                );
            }
            continue;
        }
        if !seeds_only {
            if let Some(block) = kernel_block(a, b, p, &g, width, side) {
                for (o, row) in rows.iter_mut().enumerate() {
                    let contribution = &block[o * width..(o + 1) * width];
                    if contribution.iter().any(|x| !x.is_zero()) {
                        let row = row.get_or_insert_with(|| vec![S::zero(); width]);
                        for (r, c) in row.iter_mut().zip(contribution) {
                            *r = add(r, c);
                        }
                    }
                }
                continue;
            }
        }
        accumulate(a, b, p, &g, width, side, &mut rows);
    }
    if let Some(bias) = bias {
        let one = S::one();
        for (row, x) in rows.iter_mut().zip(bias) {
            axpy(row, width, &one, (p.tangent)(x));
        }
    }
    values.into_iter().zip(rows).collect()
}

/// Whether `b` is read as one vector whose entry `t` is the seed `e_t` of width `len` (the
/// identity seed, as [`Jet::seed`](crate::Jet::seed) makes it).
fn identity_seed<T, S: Ring>(b: &[T], p: Parts<T, S>, g: &Geometry, width: usize) -> bool {
    g.count_b == 1
        && width == g.len
        && (0..g.len).all(
            |t| matches!((p.tangent)(&b[g.b(0, t)]), Tangent::Unit { index, .. } if *index == t),
        )
}

/// `row += coef·t`, creating the row on the first non-zero contribution. A seed needs no
/// multiplication: `coef·e_p` is `coef` at `p`.
fn axpy<S: Ring>(row: &mut Option<Vec<S>>, width: usize, coef: &S, t: &Tangent<S>) {
    if coef.is_zero() {
        return;
    }
    match t {
        Tangent::Zero => {}
        Tangent::Unit { index, .. } => {
            let row = row.get_or_insert_with(|| vec![S::zero(); width]);
            row[*index] = add(&row[*index], coef);
        }
        Tangent::Dense(d) => {
            let row = row.get_or_insert_with(|| vec![S::zero(); width]);
            for (r, x) in row.iter_mut().zip(d.iter()) {
                if !x.is_zero() {
                    *r = add(r, &coef.mul_ref(x));
                }
            }
        }
    }
}

/// The term of `side`'s tangents entry by entry: `Σₜ a[i, t]·b′[j, t]` (side `B`) or
/// `Σₜ a′[i, t]·b[j, t]` (side `A`).
fn accumulate<T, S: Ring>(
    a: &[T],
    b: &[T],
    p: Parts<T, S>,
    g: &Geometry,
    width: usize,
    side: Side,
    rows: &mut [Option<Vec<S>>],
) {
    for i in 0..g.count_a {
        for j in 0..g.count_b {
            let row = &mut rows[i * g.count_b + j];
            for t in 0..g.len {
                let (x, y) = (&a[g.a(i, t)], &b[g.b(j, t)]);
                match side {
                    Side::B => axpy(row, width, (p.value)(x), (p.tangent)(y)),
                    Side::A => axpy(row, width, (p.value)(y), (p.tangent)(x)),
                }
            }
        }
    }
}

/// The values of the product: read in place by `S`'s product kernel when it has one, otherwise
/// by `S`'s own (possibly overridden) slice product on copies.
fn values<T, S: Ring>(
    a: &[T],
    b: &[T],
    p: Parts<T, S>,
    layout: Layout,
    g: &Geometry,
    bias: Option<&[T]>,
) -> Vec<S> {
    let one = [S::one()];
    let va = Vectors::projected(a, p.value, g.count_a, g.len, g.a_stride, bias);
    let vb = Vectors::projected(b, p.value, g.count_b, g.len, g.b_stride, None);
    // With a bias, `[A | b]·[v; 1]`: one normalisation per entry instead of a product's and
    // then a sum's.
    let vb = if bias.is_some() {
        vb.extended(&one)
    } else {
        vb
    };
    if let Some(out) = S::products(&va, &vb) {
        return out;
    }
    let va: Vec<S> = a.iter().map(|x| (p.value)(x).clone()).collect();
    let vb: Vec<S> = b.iter().map(|x| (p.value)(x).clone()).collect();
    match layout {
        Layout::Dot(_) => vec![S::dot(&va, &vb)],
        Layout::MatVec(rows, cols) => match bias {
            Some(bias) => {
                let vbias: Vec<S> = bias.iter().map(|x| (p.value)(x).clone()).collect();
                S::affine(&va, rows, cols, &vb, &vbias)
            }
            None => S::mat_vec(&va, rows, cols, &vb),
        },
        Layout::TransposeMatVec(rows, cols) => S::transpose_mat_vec(&va, rows, cols, &vb),
        Layout::MatMul(m, k, n) => S::matmul(&va, m, k, &vb, n),
        Layout::Outer(..) => S::outer(&va, &vb),
    }
}

/// The term of `side`'s tangents as one kernel product ([`Ring::products`]), laid out
/// `out[o·width + c]` for output `o` and partial `c`; `None` when `S` has no kernel.
fn kernel_block<T, S: Ring>(
    a: &[T],
    b: &[T],
    p: Parts<T, S>,
    g: &Geometry,
    width: usize,
    side: Side,
) -> Option<Vec<S>> {
    let (zero, one) = (S::zero(), S::one());
    let (zero, one) = (&zero, &one);
    let g = *g;
    let block = match side {
        Side::B => {
            // Vectors (j, c) of b′: entry t is ∂b[j, t]/∂x_c.
            let tangents = Vectors::through(g.count_b * width, g.len, move |v, t| {
                (p.tangent)(&b[g.b(v / width, t)]).at(v % width, zero, one)
            });
            let values = Vectors::projected(a, p.value, g.count_a, g.len, g.a_stride, None);
            // products(values, tangents)[i·(count_b·width) + j·width + c] is already o·width + c.
            S::products(&values, &tangents)?
        }
        Side::A => {
            let tangents = Vectors::through(g.count_a * width, g.len, move |v, t| {
                (p.tangent)(&a[g.a(v / width, t)]).at(v % width, zero, one)
            });
            let values = Vectors::projected(b, p.value, g.count_b, g.len, g.b_stride, None);
            // products(tangents, values)[(i·width + c)·count_b + j] → (i·count_b + j)·width + c.
            let flat = S::products(&tangents, &values)?;
            let mut out = vec![S::zero(); flat.len()];
            for (k, x) in flat.into_iter().enumerate() {
                let (ic, j) = (k / g.count_b, k % g.count_b);
                let (i, c) = (ic / width, ic % width);
                out[(i * g.count_b + j) * width + c] = x;
            }
            out
        }
    };
    Some(block)
}
