//! The reference page's theorem: `backward(x, δ) = mlpDeriv(x)ᵀ·δ` for Linear → ReLU → Linear,
//! exactly, with every part of the report consistent; and the scalar-loss gradient.

use crate::common::*;
use exactgrad::check::{gradient, mlp_theorem, mlp_theorem_with};
use exactgrad::ops::{Linear, Mlp, Relu};
use exactgrad::strategy::{any_mlp_case, any_q, mlp_case};
use exactgrad::{Compose, Error, OpSpec, Tensor};
use proptest::prelude::*;

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_theorem_holds_for_random_mlps((mlp, x, dy) in any_mlp_case(6)) {
        let r = mlp_theorem(&mlp, &x, &dy).unwrap();
        prop_assert_eq!(&r.jacobian, &r.deriv);
        prop_assert_eq!(&r.fderiv.derivative, &r.deriv);
        prop_assert_eq!(&r.vjp, &r.deriv.transpose().unwrap().mat_vec_mul(&dy).unwrap());
        prop_assert_eq!(r.adjoint.lhs, r.adjoint.rhs);
    }

    #[test]
    fn the_scalar_loss_gradient_is_the_row_of_mlp_deriv((mlp, x, _dy) in (1usize..6, 1usize..6).prop_flat_map(|(n, h)| mlp_case(n, h, 1, any_q()))) {
        let g = gradient(&mlp, &x).unwrap();
        prop_assert_eq!(g.gradient, Tensor::from_vec(mlp.deriv(&x).unwrap().into_data()));
        prop_assert_eq!(Tensor::from_vec(vec![g.value]), mlp.forward(&x).unwrap());
    }
}

#[test]
fn the_builtin_example_holds_with_both_relu_branches() {
    let (mlp, x, dy) = exactgrad::report::builtin_example();
    let r = mlp_theorem(&mlp, &x, &dy).unwrap();
    assert_eq!(r.z1, t(&[4], &["1/3", "-13/10", "7/6", "-29/40"]));
    assert_eq!(r.mask, t(&[4], &["1", "0", "1", "0"]));
    assert_eq!(
        r.deriv,
        t(&[2, 3], &["13/18", "0", "-1/12", "0", "13/36", "-1/3"])
    );
    assert_eq!(r.vjp, t(&[3], &["13/18", "-13/72", "1/12"]));
    let text = r.to_string();
    assert!(text.contains("holds exactly"), "{text}");
}

/// Builds the MLP's composition with a replaced middle or last stage.
fn layers(mlp: &Mlp) -> (Linear, Linear) {
    (mlp.layer1().clone(), mlp.layer2().clone())
}

#[test]
fn a_relu_mask_from_the_output_side_is_rejected() {
    let (mlp, x, dy) = exactgrad::report::builtin_example();
    let (l1, l2) = layers(&mlp);
    let bad = l1.then(ReluMaskFromOutput).then(l2);
    let Error::Violated(c) = mlp_theorem_with(&mlp, &bad, &x, &dy).unwrap_err() else {
        panic!()
    };
    assert!(c.check.starts_with("MLP theorem: backward"), "{c}");
    // Units 1 and 3 are inactive, yet the bad mask lets W2ᵀδ = (7/6, −1, 5/12, 5/4) through
    // them: W1ᵀ·(7/6, −1, 5/12, 5/4) has first entry 20/9 instead of 13/18.
    assert_eq!(c.coordinate, vec![0]);
    assert_eq!(
        (c.rule.as_str(), c.reference.as_str(), c.difference.as_str()),
        ("20/9", "13/18", "3/2")
    );
}

#[test]
fn a_linear_vjp_without_transpose_is_rejected() {
    // Square layers so the shapes still fit and only the values are wrong.
    let w1 = t(&[2, 2], &["1", "2", "-3", "1/2"]);
    let w2 = t(&[2, 2], &["1/3", "-1", "2", "1"]);
    let mlp = Mlp::new(w1.clone(), t(&[2], &["1", "1"]), w2, t(&[2], &["0", "0"])).unwrap();
    let bad = LinearNoTranspose(mlp.layer1().clone())
        .then(Relu)
        .then(mlp.layer2().clone());
    let (x, dy) = (t(&[2], &["1", "1"]), t(&[2], &["1", "1"]));
    let Error::Violated(c) = mlp_theorem_with(&mlp, &bad, &x, &dy).unwrap_err() else {
        panic!()
    };
    assert!(c.check.starts_with("MLP theorem: backward"), "{c}");
    // z1 = (4, −3/2), so the masked W2ᵀδ is (7/3, 0); W1ᵀ·(7/3, 0) = (7/3, 14/3) but
    // W1·(7/3, 0) = (7/3, −7).
    assert_eq!(c.coordinate, vec![1]);
    assert_eq!((c.rule.as_str(), c.reference.as_str()), ("-7", "14/3"));
}

#[test]
fn a_vjp_off_by_two_to_the_minus_100_is_rejected() {
    let (mlp, x, dy) = exactgrad::report::builtin_example();
    let bad = VjpOffBy {
        inner: mlp.as_op(),
        coordinate: 2,
        offset: two_pow_neg(100),
    };
    let Error::Violated(c) = mlp_theorem_with(&mlp, &bad, &x, &dy).unwrap_err() else {
        panic!()
    };
    assert_eq!(c.coordinate, vec![2]);
    assert_eq!(c.difference, two_pow_neg(100).to_string());
    assert_eq!(c.reference, "1/12");
}

#[test]
fn mismatched_shapes_are_typed_errors() {
    let (mlp, x, _) = exactgrad::report::builtin_example();
    assert!(matches!(
        mlp_theorem(&mlp, &x, &t(&[3], &["1", "1", "1"])),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        mlp_theorem(&mlp, &t(&[2], &["1", "1"]), &t(&[2], &["1", "1"])),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        gradient(&mlp, &x),
        Err(Error::ShapeMismatch { .. })
    ));
    let bad_shapes = Mlp::new(
        t(&[2, 2], &["1", "1", "1", "1"]),
        t(&[2], &["1", "1"]),
        t(&[1, 3], &["1", "1", "1"]),
        t(&[1], &["1"]),
    );
    assert!(matches!(bad_shapes, Err(Error::ShapeMismatch { .. })));
}

#[test]
fn a_proof_over_the_budget_is_refused_before_it_starts() {
    use exactgrad::prove::{prove_deep_mlp_theorem, prove_mlp_theorem, ProveConfig};
    use exactgrad::Budget;
    let start = std::time::Instant::now();
    let e = prove_mlp_theorem(&[4096, 4096, 4096], &ProveConfig::default()).unwrap_err();
    let exactgrad::Error::OverBudget {
        estimated_ms,
        estimated_mb,
        budget_seconds,
        budget_mb,
        ..
    } = e
    else {
        panic!("expected OverBudget, got {e}");
    };
    assert_eq!((budget_seconds, budget_mb), (120, 4000));
    assert!(estimated_ms > 120_000 && estimated_mb > 4000);
    // A small budget refuses a small proof; the default admits it.
    let tight = ProveConfig {
        budget: Budget {
            seconds: 0,
            memory_mb: 4000,
        },
        ..ProveConfig::default()
    };
    assert!(matches!(
        prove_deep_mlp_theorem(&[4, 4, 4, 4], &tight),
        Err(exactgrad::Error::OverBudget { .. })
    ));
    prove_deep_mlp_theorem(&[2, 2, 2, 2], &ProveConfig::default()).unwrap();
    assert!(start.elapsed().as_secs() < 10);
}
