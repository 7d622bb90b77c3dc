//! A failed proof: the first non-zero coefficient of the difference, and a rational point,
//! consistent with every guard's sign, where the two sides differ.

use crate::error::Counterexample;
use crate::scalar::symbols::{self, Mask};
use crate::scalar::{Sym, Var, Q};
use num_traits::{Signed, Zero};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use std::collections::HashMap;
use std::fmt;

/// Why an identity over symbols is false, with the evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofFailure {
    /// The op.
    pub op: String,
    /// The identity, e.g. `"vjp(x, δ) = Df(x)ᵀ·δ"`.
    pub identity: String,
    /// Where: `"input [2]"`, `"output [0, 1]"`, `"parameter layer 1 … weight[0, 1]"`, or
    /// `"the whole pairing"` for adjointness.
    pub coordinate: String,
    /// A monomial of the difference `rule − derivative` (its largest), printed.
    pub monomial: String,
    /// Its exact coefficient.
    pub coefficient: String,
    /// How many terms the difference has.
    pub terms: usize,
    /// The difference `rule − derivative`, printed in full.
    pub difference: String,
    /// Values of every symbol (masks included, each equal to its guard's truth value) at which
    /// the two sides differ; empty when no such point was found.
    pub point: Vec<(String, String)>,
    /// The point check's verdict at that point: the rule's exact counterexample.
    pub counterexample: Option<Counterexample>,
}

impl fmt::Display for ProofFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: {} is not an identity", self.op, self.identity)?;
        write!(
            f,
            "  at {} the difference rule − derivative is {} ({} terms)",
            self.coordinate,
            crate::error::shorten(&self.difference),
            self.terms
        )?;
        if self.point.is_empty() {
            return write!(
                f,
                "\n  and no point consistent with the guards where the sides differ was found"
            );
        }
        const SHOWN: usize = 16;
        write!(f, "\n  the sides differ at ")?;
        for (k, (name, value)) in self.point.iter().take(SHOWN).enumerate() {
            let sep = if k == 0 { "" } else { ", " };
            write!(f, "{sep}{name} = {value}")?;
        }
        if self.point.len() > SHOWN {
            write!(f, ", … ({} more)", self.point.len() - SHOWN)?;
        }
        if let Some(c) = &self.counterexample {
            write!(f, "\n  the point check there: {c}")?;
        }
        Ok(())
    }
}

/// Values for every base symbol and every mask, masks equal to their guards' truth values.
#[derive(Clone, Debug)]
pub(crate) struct Point {
    pub values: HashMap<Var, Q>,
}

impl Point {
    pub fn get(&self, v: Var) -> Option<Q> {
        self.values.get(&v).cloned()
    }

    /// The value of a symbolic quantity at this point; `None` at a pole.
    pub fn eval(&self, s: &Sym) -> Option<Q> {
        s.substitute(&|v| self.get(v))?.as_constant()
    }

    /// Every symbol's value, base symbols first, by name; a mask shows its guard, e.g.
    /// `m0 = [x[0] > 0]`.
    pub fn named(&self) -> Vec<(String, String)> {
        let guards: HashMap<Var, String> = symbols::masks()
            .into_iter()
            .map(|m| {
                (
                    m.var,
                    format!("{} = [{} > 0]", symbols::name(m.var), m.guard),
                )
            })
            .collect();
        let mut vars: Vec<Var> = self.values.keys().copied().collect();
        vars.sort_unstable();
        vars.into_iter()
            .map(|v| {
                let name = guards.get(&v).cloned().unwrap_or_else(|| symbols::name(v));
                (name, self.values[&v].to_string())
            })
            .collect()
    }
}

/// A random point (small rationals for the base symbols, except those of `fixed`, which keep
/// their values; masks from their guards) where `diff` is defined and non-zero, or `None` after
/// `tries` attempts.
pub(crate) fn find_point(
    diff: &Sym,
    fixed: &HashMap<Var, Q>,
    tries: usize,
    seed: u64,
) -> Option<Point> {
    let masks = symbols::masks();
    let base = symbols::symbol_count();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..tries).find_map(|_| {
        let mut values: HashMap<Var, Q> = (0..base as Var)
            .map(|v| {
                let n: i64 = rng.random_range(1..=9) * if rng.random_bool(0.5) { 1 } else { -1 };
                let d: i64 = rng.random_range(1..=3);
                (v, Q::new(n.into(), d.into()))
            })
            .collect();
        values.extend(fixed.iter().map(|(v, q)| (*v, q.clone())));
        set_masks(&masks, &mut values)?;
        let point = Point { values };
        let at = point.eval(diff)?;
        (!at.is_zero()).then_some(point)
    })
}

/// Sets each mask to its guard's truth value, in creation order (a guard mentions only earlier
/// masks); `None` when a guard is zero (the point is on a kink).
pub(crate) fn set_masks(masks: &[Mask], values: &mut HashMap<Var, Q>) -> Option<()> {
    for m in masks {
        let g = m
            .guard
            .substitute(&|v| values.get(&v).cloned())
            .as_constant()?;
        if g.is_zero() {
            return None;
        }
        let bit = if g.is_positive() { 1 } else { 0 };
        values.insert(m.var, Q::from_integer(bit.into()));
    }
    Some(())
}
