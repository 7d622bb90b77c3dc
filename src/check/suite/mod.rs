//! The one-call checker: every check of this module over many generated inputs, with proptest's
//! shrinking turning a failure into a minimal exact counterexample.
//!
//! ```
//! use exactgrad::check::{check_op, CheckConfig};
//! use exactgrad::{ops::Relu, Compose, strategy, Tensor};
//!
//! // Linear(3→2) >>> ReLU, with weights drawn once from a seed.
//! let layer = strategy::sample(strategy::linear(3, 2, strategy::small_q()), 1);
//! let report = check_op(&layer.then(Relu), &[3], &CheckConfig::default().cases(32)).unwrap();
//! assert_eq!(report.cases, 32);
//! ```
//!
//! In a `#[test]`, [`check_op!`](crate::check_op) does the same, panics with the counterexample
//! on failure, and saves failing seeds next to the test file as `proptest!` does.
//!
//! # What each case runs
//! For an input shape `s` and the op's output shape `t`, a case draws `x` of shape `s` (moved off
//! every kink by [`crate::strategy::nudge_off_kinks`]), tangents `dx₁, dx₂` of shape `s`,
//! cotangents `δ₁, δ₂` of shape `t` and scalars `a, b`; then, in this order, the first failure
//! being the one reported:
//! 1. structural checks ([`super::structural`]): `vjp(x, 0) = 0`, `jvp(x, 0) = 0`; forward, jvp
//!    and vjp give identical values when run twice; the rules give the same values after
//!    `forward` ran at another point `x′` and when called in the other order
//!    ([`super::structural::interleaved`]: a rule reading state an earlier call saved fails, the
//!    calls named); `jvp` linear in `dx`, `vjp` linear in `δ`;
//! 2. [`super::jacobian`]: `jvp(x, dx) = J·dx` and `vjp(x, δ) = Jᵀ·δ` entry by entry, `J` from
//!    `forward` over dual numbers;
//! 3. [`super::adjoint`]: `⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫`;
//! 4. [`super::fderiv`] when [`crate::ops::Op::is_piecewise_linear`]: the derivative from
//!    exact difference quotients inside the certified kink-free box, and `vjp` against it;
//! 5. for an op with parameters ([`crate::ops::Op::params`]), the same structural, Jacobian
//!    and adjoint checks of its parameter rules, on `θ ↦ f_θ(x)` at the op's own `θ` with drawn
//!    parameter tangents `dθ₁, dθ₂` ([`crate::ops::WrtParams`]); a failure names the parameter
//!    by layer, op, tensor and index ([`crate::Counterexample::parameter`]);
//! 6. with [`check_batched`]: batched = looped.
//!
//! After the drawn cases, up to [`CheckConfig::steered_case_count`] cases are **steered** to the
//! thresholds of the op's own comparisons, and three more to the extremes of size (every entry
//! `× 2⁻¹⁰⁰`, `× 2¹⁰⁰`, and with 256-bit numerators and denominators). Every comparison a
//! generic op makes goes through [`crate::Ordered`] (`sign`, `select`, `abs_val`, `max_val`),
//! which records where it was made (`#[track_caller]`) and what it compared
//! ([`crate::scalar::comparisons`]). Along a line through two cases, a compared value that is
//! affine in the case reaches zero at an exact `t*`; the steered cases sit at `t*` and on both
//! sides of it, `2⁻⁶⁴` (relative) away and `2⁶⁴` away, and every one runs the whole table of
//! checks. A failure found there says so ([`CheckFailure::found_by`]). The report lists each
//! comparison with the outcomes reached ([`CheckReport::branches`]); an outcome no case reached
//! (seen only outside the domain counts as reached) is [`crate::Error::UnreachedBranches`]
//! unless [`CheckConfig::allow_unreached_branches`].
//!
//! The input entries come from [`default_elements`] (small fractions, exact values of `f64`s and
//! 128-bit fractions; a tensor of more than 16 entries holds at most 2 of the long ones,
//! [`crate::strategy::size_aware_tensor`]) unless [`CheckConfig::elements`] says otherwise. The seed is fixed
//! ([`DEFAULT_SEED`]) so a run is reproducible; the number of cases is 256, or `PROPTEST_CASES`
//! when set, or [`CheckConfig::cases`].
//!
//! # What a pass means
//! * **Exact at every sampled point.** Each case is an equality of rationals, not "close": at
//!   each of the N points the rules equal the true derivative (`Df(x)·dx`, `Df(x)ᵀ·δ`) exactly.
//!   An error of any size, `2⁻⁶⁰` relative or one unit in one coordinate, fails.
//! * **Beyond the samples, for rational rules (Schwartz–Zippel).** Where the rule and the
//!   reference are rational functions of the inputs (Linear, polynomial elementwise ops, ReLU
//!   networks on a fixed activation pattern, and their compositions), a *wrong* rule differs
//!   from the truth by a non-zero rational function `P/Q`, and it agrees with the truth only
//!   where the polynomial `P` vanishes — a set of measure zero. If the entries are drawn
//!   independently and no value has probability more than `μ`, a non-zero polynomial of degree
//!   `d` vanishes at the drawn point with probability at most `d·μ` (the Schwartz–Zippel lemma;
//!   `μ = 1/|S|` for a uniform draw from a set `S`). So a single case already catches a wrong
//!   rule with probability at least `1 − d·μ`, and `N` independent cases miss it with
//!   probability at most `(d·μ)ᴺ`. For a piecewise op the argument holds on each piece the
//!   sampler reaches.
//! * **Every branch of the rule, on both sides of its thresholds.** A rule wrong only on a piece
//!   random draws miss (an epsilon band beside a kink, a series for tiny `|x|`, past `|x| > 2²⁰`,
//!   inside a tiny interval) compares against that piece's threshold, and the steered cases
//!   land next to it on both sides and far past it, so the wrong piece is run and checked
//!   exactly. Still not covered: a band narrower than `2⁻⁶⁴` of the compared values' scale, a
//!   piece entered only through several thresholds at once that no single line crosses, tests
//!   that are not comparisons (`==`, `is_zero`, the printed length of a number: the extreme
//!   cases catch a rule keyed on long literals only by size), a threshold on a value that is
//!   not rational (`e^x` over [`crate::Ex`] is not steered), and a rule wrong only at isolated
//!   points.
//! * **A rule's error is a verdict.** A rule that answers [`crate::Error::Kink`] or a domain
//!   error where `forward` is defined and no guard is zero fails
//!   ([`crate::Error::RuleRefused`]); only the op's own guards and `forward` decide which
//!   points are redrawn.
//! * **Not covered: points on kinks**, where the derivative does not exist. Inputs are moved off
//!   kinks before checking, and a point that stays on one is redrawn (counted in
//!   [`CheckReport::kinks_redrawn`]), never reported as a rule failure. Ask for kinks with
//!   [`check_kinks`]: it puts points exactly on a kink and checks that every derivative check
//!   names the kink, while the structural checks (which need no derivative) still hold.
//! * **Ops with `exp` and `ln`: exact over [`crate::Ex`].** A run starts over `Q`; when an op
//!   answers [`crate::Error::OutsideField`] there (it needs `e^x` at a rational `x ≠ 0`), the
//!   whole run is repeated over `Ex`, the exponential-polynomial fractions, with entries from
//!   [`default_exp_elements`] unless configured. There the adjoint checks (3 and its
//!   parameter twin) are not formed: their inner products sum a fraction per coordinate, whose
//!   common denominator grows like `3ⁿ`, and the identity follows exactly from check 2. Every verdict is then still an exact equality:
//!   values and derivatives of sigmoid, tanh, softmax, SiLU, ELU and tanh-GELU at rational
//!   points are fractions of sums `Σ cᵢ·e^{rᵢ}`, which are zero only when their terms cancel
//!   (Lindemann–Weierstrass). [`CheckReport::scalar`] says which scalar decided. Logarithms
//!   (log-softmax, cross-entropy, softplus values) are formal symbols; their derivatives have
//!   none, so rule verdicts never rest on them. A difference that only formal logarithms could
//!   make is reported only once certified enclosures separate the two sides, and otherwise as
//!   [`crate::Error::Undecided`], never as a pass or a counterexample. `exp` of a value that is
//!   not rational (a softmax after a sigmoid) is outside the field: a typed
//!   [`crate::Error::OutsideField`] naming the op and the coordinate, not an approximation.
//! * **Points outside the domain** (`ln` of a value `≤ 0`) are redrawn like kinks and counted
//!   in [`CheckReport::outside_domain_redrawn`].
//! * **Not covered: other scalars.** The rules run over `Q` (or `Ex`); a rule that is right
//!   there but overflows or rounds badly over `f64` is a float question, not a derivative one.
//!
//! # Layout
//! One concept per file: `config` (how cases are drawn), `case` (what a case is), `checks` (the
//! table of checks every case runs: one entry per check, so adding a check is one edit),
//! `runner` (the entry points and the proptest loop), `shrink` (the exact simplification after
//! proptest's shrinking), `branches` (the op's comparisons and the outcomes reached), `steer`
//! (the cases steered to their thresholds and the extreme cases), `kinks` ([`check_kinks`]),
//! `poles` ([`check_poles`]), `family` ([`check_family`]) and `report` (what a run returns).

mod branches;
mod case;
mod checks;
mod config;
mod family;
mod kinks;
mod parameters;
mod poles;
mod progress;
mod report;
mod runner;
mod shrink;
mod stages;
mod steer;

pub use branches::BranchCoverage;
pub use case::Case;
pub use config::{
    default_elements, default_exp_elements, CheckConfig, DEFAULT_SEED, DEFAULT_SHRINK_TIME,
};
pub use family::check_family;
pub use kinks::{check_kinks, KinkReport};
pub use poles::{check_poles, PoleReport};
pub use report::{CheckFailure, CheckReport, CheckResult};
pub use runner::{check_at, check_batched, check_op};

pub use crate::ops::Checkable;
