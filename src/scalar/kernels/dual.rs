//! Products of dual numbers as products of their parts, so that `Dual<Q>` passes (reference
//! Jacobians, randomized checks) run on the `Q` kernels:
//! `(A + A′ε)(v + v′ε) = Av + (Av′ + A′v)ε`, skipping `A′v` when `A′ = 0` (lifted constants).
//!
//! The kernel reads entries through [`Parts`] and returns parts, rather than naming the dual
//! type, so that the dual type (which calls it) and the kernel do not import each other.

use super::Vectors;
use crate::scalar::Ring;

/// How the two operands of a product are read as families of vectors.
#[derive(Clone, Copy)]
pub(crate) enum Layout {
    /// `⟪a, v⟫`.
    Dot,
    /// `A·v`, `A` row-major `rows × cols`.
    MatVec(usize, usize),
    /// `Aᵀ·v`.
    TransposeMatVec(usize, usize),
    /// `A·B`, `m × k` times `k × n`.
    MatMul(usize, usize, usize),
}

/// How the kernel reads an entry `T` of a dual number: its real part and its tangent.
pub(crate) struct Parts<T, S> {
    /// The real part.
    pub(crate) re: fn(&T) -> &S,
    /// The tangent.
    pub(crate) eps: fn(&T) -> &S,
}

impl<T, S> Clone for Parts<T, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, S> Copy for Parts<T, S> {}

/// The real parts and the tangents of a product's outputs.
pub(crate) type Split<S> = (Vec<S>, Vec<S>);

impl Layout {
    fn views<'a, T, S>(
        self,
        a: &'a [T],
        b: &'a [T],
        part_a: fn(&T) -> &S,
        part_b: fn(&T) -> &S,
    ) -> (Vectors<'a, S>, Vectors<'a, S>) {
        let (n_a, n_b) = (a.len(), b.len());
        let (va, vb) = match self {
            Layout::Dot => ((1, n_a, (n_a, 1)), (1, n_b, (n_b, 1))),
            Layout::MatVec(rows, cols) => ((rows, cols, (cols, 1)), (1, cols, (cols, 1))),
            Layout::TransposeMatVec(rows, cols) => ((cols, rows, (1, cols)), (1, rows, (rows, 1))),
            Layout::MatMul(m, k, n) => ((m, k, (k, 1)), (n, k, (1, n))),
        };
        (
            Vectors::projected(a, part_a, va.0, va.1, va.2, None),
            Vectors::projected(b, part_b, vb.0, vb.1, vb.2, None),
        )
    }
}

/// Whether every tangent of `xs` is zero.
fn constant<T, S: Ring>(xs: &[T], p: Parts<T, S>) -> bool {
    xs.iter().all(|x| (p.eps)(x).is_zero())
}

/// Products on `S`'s kernel ([`Ring::products`]) read straight from the parts (no copy of either
/// operand): `re = ⟪a.re, b.re⟫`, `eps = ⟪a.re, b.eps⟫ + ⟪a.eps, b.re⟫`, skipping zero tangents;
/// `None` when `S` has no kernel.
fn kernel_products<T, S: Ring>(
    a: &[T],
    b: &[T],
    p: Parts<T, S>,
    layout: Layout,
) -> Option<Split<S>> {
    let (ra, rb) = layout.views(a, b, p.re, p.re);
    let out_re = S::products(&ra, &rb)?;
    let mut out_eps: Option<Vec<S>> = None;
    if !constant(b, p) {
        let (x, y) = layout.views(a, b, p.re, p.eps);
        out_eps = Some(S::products(&x, &y)?);
    }
    if !constant(a, p) {
        let (x, y) = layout.views(a, b, p.eps, p.re);
        let more = S::products(&x, &y)?;
        out_eps = Some(match out_eps {
            Some(e) => add(e, more),
            None => more,
        });
    }
    let out_eps = out_eps.unwrap_or_else(|| vec![S::zero(); out_re.len()]);
    Some((out_re, out_eps))
}

/// The real parts, and the tangents unless every one is zero: a lifted weight matrix is
/// constant, and as large as the whole pass, so its zeros are not copied.
fn parts<T, S: Ring>(xs: &[T], p: Parts<T, S>) -> (Vec<S>, Option<Vec<S>>) {
    let re = xs.iter().map(|x| (p.re)(x).clone()).collect();
    let eps = (!constant(xs, p)).then(|| xs.iter().map(|x| (p.eps)(x).clone()).collect());
    (re, eps)
}

fn add<S: Ring>(a: Vec<S>, b: Vec<S>) -> Vec<S> {
    a.into_iter().zip(b).map(|(x, y)| x.add_ref(&y)).collect()
}

/// `f(A, v)` for a bilinear product `f` of `S` laid out as `layout`, extended to dual numbers;
/// when `S` has a product kernel it reads the parts in place.
pub(crate) fn bilinear<T, S: Ring>(
    a: &[T],
    v: &[T],
    p: Parts<T, S>,
    layout: Option<Layout>,
    f: impl Fn(&[S], &[S]) -> Vec<S>,
) -> Split<S> {
    if let Some(out) = layout.and_then(|l| kernel_products(a, v, p, l)) {
        return out;
    }
    let (are, aeps) = parts(a, p);
    let (vre, veps) = parts(v, p);
    let re = f(&are, &vre);
    let mut eps = match &veps {
        Some(veps) => f(&are, veps),
        None => vec![S::zero(); re.len()],
    };
    if let Some(aeps) = &aeps {
        eps = add(eps, f(aeps, &vre));
    }
    (re, eps)
}

/// `A·v + b` on `S`'s kernel, read in place: one affine product `[A | b]·[v; 1]` on the real
/// parts; the tangent is a plain product plus `b′`, so that it reuses the packed `A` of other
/// products instead of packing `[A | b′]` anew. `None` when `S` has no kernel.
fn kernel_affine<T, S: Ring>(
    a: &[T],
    rows: usize,
    cols: usize,
    v: &[T],
    b: &[T],
    p: Parts<T, S>,
) -> Option<Split<S>> {
    let one = [S::one()];
    let out_re = S::products(
        &Vectors::projected(a, p.re, rows, cols, (cols, 1), Some(b)),
        &Vectors::projected(v, p.re, 1, cols, (cols, 1), None).extended(&one),
    )?;
    let a_re = Vectors::projected(a, p.re, rows, cols, (cols, 1), None);
    let mut eps_part = S::products(
        &a_re,
        &Vectors::projected(v, p.eps, 1, cols, (cols, 1), None),
    )?;
    if !constant(a, p) {
        let x = Vectors::projected(a, p.eps, rows, cols, (cols, 1), None);
        let more = S::products(&x, &Vectors::projected(v, p.re, 1, cols, (cols, 1), None))?;
        eps_part = add(eps_part, more);
    }
    for (e, d) in eps_part.iter_mut().zip(b) {
        let d = (p.eps)(d);
        if !d.is_zero() {
            *e = e.add_ref(d);
        }
    }
    Some((out_re, eps_part))
}

/// `A·v + b` over dual numbers: `(A·v + b)′ = A·v′ + b′ + A′·v` (the last skipped for constant
/// `A`).
pub(crate) fn affine<T, S: Ring>(
    a: &[T],
    rows: usize,
    cols: usize,
    v: &[T],
    b: &[T],
    p: Parts<T, S>,
) -> Split<S> {
    if let Some(out) = kernel_affine(a, rows, cols, v, b, p) {
        return out;
    }
    let (are, aeps) = parts(a, p);
    let (vre, veps) = parts(v, p);
    let (bre, beps) = parts(b, p);
    let re = S::affine(&are, rows, cols, &vre, &bre);
    let mut eps = match &veps {
        Some(veps) => S::mat_vec(&are, rows, cols, veps),
        None => vec![S::zero(); re.len()],
    };
    if let Some(beps) = beps {
        eps = add(eps, beps);
    }
    if let Some(aeps) = &aeps {
        eps = add(eps, S::mat_vec(aeps, rows, cols, &vre));
    }
    (re, eps)
}
