//! The linear regions of a network with numeric weights, enumerated exactly, and its rules
//! proved on each.
//!
//! With the weights fixed and the input symbolic, every guard the evaluation meets is affine in
//! `x` once the masks it mentions are fixed. A region is a sign pattern of those guards that
//! some input realises: the patterns are explored guard by guard (in the order the evaluation
//! met them, so a guard's masks are decided before it), and each branch is kept only if an
//! exact LP over ℚ finds an input strictly inside it.

use super::lp::{strictly_feasible, Strict};
use super::op::{Difference, ProveConfig, Run, Tally};
use super::{Provable, Weights};
use crate::error::{Error, Result};
use crate::scalar::symbols::{self, Mask};
use crate::scalar::{is_mask, Poly, Var, Q};
use num_traits::{One, Zero};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::time::Instant;

/// One linear region: its sign pattern, and a rational input strictly inside it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Region {
    /// One character per mask, in creation order: `1` where the guard is positive, `0` where
    /// it is negative, `·` where the region does not depend on it.
    pub pattern: String,
    /// An input strictly inside the region, exact `p/q` strings.
    pub point: Vec<String>,
}

/// Every linear region of a network at its weights, with the rules proved on each.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegionReport {
    /// The network.
    pub op: String,
    /// The input's shape.
    pub input_shape: Vec<usize>,
    /// How many guards (mask symbols) the evaluation met.
    pub guards: usize,
    /// The regions, in the order found.
    pub regions: Vec<Region>,
    /// How many LPs were solved.
    pub lps: usize,
    /// Wall-clock seconds, enumeration and proofs together.
    pub seconds: f64,
}

impl fmt::Display for RegionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on inputs of shape {:?}: {} linear regions (sign patterns of {} guards, each \
             realised by an input found by an exact LP over ℚ; {} LPs); on every region the \
             rules are PROVED as polynomial identities; {:.3} s",
            self.op,
            self.input_shape,
            self.regions.len(),
            self.guards,
            self.lps,
            self.seconds
        )
    }
}

/// Enumerates the linear regions of `op` (numeric weights, input of shape `shape`) exactly and
/// proves on each that `jvp`, `vjp` and the parameter rules equal the derivative.
///
/// A rule wrong on some region is [`Error::ProofFailed`] with a point inside that region,
/// re-checked by the point checks. A guard that is not affine in the input on its region (the
/// network is not piecewise linear) is [`Error::NotPiecewiseLinear`].
///
/// ```
/// use exactgrad::ops::{Linear, Relu};
/// use exactgrad::{Compose, Tensor};
///
/// let w = Tensor::parse(vec![2, 1], &["1", "-1"]).unwrap();
/// let b = Tensor::parse(vec![2], &["0", "1"]).unwrap();
/// let net = Linear::new(w, b).unwrap().then(Relu);
/// // Guards x > 0 and 1 − x > 0 cut the line into three regions.
/// let report = exactgrad::prove::linear_regions(&net, &[1], &Default::default()).unwrap();
/// assert_eq!(report.regions.len(), 3);
/// ```
pub fn linear_regions<O: Provable + ?Sized>(
    op: &O,
    shape: &[usize],
    config: &ProveConfig,
) -> Result<RegionReport> {
    symbols::scoped(|| {
        let start = Instant::now();
        let run = Run::new(op, shape, Weights::AsGiven)?;
        let tally = match run.prove(op, Tally::collecting())? {
            Ok((tally, _)) => tally,
            Err(_) => unreachable!("a collecting tally never stops at a difference"),
        };
        let differences = tally.collected.unwrap_or_default();
        let masks = symbols::masks();
        let mut search = Search {
            x: &run.x_vars,
            masks: &masks,
            lps: 0,
            regions: Vec::new(),
            not_affine: None,
        };
        search.explore(&mut HashMap::new(), &mut Vec::new(), 0)?;
        if search.not_affine.is_some() {
            return Err(Error::NotPiecewiseLinear(op.name()));
        }
        let (lps, found) = (search.lps, search.regions);
        for (values, point) in &found {
            if let Some(d) = differences.iter().find(|d| !vanishes(d, values)) {
                return Err(fail_in_region(op, &run, d, values, point, config));
            }
        }
        Ok(RegionReport {
            op: op.name(),
            input_shape: shape.to_vec(),
            guards: masks.len(),
            regions: found
                .iter()
                .map(|(values, point)| Region {
                    pattern: pattern(&masks, values),
                    point: point.iter().map(Q::to_string).collect(),
                })
                .collect(),
            lps,
            seconds: start.elapsed().as_secs_f64(),
        })
    })
}

/// The depth-first search over guards.
struct Search<'a> {
    x: &'a [Var],
    masks: &'a [Mask],
    lps: usize,
    /// Each region: the masks' values there, and an input inside it.
    regions: Vec<(HashMap<Var, Q>, Vec<Q>)>,
    /// A guard that is not affine in `x` on its region.
    not_affine: Option<Poly>,
}

impl Search<'_> {
    /// Decides masks `k..` inside the region cut out by `rows`, where `values` fixes masks
    /// `..k`.
    fn explore(
        &mut self,
        values: &mut HashMap<Var, Q>,
        rows: &mut Vec<Strict>,
        k: usize,
    ) -> Result<()> {
        let Some(mask) = self.masks.get(k) else {
            // Every branch taken was feasible, so this LP only fetches the region's point.
            self.lps += 1;
            if let Some((point, _)) = strictly_feasible(self.x.len(), rows)? {
                self.regions.push((values.clone(), point));
            }
            return Ok(());
        };
        let guard = mask.guard.substitute(&|v| values.get(&v).cloned());
        let Some(row) = affine(&guard, self.x) else {
            self.not_affine = Some(guard);
            return Ok(());
        };
        if row.a.iter().all(Zero::is_zero) {
            // Constant on this region: decided without an LP; zero means the whole region is
            // a kink, which no input off the kinks reaches.
            if !row.c.is_zero() {
                let bit = if row.c > Q::zero() {
                    Q::one()
                } else {
                    Q::zero()
                };
                values.insert(mask.var, bit);
                self.explore(values, rows, k + 1)?;
                values.remove(&mask.var);
            }
            return Ok(());
        }
        for positive in [true, false] {
            let side = if positive {
                row.clone()
            } else {
                Strict {
                    a: row.a.iter().map(|v| -v).collect(),
                    c: -row.c.clone(),
                }
            };
            rows.push(side);
            self.lps += 1;
            if strictly_feasible(self.x.len(), rows)?.is_some() {
                let bit = if positive { Q::one() } else { Q::zero() };
                values.insert(mask.var, bit);
                self.explore(values, rows, k + 1)?;
                values.remove(&mask.var);
            }
            rows.pop();
            if self.not_affine.is_some() {
                break;
            }
        }
        Ok(())
    }
}

/// `guard` as `a·x + c`, or `None` if another symbol or a higher power occurs.
fn affine(guard: &Poly, x: &[Var]) -> Option<Strict> {
    let position: HashMap<Var, usize> = x.iter().enumerate().map(|(i, &v)| (v, i)).collect();
    let mut row = Strict {
        a: vec![Q::zero(); x.len()],
        c: Q::zero(),
    };
    for (m, coef) in guard.terms() {
        match m.factors() {
            [] => row.c = coef.clone(),
            [(v, 1)] if !is_mask(*v) => row.a[*position.get(v)?] = coef.clone(),
            _ => return None,
        }
    }
    Some(row)
}

/// Whether a difference is zero once the region's masks are substituted.
fn vanishes(d: &Difference, values: &HashMap<Var, Q>) -> bool {
    d.diff
        .substitute(&|v| values.get(&v).cloned())
        .is_none_or(|s| s.numer().is_zero())
}

fn pattern(masks: &[Mask], values: &HashMap<Var, Q>) -> String {
    masks
        .iter()
        .map(|m| match values.get(&m.var) {
            Some(v) if v.is_one() => '1',
            Some(_) => '0',
            None => '·',
        })
        .collect()
}

/// The failure of `d` on a region: a point with the region's input, re-checked.
fn fail_in_region<O: Provable + ?Sized>(
    op: &O,
    run: &Run,
    d: &Difference,
    values: &HashMap<Var, Q>,
    point: &[Q],
    config: &ProveConfig,
) -> Error {
    let fixed: HashMap<Var, Q> = run
        .x_vars
        .iter()
        .copied()
        .zip(point.iter().cloned())
        .collect();
    let on_region = Difference {
        rule: d.rule,
        coordinate: format!(
            "{} on region {}",
            d.coordinate,
            pattern(&symbols::masks(), values)
        ),
        diff: d.diff.clone(),
    };
    run.fail(op, on_region, &fixed, config, |found| {
        run.recheck(op, d.rule, found)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Linear, Polynomial, Relu, Then};
    use crate::planted;
    use crate::scalar::parse_q;
    use crate::tensor::Tensor;
    use crate::Compose;

    /// Three lines in general position, x = 0, y = 0 and x + y = 1, cut the plane into 7 regions.
    fn three_lines() -> Then<Linear, Relu> {
        let w = Tensor::parse(vec![3, 2], &["1", "0", "0", "1", "1", "1"]).unwrap();
        let b = Tensor::parse(vec![3], &["0", "0", "-1"]).unwrap();
        Linear::new(w, b).unwrap().then(Relu)
    }

    #[test]
    fn three_lines_in_general_position_give_seven_regions() {
        let r = linear_regions(&three_lines(), &[2], &Default::default()).unwrap();
        assert_eq!((r.regions.len(), r.guards), (7, 3), "{r}");
        // The pattern 001 (x < 0, y < 0, x + y > 1) is empty, and the LP found it so.
        assert!(r.regions.iter().all(|g| g.pattern != "001"));
        // Each point is strictly inside its region: its signs are the pattern.
        for g in &r.regions {
            let p: Vec<Q> = g.point.iter().map(|s| parse_q(s).unwrap()).collect();
            let z = [p[0].clone(), p[1].clone(), &p[0] + &p[1] - Q::one()];
            let signs: String = z
                .iter()
                .map(|v| if *v > Q::zero() { '1' } else { '0' })
                .collect();
            assert!(z.iter().all(|v| !v.is_zero()));
            assert_eq!(signs, g.pattern);
        }
        assert!(r.to_string().contains("7 linear regions"), "{r}");
    }

    planted!(WrongWhereBothActive(Then<Linear, Relu>), fn vjp(&op, x, dy) {
        // δ₀ leaks into the first input coordinate only where units 0 and 1 are both active.
        let z = op.first.forward(x)?;
        let step = |v: &S| S::select(v, S::one(), S::zero());
        let leak = step(&z.data()[0]).mul_ref(&step(&z.data()[1])).mul_ref(&dy.data()[0]);
        let mut v = op.vjp(x, dy)?.into_data();
        v[0] = v[0].add_ref(&leak);
        Ok(Tensor::from_vec(v))
    });

    #[test]
    fn a_rule_wrong_on_some_regions_fails_with_a_point_inside_one_of_them() {
        let e = linear_regions(
            &WrongWhereBothActive(three_lines()),
            &[2],
            &Default::default(),
        );
        let Err(Error::ProofFailed(f)) = e else {
            panic!("{e:?}")
        };
        assert!(f.coordinate.starts_with("input [0] on region 11"), "{f}");
        let c = f.counterexample.expect("the point check fails");
        assert_eq!(c.check, "jacobian: vjp(x, δ) = Jᵀ·δ");
        assert_eq!(c.coordinate, [0]);
    }

    #[test]
    fn a_guard_not_affine_in_the_input_is_refused() {
        let square = Polynomial::new(["-1", "0", "1"].map(|s| parse_q(s).unwrap()).to_vec());
        let e = linear_regions(&square.then(Relu), &[1], &Default::default());
        assert!(matches!(e, Err(Error::NotPiecewiseLinear(_))), "{e:?}");
    }
}
