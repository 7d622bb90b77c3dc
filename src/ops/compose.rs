//! Sequential composition by the chain rule — Lean's `>>>` — for inputs and parameters.

use super::contract::stages_of;
use super::params::{join_params, split_at_count};
use super::{Guard, Op, OpSpec, Param};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `first` then `second`: `f = second ∘ first`, with
/// `jvp = second.jvp(first(x), first.jvp(x, dx))` and
/// `vjp = first.vjp(x, second.vjp(first(x), δ))`. The parameters are the first op's followed by
/// the second's, and their rules chain the same way: `∂f/∂θ₁ = D second · ∂first/∂θ₁`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Then<A, B> {
    /// The op applied first.
    pub first: A,
    /// The op applied to the first op's output.
    pub second: B,
}

impl<A, B> Then<A, B> {
    /// `first >>> second`.
    pub fn new(first: A, second: B) -> Self {
        Then { first, second }
    }
}

impl<A: Op, B> Then<A, B> {
    /// The second op's guards, renumbered to count the first op's layers.
    fn shifted<S>(&self, later: Vec<Guard<S>>) -> impl Iterator<Item = Guard<S>> {
        let shift = self.first.depth();
        later.into_iter().map(move |g| Guard {
            layer: g.layer + shift,
            ..g
        })
    }
}

/// `a.then(b)` for any two ops (a separate trait because `OpSpec` is generic over the scalar).
pub trait Compose: Sized {
    /// `self >>> next`.
    fn then<B>(self, next: B) -> Then<Self, B> {
        Then::new(self, next)
    }
}

impl<T> Compose for T {}

impl<A: Op, B: Op> Op for Then<A, B> {
    fn name(&self) -> String {
        format!("{} >>> {}", self.first.name(), self.second.name())
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.second.output_shape(&self.first.output_shape(input)?)
    }
    fn is_piecewise_linear(&self) -> bool {
        self.first.is_piecewise_linear() && self.second.is_piecewise_linear()
    }
    /// The second op's guards see the first op's output; they stay affine in the input only
    /// when the first op is piecewise linear.
    fn certified_guard_layers(&self) -> usize {
        if self.first.is_piecewise_linear() {
            self.first.depth() + self.second.certified_guard_layers()
        } else {
            self.first.certified_guard_layers()
        }
    }
    fn depth(&self) -> usize {
        self.first.depth() + self.second.depth()
    }
    fn params(&self) -> Vec<Param<'_>> {
        let shift = self.first.depth();
        let mut params = self.first.params();
        params.extend(self.second.params().into_iter().map(|p| p.shifted(shift)));
        params
    }
    fn param_count(&self) -> usize {
        self.first.param_count() + self.second.param_count()
    }
}

impl<S: Scalar, A: OpSpec<S>, B: OpSpec<S>> OpSpec<S> for Then<A, B> {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.second.forward(&self.first.forward(x)?)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        let y = self.first.forward(x)?;
        self.second.jvp(&y, &self.first.jvp(x, dx)?)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let y = self.first.forward(x)?;
        self.first.vjp(x, &self.second.vjp(&y, dy)?)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        let (mut guards, y) = self.first.guards_and_output(x)?;
        guards.extend(self.shifted(self.second.guards(&y)?));
        Ok(guards)
    }
    fn guards_and_output(&self, x: &Tensor<S>) -> Result<(Vec<Guard<S>>, Tensor<S>)> {
        let (mut guards, y) = self.first.guards_and_output(x)?;
        let (later, z) = self.second.guards_and_output(&y)?;
        guards.extend(self.shifted(later));
        Ok((guards, z))
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        let [p1, p2] = split_at_count(params, self.first.param_count(), self.param_count())?;
        let y = self.first.forward_with_params(&p1, x)?;
        self.second.forward_with_params(&p2, &y)
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        let [d1, d2] = split_at_count(dparams, self.first.param_count(), self.param_count())?;
        let y = self.first.forward(x)?;
        let through = self.second.jvp(&y, &self.first.jvp_params(x, &d1)?)?;
        through.add(&self.second.jvp_params(&y, &d2)?)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let y = self.first.forward(x)?;
        let g2 = self.second.vjp_params(&y, dy)?;
        let g1 = self.first.vjp_params(x, &self.second.vjp(&y, dy)?)?;
        Ok(join_params(vec![g1, g2]))
    }
    fn stages(&self) -> Vec<&dyn OpSpec<S>> {
        let mut stages = stages_of(&self.first);
        stages.extend(stages_of(&self.second));
        stages
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::*;
    use crate::planted;

    use crate::ops::{Conv2d, Flatten, Linear, MaxPool2d, MseLoss, Relu};
    use crate::strategy::{nudge_off_kinks, sample, small_q, tensor};

    /// `Linear(3→3) >>> ReLU`, `W ≠ Wᵀ`.
    fn lin_relu() -> Then<Linear, Relu> {
        let w = t(&[3, 3], &["1", "2", "0", "-3", "1", "4", "2", "-1", "1"]);
        Linear::new(w, t(&[3], &["0", "1", "-2"]))
            .unwrap()
            .then(Relu)
    }

    #[test]
    fn then_passes_and_chains_the_parameter_gradients() {
        assert_passes(&crate::check_op!(lin_relu(), [3], cases(64)), true);
        assert_params_pass(&lin_relu(), t(&[3], &["1", "1/2", "2"]), 32);
    }

    /// The second op's guards are numbered after the first op's layers: `Linear >>> ReLU >>>
    /// ReLU` has its ReLUs' guards at layers 2 and 3.
    #[test]
    fn guards_count_the_layers_before_them() {
        let op = lin_relu().then(Relu);
        let guards = OpSpec::<crate::Q>::guards(&op, &t(&[3], &["1", "-1", "2"])).unwrap();
        let layers: Vec<usize> = guards.iter().map(|g| g.layer).collect();
        assert_eq!(layers, [2, 2, 2, 3, 3, 3]);
    }

    #[test]
    fn cnn_gradients_are_exact() {
        // conv2d (1 → c channels, 2×2, padding 0–1) → ReLU → max pool 2×2 (stride 1–2) →
        // flatten → linear to 2 outputs (→ MSE), weights drawn once per configuration: the
        // piecewise-linear part passes fderiv too, and every parameter is checked through the
        // composition.
        for (seed, (c, pad, stride)) in [(1, 0, 1), (1, 1, 2), (2, 0, 2), (2, 1, 1)]
            .into_iter()
            .enumerate()
        {
            let draw =
                |shape: Vec<usize>, k: u64| sample(tensor(shape, small_q()), 10 * seed as u64 + k);
            let pooled = (4 + 2 * pad - 1 - 2) / stride + 1;
            // A positive bias keeps most ReLUs alive: a window of two dead ReLUs ties at 0 on a
            // whole neighbourhood, where nothing can be checked.
            let bias = t(&[c], &["5", "7"][..c]);
            let conv = Conv2d::new(draw(vec![c, 1, 2, 2], 1), bias, (1, 1), (pad, pad)).unwrap();
            let lin = Linear::new(draw(vec![2, c * pooled * pooled], 3), draw(vec![2], 4)).unwrap();
            let pool = MaxPool2d::new((2, 2), (stride, stride)).unwrap();
            let features = (&conv).then(Relu).then(pool).then(Flatten).then(&lin);
            assert_passes(&crate::check_op!(features, [1, 4, 4], cases(4)), true);
            let net = (&features).then(MseLoss::new(draw(vec![2], 5)));
            assert_passes(&crate::check_op!(net, [1, 4, 4], cases(4)), false);
            let x = nudge_off_kinks(&net, draw(vec![1, 4, 4], 6));
            assert_params_pass(&net, x, 4);
        }
    }

    planted!(SkipsSecond(Then<Linear, Relu>), fn vjp(&op, x, dy) {
        // The second op skipped in the backward pass (ReLU treated as the identity).
        op.first.vjp(x, dy)
    });

    #[test]
    fn planted_then_skipping_the_second_op() {
        assert_cx(&caught(&SkipsSecond(lin_relu()), &[3]), VJP, &[0], "2", "0");
    }
}
