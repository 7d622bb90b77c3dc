//! [`check_kinks`]: points exactly on a kink, where every derivative check must name the kink.

use super::case::Case;
use super::checks::{applicable, Subject};
use super::config::CheckConfig;
use super::report::CheckResult;
use super::runner::tally_special_points;
use super::Checkable;
use crate::error::{Error, Result};
use crate::ops::{no_kinks, Exact};
use crate::scalar::Q;
use crate::strategy::onto_kink;
use std::fmt;

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

impl fmt::Display for KinkReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} points exactly on a kink checked: every derivative check named the kink, the \
             other checks held",
            self.op, self.cases
        )?;
        for (layer, n) in &self.layers {
            write!(f, "\n  layer {layer}: {n} points")?;
        }
        Ok(())
    }
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
    kinks_of(&op, shape, config)
}

// One compiled copy for every op type, as in the runner.
fn kinks_of(op: &dyn Checkable, shape: &[usize], config: &CheckConfig) -> CheckResult<KinkReport> {
    let subject = Subject::<Q> {
        op: <Q as Exact>::view(op),
        looped: None,
    };
    let (cases, layers) = tally_special_points(
        op,
        shape,
        config,
        (
            "no guard of the op can be brought to exactly zero",
            |x, k| onto_kink(op, x, k),
        ),
        |case| kink_case(op.name(), &subject, case),
        |op| Error::NoKinkReachable { op },
    )
    .map_err(|mut failure| {
        // An op that reports no guards at all has no kink anywhere: say that, rather than that
        // its (absent) guards could not be zeroed.
        if matches!(failure.error, Error::NoKinkReachable { .. }) && guard_free(&subject, shape) {
            failure.error = Error::NoKinks { op: op.name() };
        }
        failure
    })?;
    Ok(KinkReport {
        op: op.name(),
        cases,
        layers,
    })
}

/// Whether `op` reports no guard at a fixed point of `shape` (and so has no kink at all).
fn guard_free(subject: &Subject<Q>, shape: &[usize]) -> bool {
    crate::strategy::probe::<Q>(shape, 0)
        .is_ok_and(|x| crate::ops::OpSpec::<Q>::guards(subject.op, &x).is_ok_and(|g| g.is_empty()))
}

/// The checks at one point on a kink; returns the layer of the kink the checks named.
fn kink_case(op: String, subject: &Subject<Q>, case: &Case) -> Result<usize> {
    let over = case.over::<Q>();
    let x = &case.x;
    let named = match no_kinks(&subject.op, x) {
        Err(e @ Error::Kink { .. }) => e,
        Err(e) => return Err(e),
        Ok(_) => {
            return Err(Error::NotOnKink {
                op,
                x: x.to_string(),
            })
        }
    };
    let Error::Kink { layer, .. } = named else {
        unreachable!("matched above")
    };
    for check in applicable(subject).iter().filter(|c| c.derivative) {
        match (check.run)(subject, &over) {
            Err(e) if e == named => {}
            other => {
                return Err(Error::KinkNotReported {
                    op,
                    check: check.description.into(),
                    x: x.to_string(),
                    expected: Box::new(named),
                    got: other.err().map(Box::new),
                })
            }
        }
    }
    // Kink errors from the checks that need no derivative would mean a rule refuses a kink
    // point; they are failures here, not redraws.
    for check in applicable(subject).iter().filter(|c| !c.derivative) {
        (check.run)(subject, &over).map_err(|e| match e {
            Error::Kink { .. } => Error::KinkRefused {
                op: op.clone(),
                check: check.description.into(),
                kink: Box::new(e),
            },
            e => e,
        })?;
    }
    Ok(layer)
}
