//! ELU with a rational `alpha`, elementwise (`torch.nn.ELU`).

use super::coordinate_guards::coordinate_guards;
use super::piecewise::select_else;
use super::pointwise::map_at;
use super::{Guard, Op, OpSpec};
use crate::error::Result;
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// `torch.nn.ELU(alpha)`: `f(x)ᵢ = xᵢ` where `xᵢ > 0`, `α·(e^{xᵢ} − 1)` where `xᵢ ≤ 0`. Rule:
/// `1` where `xᵢ > 0`, `α·e^{xᵢ}` where `xᵢ < 0` (torch's `elu_backward` from the input).
///
/// Kinks: every coordinate where `xᵢ = 0`; the guards report `xᵢ`, so the rule is checked on
/// each piece, never across one (ELU is C¹ at 0 only for `α = 1`, and the guards refuse the
/// point even then). `α` is a fixed constant, not a trained parameter, as in torch; any rational
/// `α` is accepted, as torch accepts any float.
#[derive(Clone, PartialEq, Eq)]
pub struct Elu {
    alpha: Q,
}

crate::error::debug_with_fractions!(Elu { alpha });

impl Elu {
    /// ELU with negative-side scale `alpha`.
    pub fn new(alpha: Q) -> Self {
        Elu { alpha }
    }

    /// `α`.
    pub fn alpha(&self) -> &Q {
        &self.alpha
    }

    // The pieces are chosen by `select_else` on `x`: the negative piece's `e^x`, which `Q` has
    // no value for at `x > 0`, is refused only where that piece can be taken.

    fn derivs<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let alpha = S::from_q(&self.alpha);
        map_at(x, &self.name(), |v| {
            select_else(v, S::one(), v.exp().map(|e| alpha.mul_ref(&e)))
        })
    }
}

/// `α = 1`, torch's default.
impl Default for Elu {
    fn default() -> Self {
        Elu::new(Q::from_integer(1.into()))
    }
}

impl Op for Elu {
    fn name(&self) -> String {
        format!("ELU(α={})", self.alpha)
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}

impl<S: Scalar> OpSpec<S> for Elu {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let alpha = S::from_q(&self.alpha);
        map_at(x, &self.name(), |v| {
            let negative = v.exp().map(|e| alpha.mul_ref(&e.sub_ref(&S::one())));
            select_else(v, v.clone(), negative)
        })
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.derivs(x)?.hadamard(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.derivs(x)?.hadamard(dy)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        Ok(coordinate_guards(x, &self.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn elu_passes_with_torch_default_and_another_alpha() {
        let report = crate::check_op!(Elu::default(), [2, 3], cases(64));
        assert_passes(&report, false);
        assert_eq!(report.scalar, <crate::Ex as crate::Transcendental>::FIELD);
        assert_passes(
            &crate::check_op!(Elu::new(q("3/2")), [2, 3], cases(64)),
            false,
        );
    }

    #[test]
    fn elu_zero_is_a_kink() {
        let x = t(&[2, 2], &["1", "-2", "0", "3"]);
        let r = crate::check::jacobian(&Elu::new(q("3/2")), &x, &x, &x);
        assert_eq!(kink(r), (1, "ELU(α=3/2)".into(), vec![1, 0]));
    }

    #[test]
    fn elu_is_outside_the_symbolic_field_without_branching() {
        // e^x has no value over Sym; what matters is that no rule asked for a sign.
        assert_outside_field_not_branched(&Elu::new(q("3/2")), &[3]);
    }

    #[test]
    fn elu_over_q_keeps_the_positive_piece() {
        // e^x has no value over Q at x = 2, but that piece is not taken; at x = 0 it is e^0 = 1.
        let op = Elu::new(q("3/2"));
        let x = t(&[2], &["2", "0"]);
        assert_eq!(op.forward(&x).unwrap(), t(&[2], &["2", "0"]));
        assert_eq!(
            op.vjp(&x, &t(&[2], &["1", "1"])).unwrap(),
            t(&[2], &["1", "3/2"])
        );
        let r = op.forward(&t(&[2], &["2", "-1"]));
        assert!(
            matches!(r, Err(crate::Error::OutsideField { ref coordinate, .. }) if coordinate == &[1]),
            "{r:?}"
        );
    }

    planted!(FromOutputWithoutAlpha(Elu), fn vjp(&op, x, dy) {
        // torch computes the negative side from the output as y + α; here the "+ α" is lost, so
        // the rule is α·(eˣ − 1), the forward value, instead of α·eˣ.
        let alpha = S::from_q(op.alpha());
        let d = map_at(x, "ELU", |v| {
            select_else(v, S::one(), v.exp().map(|e| alpha.mul_ref(&e.sub_ref(&S::one()))))
        })?;
        d.hadamard(dy)
    });

    #[test]
    fn planted_elu_rule_from_the_output_without_alpha() {
        let c = caught(&FromOutputWithoutAlpha(Elu::new(q("3/2"))), &[2]);
        println!("{c}");
        // At x = -1 with α = 3/2: α·(e⁻¹ − 1) against α·e⁻¹, off by exactly α.
        assert_cx(&c, VJP, &[1], "-3/2 + (3/2)e^(-1)", "(3/2)e^(-1)");
        assert_eq!(c.difference, "-3/2");
    }
}
