//! Composition: four wrong chain rules for `Linear(3→3) >>> ReLU`, each caught with its exact
//! counterexample.

use super::*;
use exactgrad::ops::{Linear, Relu, Then};
use exactgrad::Compose;

pub(super) type LinRelu = Then<Linear, Relu>;

pub(super) fn lin_relu() -> LinRelu {
    l33().then(Relu)
}

/// vjp = second.vjp(y, first.vjp(x, δ)): the chain applied in the wrong order.
struct WrongOrder;
impl Bug<LinRelu> for WrongOrder {
    fn name(&self) -> &'static str {
        "chain rule in the wrong order"
    }
    fn vjp<S: Sc>(&self, op: &LinRelu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let y = op.first.forward(x)?;
        op.second.vjp(&y, &op.first.vjp(x, dy)?)
    }
}

/// jvp evaluates the second rule at `x` instead of at `first(x)`.
struct SecondAtInput;
impl Bug<LinRelu> for SecondAtInput {
    fn name(&self) -> &'static str {
        "second rule evaluated at x instead of first(x)"
    }
    fn jvp<S: Sc>(&self, op: &LinRelu, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        op.second.jvp(x, &op.first.jvp(x, dx)?)
    }
}

/// vjp skips the second op (ReLU treated as the identity in backward).
struct SkipsSecond;
impl Bug<LinRelu> for SkipsSecond {
    fn name(&self) -> &'static str {
        "vjp skipping the ReLU"
    }
    fn vjp<S: Sc>(&self, op: &LinRelu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        op.first.vjp(x, dy)
    }
}

/// vjp calls the first op's jvp where its vjp belongs.
struct JvpForVjp;
impl Bug<LinRelu> for JvpForVjp {
    fn name(&self) -> &'static str {
        "first.jvp called in the backward pass"
    }
    fn vjp<S: Sc>(&self, op: &LinRelu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let y = op.first.forward(x)?;
        op.first.jvp(x, &op.second.vjp(&y, dy)?)
    }
}

#[test]
fn composition_in_the_wrong_order() {
    assert_counterexample(
        &caught(&mutant(lin_relu(), WrongOrder), &[3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[0],
        ["2", "0", "2"],
        &[("x", "[0, 1, 0]"), ("dx", "[0, 0, 0]"), ("δ", "[0, 0, 1]")],
    );
}

#[test]
fn composition_second_rule_at_the_wrong_point() {
    assert_counterexample(
        &caught(&mutant(lin_relu(), SecondAtInput), &[3]),
        "jacobian: jvp(x, dx) = J·dx",
        &[2],
        ["1", "0", "1"],
        &[("x", "[0, 1, 1]"), ("dx", "[0, 0, 1]"), ("δ", "[0, 0, 0]")],
    );
}

#[test]
fn composition_vjp_skips_the_relu() {
    assert_counterexample(
        &caught(&mutant(lin_relu(), SkipsSecond), &[3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[0],
        ["2", "0", "2"],
        &[("x", "[0, 1, 0]"), ("dx", "[0, 0, 0]"), ("δ", "[0, 0, 1]")],
    );
}

#[test]
fn composition_jvp_called_in_backward() {
    assert_counterexample(
        &caught(&mutant(lin_relu(), JvpForVjp), &[3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[0],
        ["2", "-3", "5"],
        &[("x", "[0, 1, 0]"), ("dx", "[0, 0, 0]"), ("δ", "[0, 1, 0]")],
    );
}
