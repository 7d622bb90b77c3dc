//! Randomized exact checks: sound rules pass (with respect to `x`, to all parameters, and both
//! at once); planted wrong rules — off by one part in 10¹², in a single entry — are caught with an
//! exact counterexample naming the rule and the coordinate.

use exactgrad::check::{randomized_adjoint, randomized_jacobian, randomized_params};
use exactgrad::ops::{param_vector, Guard, Mlp, Op, OpSpec, WrtParams};
use exactgrad::strategy::{any_mlp_case, mlp_case, sample, small_q};
use exactgrad::{parse_q, Counterexample, Error, Ring, Scalar, Tensor, Q};
use proptest::prelude::*;

/// Which rule gets the planted bug: entry `at` of its output gains `tangent[0]/10¹²` (linear in
/// the tangent, as a real slip would be).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Bug {
    Jvp,
    Vjp,
    JvpParams,
    VjpParams,
}

pub(crate) struct Planted<'a> {
    pub(crate) mlp: &'a Mlp,
    pub(crate) bug: Bug,
    pub(crate) at: usize,
}

fn tiny<S: Scalar>() -> S {
    S::one()
        .checked_div(&S::from_i64(1_000_000_000_000))
        .expect("non-zero")
}

impl Planted<'_> {
    fn plant<S: Scalar>(&self, bug: Bug, mut out: Tensor<S>, tangent: &Tensor<S>) -> Tensor<S> {
        if bug == self.bug {
            let mut data = out.to_vec();
            data[self.at] = data[self.at].add_ref(&tangent.data()[0].mul_ref(&tiny()));
            out = Tensor::new(out.shape().to_vec(), data).unwrap();
        }
        out
    }
}

impl Op for Planted<'_> {
    fn name(&self) -> String {
        format!("{} with a wrong {:?}", self.mlp.name(), self.bug)
    }
    fn output_shape(&self, input: &[usize]) -> exactgrad::Result<Vec<usize>> {
        self.mlp.output_shape(input)
    }
    fn params(&self) -> Vec<exactgrad::Param<'_>> {
        self.mlp.params()
    }
}

impl<S: Scalar> OpSpec<S> for Planted<'_> {
    fn forward(&self, x: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        self.mlp.forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        Ok(self.plant(Bug::Jvp, self.mlp.jvp(x, dx)?, dx))
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        Ok(self.plant(Bug::Vjp, self.mlp.vjp(x, dy)?, dy))
    }
    fn guards(&self, x: &Tensor<S>) -> exactgrad::Result<Vec<Guard<S>>> {
        self.mlp.guards(x)
    }
    fn forward_with_params(&self, p: &Tensor<S>, x: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        self.mlp.forward_with_params(p, x)
    }
    fn jvp_params(&self, x: &Tensor<S>, dp: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        Ok(self.plant(Bug::JvpParams, self.mlp.jvp_params(x, dp)?, dp))
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        Ok(self.plant(Bug::VjpParams, self.mlp.vjp_params(x, dy)?, dy))
    }
}

/// Reads back a vector printed as `[a, b, c]`.
fn parse_vector(s: &str) -> Tensor<Q> {
    let body = s.trim().trim_start_matches('[').trim_end_matches(']');
    Tensor::from_vec(body.split(", ").map(|t| parse_q(t).unwrap()).collect())
}

fn input<'a>(c: &'a Counterexample, name: &str) -> &'a str {
    &c.inputs.iter().find(|(k, _)| k == name).unwrap().1
}

fn violated(r: exactgrad::Result<impl std::fmt::Debug>) -> Counterexample {
    match r {
        Err(Error::Violated(c)) => *c,
        other => panic!("expected a violation, got {other:?}"),
    }
}

fn case() -> (Mlp, Tensor<Q>) {
    let (mlp, x, _) = sample(mlp_case(5, 6, 3, small_q()), 7);
    (mlp, x)
}

#[test]
fn a_wrong_jvp_is_caught_at_its_output_coordinate() {
    let (mlp, x) = case();
    let bad = Planted {
        mlp: &mlp,
        bug: Bug::Jvp,
        at: 2,
    };
    for c in [
        violated(randomized_params(&bad, &x, 1)),
        violated(randomized_jacobian(&bad, &x, 1)),
    ] {
        assert!(
            c.check.starts_with("randomized: jvp(x, dx) = J"),
            "{}",
            c.check
        );
        assert_eq!(c.coordinate, vec![2]);
        let dx = parse_vector(input(&c, "dx"));
        let planted = dx.data()[0].mul_ref(&tiny());
        assert_eq!(parse_q(&c.difference).unwrap(), planted);
        assert_eq!(
            parse_q(&c.reference).unwrap(),
            mlp.jvp(&x, &dx).unwrap().data()[2]
        );
        assert_eq!(
            parse_q(&c.rule).unwrap(),
            mlp.jvp(&x, &dx).unwrap().data()[2].add_ref(&planted)
        );
    }
}

#[test]
fn a_wrong_vjp_is_caught_at_its_input_coordinate() {
    let (mlp, x) = case();
    let bad = Planted {
        mlp: &mlp,
        bug: Bug::Vjp,
        at: 3,
    };
    for c in [
        violated(randomized_params(&bad, &x, 2)),
        violated(randomized_jacobian(&bad, &x, 2)),
    ] {
        assert!(
            c.check.starts_with("randomized: vjp(x, δ) = J"),
            "{}",
            c.check
        );
        assert_eq!(c.coordinate, vec![3]);
        let dy = parse_vector(input(&c, "δ"));
        let correct = mlp.vjp(&x, &dy).unwrap().data()[3].clone();
        assert_eq!(parse_q(&c.reference).unwrap(), correct);
        assert_eq!(
            parse_q(&c.difference).unwrap(),
            dy.data()[0].mul_ref(&tiny())
        );
    }
    // The adjoint variant names the Jacobian entry (output 0, input 3) the rules disagree on.
    let c = violated(randomized_adjoint(&bad, &x, 2));
    assert_eq!(c.coordinate, vec![0, 3]);
    assert_eq!(parse_q(&c.difference).unwrap(), tiny::<Q>());
}

#[test]
fn a_wrong_parameter_jvp_is_caught() {
    let (mlp, x) = case();
    let bad = Planted {
        mlp: &mlp,
        bug: Bug::JvpParams,
        at: 1,
    };
    let c = violated(randomized_params(&bad, &x, 3));
    assert_eq!(c.check, "randomized: jvp_params(x, dθ) = J_θ·dθ");
    assert_eq!(c.coordinate, vec![1]);
    let rule = parse_q(&c.rule).unwrap();
    let reference = parse_q(&c.reference).unwrap();
    assert_eq!(parse_q(&c.difference).unwrap(), rule - reference);
    // The same bug through the WrtParams adapter and the plain Jacobian check.
    let wrt = WrtParams::new(&bad, x.clone());
    let c = violated(randomized_jacobian(&wrt, &param_vector::<Q, _>(&bad), 3));
    assert_eq!(c.check, "randomized: jvp(x, dx) = J·dx");
    assert_eq!(c.coordinate, vec![1]);
}

#[test]
fn a_wrong_parameter_gradient_is_caught_in_one_entry_of_many() {
    let (mlp, x) = case();
    // Parameter 37 of 5·6 + 6 + 6·3 + 3 = 57: an entry of W2.
    let bad = Planted {
        mlp: &mlp,
        bug: Bug::VjpParams,
        at: 37,
    };
    let c = violated(randomized_params(&bad, &x, 4));
    assert_eq!(c.check, "randomized: vjp_params(x, δ) = J_θᵀ·δ");
    assert_eq!(c.coordinate, vec![37]);
    let dy = parse_vector(input(&c, "δ"));
    let correct = mlp.vjp_params(&x, &dy).unwrap().data()[37].clone();
    assert_eq!(parse_q(&c.reference).unwrap(), correct);
    assert_eq!(
        parse_q(&c.rule).unwrap(),
        correct.add_ref(&dy.data()[0].mul_ref(&tiny()))
    );
    // Through the adapter: vjp of θ ↦ f_θ(x) is vjp_params, located the same way.
    let wrt = WrtParams::new(&bad, x.clone());
    let c = violated(randomized_jacobian(&wrt, &param_vector::<Q, _>(&bad), 4));
    assert_eq!(c.coordinate, vec![37]);
}

#[test]
fn a_kink_is_a_typed_error() {
    // W1 = [1, -1], b1 = 0, x = (2, 2): the pre-activation is exactly 0.
    let q = |n: i64| Q::from_i64(n);
    let mlp = Mlp::new(
        Tensor::new(vec![1, 2], vec![q(1), q(-1)]).unwrap(),
        Tensor::from_vec(vec![q(0)]),
        Tensor::new(vec![1, 1], vec![q(3)]).unwrap(),
        Tensor::from_vec(vec![q(0)]),
    )
    .unwrap();
    let x = Tensor::from_vec(vec![q(2), q(2)]);
    assert!(matches!(
        randomized_params(&mlp, &x, 0),
        Err(Error::Kink { layer: 2, .. })
    ));
    assert!(matches!(
        randomized_jacobian(&mlp, &x, 0),
        Err(Error::Kink { .. })
    ));
}

#[test]
fn the_reference_tangent_is_the_dual_number_derivative() {
    let (mlp, x) = case();
    let p = randomized_params(&mlp, &x, 9).unwrap();
    assert_eq!(p.lhs, p.rhs);
    assert_eq!(p.probes, 5 + 57 + 3);
    let j = randomized_jacobian(&mlp, &x, 9).unwrap();
    assert_eq!(j.probes, 5 + 3);
}

#[test]
fn the_adjoint_check_counts_the_coordinates_of_dx_and_delta() {
    // 5 inputs and 3 outputs: dx and δ are all the adjoint variant draws (no dθ).
    let (mlp, x) = case();
    let a = randomized_adjoint(&mlp, &x, 9).unwrap();
    assert_eq!(a.probes, 5 + 3);
    assert_eq!(a.lhs, a.rhs);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(48)
    ))]

    #[test]
    fn sound_rules_pass_every_randomized_check((mlp, x, _dy) in any_mlp_case(6), seed in any::<u64>()) {
        randomized_params(&mlp, &x, seed).unwrap();
        randomized_jacobian(&mlp, &x, seed).unwrap();
        randomized_adjoint(&mlp, &x, seed).unwrap();
        let wrt = WrtParams::new(&mlp, x.clone());
        randomized_jacobian(&wrt, &param_vector::<Q, _>(&mlp), seed).unwrap();
    }

    #[test]
    fn any_single_wrong_entry_is_caught((mlp, x, _dy) in any_mlp_case(5), seed in any::<u64>(), which in 0usize..4, at in any::<prop::sample::Index>()) {
        let (n, h, m) = mlp.dims();
        let bug = [Bug::Jvp, Bug::Vjp, Bug::JvpParams, Bug::VjpParams][which];
        let len = match bug { Bug::Jvp | Bug::JvpParams => m, Bug::Vjp => n, Bug::VjpParams => h * n + h + m * h + m };
        let at = at.index(len);
        let bad = Planted { mlp: &mlp, bug, at };
        let c = violated(randomized_params(&bad, &x, seed));
        let coordinate = c.coordinate.clone();
        prop_assert_eq!(coordinate, vec![at]);
        prop_assert_eq!(parse_q(&c.difference).unwrap(), parse_q(&c.rule).unwrap() - parse_q(&c.reference).unwrap());
    }
}

/// `v` with `tiny·v₀` added to entry 0 when `wrong(v₀)`.
fn off_when<S: Scalar>(v: Tensor<S>, first: &S, wrong: bool) -> exactgrad::Result<Tensor<S>> {
    if !wrong {
        return Ok(v);
    }
    let mut data = v.to_vec();
    data[0] = data[0].add_ref(&first.mul_ref(&tiny()));
    Tensor::new(v.shape().to_vec(), data)
}

exactgrad::planted!(WrongForNegativeTangents(Mlp), fn jvp(&op, x, dx) {
    // Right for dx₀ ≥ 0 only: every non-negative probe passes it.
    let first = dx.data()[0].clone();
    off_when(op.jvp(x, dx)?, &first, first.sign() == std::cmp::Ordering::Less)
});

exactgrad::planted!(WrongForNegativeCotangents(Mlp), fn vjp(&op, x, dy) {
    let first = dy.data()[0].clone();
    off_when(op.vjp(x, dy)?, &first, first.sign() == std::cmp::Ordering::Less)
});

exactgrad::planted!(RightOnIntegerTangents(Mlp), fn jvp(&op, x, dx) {
    // Right on every integer tangent (the whole probe set), wrong off it: not linear in dx.
    let first = dx.data()[0].clone();
    let fractional = dx.data().iter().any(|v| v.to_string().contains('/'));
    off_when(op.jvp(x, dx)?, &first, fractional)
});

#[test]
fn a_rule_wrong_only_for_negative_tangents_is_caught_on_every_seed() {
    let (mlp, x) = case();
    let bad = WrongForNegativeTangents(mlp);
    for seed in 0..16 {
        for c in [
            violated(randomized_jacobian(&bad, &x, seed)),
            violated(randomized_params(&bad, &x, seed)),
        ] {
            assert!(
                c.check.starts_with("randomized: jvp(x, dx) = J"),
                "{seed}: {}",
                c.check
            );
            assert_eq!(c.coordinate, vec![0]);
            let dx = parse_vector(input(&c, "dx"));
            assert!(
                dx.data()[0] < Q::from_i64(0),
                "the wrong side is the negative one"
            );
        }
        assert!(randomized_adjoint(&bad, &x, seed).is_err());
    }
}

#[test]
fn a_rule_wrong_only_for_negative_cotangents_is_caught_on_every_seed() {
    let (mlp, x) = case();
    let bad = WrongForNegativeCotangents(mlp);
    for seed in 0..16 {
        for c in [
            violated(randomized_jacobian(&bad, &x, seed)),
            violated(randomized_params(&bad, &x, seed)),
        ] {
            assert!(
                c.check.starts_with("randomized: vjp(x, δ) = J"),
                "{seed}: {}",
                c.check
            );
            assert_eq!(c.coordinate, vec![0]);
            let dy = parse_vector(input(&c, "δ"));
            assert!(dy.data()[0] < Q::from_i64(0));
        }
        assert!(randomized_adjoint(&bad, &x, seed).is_err());
    }
}

#[test]
fn a_rule_nonlinear_in_the_tangent_fails_the_structural_part() {
    // It passes both identities on the integer probes; the bound assumes linearity, and the
    // linearity check, with fractional coefficients, refuses it.
    let (mlp, x) = case();
    let bad = RightOnIntegerTangents(mlp);
    for seed in 0..16 {
        for r in [
            randomized_jacobian(&bad, &x, seed),
            randomized_params(&bad, &x, seed),
            randomized_adjoint(&bad, &x, seed),
        ] {
            let c = violated(r);
            assert_eq!(
                c.check, "structural: jvp(x, a·dx₁ + b·dx₂) = a·jvp(x, dx₁) + b·jvp(x, dx₂)",
                "{seed}"
            );
            assert!(input(&c, "a").contains('/'));
        }
    }
}

#[test]
fn correct_ops_pass_with_probes_of_both_signs() {
    use exactgrad::ops::{Div, Power, Relu};
    let (mlp, x) = case();
    let positive = |n: usize| Tensor::from_vec((1..=n as i64).map(Q::from_i64).collect());
    let div_x = Tensor::new(vec![2, 3], positive(6).to_vec()).unwrap();
    for seed in 0..16 {
        randomized_params(&mlp, &x, seed).unwrap();
        randomized_jacobian(&Div, &div_x, seed).unwrap();
        randomized_adjoint(&Div, &div_x, seed).unwrap();
        randomized_jacobian(&Power::new(-2), &positive(3), seed).unwrap();
        randomized_jacobian(&Relu, &x, seed).unwrap();
    }
}

exactgrad::planted!(OneWrongWeightGradient(exactgrad::ops::Linear), fn vjp_params(&op, x, dy) {
    // Weight entry 300 of a 16 × 32 weight, [9, 12], gains δ₀: linear in δ, as a slip is.
    let mut g = op.vjp_params(x, dy)?.into_data();
    g[300] = g[300].add_ref(&dy.data()[0]);
    Ok(Tensor::from_vec(g))
});

#[test]
fn a_wrong_parameter_rule_of_a_wide_layer_with_huge_weights_reads_at_a_glance() {
    use exactgrad::strategy::{huge_q, linear, tensor};
    let layer = OneWrongWeightGradient(sample(linear(32, 16, huge_q(192)), 11));
    let x = sample(tensor(vec![32], huge_q(192)), 12);
    let c = violated(randomized_params(&layer, &x, 5));
    assert_eq!(c.check, "randomized: vjp_params(x, δ) = J_θᵀ·δ");
    // The flat index into θ, and what it is.
    assert_eq!(c.coordinate, vec![300]);
    assert_eq!(
        c.parameter.as_deref(),
        Some("layer 1 Linear(32→16) weight[9, 12]")
    );
    // The data stays exact: the rule is off by exactly δ₀.
    let dy = parse_vector(input(&c, "δ"));
    assert_eq!(
        parse_q(&c.rule).unwrap() - parse_q(&c.reference).unwrap(),
        dy.data()[0]
    );
    assert_eq!(parse_q(&c.difference).unwrap(), dy.data()[0]);
    // The text is short: every huge number is cut to its leading digits and digit count, and
    // the parameter is named.
    let exact: usize = [&c.rule, &c.reference, &c.difference]
        .map(|s| s.len())
        .iter()
        .sum::<usize>()
        + c.inputs.iter().map(|(_, v)| v.len()).sum::<usize>();
    let text = Error::Violated(Box::new(c.clone())).to_string();
    println!(
        "exact values: {exact} bytes; text: {} bytes\n{text}",
        text.len()
    );
    assert!(exact > 5_000, "{exact}");
    assert!(text.len() < 1_000, "{} bytes:\n{text}", text.len());
    assert!(text.contains("the parameter there: layer 1 Linear(32→16) weight[9, 12]"));
    assert!(text.contains(" digits)"));
    assert!(text.contains(" more …"));
}
