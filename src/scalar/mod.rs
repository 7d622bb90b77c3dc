//! Number traits, layered so that each op asks only for what it needs.
//!
//! * [`Ring`]: `+ − ×` — enough for linear maps and their JVP/VJP.
//! * [`Field`]: adds exact division — difference quotients, means, radii — and the rationals
//!   ([`Field::from_q`]), so an op's exact parameters are constants of every scalar.
//! * [`Ordered`]: a sign — enough for piecewise ops such as ReLU.
//! * [`Transcendental`]: `exp` and `ln` where the scalar represents them, a typed refusal where
//!   it does not.
//!
//! Instances: [`Q`] (`BigRational`, the exact default), [`Ex`] (exponential-polynomial
//! fractions: exact `exp`, formal `ln`), [`Sym`] (fractions of polynomials in symbols and mask
//! symbols: one evaluation covers every input), `f64`, [`Dual<S>`], and [`Jet<S>`] (a value
//! with a whole row of partials: one forward pass gives a Jacobian).

pub mod comparisons;
mod dual;
mod enclosure;
mod exp_field;
mod exp_poly;
mod float;
mod float_filter;
mod jet;
pub(crate) mod kernels;
pub mod modular;
mod poly;
mod rational;
mod rounding;
mod symbolic;
pub mod symbols;
mod tangent;
mod transcendental;

pub use dual::Dual;
pub use exp_field::Ex;
pub use exp_poly::ExpPoly;
pub use jet::Jet;
pub use kernels::Vectors;
pub use modular::ModP;
pub use poly::{is_mask, Monomial, Poly, Var};
pub(crate) use rational::pow2;
pub use rational::{exact_string, parse_q, MAX_EXPONENT, Q};
pub use rounding::Rounded;
pub use symbolic::Sym;
pub use transcendental::{FunctionError, Transcendental};

use num_traits::{One, Zero};
use std::cmp::Ordering;
use std::fmt::{Debug, Display};
use std::ops::{Add, Mul, Neg, Sub};

/// Runs `f` with the exact kernels remembering the packed (denominator-cleared) form of each
/// matrix they meet, so that a check evaluating the same weights in many passes (forward, dual
/// numbers, rules, difference quotients) packs them once. Entries are reused only for a matrix
/// with exactly the same values, and dropped when the outermost scope returns; results are
/// identical with or without it.
///
/// Every check in [`crate::check`] already opens this scope, so a single check call gets the
/// speed without it. Open it yourself around several calls that share weights (a benchmark
/// loop, a sweep over points): scopes nest, and an inner scope reuses the outer cache.
pub fn with_kernel_cache<R>(f: impl FnOnce() -> R) -> R {
    kernels::with_pack_cache(f)
}

/// A commutative ring with arithmetic by reference.
///
/// The `*_ref` methods exist because a `for<'a> &'a Self: Add<…>` bound is not carried by a
/// trait to its users; they let big numbers be combined without cloning the operands.
pub trait Ring:
    Clone
    + PartialEq
    + Debug
    + Display
    + Zero
    + One
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
    + 'static
{
    /// `self + rhs` without consuming either side.
    fn add_ref(&self, rhs: &Self) -> Self;
    /// `self − rhs` without consuming either side.
    fn sub_ref(&self, rhs: &Self) -> Self;
    /// `self × rhs` without consuming either side.
    fn mul_ref(&self, rhs: &Self) -> Self;
    /// `−self` without consuming it.
    fn neg_ref(&self) -> Self;
    /// The integer `n` as a ring element.
    fn from_i64(n: i64) -> Self;

    /// [`Ring::from_i64`] of each entry. Overridable like [`Ring::mat_vec`]: random probes are
    /// drawn as integers and converted in one call.
    fn from_i64_slice(ns: &[i64]) -> Vec<Self> {
        ns.iter().map(|&n| Self::from_i64(n)).collect()
    }

    /// Σᵢ aᵢ·bᵢ. Instances may override this with a faster exact kernel; the result must be the
    /// same value the plain loop gives.
    fn dot(a: &[Self], b: &[Self]) -> Self {
        assert_eq!(
            a.len(),
            b.len(),
            "dot of lengths {} and {}",
            a.len(),
            b.len()
        );
        a.iter()
            .zip(b)
            .fold(Self::zero(), |acc, (x, y)| acc + x.mul_ref(y))
    }

    /// `A·v` for a row-major `rows × cols` matrix `A` (slices of matching lengths). Instances may
    /// override this with a faster exact kernel giving the same values.
    fn mat_vec(a: &[Self], rows: usize, cols: usize, v: &[Self]) -> Vec<Self> {
        generic::mat_vec(a, rows, cols, v)
    }

    /// `Aᵀ·v` for a row-major `rows × cols` matrix `A`, without forming the transpose.
    /// Overridable like [`Ring::mat_vec`].
    fn transpose_mat_vec(a: &[Self], rows: usize, cols: usize, v: &[Self]) -> Vec<Self> {
        generic::transpose_mat_vec(a, rows, cols, v)
    }

    /// `A·B` for row-major `A` (`m × k`) and `B` (`k × n`). Overridable like [`Ring::mat_vec`].
    fn matmul(a: &[Self], m: usize, k: usize, b: &[Self], n: usize) -> Vec<Self> {
        generic::matmul(a, m, k, b, n)
    }

    /// `A·v + b` for a row-major `rows × cols` matrix `A` (an affine layer). Overridable like
    /// [`Ring::mat_vec`].
    fn affine(a: &[Self], rows: usize, cols: usize, v: &[Self], b: &[Self]) -> Vec<Self> {
        generic::affine(a, rows, cols, v, b)
    }

    /// The outer product `u·vᵀ`, row-major (`len u × len v`). Overridable like
    /// [`Ring::mat_vec`].
    fn outer(u: &[Self], v: &[Self]) -> Vec<Self> {
        generic::outer(u, v)
    }

    /// `a·u + b·w`, entry by entry (over the shorter of `u` and `w`). Overridable like
    /// [`Ring::mat_vec`]: the linearity checks combine parameter-sized vectors with it.
    fn combination(a: &Self, u: &[Self], b: &Self, w: &[Self]) -> Vec<Self> {
        u.iter()
            .zip(w)
            .map(|(p, q)| a.mul_ref(p).add_ref(&b.mul_ref(q)))
            .collect()
    }

    /// `⟪a_i, b_j⟫` for every vector `a_i` of `a` and `b_j` of `b` (of equal lengths), at
    /// `i·b.count() + j`, reading the entries in place; `None` when the scalar has no kernel for
    /// it, which is the default.
    ///
    /// This is the hook through which `Dual<Self>` and `Jet<Self>` reach a fast kernel of
    /// `Self`: they hand over views of their real and tangent parts instead of copying them
    /// out. On `None` they copy the parts and use the slice methods above, so an instance that
    /// returns `Some` must give exactly the values of the plain loop.
    fn products(a: &Vectors<'_, Self>, b: &Vectors<'_, Self>) -> Option<Vec<Self>> {
        let _ = (a, b);
        None
    }
}

/// The plain loops, shared by [`Ring`]'s default methods.
mod generic {
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

    /// `A·v + b` by [`Ring::mat_vec`] and a sum.
    pub fn affine<S: Ring>(a: &[S], rows: usize, cols: usize, v: &[S], b: &[S]) -> Vec<S> {
        S::mat_vec(a, rows, cols, v)
            .into_iter()
            .zip(b)
            .map(|(x, y)| x + y.clone())
            .collect()
    }

    /// `u·vᵀ`, row-major.
    pub fn outer<S: Ring>(u: &[S], v: &[S]) -> Vec<S> {
        // Sized up front: a flat_map's collect cannot know its length and grows by copying.
        let mut out = Vec::with_capacity(u.len() * v.len());
        for a in u {
            out.extend(v.iter().map(|b| a.mul_ref(b)));
        }
        out
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

/// A field: a ring with division by every non-zero element.
pub trait Field: Ring {
    /// `self / rhs`, or `None` when `rhs` is zero (never a panic).
    fn checked_div(&self, rhs: &Self) -> Option<Self>;

    /// The rational `q` in this field: how an op's exact parameters become constants of the
    /// scalar it is evaluated over (itself over `Q`, the nearest float over `f64`, a constant
    /// with zero tangent over `Dual` and `Jet`).
    // Spelled `BigRational` (what `Q` names) so that this trait does not depend on the module
    // that implements it for `Q`.
    fn from_q(q: &num_rational::BigRational) -> Self;

    /// [`Field::from_q`] of each entry (an op's weights, lifted once per check). Overridable
    /// like [`Ring::mat_vec`].
    fn from_q_slice(qs: &[num_rational::BigRational]) -> Vec<Self> {
        qs.iter().map(Self::from_q).collect()
    }

    /// [`Field::from_q_slice`] of values that `name` names for the life of the process (a
    /// tensor's id: its values never change), so that a scalar may keep work that does not
    /// depend on anything but the values, across checks. [`crate::scalar::ModP`] keeps the
    /// small numerators, denominators and float enclosures of large weight tensors converted
    /// more than once: the prime changes per check, the rest does not.
    fn from_q_named(qs: &[num_rational::BigRational], name: u64) -> Vec<Self> {
        let _ = name;
        Self::from_q_slice(qs)
    }
}

/// A sign, for piecewise ops. On dual numbers only the real part is looked at, so that branching
/// follows the point while tangents ride along.
pub trait Ordered: Ring {
    /// The sign of `self` (of its real part for dual numbers) compared with zero.
    ///
    /// Piecewise ops should branch through [`Ordered::select`] instead: a symbolic scalar
    /// ([`Sym`]) cannot answer `sign` for a non-constant value, and records the attempt so that
    /// a proof names the op that branched.
    ///
    /// `#[track_caller]` (inherited by every instance) lets [`comparisons`] record where the
    /// comparison was made, for the checker's branch coverage.
    #[track_caller]
    fn sign(&self) -> Ordering;

    /// `Σ_t |a_{i,t}|` for every row `i` of a row-major `rows × cols` matrix (ℓ₁ norms of
    /// gradients, for the kink radius). Overridable like [`Ring::mat_vec`], with the same values.
    fn abs_row_sums(a: &[Self], rows: usize, cols: usize) -> Vec<Self> {
        let abs: Vec<Self> = a.iter().map(Self::abs_val).collect();
        Self::mat_vec(&abs, rows, cols, &vec![Self::one(); cols])
    }

    /// The signs of the entries of `A·v + b` (`A` row-major `rows × cols`) that this scalar can
    /// certify without computing the entries, `None` for the others; a certified sign is never
    /// `Equal`. Over `Q` a float filter decides most of them (a ReLU layer's activation pattern
    /// then costs no exact product); the default decides none. Not recorded as comparisons:
    /// only closed forms use it, never an op's rules.
    fn affine_signs(
        a: &[Self],
        rows: usize,
        cols: usize,
        v: &[Self],
        b: &[Self],
    ) -> Vec<Option<Ordering>> {
        let _ = (a, cols, v, b);
        vec![None; rows]
    }

    /// Whether [`Ordered::select`] is decided by the guard's sign, picking one whole operand.
    /// Symbolic scalars answer `false`: their selection blends both operands with a mask
    /// symbol, so wrappers ([`Dual`], [`Jet`]) must select component by component.
    const DECIDES_SIGNS: bool = true;

    /// `if_positive` where `guard > 0`, `otherwise` where `guard ≤ 0` — the one way a
    /// piecewise op chooses its piece (`where` in array libraries).
    ///
    /// Over `Q`, `f64` and `Ex` it decides by [`Ordered::sign`]; over `Dual` and `Jet` by the
    /// real part, with the tangents of the chosen operand; over [`Sym`] it returns
    /// `m·if_positive + (1 − m)·otherwise` with a mask symbol `m` standing for `guard > 0`, so
    /// that one evaluation covers every activation pattern.
    #[track_caller]
    fn select(guard: &Self, if_positive: Self, otherwise: Self) -> Self {
        if guard.sign() == Ordering::Greater {
            if_positive
        } else {
            otherwise
        }
    }

    /// `|self|`, through [`Ordered::select`].
    #[track_caller]
    fn abs_val(&self) -> Self {
        Self::select(self, self.clone(), self.neg_ref())
    }

    /// The larger of two values, through [`Ordered::select`] on `other − self` (`self` on a
    /// tie).
    #[track_caller]
    fn max_val(&self, other: &Self) -> Self {
        Self::select(&other.sub_ref(self), other.clone(), self.clone())
    }
}

/// Everything the checks need: exact field operations, a sign, and `exp`/`ln` (or a typed
/// refusal).
pub trait Scalar: Field + Ordered + Transcendental {}
impl<T: Field + Ordered + Transcendental> Scalar for T {}
