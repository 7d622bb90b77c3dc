//! `check::adjoint` (Lean's `OpSpecCorrect`): every primitive and composition passes exactly on
//! random rationals, and each planted wrong rule is caught with its exact counterexample.

use crate::common::*;
use exactgrad::check::adjoint;
use exactgrad::ops::{Add, Identity, Linear, MatVec, Relu};
use exactgrad::strategy::{any_mlp_case, any_q, huge_q, linear, tensor};
use exactgrad::{planted, Compose, Error, OpSpec, Tensor};
use proptest::prelude::*;

proptest! {
    #![proptest_config(config())]

    #[test]
    fn linear_is_adjoint(
        (l, x, dx, dy) in (1usize..5, 1usize..5).prop_flat_map(|(n, m)| (
            linear(n, m, any_q()), tensor(vec![n], any_q()), tensor(vec![n], any_q()), tensor(vec![m], any_q())))
    ) {
        let proof = adjoint(&l, &x, &dx, &dy).unwrap();
        prop_assert_eq!(proof.lhs, proof.rhs);
    }

    #[test]
    fn relu_is_adjoint_off_kinks(
        (x, dx, dy) in (1usize..6).prop_flat_map(|n| (
            tensor(vec![n], any_q()), tensor(vec![n], any_q()), tensor(vec![n], any_q())))
    ) {
        match adjoint(&Relu, &x, &dx, &dy) {
            Ok(proof) => prop_assert_eq!(proof.lhs, proof.rhs),
            // A generated zero coordinate is a kink: a typed error, never a verdict.
            Err(e) => prop_assert!(matches!(e, Error::Kink { layer: 1, .. }), "{e}"),
        }
    }

    #[test]
    fn add_matvec_identity_are_adjoint(
        (a, c, x, dx, dy) in (1usize..5, 1usize..5).prop_flat_map(|(n, m)| (
            tensor(vec![m, n], huge_q(200)), tensor(vec![m], huge_q(200)),
            tensor(vec![n], huge_q(200)), tensor(vec![n], huge_q(200)), tensor(vec![m], huge_q(200))))
    ) {
        let op = MatVec::new(a).unwrap().then(Add::new(c)).then(Identity);
        let proof = adjoint(&op, &x, &dx, &dy).unwrap();
        prop_assert_eq!(proof.lhs, proof.rhs);
    }

    #[test]
    fn mlp_is_adjoint((mlp, x, dy) in any_mlp_case(5), seed in 0i64..100) {
        let dx = exactgrad::check::probe(x.shape(), seed).unwrap();
        let proof = adjoint(&mlp, &x, &dx, &dy).unwrap();
        prop_assert_eq!(proof.lhs, proof.rhs);
    }
}

#[test]
fn linear_vjp_without_transpose_is_caught() {
    let w = t(&[2, 2], &["1", "2", "3", "4"]);
    let bad = LinearNoTranspose(Linear::new(w, t(&[2], &["0", "0"])).unwrap());
    let err = adjoint(
        &bad,
        &t(&[2], &["1", "1"]),
        &t(&[2], &["1", "0"]),
        &t(&[2], &["0", "1"]),
    )
    .unwrap_err();
    let Error::Violated(c) = err else {
        panic!("{err}")
    };
    // Jacobian entry (output 0, input 1): jvp(e_1)_0 = W[0][1] = 2, vjp(e_0)_1 = W[1][0] = 3.
    assert_eq!(c.coordinate, vec![0, 1]);
    assert_eq!(
        (c.rule.as_str(), c.reference.as_str(), c.difference.as_str()),
        ("3", "2", "1")
    );
}

#[test]
fn linear_vjp_without_transpose_on_non_square_weights_is_a_shape_error() {
    let w = t(&[2, 3], &["1", "2", "3", "4", "5", "6"]);
    let bad = LinearNoTranspose(Linear::new(w, t(&[2], &["0", "0"])).unwrap());
    let err = adjoint(
        &bad,
        &t(&[3], &["1", "1", "1"]),
        &t(&[3], &["1", "0", "0"]),
        &t(&[2], &["0", "1"]),
    )
    .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
}

#[test]
fn relu_mask_from_the_output_side_is_caught() {
    let x = t(&[3], &["1/2", "-1/3", "2"]);
    let err = adjoint(
        &ReluMaskFromOutput,
        &x,
        &t(&[3], &["1", "1", "1"]),
        &t(&[3], &["1", "1", "1"]),
    )
    .unwrap_err();
    let Error::Violated(c) = err else {
        panic!("{err}")
    };
    assert_eq!(c.coordinate, vec![1, 1]);
    assert_eq!((c.rule.as_str(), c.reference.as_str()), ("1", "0"));
}

#[test]
fn a_vjp_off_by_two_to_the_minus_100_is_caught_exactly() {
    let (mlp, x, dy) = exactgrad::report::builtin_example();
    let bad = VjpOffBy {
        inner: mlp.clone(),
        coordinate: 2,
        offset: two_pow_neg(100),
    };
    let dx = t(&[3], &["1", "1", "1"]);
    let err = adjoint(&bad, &x, &dx, &dy).unwrap_err();
    let Error::Violated(c) = err else {
        panic!("{err}")
    };
    assert_eq!(c.coordinate, vec![0, 2]);
    assert_eq!(c.difference, two_pow_neg(100).to_string());
    assert!(
        c.to_string().contains("1267650600228229401496703205376"),
        "{c}"
    );
}

#[test]
fn shapes_are_checked_before_any_rule_runs() {
    let dx_wrong: Tensor<_> = t(&[2], &["1", "1"]);
    let err = adjoint(
        &Relu,
        &t(&[3], &["1", "2", "3"]),
        &dx_wrong,
        &t(&[3], &["1", "1", "1"]),
    )
    .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
}

planted!(RowVjp(Relu), fn vjp(&op, x, dy) {
    // ReLU's right values, returned as a [1, n] row instead of in x's shape [n].
    let v = OpSpec::<S>::vjp(op, x, dy)?;
    Tensor::new(vec![1, v.len()], v.into_data())
});

/// A rule whose values are right but whose shape is not fails on the shape, before any inner
/// product could compare the flattened values and pass (found by cargo-mutants: replacing the
/// shape check by `Ok(())` survived the tests).
#[test]
fn a_rule_of_the_wrong_shape_is_a_shape_mismatch() {
    let x = t(&[2], &["1", "-2"]);
    let (dx, dy) = (t(&[2], &["1", "1/2"]), t(&[2], &["3", "-1"]));
    assert!(adjoint(&Relu, &x, &dx, &dy).is_ok());
    let e = adjoint(&RowVjp(Relu), &x, &dx, &dy).unwrap_err();
    assert!(
        matches!(&e, Error::ShapeMismatch { left, right, .. }
            if *left == [1, 2] && *right == [2]),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("vjp returned a tensor of the wrong shape"),
        "{e}"
    );
}
