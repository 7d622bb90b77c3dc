//! Failures and proofs a person can read at any size: huge numbers shortened to their leading
//! digits and digit count, long tensors to their ends and a count, while the data stays exact;
//! `Debug` prints rationals as `p/q`; every proof and report has a `Display`.

use crate::common::*;
use exactgrad::check::{
    adjoint, check_kinks, check_poles, fderiv, gradgrad, gradient, hessian_symmetry, increment,
    jacobian, kink_radius, randomized_params, CheckConfig,
};
use exactgrad::ops::{Div, Linear, Relu, Sum};
use exactgrad::strategy::{huge_q, linear, mlp, sample, small_q, tensor};
use exactgrad::{Compose, Counterexample, Error, Tensor, Q};

/// A rational with about `digits` digits above and below the line.
fn huge(digits: usize, sign: &str) -> Q {
    q(&format!(
        "{sign}{}/{}",
        "7".repeat(digits),
        "3".repeat(digits - 3) + "1"
    ))
}

#[test]
fn a_counterexample_with_huge_values_prints_their_size_and_keeps_them_exact() {
    let rule = huge(4013, "-");
    let reference = huge(3990, "");
    let c = Counterexample {
        check: "jacobian: vjp(x, δ) = Jᵀ·δ".into(),
        coordinate: vec![2],
        rule: rule.to_string(),
        reference: reference.to_string(),
        difference: (rule.clone() - reference.clone()).to_string(),
        inputs: vec![(
            "x".into(),
            Tensor::from_vec(vec![rule.clone(); 5000]).to_string(),
        )],
        parameter: None,
        stage: None,
    };
    let text = Error::Violated(Box::new(c.clone())).to_string();
    assert!(text.len() < 1_000, "{} bytes:\n{text}", text.len());
    assert!(
        text.contains("rule gives -777777…(4013 digits)/333333…(4011 digits)"),
        "{text}"
    );
    assert!(text.contains("… 4995 more …"), "{text}");
    // The data is untouched.
    assert_eq!(q(&c.rule), rule);
    assert_eq!(q(&c.difference), rule - reference);
}

#[test]
fn every_value_in_an_error_message_is_shortened() {
    let x = Tensor::from_vec(vec![huge(500, "-"); 100]).to_string();
    let errors = [
        Error::NotOnKink {
            op: "ReLU".into(),
            x: x.clone(),
        },
        Error::NotOnPole {
            op: "Div".into(),
            x: x.clone(),
        },
        Error::OutsideDomain {
            op: "Log".into(),
            coordinate: vec![0],
            function: "ln",
            argument: huge(500, "-").to_string(),
        },
        Error::InvalidArgument {
            op: "Clamp".into(),
            argument: "lo".into(),
            value: huge(500, "").to_string(),
            requirement: "at most hi".into(),
        },
    ];
    for e in errors {
        let text = e.to_string();
        assert!(text.len() < 400, "{} bytes: {text}", text.len());
        assert!(text.contains("…(500 digits)"), "{text}");
    }
}

#[test]
fn debug_prints_rationals_as_fractions() {
    let w = t(&[1, 2], &["1/2", "-3"]);
    let layer = Linear::new(w.clone(), t(&[1], &["0"])).unwrap();
    assert_eq!(
        format!("{w:?}"),
        "Tensor { shape: [1, 2], data: [1/2, -3] }"
    );
    let text = format!("{layer:?}");
    assert!(!text.contains("Ratio"), "{text}");
    assert!(text.contains("data: [1/2, -3]"), "{text}");
    let proof = gradient(&Sum, &t(&[2], &["1/3", "2"])).unwrap();
    let text = format!("{proof:?}");
    assert!(
        text.starts_with("GradientProof { value: 7/3, gradient: Tensor"),
        "{text}"
    );
    assert!(!text.contains("Ratio"), "{text}");
    let radius = kink_radius(
        &sample(mlp(3, 4, 2, small_q()), 3),
        &t(&[3], &["1/2", "-1/3", "2"]),
    );
    let text = format!("{:?}", radius.unwrap());
    assert!(text.starts_with("KinkRadius { radius: Some("), "{text}");
    assert!(!text.contains("Ratio"), "{text}");
}

#[test]
fn the_proofs_display_their_identity_and_shortened_values() {
    let net = sample(mlp(3, 4, 2, small_q()), 3);
    let x = t(&[3], &["1/2", "-1/3", "2"]);
    let (dx, dy) = (t(&[3], &["1", "2", "-1"]), t(&[2], &["1", "-1/2"]));
    let texts = [
        adjoint(&net, &x, &dx, &dy).unwrap().to_string(),
        jacobian(&net, &x, &dx, &dy).unwrap().to_string(),
        kink_radius(&net, &x).unwrap().to_string(),
        increment(&net, &x, &t(&[3], &["0", "0", "0"]))
            .unwrap()
            .to_string(),
        fderiv(&net, &x, &dy).unwrap().to_string(),
        randomized_params(&net, &x, 1).unwrap().to_string(),
    ];
    let starts = [
        "adjoint: ⟪jvp(x, dx), δ⟫ = ",
        "jacobian: jvp(x, dx) = J·dx and vjp(x, δ) = Jᵀ·δ",
        "kink radius ρ = ",
        "increment: f(x+h) − f(x) = J·h, exactly, with h inside",
        "fderiv: f is affine on the kink-free box",
        "randomized: the JVP and VJP identities hold exactly on ",
    ];
    for (text, start) in texts.iter().zip(starts) {
        assert!(text.starts_with(start), "{text}");
    }
    assert!(texts[2].contains("to the nearest kink: layer 2 (ReLU) coordinate"));
    let loss = Relu.then(Sum);
    let y = t(&[2], &["1", "-2"]);
    assert!(gradient(&loss, &y)
        .unwrap()
        .to_string()
        .contains("∇f(x) = [1, 0]"));
    let square = exactgrad::ops::Power::new(2);
    let v = t(&[2], &["1/2", "3"]);
    let text = gradgrad(&square, &v, &v).unwrap().to_string();
    assert!(text.starts_with("gradgrad: "), "{text}");
    let text = hessian_symmetry(&square.then(Sum), &v).unwrap().to_string();
    assert!(text.contains("Hessian = [[2, 0],\n [0, 2]]"), "{text}");
}

#[test]
fn a_proof_over_a_wide_layer_with_huge_weights_prints_in_a_few_lines() {
    let layer = sample(linear(40, 20, huge_q(256)), 4);
    let x = sample(tensor(vec![40], huge_q(256)), 5);
    let dx = sample(tensor(vec![40], huge_q(256)), 6);
    let dy = sample(tensor(vec![20], huge_q(256)), 7);
    let proof = jacobian(&layer, &x, &dx, &dy).unwrap();
    let exact = format!("{}{}{}", proof.jacobian, proof.jvp, proof.vjp).len();
    let text = proof.to_string();
    println!(
        "exact values: {exact} bytes; text: {} bytes\n{text}",
        text.len()
    );
    assert!(exact > 100_000, "{exact}");
    assert!(text.len() < 2_000, "{} bytes", text.len());
    assert!(text.contains("J = shape [20, 40], row-major ["), "{text}");
    assert!(text.contains("… 795 more …"), "{text}");
}

#[test]
fn the_kink_and_pole_reports_and_a_case_display() {
    let config = CheckConfig::default().cases(8);
    let report = check_kinks(&Relu, &[3], &config).unwrap();
    assert_eq!(
        report.to_string(),
        "ReLU: 8 points exactly on a kink checked: every derivative check named the kink, the \
         other checks held\n  layer 1: 8 points"
    );
    let report = check_poles(&Div, &[2, 2], &config).unwrap();
    let text = report.to_string();
    assert!(
        text.starts_with("Div: 8 points exactly on a pole checked: every rule refused the point"),
        "{text}"
    );
    assert!(text.contains("  coordinate [1, "), "{text}");
}

#[test]
fn a_case_displays_one_shortened_value_a_line() {
    use exactgrad::check::suite::Case;
    let v = |n: usize| Tensor::from_vec(vec![huge(100, ""); n]);
    let case = Case {
        x: v(50),
        dx: v(2),
        dx2: v(2),
        dtheta: v(0),
        dtheta2: v(0),
        dy: v(1),
        dy2: v(1),
        a: q("1/2"),
        b: huge(50, "-"),
    };
    let text = case.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert!(
        lines[0].starts_with("x = [777777…(100 digits)/333333…(98 digits), "),
        "{text}"
    );
    assert!(lines[0].contains("… 45 more …"), "{text}");
    assert_eq!(lines[5], "a = 1/2");
    assert_eq!(lines[6], "b = -777777…(50 digits)/333333…(48 digits)");
    // Debug stays exact.
    assert!(format!("{case:?}").contains(&"7".repeat(100)));
}

#[test]
fn check_kinks_on_an_op_without_kinks_says_so() {
    let layer = sample(linear(3, 2, small_q()), 1);
    let failure = check_kinks(&layer, &[3], &CheckConfig::default().cases(4)).unwrap_err();
    assert_eq!(
        failure.error,
        Error::NoKinks {
            op: "Linear(3→2)".into()
        }
    );
    assert_eq!(
        failure.to_string(),
        "Linear(3→2): cannot be checked: Linear(3→2) has no kinks (it reports no guards), so \
         check_kinks has no point to check; check_op checks it everywhere"
    );
    assert!(!failure.to_string().contains("neighbourhood"));
}

#[test]
fn no_public_type_debug_prints_a_ratio() {
    use exactgrad::ops::{CrossEntropy, Elu, Guard, HuberLoss, Reduction, Softplus};
    use exactgrad::{Dual, Jet};
    let half = || q("1/2");
    let guard = Guard {
        layer: 1,
        op: "ReLU".into(),
        coordinate: vec![0],
        value: half(),
    };
    let texts = [
        format!("{:?}", Elu::new(half())),
        format!("{:?}", Softplus::new(half(), q("20")).unwrap()),
        format!("{:?}", HuberLoss::new(t(&[1], &["1/2"]), half()).unwrap()),
        format!(
            "{:?}",
            CrossEntropy::classes(vec![0], Reduction::Mean)
                .unwrap()
                .label_smoothing(half())
                .unwrap()
        ),
        format!("{:?}", Dual::new(half(), q("3"))),
        format!("{:?}", Jet::new(half(), vec![q("1/2"), q("0")])),
        format!("{guard:?}"),
    ];
    for text in texts {
        assert!(!text.contains("Ratio"), "{text}");
        assert!(text.contains("1/2"), "{text}");
    }
    assert_eq!(
        format!("{:?}", Dual::new(half(), q("3"))),
        "Dual { re: 1/2, eps: 3 }"
    );
}

/// `1/x` entry by entry, written as a user would: the pole is built with the error constructor.
struct Reciprocal;

impl exactgrad::Op for Reciprocal {
    fn name(&self) -> String {
        "Reciprocal".into()
    }
    fn output_shape(&self, input: &[usize]) -> exactgrad::Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}

fn inverted<S: exactgrad::Scalar>(x: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
    let data = x.data().iter().enumerate().map(|(k, v)| {
        S::one()
            .checked_div(v)
            .ok_or_else(|| Error::division_by_zero("Reciprocal", x.multi_index(k)))
    });
    Tensor::new(x.shape().to_vec(), data.collect::<exactgrad::Result<_>>()?)
}

impl<S: exactgrad::Scalar> exactgrad::OpSpec<S> for Reciprocal {
    fn forward(&self, x: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        inverted(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        // d(1/x) = −dx/x²
        let r = inverted(x)?;
        r.hadamard(&r)?.hadamard(dx).map(|t| t.map(|v| v.neg_ref()))
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        self.jvp(x, dy)
    }
}

#[test]
fn the_error_constructors_build_the_errors_the_checks_understand() {
    assert_eq!(
        Error::division_by_zero("Div", [1, 0]),
        Error::DivisionByZero {
            context: "Div".into(),
            coordinate: vec![1, 0]
        }
    );
    assert_eq!(
        Error::kink(2, "ReLU", [3]),
        Error::Kink {
            layer: 2,
            op: "ReLU".into(),
            coordinate: vec![3]
        }
    );
    assert_eq!(
        Error::outside_domain("Log", [0], "ln", &q("-1/2")),
        Error::OutsideDomain {
            op: "Log".into(),
            coordinate: vec![0],
            function: "ln",
            argument: "-1/2".into()
        }
    );
    assert_eq!(
        Error::outside_field("Exp", [1], "exp", &q("1/2"), "Q"),
        Error::OutsideField {
            op: "Exp".into(),
            coordinate: vec![1],
            function: "exp",
            argument: "1/2".into(),
            field: "Q"
        }
    );
    // An op built with them: its poles are found, named and refused by every rule.
    let config = CheckConfig::default().cases(16);
    let report = check_poles(&Reciprocal, &[3], &config).unwrap();
    assert_eq!(report.cases, 16);
    assert!(report
        .coordinates
        .iter()
        .all(|(c, _)| c.len() == 1 && c[0] < 3));
    exactgrad::check::check_op(&Reciprocal, &[3], &config).unwrap();
}
