//! # exactgrad — exact checks of autodiff rules
//!
//! Finite-difference checkers (PyTorch `gradcheck`, JAX `check_grads`) compare floats under a
//! tolerance: a small bug hides under `atol`, and a ReLU kink near the point gives a spurious
//! failure. exactgrad evaluates ops over arbitrary-precision rationals ([`Q`]), so that
//!
//! * adjointness `⟪J·dx, δ⟫ = ⟪dx, Jᵀ·δ⟫` is an *equality*, not "close";
//! * the true derivative is computed independently of the rule under test — by evaluating
//!   `forward` in forward mode ([`Dual`] numbers, or [`Jet`]s carrying every partial at once), and
//!   by an exact difference quotient inside a certified kink-free box;
//! * a point on a kink is detected and named ([`Error::Kink`]), never a silent pass or a
//!   spurious fail; and a wrong rule is reported with an exact [`Counterexample`].
//!
//! It is the executable side of a Lean 4 formalization in which reverse-mode `backward` of a
//! 2-layer MLP is proved equal to the adjoint of the Fréchet derivative; here that theorem is
//! [`check::mlp_theorem`].
//!
//! Data flows one way: [`scalar`] → [`tensor`] → [`ops`] → [`check`] / [`prove`] → [`report`]
//! (`scripts/import_cycles.py` lists any file that imports one which imports it back).
//!
//! ```
//! use exactgrad::check::{adjoint, jacobian, mlp_theorem};
//! use exactgrad::ops::{Linear, Mlp, Relu};
//! use exactgrad::{Compose, Tensor};
//!
//! # fn main() -> exactgrad::Result<()> {
//! let w1 = Tensor::parse(vec![2, 2], &["1/2", "-1", "3", "1/4"])?;
//! let b1 = Tensor::parse(vec![2], &["1/3", "0"])?;
//! let w2 = Tensor::parse(vec![1, 2], &["2", "-5/7"])?;
//! let b2 = Tensor::parse(vec![1], &["0"])?;
//! let x = Tensor::parse(vec![2], &["1", "-1/2"])?;
//! let dy = Tensor::parse(vec![1], &["1"])?;
//!
//! // A network is an op composed from primitives (Lean's `>>>`).
//! let net = Linear::new(w1.clone(), b1.clone())?.then(Relu).then(Linear::new(w2.clone(), b2.clone())?);
//! let dx = Tensor::parse(vec![2], &["1", "1"])?;
//! let proof = adjoint(&net, &x, &dx, &dy)?;
//! assert_eq!(proof.lhs, proof.rhs); // exactly
//! jacobian(&net, &x, &dx, &dy)?; // both rules against the dual-number Jacobian
//!
//! // The reference page's theorem, with every value that proves it.
//! let mlp = Mlp::new(w1, b1, w2, b2)?;
//! let report = mlp_theorem(&mlp, &x, &dy)?;
//! assert_eq!(report.vjp, report.deriv.transpose()?.mat_vec_mul(&dy)?);
//! println!("{report}");
//! # Ok(())
//! # }
//! ```
//!
//! ## Your own op
//!
//! An op stores its parameters once, exactly, as `Tensor<Q>`, names them in [`Op::params`], and
//! implements [`OpSpec<S>`](OpSpec) once, generically, for every `S: Scalar`: its rules for the
//! input and for the parameters. Composition ([`Compose::then`]) chains both, so
//! [`check_op!`] on a network checks the input gradient and every parameter gradient in one
//! call, and names a wrong parameter by layer, op, tensor and index. `examples/custom_op.rs`
//! and README.md show a complete op.
//!
//! ## Ops with `exp` and `ln`
//!
//! Sigmoid, tanh, softmax, cross-entropy, SiLU, softplus, ELU and tanh-GELU are checked exactly
//! too. At a rational point their values and derivatives are fractions of exponential
//! polynomials `Σ cᵢ·e^{rᵢ}` ([`Ex`]), where equality is decided exactly (by the
//! Lindemann–Weierstrass theorem, such a sum is zero only when its terms cancel) and signs are
//! certified by rational enclosures. [`check_op!`] moves to [`Ex`] by itself when an op needs it;
//! where a value leaves the field (`exp` of a sigmoid's output), the answer is a typed
//! [`Error::OutsideField`], never an approximation.
//!
//! ```
//! use exactgrad::{check_op, ops::Sigmoid, Ex, OpSpec, Tensor, Transcendental};
//! let report = check_op!(Sigmoid, [3], exactgrad::check::CheckConfig::default().cases(8));
//! assert_eq!(report.scalar, <Ex as Transcendental>::FIELD);
//! let x = Tensor::parse(vec![1], &["1/3"]).unwrap().lift::<Ex>();
//! assert_eq!(Sigmoid.forward(&x).unwrap().to_string(), "[e^(1/3)/(e^(1/3) + 1)]");
//! ```
//!
//! ## Proofs for all inputs
//!
//! A check is exact at the points it samples; [`prove`] states a rule for **every** input (and
//! weight) of given dimensions. The op's generic code runs once over [`Sym`], polynomials in
//! symbols for the inputs, tangents and cotangents and one mask symbol per guard (`m² = m`), so
//! the identities hold in every activation pattern at once; piecewise ops choose their piece
//! with [`Ordered::select`] for this.
//!
//! ```
//! let certificate = exactgrad::prove_op!(exactgrad::ops::Relu, [4]);
//! assert_eq!(certificate.symbols.masks, 4); // all 2⁴ activation patterns, one evaluation
//! let theorem = exactgrad::prove::prove_mlp_theorem(&[3, 4, 2], &Default::default()).unwrap();
//! assert_eq!(theorem.symbols.weights, 26); // every weight and bias a symbol too
//! ```
//!
//! ## Lean → Rust
//!
//! | Lean (`fderiv-core`) | Rust |
//! |---|---|
//! | `Tensor ℝ s`, `Spec.get2`, `Spec.toVec`, `toVecE` | [`Tensor<S>`](Tensor), [`Tensor::get2`], [`Tensor::to_vec`] |
//! | `Spec.dot`, `inner` (`dot_eq_inner_vec`) | [`Tensor::dot`] |
//! | `map_spec`, `mat_vec_mul_spec`, `Spec.linear_spec` | [`Tensor::map`], [`Tensor::mat_vec_mul`], [`Tensor::linear`] |
//! | `Spec.OpSpec` (forward / jvp / backward) | trait [`OpSpec`], written once for every [`Scalar`]; the checks ask for [`Checkable`] |
//! | `>>>` | [`Compose::then`], [`ops::Then`] |
//! | `OpSpecCorrect` (⟪JVP,δ⟫ = ⟪dx,VJP⟫) | [`check::adjoint`] |
//! | `Spec.relu_op`, `relu_deriv_spec`, `reluFunDeriv` | [`ops::Relu`], [`ops::relu_deriv_spec`] |
//! | `mlpVec`, `mlpDeriv` (W2 ∘ diag(relu′ z1) ∘ W1) | [`ops::Mlp`] (`forward`), [`ops::Mlp::deriv`] |
//! | "no kinks" hypothesis | [`Error::Kink`] naming layer and coordinate |
//! | `HasFDerivAt` / end-to-end soundness | [`check::fderiv`], [`check::mlp_theorem`] |
//! | the theorem for all `x`, `W`, `b`, `δ` (fixed dimensions) | [`prove::prove_mlp_theorem`], [`prove::prove_deep_mlp_theorem`] |

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod budget;
pub mod check;
#[cfg(feature = "cli")]
pub mod cli;
pub mod error;
pub mod import;
pub mod ops;
pub mod prove;
pub mod report;
pub mod scalar;
pub mod strategy;
pub mod tape;
pub mod tensor;

pub use budget::{Budget, Estimate};
pub use error::{Counterexample, Error, Result, UnreachedBranch};
pub use ops::{Checkable, Compose, Op, OpSpec, Param};
pub use scalar::Jet;
pub use scalar::ModP;
pub use scalar::{
    parse_q, Dual, Ex, Field, FunctionError, Ordered, Ring, Rounded, Scalar, Sym, Transcendental, Q,
};
pub use tensor::{Lifted, Tensor};

/// The proptest this crate is built with, so that a user's own property tests and strategies
/// (`exactgrad::strategy` returns proptest strategies) need no second, possibly mismatched,
/// dependency: `use exactgrad::proptest::prelude::*;`.
pub use proptest;

/// README.md's code blocks, run as doctests so that the README cannot drift from the crate.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
