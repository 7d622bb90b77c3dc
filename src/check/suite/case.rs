//! One generated case, and the strategy that draws it.

use super::config::Entries;
use crate::scalar::{Field, Q};
use crate::tensor::Lifted;
use crate::tensor::Tensor;
use proptest::prelude::*;
use std::fmt;

/// One generated case: the point, two tangents, two parameter tangents (empty for an op without
/// parameters), two cotangents and two scalars (for the linearity checks). Its `Debug` form is exact, so a regression file records it readably.
#[derive(Clone, PartialEq)]
pub struct Case {
    /// The point `x`.
    pub x: Tensor<Q>,
    /// The tangent `dx` (`dx₁`).
    pub dx: Tensor<Q>,
    /// A second tangent `dx₂`.
    pub dx2: Tensor<Q>,
    /// A tangent `dθ` of the flat parameter vector (`dθ₁`).
    pub dtheta: Tensor<Q>,
    /// A second parameter tangent `dθ₂`.
    pub dtheta2: Tensor<Q>,
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
        write!(f, "x = {}, dx = {}, dx₂ = {}", self.x, self.dx, self.dx2)?;
        if !self.dtheta.is_empty() {
            write!(f, ", dθ = {}, dθ₂ = {}", self.dtheta, self.dtheta2)?;
        }
        write!(
            f,
            ", δ = {}, δ₂ = {}, a = {}, b = {}",
            self.dy, self.dy2, self.a, self.b
        )
    }
}

/// One value a line, each shortened as errors are ([`crate::error::shorten`]); `Debug` is the
/// exact form.
impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::error::{Short, ShortTensor};
        write!(f, "x = {}", ShortTensor(&self.x))?;
        write!(
            f,
            "\ndx = {}\ndx₂ = {}",
            ShortTensor(&self.dx),
            ShortTensor(&self.dx2)
        )?;
        if !self.dtheta.is_empty() {
            write!(
                f,
                "\ndθ = {}\ndθ₂ = {}",
                ShortTensor(&self.dtheta),
                ShortTensor(&self.dtheta2)
            )?;
        }
        write!(
            f,
            "\nδ = {}\nδ₂ = {}\na = {}\nb = {}",
            ShortTensor(&self.dy),
            ShortTensor(&self.dy2),
            Short(&self.a),
            Short(&self.b)
        )
    }
}

/// A case's values over the exact scalar `B` the checks run over (borrowed when `B` is `Q`).
pub(super) struct Over<'c, B: Clone> {
    /// The case as drawn.
    pub case: &'c Case,
    pub x: Lifted<'c, B>,
    pub dx: Lifted<'c, B>,
    pub dx2: Lifted<'c, B>,
    pub dtheta: Lifted<'c, B>,
    pub dtheta2: Lifted<'c, B>,
    pub dy: Lifted<'c, B>,
    pub dy2: Lifted<'c, B>,
    pub a: B,
    pub b: B,
}

impl Case {
    /// The case's values over `B`.
    pub(super) fn over<B: Field>(&self) -> Over<'_, B> {
        Over {
            case: self,
            x: self.x.lifted(),
            dx: self.dx.lifted(),
            dx2: self.dx2.lifted(),
            dtheta: self.dtheta.lifted(),
            dtheta2: self.dtheta2.lifted(),
            dy: self.dy.lifted(),
            dy2: self.dy2.lifted(),
            a: B::from_q(&self.a),
            b: B::from_q(&self.b),
        }
    }
}

/// The generated inputs of one case for an op `shape → out` with `params` parameters, `x` drawn
/// by `xs` (which decides where the point may lie: off kinks, on one, or fixed).
pub(super) fn cases<X: Strategy<Value = Tensor<Q>>>(
    xs: X,
    shape: &[usize],
    out: &[usize],
    params: usize,
    entries: &Entries,
) -> impl Strategy<Value = Case> {
    let t = |s: &[usize]| entries.tensor(s);
    // The parameter tangents come last, so that the other values of a case (and so the minimal
    // counterexample of an input rule) do not depend on whether the op has parameters.
    (
        xs,
        t(shape),
        t(shape),
        t(out),
        t(out),
        entries.scalar(),
        entries.scalar(),
        t(&[params]),
        t(&[params]),
    )
        .prop_map(|(x, dx, dx2, dy, dy2, a, b, dtheta, dtheta2)| Case {
            x,
            dx,
            dx2,
            dtheta,
            dtheta2,
            dy,
            dy2,
            a,
            b,
        })
}

#[cfg(test)]
mod tests {
    use super::Case;
    use crate::{Tensor, Q};

    fn t(lits: &[&str]) -> Tensor<Q> {
        Tensor::parse(vec![lits.len()], lits).unwrap()
    }

    fn case(dtheta: &[&str], dtheta2: &[&str]) -> Case {
        Case {
            x: t(&["1/2", "-3"]),
            dx: t(&["1", "0"]),
            dx2: t(&["2", "2"]),
            dtheta: t(dtheta),
            dtheta2: t(dtheta2),
            dy: t(&["5"]),
            dy2: t(&["-1"]),
            a: crate::parse_q("2").unwrap(),
            b: crate::parse_q("-1/3").unwrap(),
        }
    }

    #[test]
    fn debug_lists_every_value_exactly_and_the_parameter_tangents_only_when_there_are_some() {
        assert_eq!(
            format!("{:?}", case(&[], &[])),
            "x = [1/2, -3], dx = [1, 0], dx₂ = [2, 2], δ = [5], δ₂ = [-1], a = 2, b = -1/3"
        );
        assert_eq!(
            format!("{:?}", case(&["7"], &["-8/9"])),
            "x = [1/2, -3], dx = [1, 0], dx₂ = [2, 2], dθ = [7], dθ₂ = [-8/9], δ = [5], \
             δ₂ = [-1], a = 2, b = -1/3"
        );
    }

    #[test]
    fn display_puts_one_value_a_line_and_the_parameter_tangents_only_when_there_are_some() {
        assert_eq!(
            case(&[], &[]).to_string(),
            "x = [1/2, -3]\ndx = [1, 0]\ndx₂ = [2, 2]\nδ = [5]\nδ₂ = [-1]\na = 2\nb = -1/3"
        );
        assert_eq!(
            case(&["7"], &["-8/9"]).to_string(),
            "x = [1/2, -3]\ndx = [1, 0]\ndx₂ = [2, 2]\ndθ = [7]\ndθ₂ = [-8/9]\nδ = [5]\n\
             δ₂ = [-1]\na = 2\nb = -1/3"
        );
    }
}
