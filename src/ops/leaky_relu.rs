//! Leaky ReLU with a rational slope (PReLU when the slope is trained).

use super::coordinate_guards::coordinate_guards;
use super::{Guard, Op, OpSpec, Param};
use crate::error::Result;
use crate::scalar::{Scalar, Q};
use crate::tensor::Tensor;

/// `f(x)ᵢ = xᵢ` where `xᵢ > 0`, `α·xᵢ` where `xᵢ < 0`, for a rational slope `α`.
///
/// Kinks: every coordinate where `xᵢ = 0` (unless `α = 1`, which the guards still report: the
/// rule is checked on each piece, never across one). The slope is the op's one parameter, so
/// `∂f/∂α = min(x, 0)` is checked like an input gradient through [`super::WrtParams`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeakyRelu {
    /// `[α]`, the op's one parameter tensor.
    slope: Tensor<Q>,
}

impl LeakyRelu {
    /// Leaky ReLU with negative-side slope `slope`.
    pub fn new(slope: Q) -> Self {
        LeakyRelu {
            slope: Tensor::from_vec(vec![slope]),
        }
    }

    /// The negative-side slope `α`.
    pub fn slope(&self) -> &Q {
        &self.slope.data()[0]
    }
}

// Every piece is chosen by `S::select` on the coordinate, never by an `if` on its sign, so
// that over `Sym` one evaluation covers both sides.

/// The derivative mask at `x` for slope `alpha`: 1 on the positive side, `α` on the negative.
fn mask<S: Scalar>(x: &Tensor<S>, alpha: &S) -> Tensor<S> {
    x.map(|v| S::select(v, S::one(), alpha.clone()))
}

fn apply<S: Scalar>(x: &Tensor<S>, alpha: &S) -> Tensor<S> {
    x.map(|v| S::select(v, v.clone(), alpha.mul_ref(v)))
}

impl Op for LeakyRelu {
    fn name(&self) -> String {
        format!("LeakyReLU(α={})", self.slope())
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
    fn is_piecewise_linear(&self) -> bool {
        true
    }
    fn params(&self) -> Vec<Param<'_>> {
        vec![Param::new(self, "slope", &self.slope)]
    }
}

/// Parameters: `[α]`.
impl<S: Scalar> OpSpec<S> for LeakyRelu {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(apply(x, &S::from_q(self.slope())))
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        mask(x, &S::from_q(self.slope())).hadamard(dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        mask(x, &S::from_q(self.slope())).hadamard(dy)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        Ok(coordinate_guards(x, &self.name()))
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        params.expect_shape(&[1], "LeakyReLU parameters [α]")?;
        Ok(apply(x, &params.data()[0]))
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        dparams.expect_shape(&[1], "LeakyReLU parameter tangent [dα]")?;
        Ok(negative_part(x).scale(&dparams.data()[0]))
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(Tensor::from_vec(vec![negative_part(x).dot(dy)?]))
    }
}

/// `min(x, 0)`, the derivative of `α·min(x, 0)` in `α`.
fn negative_part<S: Scalar>(x: &Tensor<S>) -> Tensor<S> {
    x.map(|v| S::select(v, S::zero(), v.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    #[test]
    fn leaky_relu_passes_and_its_slope_gradient() {
        let op = LeakyRelu::new(q("1/10"));
        assert_passes(&crate::check_op!(op, [2, 3], cases(64)), true);
        assert_params_pass(&op, t(&[3], &["1", "-2", "1/3"]), 32);
    }

    #[test]
    fn a_zero_input_is_a_kink() {
        let x = t(&[2, 2], &["1", "-2", "0", "3"]);
        let r = crate::check::adjoint(&LeakyRelu::new(q("1/10")), &x, &x, &x);
        assert_eq!(kink(r), (1, "LeakyReLU(α=1/10)".into(), vec![1, 0]));
    }

    #[test]
    fn leaky_relu_branches_through_select() {
        assert_proved(&LeakyRelu::new(q("1/10")), &[3]);
    }

    planted!(SlopeSwapped(LeakyRelu), fn vjp(&op, x, dy) {
        // The slope applied on the positive side instead of the negative one.
        let alpha = S::from_q(op.slope());
        dy.zip_with(x, |d, v| S::select(v, alpha.mul_ref(d), d.clone()))
    });

    #[test]
    fn planted_leaky_relu_slope_on_the_wrong_side() {
        assert_cx(
            &caught(&SlopeSwapped(LeakyRelu::new(q("1/10"))), &[2]),
            VJP,
            &[0],
            "1/10",
            "1",
        );
    }

    #[test]
    fn planted_leaky_relu_caught_by_adjointness_alone() {
        // Without any reference derivative, ⟪jvp(x, dx), δ⟫ = 6/5 but ⟪dx, vjp(x, δ)⟫ = 21/10;
        // the disagreement is localised to the Jacobian entry (output 0, input 0).
        let op = SlopeSwapped(LeakyRelu::new(q("1/10")));
        let (x, dx, dy) = (
            t(&[2], &["2", "-3"]),
            t(&[2], &["1", "2"]),
            t(&[2], &["1", "1"]),
        );
        let c = match crate::check::adjoint(&op, &x, &dx, &dy) {
            Err(crate::Error::Violated(c)) => c,
            other => panic!("expected a counterexample, got {other:?}"),
        };
        assert_cx(
            &c,
            "adjoint: vjp(x, e_i)_j = jvp(x, e_j)_i",
            &[0, 0],
            "1/10",
            "1",
        );
        assert!(c.inputs.contains(&("⟪jvp(x, dx), δ⟫".into(), "6/5".into())));
        assert!(c
            .inputs
            .contains(&("⟪dx, vjp(x, δ)⟫".into(), "21/10".into())));
    }
}
