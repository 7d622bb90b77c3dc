//! [`check_poles`]: points exactly on a pole of `forward`, the counterpart of
//! [`super::check_kinks`]. At a pole the function itself is undefined, so there is no derivative
//! and no rule has a value to give.

use super::case::Case;
use super::checks::{applicable, Subject};
use super::config::CheckConfig;
use super::report::CheckResult;
use super::runner::tally_special_points;
use super::Checkable;
use crate::error::{Error, Result};
use crate::ops::{no_kinks, CheckableOver, Exact, OpSpec};
use crate::scalar::Q;
use crate::tensor::Tensor;
use std::fmt;

/// What a run of [`check_poles`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoleReport {
    /// The op's name.
    pub op: String,
    /// Points exactly on a pole, checked.
    pub cases: u32,
    /// For each coordinate a pole was named at (as [`Error::DivisionByZero`] names it), how many
    /// of those points had it.
    pub coordinates: Vec<(Vec<usize>, u32)>,
}

impl fmt::Display for PoleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} points exactly on a pole checked: every rule refused the point, every \
             derivative check named the pole",
            self.op, self.cases
        )?;
        // One line per coordinate, up to a screenful.
        const SHOWN: usize = 12;
        for (coordinate, n) in self.coordinates.iter().take(SHOWN) {
            write!(f, "\n  coordinate {coordinate:?}: {n} points")?;
        }
        if self.coordinates.len() > SHOWN {
            write!(
                f,
                "\n  … and {} more coordinates",
                self.coordinates.len() - SHOWN
            )?;
        }
        Ok(())
    }
}

/// Points exactly on a pole of `op`: a drawn input with one coordinate set to zero (tried from a
/// drawn position on) such that `forward` answers [`Error::DivisionByZero`] — a zero divisor of
/// `Div`, a zero under `Power` with a negative exponent. At each:
/// * every derivative check (jacobian, adjoint, fderiv where it applies) must refuse the point
///   with exactly the error `forward` gives, naming the coordinate ([`Error::PoleNotReported`]
///   otherwise);
/// * every rule — `jvp`, `vjp`, and for an op with parameters `jvp_params`, `vjp_params` — must
///   refuse the point with a pole error ([`Error::DivisionByZero`] or
///   [`Error::OutsideDomain`]): a rule that returns a value where the function has none fails
///   with [`Error::PoleNotRefused`] and the point.
///
/// Poles that zeroing one input coordinate does not reach (a divisor `x₀ − x₁`) are not drawn;
/// an op with none reachable gives [`Error::NoPoleReachable`]. Points also on a kink are redrawn.
pub fn check_poles<O: Checkable + ?Sized>(
    op: &O,
    shape: &[usize],
    config: &CheckConfig,
) -> CheckResult<PoleReport> {
    poles_of(&op, shape, config)
}

// One compiled copy for every op type, as in the runner.
fn poles_of(op: &dyn Checkable, shape: &[usize], config: &CheckConfig) -> CheckResult<PoleReport> {
    let view = <Q as Exact>::view(op);
    let subject = Subject::<Q> {
        op: view,
        looped: None,
    };
    let (cases, coordinates) = tally_special_points(
        op,
        shape,
        config,
        (
            "no input coordinate set to zero makes forward divide by zero",
            |x, k| onto_pole(view, x, k),
        ),
        |case| pole_case(op.name(), &subject, case),
        |op| Error::NoPoleReachable { op },
    )?;
    Ok(PoleReport {
        op: op.name(),
        cases,
        coordinates,
    })
}

/// The pole `forward` names at `x`, if it divides by zero there.
fn pole(op: &dyn CheckableOver<Q>, x: &Tensor<Q>) -> Option<Error> {
    match OpSpec::<Q>::forward(op, x) {
        Err(e @ Error::DivisionByZero { .. }) => Some(e),
        _ => None,
    }
}

/// `x` itself when it is on a pole, else `x` with its first coordinate from `pick` (cyclically)
/// whose zeroing puts it on one.
fn onto_pole(op: &dyn CheckableOver<Q>, x: &Tensor<Q>, pick: usize) -> Option<Tensor<Q>> {
    if pole(op, x).is_some() {
        return Some(x.clone());
    }
    let n = x.len();
    (0..n).map(|i| (pick + i) % n).find_map(|j| {
        let mut data = x.data().to_vec();
        data[j] = num_traits::Zero::zero();
        let moved = Tensor::new(x.shape().to_vec(), data).ok()?;
        pole(op, &moved).map(|_| moved)
    })
}

/// The checks at one point on a pole; returns the coordinate the pole was named at.
fn pole_case(op: String, subject: &Subject<Q>, case: &Case) -> Result<Vec<usize>> {
    let over = case.over::<Q>();
    let x = &case.x;
    // A point on a kink too is redrawn: the kink, reported first by every check, would hide
    // the pole.
    if let Err(e @ Error::Kink { .. }) = no_kinks(&subject.op, x) {
        return Err(e);
    }
    let Some(named) = pole(subject.op, x) else {
        return Err(Error::NotOnPole {
            op,
            x: x.to_string(),
        });
    };
    for check in applicable(subject).iter().filter(|c| c.derivative) {
        match (check.run)(subject, &over) {
            Err(e) if e == named => {}
            other => {
                return Err(Error::PoleNotReported {
                    op,
                    check: check.description.into(),
                    x: x.to_string(),
                    expected: Box::new(named),
                    got: other.err().map(Box::new),
                })
            }
        }
    }
    let rules: [(&'static str, Result<Tensor<Q>>); 2] = [
        ("jvp", OpSpec::<Q>::jvp(subject.op, x, &over.dx)),
        ("vjp", OpSpec::<Q>::vjp(subject.op, x, &over.dy)),
    ];
    let parameter_rules = (subject.op.param_count() > 0).then(|| {
        [
            (
                "jvp_params",
                OpSpec::<Q>::jvp_params(subject.op, x, &over.dtheta),
            ),
            (
                "vjp_params",
                OpSpec::<Q>::vjp_params(subject.op, x, &over.dy),
            ),
        ]
    });
    for (rule, result) in rules
        .into_iter()
        .chain(parameter_rules.into_iter().flatten())
    {
        match result {
            Err(Error::DivisionByZero { .. } | Error::OutsideDomain { .. }) => {}
            Err(e) => return Err(e),
            Ok(value) => {
                return Err(Error::PoleNotRefused {
                    op,
                    rule,
                    x: x.to_string(),
                    value: value.to_string(),
                    pole: Box::new(named),
                })
            }
        }
    }
    let Error::DivisionByZero { coordinate, .. } = named else {
        unreachable!("pole() returns only DivisionByZero")
    };
    Ok(coordinate)
}

#[cfg(test)]
mod tests {
    use super::{onto_pole, PoleReport};
    use crate::ops::Div;
    use crate::{Tensor, Q};

    fn report(coordinates: usize) -> String {
        PoleReport {
            op: "Div".into(),
            cases: 40,
            coordinates: (0..coordinates).map(|i| (vec![1, i], 2)).collect(),
        }
        .to_string()
    }

    #[test]
    fn a_pole_report_shows_twelve_coordinates_and_counts_the_rest() {
        let twelve = report(12);
        assert_eq!(twelve.lines().count(), 13, "{twelve}");
        assert!(
            twelve.starts_with(
                "Div: 40 points exactly on a pole checked: every rule refused the point, every \
                 derivative check named the pole\n  coordinate [1, 0]: 2 points\n"
            ),
            "{twelve}"
        );
        assert!(
            twelve.ends_with("\n  coordinate [1, 11]: 2 points"),
            "{twelve}"
        );
        let thirteen = report(13);
        assert_eq!(thirteen.lines().count(), 14, "{thirteen}");
        assert!(
            thirteen.ends_with("\n  coordinate [1, 11]: 2 points\n  … and 1 more coordinates"),
            "{thirteen}"
        );
        assert_eq!(report(1).lines().count(), 2);
    }

    #[test]
    fn onto_pole_zeroes_the_first_coordinate_from_pick_on_that_makes_a_pole() {
        // Div over [2, 2]: only the divisors [1, 0] and [1, 1] (flat 2 and 3) are poles.
        let x = Tensor::from_vec(vec![Q::from_integer(1.into()); 4])
            .reshape(vec![2, 2])
            .unwrap();
        let zeroed = |flat: usize| {
            let mut data = x.data().to_vec();
            data[flat] = Q::from_integer(0.into());
            Tensor::new(vec![2, 2], data).unwrap()
        };
        // From 1 on, cyclically: 1 is no pole, 2 is.
        assert_eq!(onto_pole(&Div, &x, 1), Some(zeroed(2)));
        assert_eq!(onto_pole(&Div, &x, 3), Some(zeroed(3)));
        // From 0 on: 0 and 1 are no poles, 2 is (not 3, the last before 0).
        assert_eq!(onto_pole(&Div, &x, 0), Some(zeroed(2)));
        assert_eq!(onto_pole(&Div, &x, 4), Some(zeroed(2)));
        // A point already on a pole stays.
        assert_eq!(onto_pole(&Div, &zeroed(3), 0), Some(zeroed(3)));
    }
}
