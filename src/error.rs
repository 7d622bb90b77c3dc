//! The crate's one error type: bad input is a typed error, a violated identity is a
//! counterexample — never a panic.

use std::fmt;

/// Everything that can go wrong, from parsing a literal to a rule that fails a check.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Two shapes that had to agree did not.
    #[error("shape mismatch in {context}: {left:?} vs {right:?}")]
    ShapeMismatch {
        /// Where the shapes met (an op, a check, a tensor method).
        context: String,
        /// The first shape.
        left: Vec<usize>,
        /// The second shape.
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
    /// A literal that is not an exact rational.
    #[error("cannot read {input:?} as an exact rational: {reason}")]
    Parse {
        /// The text as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Malformed structured input (a data file, JSON, command-line values).
    #[error("malformed input: {0}")]
    Malformed(String),
    /// A division by an exact zero.
    #[error("division by zero in {context} at coordinate {coordinate:?}")]
    DivisionByZero {
        /// The op or check that divided.
        context: String,
        /// The coordinate of the zero divisor.
        coordinate: Vec<usize>,
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
    /// An identity the rule must satisfy is false: the exact counterexample.
    #[error("{0}")]
    Violated(Box<Counterexample>),
}

/// An exact witness that a rule is wrong: where, and by how much.
///
/// Values are exact decimal strings of the scalar (`p/q` for rationals), so the error type does
/// not depend on the scalar and can cross `?` into any caller.
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
}

impl fmt::Display for Counterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} fails at coordinate {:?}: rule gives {}, reference gives {} (difference {})",
            self.check, self.coordinate, self.rule, self.reference, self.difference
        )?;
        for (name, value) in &self.inputs {
            writeln!(f, "  {name} = {value}")?;
        }
        Ok(())
    }
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
