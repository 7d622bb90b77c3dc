//! Proofs for all inputs of given dimensions: the generic ops evaluated once over [`Sym`],
//! polynomials in symbols for the inputs, weights, tangents and cotangents, and in one mask
//! symbol per guard.
//!
//! A check at points ([`crate::check`]) is exact at the points it samples. A proof here is a
//! statement about every point: the rules and the derivative agree as polynomial identities
//! modulo `m² = m`, and since every mask is 0 or 1 off the kinks, that covers every input and
//! every activation pattern at once (all `2^masks` of them in one evaluation).
//!
//! * [`prove_op`] / [`prove_op!`](crate::prove_op!): any op, user ops included, at its own
//!   weights; [`prove_op_for_all_weights`] with the weights symbolic too.
//! * [`prove_mlp_theorem`], [`prove_deep_mlp_theorem`]: the reference page's theorem,
//!   `backward(x, δ) = mlpDeriv(x)ᵀ·δ`, with every weight, bias, input and cotangent symbolic.
//! * [`linear_regions`]: for a network with numeric weights, its linear regions enumerated
//!   exactly (an exact LP over ℚ per sign pattern) and the rules proved on each.
//!
//! Piecewise ops must choose their piece with [`crate::Ordered::select`]; an op that branches
//! with `if` on a symbolic value gets [`crate::Error::BranchOnSymbol`], never a wrong proof.

mod certificate;
mod failure;
pub(crate) mod lp;
mod mlp;
mod op;
mod regions;

pub use certificate::{Certificate, SymbolCounts, Weights};
pub use failure::ProofFailure;
pub use mlp::{prove_deep_mlp_theorem, prove_mlp_theorem};
pub use op::{prove_op, prove_op_for_all_weights, prove_op_with, ProveConfig};
pub use regions::{linear_regions, Region, RegionReport};

use crate::ops::{Checkable, OpSpec};
use crate::scalar::{Dual, Sym};

/// What a proof asks of an op: the checks' bound ([`Checkable`], for the point check that
/// confirms a counterexample) and its rules over [`Sym`] and `Dual<Sym>`. Every op written
/// generically (`impl<S: Scalar> OpSpec<S>`) is one.
pub trait Provable: Checkable + OpSpec<Sym> + OpSpec<Dual<Sym>> {}
impl<T: Checkable + OpSpec<Sym> + OpSpec<Dual<Sym>> + ?Sized> Provable for T {}

/// Proves an op's rules for every input of a shape ([`prove_op`]), returning the
/// [`Certificate`]; panics with the failure (its monomial and counterexample point) otherwise.
/// For tests beside a rule, like [`crate::check_op!`].
///
/// ```
/// use exactgrad::ops::LeakyRelu;
/// let certificate = exactgrad::prove_op!(LeakyRelu::new("1/10".parse().unwrap()), [2, 2]);
/// assert_eq!(certificate.symbols.masks, 4);
/// ```
#[macro_export]
macro_rules! prove_op {
    ($op:expr, $shape:expr $(,)?) => {
        match $crate::prove::prove_op(&$op, &$shape) {
            Ok(certificate) => certificate,
            Err(failure) => panic!("{failure}"),
        }
    };
}
