//! Softplus with torch's `beta` and `threshold`, elementwise (`torch.nn.Softplus`).

use super::piecewise::select_else;
use super::pointwise::{map_at, sigmoid};
use super::{Guard, Op, OpSpec};
use crate::error::{Error, Result};
use crate::scalar::{FunctionError, Scalar, Q};
use crate::tensor::Tensor;
use num_traits::Signed;

/// `torch.nn.Softplus(beta, threshold)`: `f(x)ᵢ = (1/β)·ln(1 + e^{β·xᵢ})` where
/// `β·xᵢ ≤ threshold`, and `f(x)ᵢ = xᵢ` where `β·xᵢ > threshold` (torch's switch to the linear
/// function "for numerical stability"). Rule: `σ(β·xᵢ)` below the threshold, `1` above it
/// (torch's `softplus_backward`).
///
/// The switch is a guard: the guards report `β·xᵢ − threshold` for every coordinate, so a point
/// with `β·xᵢ = threshold` exactly is refused as a kink (there the two pieces do not even meet:
/// the function jumps by `(1/β)·ln(1 + e^{−threshold})`). `β` and `threshold` are fixed
/// constants, not trained parameters, as in torch.
///
/// The forward value below the threshold is a formal logarithm over [`crate::Ex`]; its rules are
/// exponential-polynomial fractions, decided exactly.
#[derive(Clone, PartialEq, Eq)]
pub struct Softplus {
    beta: Q,
    threshold: Q,
}

crate::error::debug_with_fractions!(Softplus { beta, threshold });

impl Softplus {
    /// Softplus with slope-sharpness `beta` and linear switch at `β·x > threshold`;
    /// [`Error::InvalidArgument`] unless `beta > 0`. Any rational threshold is accepted.
    pub fn new(beta: Q, threshold: Q) -> Result<Self> {
        if !beta.is_positive() {
            return Err(Error::InvalidArgument {
                op: "Softplus".into(),
                argument: "beta".into(),
                value: beta.to_string(),
                requirement: "positive".into(),
            });
        }
        Ok(Softplus { beta, threshold })
    }

    /// `β`.
    pub fn beta(&self) -> &Q {
        &self.beta
    }

    /// The threshold on `β·x` above which the op is the identity.
    pub fn threshold(&self) -> &Q {
        &self.threshold
    }

    /// `β·v − threshold`: positive on the linear piece.
    fn guard<S: Scalar>(&self, v: &S) -> S {
        S::from_q(&self.beta)
            .mul_ref(v)
            .sub_ref(&S::from_q(&self.threshold))
    }

    // The pieces are chosen by `select_else` on the guard: the smooth piece, which `Q` has no
    // value for (`ln(1 + e^{β·x})` never is rational), is refused only where it can be taken.

    fn value<S: Scalar>(&self, v: &S) -> std::result::Result<S, FunctionError> {
        select_else(&self.guard(v), v.clone(), self.smooth(v))
    }

    /// `(1/β)·ln(1 + e^{β·v})`, the piece below the threshold.
    fn smooth<S: Scalar>(&self, v: &S) -> std::result::Result<S, FunctionError> {
        let beta = S::from_q(&self.beta);
        let e = beta.mul_ref(v).exp()?;
        Ok(S::one()
            .add_ref(&e)
            .ln()?
            .checked_div(&beta)
            .expect("β > 0"))
    }

    fn derivs<S: Scalar>(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        let beta = S::from_q(&self.beta);
        map_at(x, &self.name(), |v| {
            select_else(&self.guard(v), S::one(), sigmoid(&beta.mul_ref(v)))
        })
    }
}

/// `β = 1`, `threshold = 20`, torch's defaults.
impl Default for Softplus {
    fn default() -> Self {
        Softplus {
            beta: Q::from_integer(1.into()),
            threshold: Q::from_integer(20.into()),
        }
    }
}

impl Op for Softplus {
    fn name(&self) -> String {
        format!("Softplus(β={}, threshold={})", self.beta, self.threshold)
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}

impl<S: Scalar> OpSpec<S> for Softplus {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        map_at(x, &self.name(), |v| self.value(v))
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.derivs(x)?.hadamard(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.derivs(x)?.hadamard(dy)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        let name = self.name();
        Ok((0..x.len())
            .map(|k| Guard {
                layer: 1,
                op: name.clone(),
                coordinate: x.multi_index(k),
                value: self.guard(&x.data()[k]),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn softplus_passes_with_torch_defaults() {
        let report = crate::check_op!(Softplus::default(), [2, 3], cases(64));
        assert_passes(&report, false);
        assert_eq!(report.scalar, <crate::Ex as crate::Transcendental>::FIELD);
    }

    #[test]
    fn softplus_passes_on_both_sides_of_a_low_threshold() {
        // β·x > 1 for x > 1/2: most drawn points have entries on both pieces.
        let op = Softplus::new(q("2"), q("1")).unwrap();
        assert_passes(&crate::check_op!(op, [2, 3], cases(64)), false);
    }

    #[test]
    fn softplus_forward_is_the_identity_above_the_threshold() {
        let x = t(&[4], &["0", "-1/2", "20", "41/2"]).lift::<crate::Ex>();
        let y = Softplus::default().forward(&x).unwrap();
        let shown: Vec<_> = y.data().iter().map(|v| v.to_string()).collect();
        // ln(1 + e^{-1/2}) comes out as -1/2 + ln(e^(1/2) + 1): the lowest exponent is taken out.
        assert_eq!(
            shown,
            ["ln(2)", "-1/2 + ln(e^(1/2) + 1)", "ln(e^20 + 1)", "41/2"]
        );
    }

    #[test]
    fn softplus_threshold_is_a_kink() {
        let op = Softplus::new(q("2"), q("1")).unwrap();
        let x = t(&[2, 2], &["1", "-2", "1/2", "3"]);
        let r = crate::check::jacobian(&op, &x, &x, &x);
        assert_eq!(
            kink(r),
            (1, "Softplus(β=2, threshold=1)".into(), vec![1, 0])
        );
    }

    #[test]
    fn softplus_beta_must_be_positive() {
        for beta in [q("0"), q("-1/2")] {
            assert_eq!(
                Softplus::new(beta.clone(), q("20")),
                Err(Error::InvalidArgument {
                    op: "Softplus".into(),
                    argument: "beta".into(),
                    value: beta.to_string(),
                    requirement: "positive".into(),
                })
            );
        }
        assert_eq!(Softplus::default(), Softplus::new(q("1"), q("20")).unwrap());
    }

    #[test]
    fn softplus_is_outside_the_symbolic_field_without_branching() {
        // e^{β·x} has no value over Sym; what matters is that no rule asked for a sign.
        assert_outside_field_not_branched(&Softplus::new(q("2"), q("1")).unwrap(), &[3]);
    }

    #[test]
    fn softplus_over_q_keeps_the_linear_piece() {
        // Above the threshold the op is the identity with slope 1, over Q too, although the
        // smooth piece there has no rational value.
        let op = Softplus::new(q("2"), q("1")).unwrap();
        let x = t(&[2], &["1", "3"]);
        assert_eq!(op.forward(&x).unwrap(), x);
        assert_eq!(
            op.vjp(&x, &t(&[2], &["1", "5"])).unwrap(),
            t(&[2], &["1", "5"])
        );
        // At x = 0 the derivative σ(0) = 1/2 is rational; ln 2 is not.
        assert_eq!(
            op.jvp(&t(&[1], &["0"]), &t(&[1], &["1"])).unwrap(),
            t(&[1], &["1/2"])
        );
        let r = op.forward(&t(&[1], &["0"]));
        assert!(
            matches!(r, Err(crate::Error::OutsideField { function: "ln", .. })),
            "{r:?}"
        );
    }

    planted!(BetaForgotten(Softplus), fn vjp(&op, x, dy) {
        // σ(x) where σ(β·x) belongs: right for β = 1 only.
        let d = map_at(x, "Softplus", |v| select_else(&op.guard(v), S::one(), sigmoid(v)))?;
        d.hadamard(dy)
    });

    #[test]
    fn planted_softplus_rule_without_beta() {
        let c = caught(
            &BetaForgotten(Softplus::new(q("2"), q("20")).unwrap()),
            &[2],
        );
        println!("{c}");
        // At x = 1 with β = 2: σ(1) against σ(2).
        assert_cx(&c, VJP, &[0], "e/(e + 1)", "e^2/(e^2 + 1)");
    }
}
