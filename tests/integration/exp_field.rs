//! Checks over the exponential-polynomial field `Ex`: the automatic move from `Q`, exact verdicts
//! for ops with `exp`, formal logarithms that never decide a verdict on their own, and typed
//! refusals outside the field.

use exactgrad::check::{check_op, CheckConfig};
use exactgrad::ops::{Elementwise, Linear, Relu, ScalarFn, Sigmoid};
use exactgrad::{Compose, Error, Ex, Result, Scalar, Tensor, Transcendental, Q};

use crate::common::t;

fn ex_field() -> &'static str {
    <Ex as Transcendental>::FIELD
}

/// `φ(x) = x·ln 4`, with a claimed derivative given by `deriv`.
struct TimesLn4(fn(&Q) -> Q, &'static str);

impl ScalarFn for TimesLn4 {
    fn name(&self) -> String {
        format!("x·ln 4 (rule {})", self.1)
    }
    fn value<S: Scalar>(&self, x: &S) -> Result<S> {
        let ln4 = S::from_i64(4).ln().map_err(|e| e.at("x·ln 4", vec![]))?;
        Ok(x.mul_ref(&ln4))
    }
    fn deriv<S: Scalar>(&self, _x: &S) -> Result<S> {
        // The rule's constant `c`, then `ln c` or `2·ln 2`.
        let c = S::from_q(&(self.0)(&Q::from_integer(4.into())));
        let as_square = c == S::from_i64(2);
        let l = c.ln().map_err(|e| e.at("x·ln 4", vec![]))?;
        Ok(if as_square { l.add_ref(&l) } else { l })
    }
}

#[test]
fn an_op_with_exp_is_checked_exactly_over_ex_and_a_piecewise_linear_one_stays_over_q() {
    let report = check_op(&Sigmoid, &[3], &CheckConfig::default().cases(16)).unwrap();
    assert_eq!(report.scalar, ex_field());
    let report = check_op(&Relu, &[3], &CheckConfig::default().cases(16)).unwrap();
    assert_eq!(report.scalar, "Q");
}

#[test]
fn relu_after_sigmoid_decides_its_kinks_by_certified_signs() {
    // σ(x) − 1/2 changes sign at x = 0: the guards of ReLU follow an exp, decided exactly.
    let shift = Linear::new(
        t(&[2, 2], &["1", "0", "0", "1"]),
        t(&[2], &["-1/2", "-1/2"]),
    )
    .unwrap();
    let net = Sigmoid.then(shift).then(Relu);
    let report = check_op(&net, &[2], &CheckConfig::default().cases(16)).unwrap();
    assert_eq!(report.scalar, ex_field());
    assert!(report.cases > 0);
}

#[test]
fn exp_of_a_value_outside_the_field_is_a_typed_refusal_naming_op_and_coordinate() {
    let failure = check_op(
        &Sigmoid.then(Sigmoid),
        &[2],
        &CheckConfig::default().cases(4),
    )
    .unwrap_err();
    match failure.error {
        Error::OutsideField {
            op,
            function,
            field,
            coordinate,
            ..
        } => {
            assert_eq!(
                (op.as_str(), function, field),
                ("Sigmoid", "exp", ex_field())
            );
            assert_eq!(coordinate.len(), 1);
        }
        other => panic!("expected OutsideField, got {other}"),
    }
}

#[test]
fn equal_values_with_different_formal_logs_are_undecided_never_a_counterexample() {
    // The rule says 2·ln 2 where the reference has ln 4: equal numbers, different symbols.
    let op = Elementwise(TimesLn4(|_| Q::from_integer(2.into()), "2·ln 2"));
    let failure = check_op(&op, &[1], &CheckConfig::default().cases(4)).unwrap_err();
    assert!(
        matches!(failure.error, Error::Undecided { .. }),
        "{}",
        failure.error
    );
}

#[test]
fn a_wrong_rule_with_logs_is_caught_once_enclosures_separate_the_sides() {
    // ln 5 instead of ln 4: certified different, so a counterexample.
    let op = Elementwise(TimesLn4(|_| Q::from_integer(5.into()), "ln 5"));
    let failure = check_op(&op, &[1], &CheckConfig::default().cases(4)).unwrap_err();
    let c = failure.counterexample().expect("a counterexample");
    assert_eq!((c.rule.as_str(), c.reference.as_str()), ("ln(5)", "ln(4)"));
}

#[test]
fn sigmoid_values_print_readably() {
    let x = Tensor::<Q>::parse(vec![1], &["1/3"]).unwrap().lift::<Ex>();
    let y = exactgrad::OpSpec::<Ex>::forward(&Sigmoid, &x).unwrap();
    assert_eq!(y.data()[0].to_string(), "e^(1/3)/(e^(1/3) + 1)");
}

/// `check_at`, like `check_op`, repeats a run over `Ex` when a value left `Q`.
#[test]
fn check_at_moves_to_ex_when_exp_leaves_q() {
    let x = t(&[2], &["1/2", "-3"]);
    let report =
        exactgrad::check::check_at(&Sigmoid, &x, &CheckConfig::default().cases(4)).unwrap();
    assert_eq!(report.scalar, ex_field());
}

/// The identity whose `vjp` doubles `δ` over `Q` alone: right over every other scalar.
struct WrongOverQOnly;

impl exactgrad::Op for WrongOverQOnly {
    fn name(&self) -> String {
        "WrongOverQOnly".into()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}

impl<S: Scalar + 'static> exactgrad::OpSpec<S> for WrongOverQOnly {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(x.clone())
    }
    fn jvp(&self, _x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        Ok(dx.clone())
    }
    fn vjp(&self, _x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let over_q = (dy as &dyn std::any::Any).is::<Tensor<Q>>();
        Ok(if over_q { dy.add(dy)? } else { dy.clone() })
    }
}

/// Only a value leaving `Q` moves a run to `Ex`: a wrong rule's failure over `Q` is the
/// verdict, never repeated over a scalar where the rule happens to be right.
#[test]
fn a_failure_over_q_is_not_repeated_over_ex() {
    let config = CheckConfig::default().cases(4);
    let failure = check_op(&WrongOverQOnly, &[2], &config).unwrap_err();
    assert!(failure.counterexample().is_some(), "{failure}");
    let x = t(&[2], &["1", "2"]);
    let failure = exactgrad::check::check_at(&WrongOverQOnly, &x, &config).unwrap_err();
    assert!(failure.counterexample().is_some(), "{failure}");
}
