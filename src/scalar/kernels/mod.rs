//! Exact kernels for inner products and matrix products over ℚ, behind [`crate::Ring`]'s
//! overridable methods (`dot`, `mat_vec`, `transpose_mat_vec`, `matmul`).
//!
//! A plain `BigRational` loop runs two or three multi-word gcds per multiply–add. These kernels
//! return exactly the same values (tests/kernels.rs checks that property) with far fewer:
//! * [`dyadic`]: every denominator a power of two (exact `f64` values): shifts, no gcd;
//! * [`common_denominator`]: clear denominators per vector, integer dot products, one
//!   normalisation per output entry (FLINT's method);
//! * [`outer`]: outer products with one word-sized side, by word gcds;
//! * [`dual`]: `Dual<S>` products split into products of `S`, so dual-number passes reach the
//!   `Q` kernels too.
//!
//! Both ℚ kernels share [`limbs`]: integers packed once per matrix into flat `u64` limbs and a
//! signed multiply–accumulate loop with no allocation.

mod common_denominator;
pub(crate) mod dual;
mod dyadic;
mod limbs;
mod outer;

pub(crate) use outer::outer;

use super::{Ring, Q};

/// `count` vectors of `len` entries each inside a flat slice: entry `t` of vector `v` is
/// `data[v·vec_stride + t·elem_stride]` (rows of a matrix, or its columns, without copying).
pub(crate) struct View<'a> {
    data: &'a [Q],
    count: usize,
    len: usize,
    vec_stride: usize,
    elem_stride: usize,
}

impl<'a> View<'a> {
    fn at(&self, v: usize, t: usize) -> &'a Q {
        &self.data[v * self.vec_stride + t * self.elem_stride]
    }

    /// The rows of a `rows × cols` row-major matrix.
    fn rows(data: &'a [Q], rows: usize, cols: usize) -> View<'a> {
        View {
            data,
            count: rows,
            len: cols,
            vec_stride: cols,
            elem_stride: 1,
        }
    }

    /// The columns of a `rows × cols` row-major matrix.
    fn columns(data: &'a [Q], rows: usize, cols: usize) -> View<'a> {
        View {
            data,
            count: cols,
            len: rows,
            vec_stride: 1,
            elem_stride: cols,
        }
    }

    fn entries(&self) -> impl Iterator<Item = &'a Q> + '_ {
        (0..self.count).flat_map(move |v| (0..self.len).map(move |t| self.at(v, t)))
    }
}

/// Below this many multiply–adds the plain loop is as fast as packing.
const SMALL: usize = 48;

/// `out[i·b.count + j] = ⟪a_i, b_j⟫`, choosing the kernel by the denominators.
fn products(a: &View<'_>, b: &View<'_>) -> Vec<Q> {
    debug_assert_eq!(a.len, b.len);
    if a.len < 3 || a.count * b.count * a.len < SMALL {
        let mut out = Vec::with_capacity(a.count * b.count);
        for i in 0..a.count {
            for j in 0..b.count {
                let mut acc = Q::default();
                for t in 0..a.len {
                    acc += a.at(i, t) * b.at(j, t);
                }
                out.push(acc);
            }
        }
        return out;
    }
    if a.entries().all(dyadic::is_dyadic) && b.entries().all(dyadic::is_dyadic) {
        dyadic::products(a, b)
    } else {
        common_denominator::products(a, b)
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
    let mut out = products(&View::rows(a, 1, a.len()), &View::rows(b, 1, b.len()));
    out.pop().unwrap_or_default()
}

/// `A·v` for a row-major `rows × cols` matrix `A`.
pub(crate) fn mat_vec(a: &[Q], rows: usize, cols: usize, v: &[Q]) -> Vec<Q> {
    products(&View::rows(a, rows, cols), &View::rows(v, 1, cols))
}

/// `Aᵀ·v` for a row-major `rows × cols` matrix `A`.
pub(crate) fn transpose_mat_vec(a: &[Q], rows: usize, cols: usize, v: &[Q]) -> Vec<Q> {
    products(&View::columns(a, rows, cols), &View::rows(v, 1, rows))
}

/// `A·B` for row-major `A` (`m × k`) and `B` (`k × n`).
pub(crate) fn matmul(a: &[Q], m: usize, k: usize, b: &[Q], n: usize) -> Vec<Q> {
    products(&View::rows(a, m, k), &View::columns(b, k, n))
}

/// The plain loops, shared by [`Ring`]'s default methods.
pub(crate) mod generic {
    use super::Ring;

    /// `A·v` by one [`Ring::dot`] per row.
    pub fn mat_vec<S: Ring>(a: &[S], rows: usize, cols: usize, v: &[S]) -> Vec<S> {
        (0..rows)
            .map(|i| S::dot(&a[i * cols..(i + 1) * cols], v))
            .collect()
    }

    /// `Aᵀ·v`, accumulating scaled rows.
    pub fn transpose_mat_vec<S: Ring>(a: &[S], rows: usize, cols: usize, v: &[S]) -> Vec<S> {
        let mut out = vec![S::zero(); cols];
        if cols == 0 {
            return out;
        }
        for (row, vi) in a.chunks(cols).take(rows).zip(v) {
            for (o, x) in out.iter_mut().zip(row) {
                *o = o.add_ref(&x.mul_ref(vi));
            }
        }
        out
    }

    /// `u·vᵀ`, row-major.
    pub fn outer<S: Ring>(u: &[S], v: &[S]) -> Vec<S> {
        u.iter()
            .flat_map(|a| v.iter().map(move |b| a.mul_ref(b)))
            .collect()
    }

    /// `A·B` by one [`Ring::dot`] per entry, against the columns of `B` copied once.
    pub fn matmul<S: Ring>(a: &[S], m: usize, k: usize, b: &[S], n: usize) -> Vec<S> {
        let cols: Vec<S> = (0..n)
            .flat_map(|j| (0..k).map(move |t| b[t * n + j].clone()))
            .collect();
        let mut out = Vec::with_capacity(m * n);
        for i in 0..m {
            for j in 0..n {
                out.push(S::dot(&a[i * k..(i + 1) * k], &cols[j * k..(j + 1) * k]));
            }
        }
        out
    }
}
