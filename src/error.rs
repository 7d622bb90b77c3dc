//! The crate's one error type: bad input is a typed error, a violated identity is a
//! counterexample — never a panic.

use std::fmt;

mod text;

pub use text::shorten;
pub(crate) use text::{
    debug_with_fractions, digit_runs_past, ratios_as_fractions, Fractions, Short, ShortTensor,
};

/// One outcome of a comparison that no case reached (see [`Error::UnreachedBranches`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnreachedBranch {
    /// Where the comparison is made: `file:line:column` of the call of `sign`, `select`,
    /// `abs_val` or `max_val`.
    pub site: String,
    /// The outcome never reached: the compared value `< 0` ([`std::cmp::Ordering::Less`]) or
    /// `> 0` ([`std::cmp::Ordering::Greater`]).
    pub outcome: std::cmp::Ordering,
    /// The outcome every case took there, with how many comparisons took it.
    pub taken: (std::cmp::Ordering, u32),
}

impl fmt::Display for UnreachedBranch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |o: std::cmp::Ordering| match o {
            std::cmp::Ordering::Less => "< 0",
            std::cmp::Ordering::Equal => "= 0",
            std::cmp::Ordering::Greater => "> 0",
        };
        write!(
            f,
            "the value compared at {} was never {} (it was {} in all {} comparisons)",
            self.site,
            side(self.outcome),
            side(self.taken.0),
            self.taken.1
        )
    }
}

/// Everything that can go wrong, from parsing a literal to a rule that fails a check.
///
/// Each variant carries the data of what went wrong (the op, the argument, the coordinate), not
/// a sentence, so a caller can match on it; the `Display` form is the sentence. New variants may
/// be added, hence `#[non_exhaustive]`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two shapes that had to agree did not.
    #[error(
        "shape mismatch in {op}{}: {left:?} vs {right:?}",
        if context.is_empty() { String::new() } else { format!(" ({context})") }
    )]
    ShapeMismatch {
        /// The op (or tensor method) where the shapes met, with the rule when there is one:
        /// `"Linear"`, `"Linear vjp_weight"`, `"Graph"`.
        op: String,
        /// What had to agree, e.g. `"δ must have the output's shape"` (may be empty).
        context: String,
        /// The first shape (usually the one given).
        left: Vec<usize>,
        /// The second shape (usually the one expected).
        right: Vec<usize>,
    },
    /// A tensor's data does not fill its shape.
    #[error("a tensor of shape {shape:?} holds {expected} values, but {got} were given")]
    DataLength {
        /// The requested shape.
        shape: Vec<usize>,
        /// The product of the shape.
        expected: usize,
        /// The number of values given.
        got: usize,
    },
    /// An index outside a tensor's shape.
    #[error("index {index:?} is out of bounds for shape {shape:?}")]
    Index {
        /// The index asked for.
        index: Vec<usize>,
        /// The tensor's shape.
        shape: Vec<usize>,
    },
    /// A size computed from a shape does not fit in `usize`: the element count of a tensor's
    /// shape, or an op's padded or output size for an input shape.
    #[error("{op}: {quantity} overflows usize for shape {shape:?}")]
    SizeOverflow {
        /// The op (or tensor method) that computed the size.
        op: String,
        /// The size that overflows, as a formula: `"element count"`, `"H + 2·p_h"`.
        quantity: &'static str,
        /// The shape it was computed from.
        shape: Vec<usize>,
    },
    /// A matrix given by rows whose row `row` has another length than row 0.
    #[error("row {row} has {got} values, but row 0 has {expected}")]
    RaggedRow {
        /// The 0-based index of the first row whose length differs.
        row: usize,
        /// The length of row 0.
        expected: usize,
        /// The length of row `row`.
        got: usize,
    },
    /// A literal whose decimal exponent is beyond [`crate::scalar::MAX_EXPONENT`] in absolute
    /// value: its exact value would take too long to compute, so it is refused.
    #[error(
        "cannot read {:?} as an exact rational: exponent {exponent} is beyond ±{limit}",
        shorten(input)
    )]
    ExponentTooLarge {
        /// The text as given.
        input: String,
        /// The exponent as written (it may not fit any integer type).
        exponent: String,
        /// The largest absolute exponent accepted.
        limit: u32,
    },
    /// A literal that is not an exact rational.
    #[error("cannot read {:?} as an exact rational: {reason}", shorten(input))]
    Parse {
        /// The text as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A constructor argument outside the values the op is defined for (a zero stride, an empty
    /// range, bounds in the wrong order, a list that is not a permutation).
    #[error("{op}: {argument} = {}, but it must be {requirement}", Short(value))]
    InvalidArgument {
        /// The op (or constructor) that rejected the argument.
        op: String,
        /// The argument's name.
        argument: String,
        /// The value given, printed exactly.
        value: String,
        /// What the argument must be.
        requirement: String,
    },
    /// An `f64` that has no exact rational value (NaN or an infinity).
    #[error("value {index} is {value}, not a finite number")]
    NotFinite {
        /// The position of the value in the list given.
        index: usize,
        /// The value as Rust prints it: `NaN`, `inf` or `-inf`.
        value: String,
    },
    /// A NumPy `.npy` or `.npz` file that cannot be read or written exactly: the file, the key
    /// in an archive, and what is wrong (see [`crate::import::npy::NpyError`]).
    #[error(transparent)]
    Npy(#[from] crate::import::npy::NpyError),
    /// A node id that the graph did not create.
    #[error("the graph has no node {node}")]
    UnknownNode {
        /// The id asked for.
        node: usize,
    },
    /// An op id that the graph did not register.
    #[error("the graph has no op {op}")]
    UnknownOp {
        /// The id asked for.
        op: usize,
    },
    /// A division by an exact zero.
    #[error("division by zero in {context} at coordinate {coordinate:?}")]
    DivisionByZero {
        /// The op or check that divided.
        context: String,
        /// The coordinate of the zero divisor.
        coordinate: Vec<usize>,
    },
    /// `exp` or `ln` of a value the scalar cannot represent exactly (`exp(1/2)` over `Q`, `exp`
    /// of a non-rational value over [`crate::Ex`]): a refusal, never an approximation.
    #[error(
        "{function}({}) in {op} at coordinate {coordinate:?} is not in {field}; \
         no approximation is made",
        shorten(argument)
    )]
    OutsideField {
        /// The op that called the function.
        op: String,
        /// The coordinate of the op's input (or output) where it was called.
        coordinate: Vec<usize>,
        /// `"exp"` or `"ln"`.
        function: &'static str,
        /// The argument, printed exactly.
        argument: String,
        /// The number system that lacks the value.
        field: &'static str,
    },
    /// A point outside an op's domain (`ln` of a value `≤ 0`): like a kink, not a rule failure;
    /// the property checks draw another point.
    #[error(
        "{function}({}) in {op} at coordinate {coordinate:?} is undefined",
        Short(argument)
    )]
    OutsideDomain {
        /// The op.
        op: String,
        /// The coordinate of the op's input where the argument lies.
        coordinate: Vec<usize>,
        /// The function, e.g. `"ln"`.
        function: &'static str,
        /// The argument, printed exactly.
        argument: String,
    },
    /// Two values differ formally, but the scalar could not certify that they differ as real
    /// numbers (a difference of formal logarithms that agrees to the precision tried): no
    /// verdict, rather than a possibly false one.
    #[error(
        "{check}: cannot decide at coordinate {coordinate:?}: {}",
        Short(reason)
    )]
    Undecided {
        /// The identity being checked.
        check: String,
        /// The coordinate compared.
        coordinate: Vec<usize>,
        /// Why the scalar could not decide.
        reason: String,
    },
    /// The point lies on a kink: a pre-activation of a piecewise op is exactly zero, so the
    /// derivative does not exist there (the "no kinks" hypothesis fails).
    #[error(
        "no-kinks hypothesis fails: layer {layer} ({op}) has pre-activation exactly 0 at \
         coordinate {coordinate:?}; the derivative does not exist at this point"
    )]
    Kink {
        /// 1-based position of the op in the composed network.
        layer: usize,
        /// The op's name.
        op: String,
        /// The multi-index of the zero pre-activation within that op's input.
        coordinate: Vec<usize>,
    },
    /// The fderiv check applies to piecewise-linear ops only.
    #[error("{0} is not piecewise linear, so the exact difference-quotient check does not apply")]
    NotPiecewiseLinear(String),
    /// A kink radius was asked for a guard that is not an affine function of the input on the
    /// current piece (it follows a non-linear op), so no exact radius can be certified for it.
    #[error(
        "{op}: the guard at layer {layer} follows a non-linear op, so its distance to the kink \
         cannot be certified exactly"
    )]
    RadiusNotCertified {
        /// The op whose radius was asked for.
        op: String,
        /// The layer of the first uncertified guard.
        layer: usize,
    },
    /// An op has parameters but does not give the rule `rule` for them (write it, or call the
    /// forward-mode default in [`crate::ops::derived`]).
    #[error(
        "{op} has parameters but no `{rule}`: write it, or return \
         `exactgrad::ops::derived::{rule}(self, …)` for the forward-mode default"
    )]
    MissingRule {
        /// The op's name.
        op: String,
        /// The missing method of [`crate::OpSpec`].
        rule: &'static str,
    },
    /// A parameter rule was asked at parameters other than the op's own: the rules are
    /// evaluated where the op's parameters are, so the point of [`crate::ops::WrtParams`] must be
    /// [`crate::ops::param_vector`] of the op.
    #[error(
        "{op}: parameter rules are evaluated at the op's own parameters; pass param_vector(op)"
    )]
    NotOwnParameters {
        /// The op's name.
        op: String,
    },
    /// A check failed on a case and passed when run again on the same case: some rule (or
    /// forward pass) does not give the same result twice.
    #[error(
        "{op}: a check failed once and passed when run again on the same case, so a rule is \
         not deterministic; the first run gave: {}",
        Short(first)
    )]
    NotDeterministic {
        /// The op checked.
        op: String,
        /// The first run's failure as proptest recorded it: the error's message, or the
        /// message of a panic (which is why it is not an [`Error`]).
        first: String,
    },
    /// A randomized identity fails on the random probe but on no single coordinate of it, which
    /// is impossible for linear maps: a rule, or the forward pass over dual numbers, is not
    /// linear in its tangent (or cotangent).
    #[error(
        "{op}: {check} fails on the random probe but on no single coordinate of it, so a rule \
         or the forward pass over dual numbers is not linear in its tangent"
    )]
    NotLinear {
        /// The op checked.
        op: String,
        /// The identity that failed on the probe.
        check: String,
    },
    /// An op reports a different number of guards over jets than over the base scalar, so its
    /// guards depend on the scalar and no kink radius can be computed from them.
    #[error(
        "{op} reports {jet} guards over jets but {base} over the base scalar; its guards must \
         not depend on the scalar"
    )]
    GuardCountMismatch {
        /// The op.
        op: String,
        /// The number of guards over the base scalar.
        base: usize,
        /// The number of guards over jets.
        jet: usize,
    },
    /// A rule returned an error ([`Error::Kink`], or a point outside the domain) at a point
    /// where the op's forward pass is defined and none of its guards is zero: the rule refuses a
    /// point the op itself accepts, which is a wrong rule, not a point to redraw.
    #[error(
        "{op}: {check} returned an error where forward is defined and no guard is zero: {error}"
    )]
    RuleRefused {
        /// The op checked.
        op: String,
        /// The check, as [`crate::check::CheckReport::checks`] lists it.
        check: String,
        /// The error the rule returned.
        error: Box<Error>,
    },
    /// Comparisons of the op (its calls of [`crate::Ordered`]) that took one outcome at every
    /// case, including the cases steered to the other side of their threshold: the branch for
    /// the other outcome was never run, so no verdict covers it.
    #[error(
        "{op}: {} comparison outcome(s) reached by no case, so the branches behind them were \
         never checked: {}; steer the entries there with CheckConfig::elements, or accept it \
         with CheckConfig::allow_unreached_branches",
        branches.len(),
        branches.iter().map(|b| b.to_string()).collect::<Vec<_>>().join("; ")
    )]
    UnreachedBranches {
        /// The op checked.
        op: String,
        /// Each unreached outcome with its comparison's site.
        branches: Vec<UnreachedBranch>,
    },
    /// Every point drawn stayed on a kink after nudging, until the run gave up: the op has a
    /// kink on a whole neighbourhood (a dead unit, say), so it cannot be checked there.
    #[error(
        "{op}: gave up after {redrawn} drawn points stayed on kinks: the op has a kink on a \
         whole neighbourhood of the drawn points"
    )]
    KinkEverywhere {
        /// The op checked.
        op: String,
        /// Points drawn again because they were on a kink.
        redrawn: u32,
    },
    /// A property run gave up: almost every drawn point was outside the op's domain (`ln` of a
    /// value `≤ 0`) even after moving it ([`crate::strategy::into_domain`]). Configure entries
    /// inside the domain ([`crate::check::CheckConfig::elements`]).
    #[error(
        "{op}: gave up after {redrawn} drawn points were outside the op's domain; draw entries \
         inside it with CheckConfig::elements"
    )]
    NoPointInDomain {
        /// The op checked.
        op: String,
        /// Points drawn again because they were outside the domain.
        redrawn: u32,
    },
    /// [`crate::check::check_kinks`] on an op that reports no guards (Linear, a smooth op): it
    /// has no kink anywhere, so there is nothing for that check to do.
    #[error(
        "{op} has no kinks (it reports no guards), so check_kinks has no point to check; \
         check_op checks it everywhere"
    )]
    NoKinks {
        /// The op checked.
        op: String,
    },
    /// [`crate::check::check_kinks`] found no point on a kink: the op has guards, but none could
    /// be brought to exactly zero from the drawn points (a guard with zero gradient, say).
    #[error(
        "{op}: none of its guards could be brought to exactly zero from the drawn points, so \
         there is no kink point to check"
    )]
    NoKinkReachable {
        /// The op checked.
        op: String,
    },
    /// A point placed on a kink by the op's own guards is not on a kink by
    /// [`crate::ops::no_kinks`]: the guards disagree with themselves.
    #[error(
        "{op}: the point x = {} was placed on a kink, but no guard is zero there",
        Short(x)
    )]
    NotOnKink {
        /// The op checked.
        op: String,
        /// The point, printed exactly.
        x: String,
    },
    /// At a point on a kink, a check that needs the derivative did not refuse the point with the
    /// kink error the op's guards name: it passed, or failed otherwise.
    #[error(
        "{op}: {check} at the kink x = {} should refuse the point with \"{expected}\", but {}",
        Short(x),
        .got.as_ref().map_or_else(|| "it passed".to_string(), |e| format!("it gave: {e}"))
    )]
    KinkNotReported {
        /// The op checked.
        op: String,
        /// The check, as [`crate::check::CheckReport::checks`] lists it.
        check: String,
        /// The point, printed exactly.
        x: String,
        /// The kink error the guards name there.
        expected: Box<Error>,
        /// What the check gave instead (`None`: it passed).
        got: Option<Box<Error>>,
    },
    /// At a point on a kink, a check that needs no derivative failed because a rule (forward,
    /// jvp or vjp) refused the point: rules must run at kinks, only derivatives do not exist.
    #[error("{op}: {check} needs no derivative, but a rule refused the kink point: {kink}")]
    KinkRefused {
        /// The op checked.
        op: String,
        /// The check, as [`crate::check::CheckReport::checks`] lists it.
        check: String,
        /// The kink error the rule returned.
        kink: Box<Error>,
    },
    /// [`crate::check::check_poles`] found no point on a pole: setting one input coordinate
    /// to zero never made `forward` divide by zero (an op without such poles, say).
    #[error("{op}: no input coordinate set to zero makes forward divide by zero, so there is no pole point to check")]
    NoPoleReachable {
        /// The op checked.
        op: String,
    },
    /// A point placed on a pole is not one when checked again: `forward` does not divide by
    /// zero there (a `forward` that is not deterministic).
    #[error(
        "{op}: the point x = {} was placed on a pole, but forward does not divide by zero there",
        Short(x)
    )]
    NotOnPole {
        /// The op checked.
        op: String,
        /// The point, printed exactly.
        x: String,
    },
    /// At a point on a pole, a check that needs the derivative did not refuse the point with the
    /// error `forward` gives there: it passed, or failed otherwise.
    #[error(
        "{op}: {check} at the pole x = {} should refuse the point with \"{expected}\", but {}",
        Short(x),
        .got.as_ref().map_or_else(|| "it passed".to_string(), |e| format!("it gave: {e}"))
    )]
    PoleNotReported {
        /// The op checked.
        op: String,
        /// The check, as [`crate::check::CheckReport::checks`] lists it.
        check: String,
        /// The point, printed exactly.
        x: String,
        /// The pole error `forward` gives there.
        expected: Box<Error>,
        /// What the check gave instead (`None`: it passed).
        got: Option<Box<Error>>,
    },
    /// At a point on a pole of `forward`, a rule returned a value: the function has no value
    /// there, so neither has its derivative, and the rule must refuse the point.
    #[error(
        "{op}: {rule} returned {} at the pole x = {}, where forward refuses: {pole}",
        Short(value),
        Short(x)
    )]
    PoleNotRefused {
        /// The op checked.
        op: String,
        /// The rule (`"jvp"`, `"vjp"`, `"jvp_params"`, `"vjp_params"`).
        rule: &'static str,
        /// The point, printed exactly.
        x: String,
        /// What the rule returned, printed exactly.
        value: String,
        /// The error `forward` gives at the point, naming the coordinate.
        pole: Box<Error>,
    },
    /// A run was refused before it started: its estimated time or memory
    /// ([`crate::budget::Estimate`]) exceeds the [`crate::Budget`].
    #[error(
        "{task}: estimated {} and {}, over the budget of {} and {}; raise the budget to run it",
        crate::budget::duration(*estimated_ms),
        crate::budget::megabytes(*estimated_mb),
        crate::budget::duration(budget_seconds.saturating_mul(1000)),
        crate::budget::megabytes(*budget_mb)
    )]
    OverBudget {
        /// What was refused, e.g. `"prove --dims 64,64,64"`.
        task: String,
        /// The estimated wall time in milliseconds.
        estimated_ms: u64,
        /// The estimated peak memory in MB.
        estimated_mb: u64,
        /// The budget's wall time in seconds.
        budget_seconds: u64,
        /// The budget's memory in MB.
        budget_mb: u64,
    },
    /// An identity the rule must satisfy is false: the exact counterexample.
    #[error("{0}")]
    Violated(Box<Counterexample>),
    /// A proof over symbols cannot run: the op asked the sign of a value that depends on the
    /// symbols (a Rust `if`), where a piecewise op must choose with
    /// [`crate::Ordered::select`].
    #[error(
        "{op}: {rule} asks the sign of {}, which depends on the symbols; a piecewise op must \
         choose its piece with Ordered::select to be proved for all inputs",
        shorten(value)
    )]
    BranchOnSymbol {
        /// The op evaluated.
        op: String,
        /// The rule that branched (`"forward"`, `"vjp"`, …).
        rule: &'static str,
        /// The value whose sign was asked, printed.
        value: String,
    },
    /// A proof with symbolic weights cannot run: the op computed a constant from its stored
    /// weights in `Q`, outside the scalar, so its result is not a function of the weight
    /// symbols.
    #[error(
        "{op}: {rule} computed the constant {} from its weights outside the scalar; prove it \
         with the weights as given instead",
        shorten(value)
    )]
    WeightsOutsideScalar {
        /// The op evaluated.
        op: String,
        /// The rule that did it.
        rule: &'static str,
        /// The constant, printed exactly.
        value: String,
    },
    /// An identity is false as a polynomial identity, and a rational point consistent with the
    /// guards where it fails was found and re-checked by the point checks.
    #[error("{0}")]
    ProofFailed(Box<crate::prove::ProofFailure>),
    /// An identity is false as a polynomial identity, but no point consistent with the guards
    /// was found where the two sides differ (they may differ only where guards are related):
    /// neither a proof nor a counterexample.
    #[error("not proved: {0}")]
    NotProved(Box<crate::prove::ProofFailure>),
    /// An ONNX model that cannot be read or represented exactly.
    #[error("{0}")]
    Onnx(Box<crate::import::onnx::OnnxError>),
}

impl From<crate::import::onnx::OnnxError> for Error {
    fn from(e: crate::import::onnx::OnnxError) -> Self {
        Error::Onnx(Box::new(e))
    }
}

/// An exact witness that a rule is wrong: where, and by how much.
///
/// Values are exact decimal strings of the scalar (`p/q` for rationals), so the error type does
/// not depend on the scalar and can cross `?` into any caller. Its `Display` shortens long
/// values ([`shorten`]); the fields keep them exact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counterexample {
    /// Which identity failed, e.g. `"adjoint"` or `"jacobian: vjp(x, δ) = Jᵀδ"`.
    pub check: String,
    /// The multi-index of the differing entry (for the adjoint check: output index followed by
    /// input index, i.e. the Jacobian entry on which `jvp` and `vjp` disagree).
    pub coordinate: Vec<usize>,
    /// The value the rule under test gives there.
    pub rule: String,
    /// The value it should be (computed without the rule).
    pub reference: String,
    /// `rule − reference`, exactly.
    pub difference: String,
    /// The inputs that produce the failure, by name (`x`, `dx`, `δ`, …), printed exactly.
    pub inputs: Vec<(String, String)>,
    /// For a parameter rule, the parameter at the failing coordinate, named by layer, op, tensor
    /// and index (`"layer 3 Conv2d(…) weight[0, 1, 2, 2]"`); `None` for input rules.
    pub parameter: Option<String>,
    /// For a composition, the first stage whose own rules fail at the value it sees
    /// ([`crate::check::check_op`] checks the stages one by one when the whole fails); `None`
    /// for a primitive op, a check run alone, or when no single stage fails.
    pub stage: Option<WrongStage>,
}

/// The stage of a composition whose rule is wrong: checked alone, at the value it sees (its
/// input as computed by the stages before it), it fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrongStage {
    /// 1-based position of the stage in the composition (stages of nested compositions
    /// counted one by one).
    pub position: usize,
    /// How many stages the composition has.
    pub stages: usize,
    /// The stage's name.
    pub op: String,
    /// The stage's own failure there.
    pub error: Box<Error>,
}

impl fmt::Display for WrongStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the wrong rule is in stage {} of {}: {}; checked alone at the value it sees:",
            self.position, self.stages, self.op
        )?;
        for line in self.error.to_string().lines() {
            write!(f, "\n    {line}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Counterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} fails at coordinate {:?}: rule gives {}, reference gives {} (difference {})",
            self.check,
            self.coordinate,
            Short(&self.rule),
            Short(&self.reference),
            Short(&self.difference)
        )?;
        if let Some(p) = &self.parameter {
            writeln!(f, "  the parameter there: {p}")?;
        }
        if let Some(stage) = &self.stage {
            writeln!(f, "  {stage}")?;
        }
        for (name, value) in &self.inputs {
            writeln!(f, "  {name} = {}", Short(value))?;
        }
        Ok(())
    }
}

impl Error {
    /// A pole met by `forward` (a [`Error::DivisionByZero`] at a coordinate) as what it is for
    /// a property check: a point outside the op's domain, to be moved or redrawn like a kink,
    /// never a failure of a correct op. Other errors are returned unchanged.
    pub(crate) fn pole_as_outside_domain(self) -> Error {
        match self {
            Error::DivisionByZero {
                context,
                coordinate,
            } => Error::OutsideDomain {
                op: context,
                coordinate,
                function: "reciprocal",
                argument: "0".into(),
            },
            e => e,
        }
    }

    /// An [`Error::DivisionByZero`]: `op` divided by an exact zero, the divisor at `coordinate`
    /// (of the op's input, or empty when the divisor is not an entry: a mean over no entries).
    /// This is what `forward` returns at a pole; the checks then treat the point as outside the
    /// domain, and [`crate::check::check_poles`] checks that every rule refuses it too.
    ///
    /// ```
    /// use exactgrad::Error;
    /// let e = Error::division_by_zero("MyDiv", [1, 0]);
    /// assert_eq!(e.to_string(), "division by zero in MyDiv at coordinate [1, 0]");
    /// ```
    pub fn division_by_zero(op: impl Into<String>, coordinate: impl Into<Vec<usize>>) -> Error {
        Error::DivisionByZero {
            context: op.into(),
            coordinate: coordinate.into(),
        }
    }

    /// An [`Error::Kink`]: at layer `layer` (1 for a primitive op; the position of the op in a
    /// network it builds itself), the pre-activation of `op` at `coordinate` is exactly zero. A
    /// piecewise op reports its pre-activations as guards ([`crate::OpSpec::guards`]) and the
    /// checks build this error from them; a rule that needs the derivative may return it too.
    pub fn kink(layer: usize, op: impl Into<String>, coordinate: impl Into<Vec<usize>>) -> Error {
        Error::Kink {
            layer,
            op: op.into(),
            coordinate: coordinate.into(),
        }
    }

    /// An [`Error::OutsideDomain`]: `function(argument)` in `op` at `coordinate` of its input is
    /// undefined (`ln` of a value `≤ 0`). The checks draw another point.
    pub fn outside_domain(
        op: impl Into<String>,
        coordinate: impl Into<Vec<usize>>,
        function: &'static str,
        argument: &impl fmt::Display,
    ) -> Error {
        Error::OutsideDomain {
            op: op.into(),
            coordinate: coordinate.into(),
            function,
            argument: argument.to_string(),
        }
    }

    /// An [`Error::OutsideField`]: `function(argument)` in `op` at `coordinate` has no value in
    /// the number system `field` (`exp(1/2)` over `"Q"`); [`crate::check::check_op`] then
    /// repeats the run over [`crate::Ex`].
    pub fn outside_field(
        op: impl Into<String>,
        coordinate: impl Into<Vec<usize>>,
        function: &'static str,
        argument: &impl fmt::Display,
        field: &'static str,
    ) -> Error {
        Error::OutsideField {
            op: op.into(),
            coordinate: coordinate.into(),
            function,
            argument: argument.to_string(),
            field,
        }
    }

    /// An [`Error::ShapeMismatch`] from a description written `"Op: what"` (the convention of
    /// every shape check in the crate, e.g. `"Linear vjp_weight: δ"`): the part before the first
    /// `": "` is the op, the rest the context.
    pub fn shape_mismatch(
        description: &str,
        left: impl Into<Vec<usize>>,
        right: impl Into<Vec<usize>>,
    ) -> Error {
        let (op, context) = description.split_once(": ").unwrap_or((description, ""));
        Error::ShapeMismatch {
            op: op.to_string(),
            context: context.to_string(),
            left: left.into(),
            right: right.into(),
        }
    }
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
