//! Points exactly on a pole of forward (`check_poles`): correct ops refuse them in every
//! derivative check and every rule; a rule that returns a value there fails with the point.

use exactgrad::check::{check_poles, CheckConfig};
use exactgrad::ops::{Div, Linear, Power, Relu, Then};
use exactgrad::{planted, Compose, Error, Op, Tensor};

fn config() -> CheckConfig {
    CheckConfig::default().cases(32)
}

#[test]
fn div_and_a_negative_power_refuse_their_poles() {
    let report = check_poles(&Div, &[2, 3], &config()).unwrap();
    assert_eq!(report.cases, 32);
    // Only divisors ([1, i]) are poles of Div.
    assert!(
        report.coordinates.iter().all(|(c, _)| c[0] == 1),
        "{report:?}"
    );
    let report = check_poles(&Power::new(-2), &[3], &config()).unwrap();
    assert_eq!(report.cases, 32);
    assert_eq!(report.coordinates.len(), 3, "{report:?}");
}

#[test]
fn an_op_without_poles_is_a_typed_error() {
    let failure = check_poles(&Relu, &[2], &CheckConfig::default().cases(4)).unwrap_err();
    assert!(
        matches!(failure.error, Error::NoPoleReachable { .. }),
        "{failure}"
    );
}

planted!(ZeroAtThePole(Power), fn vjp(&op, x, dy) {
    // A "safe" rule: 0 where the input is 0, instead of refusing the point.
    if x.data().iter().any(|v| v.sign() == std::cmp::Ordering::Equal) {
        return Ok(x.zeros_like());
    }
    op.vjp(x, dy)
});

#[test]
fn a_rule_that_returns_a_value_at_the_pole_fails_with_the_point() {
    let failure = check_poles(&ZeroAtThePole(Power::new(-2)), &[3], &config()).unwrap_err();
    let Error::PoleNotRefused {
        rule,
        x,
        value,
        pole,
        ..
    } = &failure.error
    else {
        panic!("expected PoleNotRefused, got {failure}");
    };
    assert_eq!(*rule, "vjp");
    assert_eq!(value, "[0, 0, 0]");
    let Error::DivisionByZero { coordinate, .. } = pole.as_ref() else {
        panic!("the pole is named by forward's error: {pole}");
    };
    // The named coordinate is a zero of the point.
    let x: Vec<&str> = x
        .trim_matches(|c| c == '[' || c == ']')
        .split(", ")
        .collect();
    assert_eq!(x[coordinate[0]], "0");
    // The same op off its poles passes check_op: only the pole shows the bug.
    assert!(exactgrad::check::check_op(
        &ZeroAtThePole(Power::new(-2)),
        &[3],
        &CheckConfig::default().cases(32)
    )
    .is_ok());
}

planted!(ParamsAtThePole(Then<Linear, Power>), fn vjp_params(&op, x, dy) {
    // The parameter gradient answers 0 where an input is 0 (where 1/(Wx)² has its poles for the
    // identity W below), instead of refusing the point.
    if x.data().iter().any(|v| v.sign() == std::cmp::Ordering::Equal) {
        return Ok(Tensor::from_vec(vec![num_traits::Zero::zero(); op.param_count()]));
    }
    op.vjp_params(x, dy)
});

#[test]
fn a_parameter_rule_that_returns_a_value_at_the_pole_fails_with_the_point() {
    let identity = Tensor::parse(vec![2, 2], &["1", "0", "0", "1"]).unwrap();
    let zero = Tensor::parse(vec![2], &["0", "0"]).unwrap();
    let layer = Linear::new(identity, zero).unwrap();
    // The correct composition refuses its poles in all four rules.
    let report = check_poles(&layer.clone().then(Power::new(-2)), &[2], &config()).unwrap();
    assert_eq!(report.cases, 32);
    let op = ParamsAtThePole(layer.then(Power::new(-2)));
    let failure = check_poles(&op, &[2], &config()).unwrap_err();
    let Error::PoleNotRefused {
        rule, value, pole, ..
    } = &failure.error
    else {
        panic!("expected PoleNotRefused, got {failure}");
    };
    assert_eq!(*rule, "vjp_params");
    assert_eq!(value, "[0, 0, 0, 0, 0, 0]");
    assert!(matches!(**pole, Error::DivisionByZero { .. }), "{pole}");
}

/// The identity with a pole wherever an entry is 0, whose error names another coordinate at
/// every call: the pole a check names is never the one `forward` named just before.
struct WanderingPole {
    calls: std::cell::Cell<usize>,
}
impl Op for WanderingPole {
    fn name(&self) -> String {
        "identity with a wandering pole".into()
    }
    fn output_shape(&self, input: &[usize]) -> exactgrad::Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}
impl WanderingPole {
    fn refuse_a_zero<S: exactgrad::Scalar>(&self, x: &Tensor<S>) -> exactgrad::Result<()> {
        if x.data()
            .iter()
            .any(|v| v.sign() == std::cmp::Ordering::Equal)
        {
            self.calls.set(self.calls.get() + 1);
            return Err(Error::DivisionByZero {
                context: "wandering pole".into(),
                coordinate: vec![self.calls.get()],
            });
        }
        Ok(())
    }
}
impl<S: exactgrad::Scalar> exactgrad::OpSpec<S> for WanderingPole {
    fn forward(&self, x: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        self.refuse_a_zero(x)?;
        Ok(x.clone())
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        self.refuse_a_zero(x)?;
        Ok(dx.clone())
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        self.refuse_a_zero(x)?;
        Ok(dy.clone())
    }
}

#[test]
fn a_derivative_check_naming_another_pole_than_forward_is_pole_not_reported() {
    let op = WanderingPole {
        calls: std::cell::Cell::new(0),
    };
    let failure = check_poles(&op, &[2], &config()).unwrap_err();
    let Error::PoleNotReported {
        check,
        expected,
        got,
        ..
    } = &failure.error
    else {
        panic!("expected PoleNotReported, got {failure}");
    };
    assert!(check.starts_with("jacobian"), "{failure}");
    let (Error::DivisionByZero { coordinate, .. }, Some(got)) = (&**expected, got) else {
        panic!("{failure}")
    };
    assert!(
        matches!(&**got, Error::DivisionByZero { coordinate: c, .. } if c != coordinate),
        "{failure}"
    );
}
