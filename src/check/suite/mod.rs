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
//!    and vjp give identical values when run twice; `jvp` linear in `dx`, `vjp` linear in `δ`;
//! 2. [`super::jacobian`]: `jvp(x, dx) = J·dx` and `vjp(x, δ) = Jᵀ·δ` entry by entry, `J` from
//!    `forward` over dual numbers;
//! 3. [`super::adjoint`]: `⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫`;
//! 4. [`super::fderiv`] when [`Op::is_piecewise_linear`]: the derivative from exact difference
//!    quotients inside the certified kink-free box, and `vjp` against it;
//! 5. with [`check_batched`]: batched = looped.
//!
//! The input entries come from [`default_elements`] (small fractions, exact values of `f64`s and
//! 128-bit fractions) unless [`CheckConfig::elements`] says otherwise. The seed is fixed
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
//!   sampler reaches: a rule wrong only on a piece never drawn (a hidden unit never active at
//!   the drawn points), or only at isolated points, can pass.
//! * **Not covered: points on kinks**, where the derivative does not exist. Inputs are moved off
//!   kinks before checking, and a point that stays on one is redrawn (counted in
//!   [`CheckReport::kinks_redrawn`]), never reported as a rule failure. Ask for kinks with
//!   [`check_kinks`]: it puts points exactly on a kink and checks that every derivative check
//!   names the kink, while the structural checks (which need no derivative) still hold.
//! * **Not covered: other scalars.** The rules run over `Q`; a rule that is right over `Q` but
//!   overflows or rounds badly over `f64` is a float question, not a derivative one.

use super::structural::{
    batched_equals_looped, deterministic, linear_in_cotangent, linear_in_tangent, zero_tangents,
};
use super::{adjoint, fderiv, jacobian, no_kinks};
use crate::error::{Counterexample, Error, Result};
use crate::ops::{Op, OpSpec};
use crate::scalar::{Dual, Jet, Q};
use crate::strategy::{f64_q, huge_q, nudge_off_kinks, onto_kink, small_q, tensor};
use crate::tensor::Tensor;
use num_traits::{One, Signed, Zero};
use proptest::prelude::*;
use proptest::test_runner::{
    Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};
use std::cell::Cell;
use std::fmt;

/// An op the checker can run: its rules over `Q` (the verdicts) and its forward pass over
/// `Dual<Q>` and `Jet<Q>` (the reference derivatives). Every op of the crate is one.
pub trait Checkable: OpSpec<Q> + OpSpec<Dual<Q>> + OpSpec<Jet<Q>> {}
impl<T: OpSpec<Q> + OpSpec<Dual<Q>> + OpSpec<Jet<Q>> + ?Sized> Checkable for T {}

/// Proptest's shrinking budget. Fixed (proptest's default scales with the number of cases, and
/// reads `PROPTEST_MAX_SHRINK_ITERS`) so that the minimal counterexample of a failing rule
/// depends on the seed only, not on how many cases were asked for.
const SHRINK_ITERS: u32 = 1024;

/// The seed of every run unless [`CheckConfig::seed`] changes it.
pub const DEFAULT_SEED: u64 = 0x00e4_ac79_7ad0;

/// The checker's default entries: mostly small fractions `p/q` (`|p|, q ≤ 9`), then exact values
/// of `f64`s in `[-2, 2]`, then 128-bit fractions (6 : 2 : 1) — every kind of exactness a float
/// checker lacks, weighted so that a case stays cheap.
pub fn default_elements() -> impl Strategy<Value = Q> + Clone {
    prop_oneof![6 => small_q(), 2 => f64_q(), 1 => huge_q(128)]
}

/// How a check run draws its cases.
#[derive(Clone, Debug)]
pub struct CheckConfig {
    cases: Option<u32>,
    seed: u64,
    regressions: Option<&'static str>,
    elements: BoxedStrategy<Q>,
}

impl Default for CheckConfig {
    /// 256 cases (or `PROPTEST_CASES`), [`DEFAULT_SEED`], entries from [`default_elements`],
    /// no regression file.
    fn default() -> Self {
        CheckConfig {
            cases: None,
            seed: DEFAULT_SEED,
            regressions: None,
            elements: default_elements().boxed(),
        }
    }
}

impl CheckConfig {
    /// Run `n` cases (overrides `PROPTEST_CASES`).
    pub fn cases(mut self, n: u32) -> Self {
        self.cases = Some(n);
        self
    }

    /// Draw cases from `seed` instead of [`DEFAULT_SEED`].
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Save failing seeds, and replay saved ones first, in proptest's regression file for the
    /// source file `source` (pass `file!()`): `proptest-regressions/…` beside `src/`, or
    /// `tests/NAME.proptest-regressions` for an integration test. Commit those files.
    pub fn regressions(mut self, source: &'static str) -> Self {
        self.regressions = Some(source);
        self
    }

    /// Draw every entry of `x`, `dx`, `δ` (and `a`, `b`) from `elements`.
    pub fn elements(mut self, elements: impl Strategy<Value = Q> + 'static) -> Self {
        self.elements = elements.boxed();
        self
    }

    /// The number of cases a run will pass before declaring success.
    pub fn case_count(&self) -> u32 {
        self.cases.unwrap_or_else(|| Config::default().cases)
    }

    fn runner(&self) -> TestRunner {
        let mut config = Config {
            cases: self.case_count(),
            failure_persistence: None,
            source_file: self.regressions,
            max_shrink_iters: SHRINK_ITERS,
            ..Config::default()
        };
        if self.regressions.is_some() {
            config.failure_persistence = Some(Box::new(FileFailurePersistence::default()));
        }
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&self.seed.to_le_bytes());
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
    }
}

/// One generated case: the point, two tangents, two cotangents and two scalars (for the
/// linearity checks). Its `Debug` form is exact, so a regression file records it readably.
#[derive(Clone, PartialEq)]
pub struct Case {
    /// The point `x`.
    pub x: Tensor<Q>,
    /// The tangent `dx` (`dx₁`).
    pub dx: Tensor<Q>,
    /// A second tangent `dx₂`.
    pub dx2: Tensor<Q>,
    /// The cotangent `δ` (`δ₁`).
    pub dy: Tensor<Q>,
    /// A second cotangent `δ₂`.
    pub dy2: Tensor<Q>,
    /// The scalar `a`.
    pub a: Q,
    /// The scalar `b`.
    pub b: Q,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "x = {}, dx = {}, dx₂ = {}, δ = {}, δ₂ = {}, a = {}, b = {}",
            self.x, self.dx, self.dx2, self.dy, self.dy2, self.a, self.b
        )
    }
}

/// What a passing run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// The op's name.
    pub op: String,
    /// The input shape.
    pub input_shape: Vec<usize>,
    /// The output shape.
    pub output_shape: Vec<usize>,
    /// Cases that passed every check.
    pub cases: u32,
    /// Drawn points that stayed on a kink after nudging and were drawn again (not failures).
    pub kinks_redrawn: u32,
    /// The checks run at every case, in order.
    pub checks: Vec<&'static str>,
    /// The seed.
    pub seed: u64,
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {:?} → {:?}: {} cases pass exactly (seed {:#x}; {} points on kinks redrawn)",
            self.op, self.input_shape, self.output_shape, self.cases, self.seed, self.kinks_redrawn
        )?;
        for check in &self.checks {
            writeln!(f, "  ✓ {check}")?;
        }
        Ok(())
    }
}

/// A check run's outcome: the report, or the (boxed) failure.
pub type CheckResult<T> = std::result::Result<T, Box<CheckFailure>>;

/// A failing run: the error at the minimal case proptest's shrinking found.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckFailure {
    /// The op's name.
    pub op: String,
    /// The error at the minimal case: [`Error::Violated`] with the exact counterexample for a
    /// wrong rule; a typed error for bad setup (shapes) or a rule returning a wrongly shaped
    /// tensor.
    pub error: Error,
    /// The minimal case, printed exactly (`None` when the setup itself failed).
    pub case: Option<String>,
    /// How many cases passed before the first failing one.
    pub passed_before: u32,
    /// The seed.
    pub seed: u64,
}

impl CheckFailure {
    /// The exact counterexample, when the failure is a violated identity.
    pub fn counterexample(&self) -> Option<&Counterexample> {
        match &self.error {
            Error::Violated(c) => Some(c),
            _ => None,
        }
    }

    fn setup(op: String, error: Error, seed: u64) -> Box<Self> {
        Box::new(CheckFailure {
            op,
            error,
            case: None,
            passed_before: 0,
            seed,
        })
    }
}

impl fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.case {
            None => write!(f, "{}: cannot be checked: {}", self.op, self.error),
            Some(case) => {
                writeln!(
                    f,
                    "{} fails (after {} passing cases, seed {:#x}); minimal exact \
                     counterexample:",
                    self.op, self.passed_before, self.seed
                )?;
                writeln!(f, "{}", self.error)?;
                write!(f, "case: {case}")
            }
        }
    }
}

impl std::error::Error for CheckFailure {}

/// Checks `op` on inputs of `shape` over the configured number of cases (see the module docs).
///
/// `Ok` with a report when every case passes; otherwise the minimal exact counterexample.
pub fn check_op<O: Checkable + ?Sized>(
    op: &O,
    shape: &[usize],
    config: &CheckConfig,
) -> CheckResult<CheckReport> {
    run_suite(op, shape, config, None)
}

/// [`check_op`] for an op over a batch — inputs `[B, …]` — that must treat each sample
/// independently: every case also checks that `batched` equals `single` applied to each sample
/// and stacked ([`super::batched_equals_looped`]). `shape` includes the batch dimension.
pub fn check_batched<B: Checkable + ?Sized, O: Checkable>(
    batched: &B,
    single: &O,
    shape: &[usize],
    config: &CheckConfig,
) -> CheckResult<CheckReport> {
    run_suite(batched, shape, config, Some(single))
}

/// [`check_op`] at one fixed point `x`: only the tangents, cotangents and scalars are drawn.
///
/// For an op whose rules are only defined at one point — [`crate::ops::WrtParams`], the op as a
/// function of its parameters, evaluated at its own parameters — and for a point a user cares
/// about. A point on a kink is a setup failure ([`Error::Kink`]).
pub fn check_at<O: Checkable + ?Sized>(
    op: &O,
    x: &Tensor<Q>,
    config: &CheckConfig,
) -> CheckResult<CheckReport> {
    let op_ref = &op;
    no_kinks(op_ref, x).map_err(|e| CheckFailure::setup(op.name(), e, config.seed))?;
    run_suite_with(op, x.shape(), config, None, (Just(x.clone()), true))
}

/// The output shape, or a setup failure.
fn output_shape<O: Op + ?Sized>(
    op: &O,
    shape: &[usize],
    config: &CheckConfig,
) -> CheckResult<Vec<usize>> {
    op.output_shape(shape)
        .map_err(|e| CheckFailure::setup(op.name(), e, config.seed))
}

/// The generated inputs of one case, `x` drawn by `xs`.
fn cases<X: Strategy<Value = Tensor<Q>>>(
    xs: X,
    shape: &[usize],
    out: &[usize],
    elem: &BoxedStrategy<Q>,
) -> impl Strategy<Value = Case> {
    let t = |s: &[usize]| tensor(s.to_vec(), elem.clone());
    (
        xs,
        t(shape),
        t(shape),
        t(out),
        t(out),
        elem.clone(),
        elem.clone(),
    )
        .prop_map(|(x, dx, dx2, dy, dy2, a, b)| Case {
            x,
            dx,
            dx2,
            dy,
            dy2,
            a,
            b,
        })
}

fn run_suite<O: Checkable + ?Sized>(
    op: &O,
    shape: &[usize],
    config: &CheckConfig,
    looped: Option<&dyn Checkable>,
) -> CheckResult<CheckReport> {
    let xs = tensor(shape.to_vec(), config.elements.clone()).prop_map(|x| nudge_off_kinks(op, x));
    run_suite_with(op, shape, config, looped, (xs, false))
}

fn run_suite_with<O: Checkable + ?Sized, X: Strategy<Value = Tensor<Q>>>(
    op: &O,
    shape: &[usize],
    config: &CheckConfig,
    looped: Option<&dyn Checkable>,
    (xs, fixed_point): (X, bool),
) -> CheckResult<CheckReport> {
    let out = output_shape(op, shape, config)?;
    let strategy = cases(xs, shape, &out, &config.elements);
    let (passed, kinks) = run(op.name(), &strategy, config, (|c| c, fixed_point), |case| {
        check_case(op, case, looped)
    })?;
    let mut checks = vec![
        "structural: vjp(x, 0) = 0 and jvp(x, 0) = 0",
        "structural: forward, jvp, vjp run twice give identical values",
        "structural: jvp linear in dx, vjp linear in δ",
        "jacobian: jvp(x, dx) = J·dx, vjp(x, δ) = Jᵀ·δ (J by dual numbers)",
        "adjoint: ⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫",
    ];
    if op.is_piecewise_linear() {
        checks.push("fderiv: exact increment in the kink-free box, vjp = Df(x)ᵀ·δ");
    }
    if looped.is_some() {
        checks.push("structural: batched = looped (forward, jvp, vjp)");
    }
    Ok(CheckReport {
        op: op.name(),
        input_shape: shape.to_vec(),
        output_shape: out,
        cases: passed,
        kinks_redrawn: kinks,
        checks,
        seed: config.seed,
    })
}

/// Every check at one case; `Err(Error::Kink)` means "not checkable here", not a failure.
fn check_case<O: Checkable + ?Sized>(
    op: &O,
    case: &Case,
    looped: Option<&dyn Checkable>,
) -> Result<()> {
    let Case {
        x,
        dx,
        dx2,
        dy,
        dy2,
        ..
    } = case;
    // The checks take a sized op; `&O` is one whatever `O` is.
    let op = &op;
    no_kinks(op, x)?;
    structural(op, case)?;
    jacobian(op, x, dx, dy)?;
    adjoint(op, x, dx, dy)?;
    if op.is_piecewise_linear() {
        fderiv(op, x, dy)?;
    }
    if let Some(single) = looped {
        batched_equals_looped::<Q, _, _>(op, single, x, dx, dy)?;
        batched_equals_looped::<Q, _, _>(op, single, x, dx2, dy2)?;
    }
    Ok(())
}

/// The structural checks, which need no derivative and so hold at kinks too.
fn structural<O: OpSpec<Q> + ?Sized>(op: &O, case: &Case) -> Result<()> {
    let Case {
        x,
        dx,
        dx2,
        dy,
        dy2,
        a,
        b,
    } = case;
    zero_tangents(op, x)?;
    deterministic(op, x, dx, dy)?;
    linear_in_tangent(op, x, [dx, dx2], [a, b])?;
    linear_in_cotangent(op, x, [dy, dy2], [a, b])
}

/// Runs `test` over `strategy` with the configured runner. A case whose test returns
/// [`Error::Kink`] is rejected (drawn again) and counted; any other error fails the case. The
/// failing case is shrunk by proptest, then simplified further by [`simplify`], and re-checked
/// to return its structured error.
fn run<T: fmt::Debug + Clone, St: Strategy<Value = T>>(
    op: String,
    strategy: &St,
    config: &CheckConfig,
    (case_of, fixed_point): (impl Fn(&mut T) -> &mut Case, bool),
    test: impl Fn(&T) -> Result<()>,
) -> CheckResult<(u32, u32)> {
    let passed = Cell::new(0u32);
    let kinks = Cell::new(0u32);
    let failed = Cell::new(false);
    let mut runner = config.runner();
    let outcome = runner.run(strategy, |case| match test(&case) {
        Ok(()) => {
            if !failed.get() {
                passed.set(passed.get() + 1);
            }
            Ok(())
        }
        Err(Error::Kink { .. }) => {
            if !failed.get() {
                kinks.set(kinks.get() + 1);
            }
            Err(TestCaseError::reject("the point is on a kink"))
        }
        Err(e) => {
            failed.set(true);
            Err(TestCaseError::fail(e.to_string()))
        }
    });
    match outcome {
        Ok(()) => Ok((passed.get(), kinks.get())),
        Err(TestError::Fail(reason, case)) => {
            // Rules are re-run on the minimal case to return the error as a value; a rule that
            // passes the second time is not deterministic, and the first message is kept.
            let (case, error) = match test(&case) {
                Err(e) => {
                    let failure = kind(&e);
                    let fails = |t: &T| test(t).is_err_and(|e| kind(&e) == failure);
                    let case = simplify(case, &case_of, fails, fixed_point);
                    let error = test(&case).err().unwrap_or(e);
                    (case, error)
                }
                Ok(()) => (
                    case,
                    Error::Malformed(format!(
                        "the rule failed once and passed when run again on the same case: \
                         {reason}"
                    )),
                ),
            };
            Err(Box::new(CheckFailure {
                op,
                error,
                case: Some(format!("{case:?}")),
                passed_before: passed.get(),
                seed: config.seed,
            }))
        }
        Err(TestError::Abort(reason)) => Err(CheckFailure::setup(
            op,
            Error::Malformed(format!(
                "gave up after {} points on kinks ({reason}): the op has a kink on a whole \
                 neighbourhood of the drawn points",
                kinks.get()
            )),
            config.seed,
        )),
    }
}

/// What kind of failure an error is, for simplification to keep: the identity that failed, or
/// the error variant.
fn kind(e: &Error) -> String {
    match e {
        Error::Violated(c) => c.check.clone(),
        other => format!("{:?}", std::mem::discriminant(other)),
    }
}

/// How complex a rational is, for simplification: the bits of its numerator and denominator,
/// then its sign (so `1` is simpler than `−1`).
fn size(v: &Q) -> (u64, bool) {
    (v.numer().bits() + v.denom().bits(), v < &Q::zero())
}

/// Simpler values to try in place of `v`, each strictly smaller by [`size`]: 0, 1, −1, the
/// integer part and `|v|`.
fn candidates(v: &Q) -> Vec<Q> {
    let mut out: Vec<Q> = Vec::new();
    for c in [Q::zero(), Q::one(), -Q::one(), v.trunc(), v.abs()] {
        if size(&c) < size(v) && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Proptest shrinks each component of a case in turn and stops at the first component it cannot
/// shrink further, so a case may keep large entries the failure does not need. This pass
/// finishes the job greedily and exactly: for every tensor of the case, try it all-zero, then
/// each entry replaced by a simpler value ([`candidates`]); keep every change under which the
/// case still fails the same way (same identity; a point on a kink never counts); repeat until
/// nothing changes. It terminates because every accepted change strictly decreases one entry's
/// [`size`] and leaves the others alone. With `fixed_point` the point `x` is left alone ([`check_at`]).
fn simplify<T: Clone>(
    mut value: T,
    case_of: impl Fn(&mut T) -> &mut Case,
    fails: impl Fn(&T) -> bool,
    fixed_point: bool,
) -> T {
    type Field = fn(&mut Case) -> &mut Tensor<Q>;
    let fields: [Field; 5] = [
        |c| &mut c.x,
        |c| &mut c.dx,
        |c| &mut c.dx2,
        |c| &mut c.dy,
        |c| &mut c.dy2,
    ];
    let mut changed = true;
    while changed {
        changed = false;
        for field in fields.into_iter().skip(fixed_point as usize) {
            let current = field(case_of(&mut value)).clone();
            if current.data().iter().any(|v| !v.is_zero()) {
                let mut trial = value.clone();
                *field(case_of(&mut trial)) = Tensor::zeros(current.shape());
                if fails(&trial) {
                    value = trial;
                    changed = true;
                    continue;
                }
            }
            for k in 0..current.len() {
                let entry = field(case_of(&mut value)).data()[k].clone();
                for c in candidates(&entry) {
                    let mut trial = value.clone();
                    let t = field(case_of(&mut trial));
                    let mut data = t.data().to_vec();
                    data[k] = c;
                    *t = Tensor::new(t.shape().to_vec(), data).expect("same length");
                    if fails(&trial) {
                        value = trial;
                        changed = true;
                        break;
                    }
                }
            }
        }
        type Scalar = fn(&mut Case) -> &mut Q;
        let scalars: [Scalar; 2] = [|c| &mut c.a, |c| &mut c.b];
        for scalar in scalars {
            let entry = scalar(case_of(&mut value)).clone();
            for c in candidates(&entry) {
                let mut trial = value.clone();
                *scalar(case_of(&mut trial)) = c;
                if fails(&trial) {
                    value = trial;
                    changed = true;
                    break;
                }
            }
        }
    }
    value
}

/// What a run of [`check_kinks`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KinkReport {
    /// The op's name.
    pub op: String,
    /// Points exactly on a kink, checked.
    pub cases: u32,
    /// For each layer (1-based), how many of those points had a zero guard there.
    pub layers: Vec<(usize, u32)>,
}

/// Points exactly on a kink of `op` ([`crate::strategy::on_kink`]): at each, the derivative
/// checks (jacobian, adjoint, and fderiv for a piecewise-linear op) must refuse the point with
/// [`Error::Kink`] naming a guard that is zero there — never pass, never report a rule failure —
/// and the structural checks, which need no derivative, must hold.
pub fn check_kinks<O: Checkable + ?Sized>(
    op: &O,
    shape: &[usize],
    config: &CheckConfig,
) -> CheckResult<KinkReport> {
    let out = output_shape(op, shape, config)?;
    let xs = (
        tensor(shape.to_vec(), config.elements.clone()),
        any::<usize>(),
    )
        .prop_filter_map(
            "no guard of the op can be brought to exactly zero",
            |(x, k)| onto_kink(op, &x, k),
        );
    let strategy = cases(xs, shape, &out, &config.elements);
    let layers = std::sync::Mutex::new(std::collections::BTreeMap::<usize, u32>::new());
    let (cases, _) = run(op.name(), &strategy, config, (|c| c, false), |case| {
        let layer = kink_case(op, case)?;
        *layers
            .lock()
            .expect("not poisoned")
            .entry(layer)
            .or_default() += 1;
        Ok(())
    })?;
    let layers = layers.into_inner().expect("not poisoned");
    Ok(KinkReport {
        op: op.name(),
        cases,
        layers: layers.into_iter().collect(),
    })
}

/// The checks at one point on a kink; returns the layer of the kink the checks named.
fn kink_case<O: Checkable + ?Sized>(op: &O, case: &Case) -> Result<usize> {
    let Case { x, dx, dy, .. } = case;
    let op = &op;
    let named = match no_kinks(op, x) {
        Err(e @ Error::Kink { .. }) => e,
        other => {
            return Err(Error::Malformed(format!(
                "the point x = {x} should be on a kink, but no_kinks gave {other:?}"
            )))
        }
    };
    let Error::Kink { layer, .. } = named else {
        unreachable!("matched above")
    };
    let mut verdicts = vec![
        ("jacobian", jacobian(op, x, dx, dy).map(|_| ())),
        ("adjoint", adjoint(op, x, dx, dy).map(|_| ())),
    ];
    if op.is_piecewise_linear() {
        verdicts.push(("fderiv", fderiv(op, x, dy).map(|_| ())));
    }
    for (check, verdict) in verdicts {
        match verdict {
            Err(ref e) if *e == named => {}
            other => {
                return Err(Error::Malformed(format!(
                    "{check} at the kink x = {x} should report {named}, but gave {other:?}"
                )))
            }
        }
    }
    // Kink errors from the structural checks would mean a rule refuses a kink point; they are
    // failures here, not redraws.
    structural(op, case).map_err(|e| match e {
        Error::Kink { .. } => Error::Malformed(format!("a rule refused the kink point: {e}")),
        e => e,
    })?;
    Ok(layer)
}

/// Checks every op drawn from `ops` (random weights, say) on inputs of `shape`: each case draws
/// an op and then its inputs, and shrinking minimises both, so the counterexample includes the
/// smallest weights that expose the bug. The op's `Debug` form appears in the case.
pub fn check_family<St>(ops: St, shape: &[usize], config: &CheckConfig) -> CheckResult<CheckReport>
where
    St: Strategy,
    St::Value: Checkable + Clone + 'static,
{
    let sample = crate::strategy::sample(&ops, config.seed);
    let out = output_shape(&sample, shape, config)?;
    let elem = config.elements.clone();
    let (in_shape, out_shape) = (shape.to_vec(), out.clone());
    let strategy = ops.prop_flat_map(move |op| {
        let nudging = op.clone();
        let xs =
            tensor(in_shape.clone(), elem.clone()).prop_map(move |x| nudge_off_kinks(&nudging, x));
        (Just(op), cases(xs, &in_shape, &out_shape, &elem))
    });
    let name = format!("{} (drawn)", sample.name());
    let (passed, kinks) = run(
        name.clone(),
        &strategy,
        config,
        (|(_, case)| case, false),
        |(op, case)| check_case(op, case, None),
    )?;
    let mut checks = vec![
        "structural: vjp(x, 0) = 0 and jvp(x, 0) = 0",
        "structural: forward, jvp, vjp run twice give identical values",
        "structural: jvp linear in dx, vjp linear in δ",
        "jacobian: jvp(x, dx) = J·dx, vjp(x, δ) = Jᵀ·δ (J by dual numbers)",
        "adjoint: ⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫",
    ];
    if sample.is_piecewise_linear() {
        checks.push("fderiv: exact increment in the kink-free box, vjp = Df(x)ᵀ·δ");
    }
    Ok(CheckReport {
        op: name,
        input_shape: shape.to_vec(),
        output_shape: out,
        cases: passed,
        kinks_redrawn: kinks,
        checks,
        seed: config.seed,
    })
}

/// Checks an op in one line inside a `#[test]`: [`check_op`] with failing seeds saved to (and
/// replayed from) proptest's regression file for the calling source file; panics with the
/// minimal exact counterexample on failure, returns the [`CheckReport`] otherwise.
///
/// ```
/// use exactgrad::{check_op, ops::Relu};
/// let report = check_op!(Relu, [4]);
/// assert!(report.cases > 0);
/// // With a configuration:
/// check_op!(Relu, [2, 3], exactgrad::check::CheckConfig::default().cases(16));
/// ```
#[macro_export]
macro_rules! check_op {
    ($op:expr, $shape:expr $(,)?) => {
        $crate::check_op!($op, $shape, $crate::check::CheckConfig::default())
    };
    ($op:expr, $shape:expr, $config:expr $(,)?) => {
        match $crate::check::check_op(&$op, &$shape, &$config.regressions(file!())) {
            Ok(report) => report,
            Err(failure) => panic!("{failure}"),
        }
    };
}
