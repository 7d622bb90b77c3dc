//! Elementwise ops: leaky ReLU, abs, clamp/hardtanh, integer powers, polynomials, softsign, and
//! the two-operand product and quotient. Every op passes adjoint / Jacobian / (fderiv when
//! piecewise linear) over generated exact inputs off its kinks, its parameters (if any) pass the
//! same checks, a point on a kink is refused naming the coordinate, and a planted wrong rule is
//! rejected with its exact counterexample.

mod ops_common;

use exactgrad::check::{adjoint, jacobian, reference_jacobian};
use exactgrad::ops::{Abs, Clamp, Div, LeakyRelu, Mul, Polynomial, Power, Softsign};
use exactgrad::strategy::{any_q, small_q, tensor};
use exactgrad::{Error, OpSpec, Tensor, Q};
use ops_common::*;
use proptest::prelude::*;

/// Shapes of rank 1–3 with axes of size 1–3.
fn shape() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1usize..=3, 1..=3)
}

fn input() -> impl Strategy<Value = Tensor<Q>> {
    shape().prop_flat_map(|s| tensor(s, any_q()))
}

/// Two stacked operands `[2, ...s]`.
fn stacked() -> impl Strategy<Value = Tensor<Q>> {
    shape().prop_flat_map(|s| {
        let mut full = vec![2];
        full.extend(s);
        tensor(full, any_q())
    })
}

/// Zeros replaced by 1 (for ops with poles at 0).
fn nonzero(x: Tensor<Q>) -> Tensor<Q> {
    x.map(|v| {
        if *v == Q::from_integer(0.into()) {
            Q::from_integer(1.into())
        } else {
            v.clone()
        }
    })
}

fn q(s: &str) -> Q {
    exactgrad::parse_q(s).unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn leaky_relu_rules_and_slope_gradient(alpha in small_q(), x in input(), p in pool(), d in pool()) {
        let op = LeakyRelu::new(alpha);
        let x = away_from_kinks(&op, x);
        check_op(&op, &x, &p, &d)?;
        check_params(&op, &x, &p, &d)?;
    }

    #[test]
    fn abs_rules(x in input(), p in pool(), d in pool()) {
        let x = away_from_kinks(&Abs, x);
        check_op(&Abs, &x, &p, &d)?;
    }

    #[test]
    fn clamp_rules_and_bound_gradients(a in small_q(), w in 1i64..5, x in input(), p in pool(), d in pool()) {
        let op = Clamp::new(a.clone(), a + Q::from_integer(w.into())).unwrap();
        let x = away_from_kinks(&op, x);
        check_op(&op, &x, &p, &d)?;
        check_params(&op, &x, &p, &d)?;
        let hardtanh = Clamp::hardtanh();
        let x = away_from_kinks(&hardtanh, x);
        check_op(&hardtanh, &x, &p, &d)?;
    }

    #[test]
    fn integer_power_rules(n in -3i32..=5, x in input(), p in pool(), d in pool()) {
        let x = nonzero(x);
        check_op(&Power::new(n), &x, &p, &d)?;
        check_op(&Power::square(), &x, &p, &d)?;
    }

    #[test]
    fn polynomial_rules_and_coefficient_gradient(
        c in proptest::collection::vec(small_q(), 1..=5), x in input(), p in pool(), d in pool()
    ) {
        let op = Polynomial::new(c);
        check_op(&op, &x, &p, &d)?;
        check_params(&op, &x, &p, &d)?;
    }

    #[test]
    fn softsign_rules(x in input(), p in pool(), d in pool()) {
        let x = away_from_kinks(&Softsign, x);
        check_op(&Softsign, &x, &p, &d)?;
    }

    #[test]
    fn mul_rules(x in stacked(), p in pool(), d in pool()) {
        check_op(&Mul, &x, &p, &d)?;
    }

    #[test]
    fn div_rules(x in stacked(), p in pool(), d in pool()) {
        check_op(&Div, &nonzero(x), &p, &d)?;
    }
}

// ---- kinks and poles -------------------------------------------------------------------------

fn kink(r: exactgrad::Result<impl std::fmt::Debug>) -> (usize, String, Vec<usize>) {
    match r {
        Err(Error::Kink {
            layer,
            op,
            coordinate,
        }) => (layer, op, coordinate),
        other => panic!("expected a kink, got {other:?}"),
    }
}

#[test]
fn kinks_are_named() {
    let x = t(&[2, 2], &["1", "-2", "0", "3"]);
    let (dx, dy) = (x.clone(), x.clone());
    let leaky = LeakyRelu::new(q("1/10"));
    assert_eq!(
        kink(adjoint(&leaky, &x, &dx, &dy)),
        (1, "LeakyReLU(α=1/10)".into(), vec![1, 0])
    );
    assert_eq!(
        kink(jacobian(&Abs, &x, &dx, &dy)),
        (1, "Abs".into(), vec![1, 0])
    );
    assert_eq!(
        kink(jacobian(&Softsign, &x, &dx, &dy)),
        (1, "Softsign".into(), vec![1, 0])
    );
    let clamp = Clamp::new(q("-2"), q("3")).unwrap();
    assert_eq!(
        kink(jacobian(&clamp, &x, &dx, &dy)),
        (1, "Clamp[-2, 3]".into(), vec![0, 1])
    );
    let hardtanh = Clamp::hardtanh();
    assert_eq!(
        kink(jacobian(&hardtanh, &x, &dx, &dy)),
        (1, "Clamp[-1, 1]".into(), vec![0, 0])
    );
}

#[test]
fn division_by_zero_names_the_divisor() {
    let x = t(&[2, 3], &["1", "2", "3", "4", "0", "5"]);
    let zero = Error::DivisionByZero {
        context: "Div".into(),
        coordinate: vec![1, 1],
    };
    assert_eq!(OpSpec::<Q>::forward(&Div, &x), Err(zero.clone()));
    assert_eq!(reference_jacobian(&Div, &x).unwrap_err(), zero);
    let pole = Error::DivisionByZero {
        context: "Power(x^-2)".into(),
        coordinate: vec![2],
    };
    assert_eq!(
        OpSpec::<Q>::forward(&Power::new(-2), &t(&[3], &["1", "2", "0"])),
        Err(pole)
    );
}

#[test]
fn bad_parameters_are_typed_errors() {
    assert_eq!(
        Clamp::new(q("1"), q("1")).err(),
        Some(Error::InvalidArgument {
            op: "Clamp".into(),
            argument: "[lo, hi]".into(),
            value: "[1, 1]".into(),
            requirement: "an interval with lo < hi".into(),
        })
    );
    assert!(matches!(
        OpSpec::<Q>::forward(&Mul, &t(&[3], &["1", "2", "3"])),
        Err(Error::ShapeMismatch { .. })
    ));
}

// ---- planted wrong rules ---------------------------------------------------------------------

planted!(LeakySwapped(LeakyRelu), fn vjp(&op, x, dy) {
    // The slope applied on the positive side instead of the negative one.
    let alpha = S::from_q(op.slope());
    dy.zip_with(x, |d, v| if v.sign() == std::cmp::Ordering::Greater { alpha.mul_ref(d) } else { d.clone() })
});

#[test]
fn planted_leaky_relu_slope_on_the_wrong_side() {
    let op = LeakySwapped(LeakyRelu::new(q("1/10")));
    let (x, dy) = (t(&[2], &["2", "-3"]), t(&[2], &["1", "1"]));
    let c = counterexample(jacobian(&op, &x, &dy, &dy));
    // The JVP is the correct one, so the VJP is the rule caught.
    assert_counterexample(&c, VJP, &[0], "1/10", "1", "-9/10");
}

planted!(AbsNoSign(Abs), fn vjp(&_op, _x, dy) {
    // The sign of x forgotten: the gradient of |x| taken as 1 everywhere.
    Ok(dy.clone())
});

#[test]
fn planted_abs_without_sign() {
    let op = AbsNoSign(Abs);
    let (x, dy) = (t(&[2], &["2", "-3"]), t(&[2], &["5", "7"]));
    let c = counterexample(jacobian(&op, &x, &dy, &dy));
    assert_counterexample(&c, VJP, &[1], "7", "-7", "14");
}

planted!(ClampStraightThrough(Clamp), fn vjp(&_op, _x, dy) {
    // The straight-through estimator passed off as the derivative: clamped entries still get δ.
    Ok(dy.clone())
});

#[test]
fn planted_hardtanh_straight_through() {
    let op = ClampStraightThrough(Clamp::hardtanh());
    let (x, dy) = (t(&[3], &["1/2", "3", "-2"]), t(&[3], &["1", "2", "3"]));
    let c = counterexample(jacobian(&op, &x, &dy, &dy));
    assert_counterexample(&c, VJP, &[1], "2", "0", "2");
}

planted!(PowerOffByOne(Power), fn vjp(&op, x, dy) {
    // n·xⁿ instead of n·xⁿ⁻¹.
    let n = S::from_i64(i64::from(op.exponent()));
    let xn = op.forward(x)?;
    Ok(xn.hadamard(dy)?.scale(&n))
});

#[test]
fn planted_power_exponent_not_lowered() {
    let op = PowerOffByOne(Power::new(3));
    let (x, dy) = (t(&[2], &["1", "2"]), t(&[2], &["1", "1"]));
    // At x = 1 both give 3; at x = 2 the rule gives 3·8 instead of 3·4.
    let c = counterexample(jacobian(&op, &x, &dy, &dy));
    assert_counterexample(&c, VJP, &[1], "24", "12", "12");
}

planted!(PolyNoPowerRule(Polynomial), fn vjp(&op, x, dy) {
    // Differentiated by shifting coefficients without multiplying by the degree.
    let c: Vec<S> = op.coefficients().iter().map(S::from_q).collect();
    let shifted = x.map(|v| c[1..].iter().rev().fold(S::zero(), |acc, ck| acc.mul_ref(v).add_ref(ck)));
    shifted.hadamard(dy)
});

#[test]
fn planted_polynomial_without_degree_factor() {
    // p(x) = 1 − 2x + 3x², p′(1/3) = −2 + 6/3 = 0; the wrong rule gives −2 + 3/3 = −1.
    let op = PolyNoPowerRule(Polynomial::new(vec![q("1"), q("-2"), q("3")]));
    let (x, dy) = (t(&[1], &["1/3"]), t(&[1], &["1"]));
    let c = counterexample(jacobian(&op, &x, &dy, &dy));
    assert_counterexample(&c, VJP, &[0], "-1", "0", "-1");
}

planted!(SoftsignNotSquared(Softsign), fn vjp(&_op, x, dy) {
    // 1/(1 + |x|) instead of 1/(1 + |x|)².
    let d = x.map(|v| S::one().checked_div(&S::one().add_ref(&v.abs_val())).unwrap());
    d.hadamard(dy)
});

#[test]
fn planted_softsign_denominator_not_squared() {
    let op = SoftsignNotSquared(Softsign);
    let (x, dy) = (t(&[1], &["1"]), t(&[1], &["1"]));
    let c = counterexample(jacobian(&op, &x, &dy, &dy));
    assert_counterexample(&c, VJP, &[0], "1/2", "1/4", "1/4");
}

planted!(MulSwapped(Mul), fn vjp(&op, x, dy) {
    // Each operand given its own value instead of the other's: [δ⊙a, δ⊙b].
    let swapped = op.vjp(x, dy)?;
    let n = swapped.len() / 2;
    let data = [&swapped.data()[n..], &swapped.data()[..n]].concat();
    Tensor::new(swapped.shape().to_vec(), data)
});

#[test]
fn planted_mul_operands_swapped() {
    let op = MulSwapped(Mul);
    let (x, dy) = (t(&[2, 1], &["2", "5"]), t(&[1], &["1"]));
    let c = counterexample(jacobian(&op, &x, &x, &dy));
    assert_counterexample(&c, VJP, &[0, 0], "2", "5", "-3");
}

planted!(DivSignLost(Div), fn vjp(&op, x, dy) {
    // The quotient rule without its minus sign: ∂(a/b)/∂b taken as +a/b².
    let g = op.vjp(x, dy)?;
    let n = g.len() / 2;
    let data = g.data().iter().enumerate().map(|(k, v)| if k >= n { v.neg_ref() } else { v.clone() });
    Tensor::new(g.shape().to_vec(), data.collect())
});

#[test]
fn planted_div_quotient_rule_sign() {
    let op = DivSignLost(Div);
    let (x, dy) = (t(&[2, 1], &["3", "2"]), t(&[1], &["1"]));
    let c = counterexample(jacobian(&op, &x, &x, &dy));
    assert_counterexample(&c, VJP, &[1, 0], "3/4", "-3/4", "3/2");
}

#[test]
fn planted_leaky_relu_caught_by_adjointness_alone() {
    // Without any reference derivative, ⟪jvp(x, dx), δ⟫ = 6/5 but ⟪dx, vjp(x, δ)⟫ = 21/10; the
    // disagreement is localised to the Jacobian entry (output 0, input 0).
    let op = LeakySwapped(LeakyRelu::new(q("1/10")));
    let (x, dx, dy) = (
        t(&[2], &["2", "-3"]),
        t(&[2], &["1", "2"]),
        t(&[2], &["1", "1"]),
    );
    let c = counterexample(adjoint(&op, &x, &dx, &dy));
    assert_counterexample(
        &c,
        "adjoint: vjp(x, e_i)_j = jvp(x, e_j)_i",
        &[0, 0],
        "1/10",
        "1",
        "-9/10",
    );
    assert!(c.inputs.contains(&("⟪jvp(x, dx), δ⟫".into(), "6/5".into())));
    assert!(c
        .inputs
        .contains(&("⟪dx, vjp(x, δ)⟫".into(), "21/10".into())));
}
