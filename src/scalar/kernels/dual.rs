//! Products of dual numbers as products of their parts, so that `Dual<Q>` passes (reference
//! Jacobians, randomized checks) run on the `Q` kernels:
//! `(A + A′ε)(v + v′ε) = Av + (Av′ + A′v)ε`, skipping `A′v` when `A′ = 0` (lifted constants).

use crate::scalar::{Dual, Ring};
use num_traits::Zero;

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

/// `f(A, v)` for a bilinear product `f` of `S`, extended to dual numbers.
pub(crate) fn bilinear<S: Ring>(
    a: &[Dual<S>],
    v: &[Dual<S>],
    f: impl Fn(&[S], &[S]) -> Vec<S>,
) -> Vec<Dual<S>> {
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
