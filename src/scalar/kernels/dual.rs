//! Products of dual numbers as products of their parts, so that `Dual<Q>` passes (reference
//! Jacobians, randomized checks) run on the `Q` kernels:
//! `(A + A′ε)(v + v′ε) = Av + (Av′ + A′v)ε`, skipping `A′v` when `A′ = 0` (lifted constants).

use super::{products, View};
use crate::scalar::{Dual, Ring, Q};
use num_traits::Zero;
use std::any::{Any, TypeId};

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

impl Layout {
    fn views<'a, T>(
        self,
        a: &'a [T],
        b: &'a [T],
        part_a: fn(&T) -> &Q,
        part_b: fn(&T) -> &Q,
    ) -> (View<'a>, View<'a>) {
        let (n_a, n_b) = (a.len(), b.len());
        let (va, vb) = match self {
            Layout::Dot => ((1, n_a, (n_a, 1)), (1, n_b, (n_b, 1))),
            Layout::MatVec(rows, cols) => ((rows, cols, (cols, 1)), (1, cols, (cols, 1))),
            Layout::TransposeMatVec(rows, cols) => ((cols, rows, (1, cols)), (1, rows, (rows, 1))),
            Layout::MatMul(m, k, n) => ((m, k, (k, 1)), (n, k, (1, n))),
        };
        (
            View::projected(a, part_a, va.0, va.1, va.2, None),
            View::projected(b, part_b, vb.0, vb.1, vb.2, None),
        )
    }
}

fn re(d: &Dual<Q>) -> &Q {
    &d.re
}

fn eps(d: &Dual<Q>) -> &Q {
    &d.eps
}

/// `xs` as dual numbers over `Q`, when `S` is `Q`.
fn as_q<S: Ring>(xs: &[Dual<S>]) -> Option<&[Dual<Q>]> {
    if TypeId::of::<S>() != TypeId::of::<Q>() {
        return None;
    }
    // SAFETY: `S` and `Q` are the same type (checked above), so the slices have the same layout.
    Some(unsafe { &*(xs as *const [Dual<S>] as *const [Dual<Q>]) })
}

/// Products of `Dual<Q>` read straight from the parts (no copy of either operand):
/// `re = ⟪a.re, b.re⟫`, `eps = ⟪a.re, b.eps⟫ + ⟪a.eps, b.re⟫`, skipping zero tangents.
fn q_products<S: Ring>(a: &[Dual<S>], b: &[Dual<S>], layout: Layout) -> Option<Vec<Dual<S>>> {
    let (a, b) = (as_q(a)?, as_q(b)?);
    let (ra, rb) = layout.views(a, b, re, re);
    let out_re = products(&ra, &rb);
    let mut out_eps: Option<Vec<Q>> = None;
    if !b.iter().all(|d| d.eps.is_zero()) {
        let (x, y) = layout.views(a, b, re, eps);
        out_eps = Some(products(&x, &y));
    }
    if !a.iter().all(|d| d.eps.is_zero()) {
        let (x, y) = layout.views(a, b, eps, re);
        let more = products(&x, &y);
        out_eps = Some(match out_eps {
            Some(e) => e.into_iter().zip(more).map(|(p, q)| p + q).collect(),
            None => more,
        });
    }
    let out_eps = out_eps.unwrap_or_else(|| vec![Q::zero(); out_re.len()]);
    let joined: Vec<Dual<Q>> = out_re
        .into_iter()
        .zip(out_eps)
        .map(|(r, e)| Dual::new(r, e))
        .collect();
    let boxed: Box<dyn Any> = Box::new(joined);
    Some(*boxed.downcast::<Vec<Dual<S>>>().ok()?)
}

fn parts<S: Ring>(xs: &[Dual<S>]) -> (Vec<S>, Vec<S>, bool) {
    let re = xs.iter().map(|x| x.re.clone()).collect();
    let eps: Vec<S> = xs.iter().map(|x| x.eps.clone()).collect();
    let constant = eps.iter().all(Zero::is_zero);
    (re, eps, constant)
}

fn join<S: Ring>(re: Vec<S>, eps: Vec<S>) -> Vec<Dual<S>> {
    re.into_iter()
        .zip(eps)
        .map(|(r, e)| Dual::new(r, e))
        .collect()
}

fn add<S: Ring>(a: Vec<S>, b: Vec<S>) -> Vec<S> {
    a.into_iter().zip(b).map(|(x, y)| x + y).collect()
}

/// `f(A, v)` for a bilinear product `f` of `S` laid out as `layout`, extended to dual numbers;
/// over `Q` the `Q` kernels read the parts in place.
pub(crate) fn bilinear<S: Ring>(
    a: &[Dual<S>],
    v: &[Dual<S>],
    layout: Option<Layout>,
    f: impl Fn(&[S], &[S]) -> Vec<S>,
) -> Vec<Dual<S>> {
    if let Some(out) = layout.and_then(|l| q_products(a, v, l)) {
        return out;
    }
    let (are, aeps, a_const) = parts(a);
    let (vre, veps, v_const) = parts(v);
    let re = f(&are, &vre);
    let mut eps = if v_const {
        vec![S::zero(); re.len()]
    } else {
        f(&are, &veps)
    };
    if !a_const {
        eps = add(eps, f(&aeps, &vre));
    }
    join(re, eps)
}

/// `A·v + b` over dual numbers: `(A·v + b)′ = A·v′ + b′ + A′·v` (the last skipped for constant
/// `A`). The tangent part is a plain product plus `b′`, so that it reuses the packed `A` of
/// other products instead of packing `[A | b′]` anew.
pub(crate) fn affine<S: Ring>(
    a: &[Dual<S>],
    rows: usize,
    cols: usize,
    v: &[Dual<S>],
    b: &[Dual<S>],
) -> Vec<Dual<S>> {
    if let (Some(aq), Some(vq), Some(bq)) = (as_q(a), as_q(v), as_q(b)) {
        // re: one affine product on the real parts; eps: a product plus b′ (when non-zero).
        let one = [Dual::new(Q::from_integer(1.into()), Q::zero())];
        let out_re = products(
            &View::projected(aq, re, rows, cols, (cols, 1), Some(bq)),
            &View::projected(vq, re, 1, cols, (cols, 1), Some(&one)),
        );
        let a_re = View::projected(aq, re, rows, cols, (cols, 1), None);
        let mut eps_part = products(&a_re, &View::projected(vq, eps, 1, cols, (cols, 1), None));
        if !aq.iter().all(|d| d.eps.is_zero()) {
            let x = View::projected(aq, eps, rows, cols, (cols, 1), None);
            let more = products(&x, &View::projected(vq, re, 1, cols, (cols, 1), None));
            eps_part = eps_part.into_iter().zip(more).map(|(p, q)| p + q).collect();
        }
        for (e, d) in eps_part.iter_mut().zip(bq) {
            if !d.eps.is_zero() {
                *e += &d.eps;
            }
        }
        let joined: Vec<Dual<Q>> = out_re
            .into_iter()
            .zip(eps_part)
            .map(|(r, e)| Dual::new(r, e))
            .collect();
        let boxed: Box<dyn Any> = Box::new(joined);
        if let Ok(out) = boxed.downcast::<Vec<Dual<S>>>() {
            return *out;
        }
    }
    let (are, aeps, a_const) = parts(a);
    let (vre, veps, _) = parts(v);
    let (bre, beps, _) = parts(b);
    let re = S::affine(&are, rows, cols, &vre, &bre);
    let mut eps = add(S::mat_vec(&are, rows, cols, &veps), beps);
    if !a_const {
        eps = add(eps, S::mat_vec(&aeps, rows, cols, &vre));
    }
    join(re, eps)
}
