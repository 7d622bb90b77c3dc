//! ReLU: six wrong rules for `Relu`, each caught with its exact counterexample, and the
//! convention `relu′(0) = 1` that is correct for an op reporting its kinks.

use super::*;
use exactgrad::ops::{relu_deriv_spec, Relu};
use std::any::Any;
use std::cell::RefCell;
use std::cmp::Ordering;

/// vjp = relu(δ): the mask taken from the cotangent instead of the input.
struct MaskFromDelta;
impl Bug<Relu> for MaskFromDelta {
    fn name(&self) -> &'static str {
        "vjp masking by δ > 0 (relu applied to the gradient)"
    }
    fn vjp<S: Sc>(&self, r: &Relu, _: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        r.forward(dy)
    }
}

/// vjp masked by `x < 0`.
struct MaskNegated;
impl Bug<Relu> for MaskNegated {
    fn name(&self) -> &'static str {
        "vjp masking by x < 0"
    }
    fn vjp<S: Sc>(&self, _: &Relu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        relu_deriv_spec(&x.map(|v| v.neg_ref())).hadamard(dy)
    }
}

/// relu′(0) = 1 and the op claims to be smooth (reports no kinks).
struct SmoothAtZero;
impl Bug<Relu> for SmoothAtZero {
    fn name(&self) -> &'static str {
        "relu′(0) = 1, treated as smooth"
    }
    fn jvp<S: Sc>(&self, _: &Relu, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        x.map(|v| S::from_i64((v.sign() != Ordering::Less) as i64))
            .hadamard(dx)
    }
    fn vjp<S: Sc>(&self, _: &Relu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        x.map(|v| S::from_i64((v.sign() != Ordering::Less) as i64))
            .hadamard(dy)
    }
    fn smooth(&self) -> bool {
        true
    }
}

/// vjp = x ⊙ δ: the value used where the derivative belongs.
struct TimesInput;
impl Bug<Relu> for TimesInput {
    fn name(&self) -> &'static str {
        "vjp multiplying δ by x"
    }
    fn vjp<S: Sc>(&self, _: &Relu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        x.hadamard(dy)
    }
}

/// The mask of a `[2, 3]` input read in column-major order.
struct ColumnMajorMask;
impl Bug<Relu> for ColumnMajorMask {
    fn name(&self) -> &'static str {
        "vjp reading the mask column-major"
    }
    fn vjp<S: Sc>(&self, _: &Relu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let (rows, cols) = (x.shape()[0], x.shape()[1]);
        let mask = relu_deriv_spec(x).into_data();
        let read = (0..rows * cols)
            .map(|k| mask[(k % rows) * cols + k / rows].clone())
            .collect();
        Tensor::new(x.shape().to_vec(), read)?.hadamard(dy)
    }
}

/// vjp adds into a gradient buffer that is never zeroed (the `zero_grad` bug).
#[derive(Default)]
struct Accumulates {
    buffer: RefCell<Option<Box<dyn Any>>>,
}
impl Bug<Relu> for Accumulates {
    fn name(&self) -> &'static str {
        "vjp accumulating into a buffer never zeroed"
    }
    fn vjp<S: Sc>(&self, _: &Relu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let fresh = relu_deriv_spec(x).hadamard(dy)?;
        let mut buffer = self.buffer.borrow_mut();
        let total = match buffer.as_ref().and_then(|b| b.downcast_ref::<Tensor<S>>()) {
            Some(old) if old.shape() == fresh.shape() => old.add(&fresh)?,
            _ => fresh,
        };
        *buffer = Some(Box::new(total.clone()));
        Ok(total)
    }
}

#[test]
fn relu_vjp_mask_from_delta() {
    assert_counterexample(
        &caught(&mutant(Relu, MaskFromDelta), &[2, 3]),
        "structural: vjp(x, a·δ₁ + b·δ₂) = a·vjp(x, δ₁) + b·vjp(x, δ₂)",
        &[1, 2],
        ["0", "-1", "1"],
        &[
            ("x", "[[1, 1, 1],\n [1, 1, 1]]"),
            ("δ₁", "[[0, 0, 0],\n [0, 0, 0]]"),
            ("δ₂", "[[0, 0, 0],\n [0, 0, 1]]"),
            ("a", "0"),
            ("b", "-1"),
        ],
    );
}

#[test]
fn relu_vjp_mask_negated() {
    assert_counterexample(
        &caught(&mutant(Relu, MaskNegated), &[2, 3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[1, 2],
        ["0", "1", "-1"],
        &[
            ("x", "[[1, 1, 1],\n [1, 1, 1]]"),
            ("dx", "[[0, 0, 0],\n [0, 0, 0]]"),
            ("δ", "[[0, 0, 0],\n [0, 0, 1]]"),
        ],
    );
}

#[test]
fn relu_derivative_one_at_zero_treated_as_smooth() {
    assert_counterexample(
        &caught(&mutant(Relu, SmoothAtZero), &[2, 3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[1, 2],
        ["1", "0", "1"],
        &[
            ("x", "[[0, 0, 0],\n [0, 0, 0]]"),
            ("dx", "[[0, 0, 0],\n [0, 0, 0]]"),
            ("δ", "[[0, 0, 0],\n [0, 0, 1]]"),
        ],
    );
}

#[test]
fn relu_vjp_times_input() {
    assert_counterexample(
        &caught(&mutant(Relu, TimesInput), &[2, 3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[1, 2],
        ["-1", "0", "-1"],
        &[
            ("x", "[[1, 1, 1],\n [1, 1, -1]]"),
            ("dx", "[[0, 0, 0],\n [0, 0, 0]]"),
            ("δ", "[[0, 0, 0],\n [0, 0, 1]]"),
        ],
    );
}

#[test]
fn relu_vjp_mask_read_column_major() {
    assert_counterexample(
        &caught(&mutant(Relu, ColumnMajorMask), &[2, 3]),
        "jacobian: vjp(x, δ) = Jᵀ·δ",
        &[1, 0],
        ["1", "0", "1"],
        &[
            ("x", "[[1, 1, 1],\n [-1, 1, 1]]"),
            ("dx", "[[0, 0, 0],\n [0, 0, 0]]"),
            ("δ", "[[0, 0, 0],\n [1, 0, 0]]"),
        ],
    );
}

/// The buffer makes the rule depend on every earlier call, so the values are a history; what is
/// asserted is the identity, the coordinate and that the reference is the zero the rule missed.
#[test]
fn relu_vjp_accumulates_into_a_buffer_never_zeroed() {
    let failure = caught(&mutant(Relu, Accumulates::default()), &[2, 3]);
    let c = failure.counterexample().expect("a violated identity");
    assert_eq!(c.check, "structural: vjp(x, 0) = 0");
    assert_eq!(c.coordinate, [0, 0]);
    assert_eq!(c.reference, "0");
    assert_eq!(c.difference, c.rule);
    assert_ne!(c.rule, "0");
}

/// `relu′(0) = 1` is a convention, not a bug, for an op that reports its kinks: off kinks the
/// rule is the derivative, and at a kink every derivative check names the kink instead of
/// failing the rule. Only the claim to be smooth (no guards) is wrong, and is caught above.
#[test]
fn derivative_one_at_zero_with_kinks_reported_is_correct() {
    struct OneAtZero;
    impl Bug<Relu> for OneAtZero {
        fn name(&self) -> &'static str {
            "relu′(0) = 1 (kinks reported)"
        }
        fn vjp<S: Sc>(&self, r: &Relu, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
            SmoothAtZero.vjp(r, x, dy)
        }
        fn jvp<S: Sc>(&self, r: &Relu, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
            SmoothAtZero.jvp(r, x, dx)
        }
    }
    let op = mutant(Relu, OneAtZero);
    let config = CheckConfig::default();
    assert_eq!(
        check_op(&op, &[2, 3], &config)
            .expect("correct off kinks")
            .cases,
        config.case_count()
    );
    let kinks = exactgrad::check::check_kinks(&op, &[2, 3], &config).expect("kinks named");
    assert_eq!(kinks.cases, config.case_count());
    assert_eq!(kinks.layers, [(1, config.case_count())]);
}
