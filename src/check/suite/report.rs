//! What a run returns: the report of a pass, or the failure with its minimal case.

use super::branches::BranchCoverage;
use crate::error::{Counterexample, Error};
use std::fmt;

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
    /// Drawn points outside the op's domain (`ln` of a value `≤ 0`), drawn again.
    pub outside_domain_redrawn: u32,
    /// The checks run at every case, in order.
    pub checks: Vec<&'static str>,
    /// The op's parameter tensors whose rules were checked too, named by layer, op and tensor
    /// with their shapes (empty for an op without parameters).
    pub parameters: Vec<String>,
    /// The seed.
    pub seed: u64,
    /// The exact scalar the verdicts were decided over: `"Q"`, or the exponential-polynomial
    /// field [`crate::Ex`] for an op that needs `exp` or `ln`.
    pub scalar: &'static str,
    /// Cases steered to the thresholds of the op's comparisons (and to the extremes of size)
    /// that passed every check, besides the drawn [`CheckReport::cases`].
    pub steered: u32,
    /// Each comparison the op made through [`crate::Ordered`], with the outcomes reached.
    pub branches: Vec<BranchCoverage>,
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {:?} → {:?}: {} cases + {} steered pass exactly over {} (seed {:#x}; {} points \
             on kinks redrawn{})",
            self.op,
            self.input_shape,
            self.output_shape,
            self.cases,
            self.steered,
            self.scalar,
            self.seed,
            self.kinks_redrawn,
            if self.outside_domain_redrawn > 0 {
                format!(", {} outside the domain", self.outside_domain_redrawn)
            } else {
                String::new()
            }
        )?;
        if !self.parameters.is_empty() {
            writeln!(f, "  parameters: {}", self.parameters.join(", "))?;
        }
        for check in &self.checks {
            writeln!(f, "  ✓ {check}")?;
        }
        for branch in &self.branches {
            writeln!(f, "  comparison {branch}")?;
        }
        Ok(())
    }
}

/// `"layer 1 Linear(2→3) weight [3, 2]"` for each parameter tensor of `op`.
pub(super) fn parameter_names<O: crate::ops::Op + ?Sized>(op: &O) -> Vec<String> {
    op.params()
        .iter()
        .map(|p| format!("{p} {:?}", p.value.shape()))
        .collect()
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
    /// How the failing case was found when it was not drawn: steered to a comparison's
    /// threshold, or an extreme case.
    pub found_by: Option<String>,
    /// The seed.
    pub seed: u64,
    /// `Some(time spent)` when shrinking ran out of its time budget
    /// ([`super::CheckConfig::shrink_time`]): the case is then the smallest failing one found
    /// so far, not a minimal one.
    pub shrink_stopped: Option<std::time::Duration>,
}

impl CheckFailure {
    /// The exact counterexample, when the failure is a violated identity.
    pub fn counterexample(&self) -> Option<&Counterexample> {
        match &self.error {
            Error::Violated(c) => Some(c),
            _ => None,
        }
    }

    /// A failure before any case ran (or with no case to show): the setup is wrong.
    pub(super) fn setup(op: String, error: Error, seed: u64) -> Box<Self> {
        Box::new(CheckFailure {
            op,
            error,
            case: None,
            passed_before: 0,
            seed,
            found_by: None,
            shrink_stopped: None,
        })
    }
}

impl fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.case {
            None => write!(f, "{}: cannot be checked: {}", self.op, self.error),
            Some(case) => {
                let which = match self.shrink_stopped {
                    None => "minimal exact counterexample".to_string(),
                    Some(t) => format!(
                        "shrinking stopped after {:.1} s (CheckConfig::shrink_time), so this \
                         is the smallest exact counterexample found so far",
                        t.as_secs_f64()
                    ),
                };
                writeln!(
                    f,
                    "{} fails (after {} passing cases, seed {:#x}); {which}:",
                    self.op, self.passed_before, self.seed
                )?;
                writeln!(f, "{}", self.error)?;
                if let Some(how) = &self.found_by {
                    writeln!(f, "found: {how}")?;
                }
                write!(f, "case: {case}")
            }
        }
    }
}

impl std::error::Error for CheckFailure {}

#[cfg(test)]
mod tests {
    use super::CheckReport;

    fn report(parameters: &[&str], outside_domain_redrawn: u32) -> CheckReport {
        CheckReport {
            op: "Op".into(),
            input_shape: vec![2],
            output_shape: vec![3],
            cases: 32,
            kinks_redrawn: 1,
            outside_domain_redrawn,
            checks: vec!["first check", "second check"],
            parameters: parameters.iter().map(|p| p.to_string()).collect(),
            seed: 42,
            scalar: "Q",
            steered: 5,
            branches: Vec::new(),
        }
    }

    #[test]
    fn a_report_lists_its_counts_its_parameters_only_when_there_are_some_and_its_checks() {
        assert_eq!(
            report(&[], 0).to_string(),
            "Op: [2] → [3]: 32 cases + 5 steered pass exactly over Q (seed 0x2a; 1 points on \
             kinks redrawn)\n  ✓ first check\n  ✓ second check\n"
        );
        assert_eq!(
            report(&["layer 1 W [3, 2]", "layer 1 b [3]"], 7).to_string(),
            "Op: [2] → [3]: 32 cases + 5 steered pass exactly over Q (seed 0x2a; 1 points on \
             kinks redrawn, 7 outside the domain)\n  parameters: layer 1 W [3, 2], layer 1 b \
             [3]\n  ✓ first check\n  ✓ second check\n"
        );
    }
}
