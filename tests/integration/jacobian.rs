//! `check::jacobian`: the rules against the dual-number Jacobian of `forward`, entry by entry.

use crate::common::*;
use exactgrad::check::{jacobian, reference_jacobian};
use exactgrad::ops::{Add, Elementwise, Linear, MatVec, Relu, ScalarFn};
use exactgrad::strategy::{any_mlp_case, any_q, huge_q, linear, tensor};
use exactgrad::{Compose, Error, Result, Scalar};
use proptest::prelude::*;

/// φ(x) = x³/3 − 2x, with its true derivative x² − 2 (or a wrong one).
struct Cubic {
    wrong: bool,
}

impl ScalarFn for Cubic {
    fn name(&self) -> String {
        "x³/3 − 2x".into()
    }
    fn value<S: Scalar>(&self, x: &S) -> Result<S> {
        let cube = x.mul_ref(x).mul_ref(x);
        Ok(cube.checked_div(&S::from_i64(3)).unwrap() - S::from_i64(2).mul_ref(x))
    }
    fn deriv<S: Scalar>(&self, x: &S) -> Result<S> {
        let d = x.mul_ref(x) - S::from_i64(2);
        Ok(if self.wrong {
            d + x.mul_ref(x).mul_ref(x)
        } else {
            d
        })
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn linear_rules_equal_the_dual_jacobian(
        (l, x, dx, dy) in (1usize..5, 1usize..5).prop_flat_map(|(n, m)| (
            linear(n, m, any_q()), tensor(vec![n], any_q()), tensor(vec![n], any_q()), tensor(vec![m], any_q())))
    ) {
        let proof = jacobian(&l, &x, &dx, &dy).unwrap();
        // For a linear layer the Jacobian is W itself.
        prop_assert_eq!(&proof.jacobian, l.weight());
    }

    #[test]
    fn relu_rules_equal_the_dual_jacobian(
        (x, dx, dy) in (1usize..6).prop_flat_map(|n| (
            tensor(vec![n], huge_q(300)), tensor(vec![n], any_q()), tensor(vec![n], any_q())))
    ) {
        let proof = jacobian(&Relu, &x, &dx, &dy).unwrap();
        prop_assert_eq!(proof.jacobian, exactgrad::ops::relu_deriv_spec(&x).diag().unwrap());
    }

    #[test]
    fn composed_primitives_and_smooth_maps_pass(
        (a, c, x, dx, dy) in (1usize..4, 1usize..4).prop_flat_map(|(n, m)| (
            tensor(vec![m, n], any_q()), tensor(vec![m], any_q()),
            tensor(vec![n], any_q()), tensor(vec![n], any_q()), tensor(vec![m], any_q())))
    ) {
        let op = MatVec::new(a).unwrap().then(Add::new(c)).then(Elementwise(Cubic { wrong: false }));
        jacobian(&op, &x, &dx, &dy).unwrap();
    }

    #[test]
    fn mlp_rules_equal_the_dual_jacobian((mlp, x, dy) in any_mlp_case(5)) {
        let proof = jacobian(&mlp, &x, &exactgrad::check::probe(x.shape(), 3).unwrap(), &dy).unwrap();
        prop_assert_eq!(proof.jacobian, mlp.deriv(&x).unwrap());
    }
}

#[test]
fn reference_jacobian_never_calls_the_rules() {
    // A rule that is wrong in both modes still has the true Jacobian as its reference.
    let w = t(&[2, 2], &["1", "2", "3", "4"]);
    let bad = LinearNoTranspose(Linear::new(w.clone(), t(&[2], &["0", "0"])).unwrap());
    assert_eq!(reference_jacobian(&bad, &t(&[2], &["5", "7"])).unwrap(), w);
}

#[test]
fn linear_vjp_without_transpose_is_caught() {
    let w = t(&[2, 2], &["1", "2", "3", "4"]);
    let bad = LinearNoTranspose(Linear::new(w, t(&[2], &["0", "0"])).unwrap());
    let err = jacobian(
        &bad,
        &t(&[2], &["1", "1"]),
        &t(&[2], &["1", "0"]),
        &t(&[2], &["1", "0"]),
    )
    .unwrap_err();
    let Error::Violated(c) = err else {
        panic!("{err}")
    };
    assert!(c.check.contains("vjp"), "{c}");
    // vjp(x, e_0) = Wᵀ·e_0 is W's first row, (1, 2); without the transpose it is the first
    // column, (1, 3).
    assert_eq!(c.coordinate, vec![1]);
    assert_eq!(
        (c.rule.as_str(), c.reference.as_str(), c.difference.as_str()),
        ("3", "2", "1")
    );
}

#[test]
fn relu_mask_from_the_output_side_is_caught() {
    let x = t(&[2], &["3", "-5/7"]);
    let err = jacobian(
        &ReluMaskFromOutput,
        &x,
        &t(&[2], &["1", "1"]),
        &t(&[2], &["2", "9/4"]),
    )
    .unwrap_err();
    let Error::Violated(c) = err else {
        panic!("{err}")
    };
    assert_eq!(c.coordinate, vec![1]);
    assert_eq!(
        (c.rule.as_str(), c.reference.as_str(), c.difference.as_str()),
        ("9/4", "0", "9/4")
    );
}

#[test]
fn a_vjp_off_by_two_to_the_minus_100_is_caught_exactly() {
    let (mlp, x, dy) = exactgrad::report::builtin_example();
    let bad = VjpOffBy {
        inner: mlp,
        coordinate: 1,
        offset: two_pow_neg(100),
    };
    let err = jacobian(&bad, &x, &t(&[3], &["0", "0", "0"]), &dy).unwrap_err();
    let Error::Violated(c) = err else {
        panic!("{err}")
    };
    assert_eq!(c.coordinate, vec![1]);
    assert_eq!(c.difference, two_pow_neg(100).to_string());
}

#[test]
fn a_wrong_scalar_derivative_is_caught_in_forward_mode_too() {
    let op = Elementwise(Cubic { wrong: true });
    let x = t(&[2], &["0", "1/2"]);
    let err = jacobian(&op, &x, &t(&[2], &["1", "1"]), &t(&[2], &["1", "1"])).unwrap_err();
    let Error::Violated(c) = err else {
        panic!("{err}")
    };
    assert!(c.check.contains("jvp"), "{c}");
    // At x = 1/2 the claimed derivative adds x³ = 1/8.
    assert_eq!(
        (c.coordinate.clone(), c.difference.as_str()),
        (vec![1], "1/8")
    );
}
