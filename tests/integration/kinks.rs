//! The no-kinks hypothesis: at a point where a ReLU pre-activation is exactly zero, every
//! derivative check returns `Error::Kink` naming the layer and coordinate — never a verdict,
//! never a panic.

use crate::common::*;
use exactgrad::check::{
    adjoint, fderiv, gradient, increment, jacobian, kink_radius, mlp_theorem, reference_jacobian,
};
use exactgrad::ops::{Linear, Mlp, Relu};
use exactgrad::strategy::{any_q, mlp_case};
use exactgrad::{Compose, Error, Tensor, Q};
use proptest::prelude::*;

fn is_kink_at(result: Result<impl std::fmt::Debug, Error>, layer: usize, i: usize) -> bool {
    matches!(result, Err(Error::Kink { layer: l, ref coordinate, ref op }) if l == layer && coordinate == &vec![i] && op == "ReLU")
}

/// Moves `b1` so that hidden unit `i` sits exactly on its kink.
fn on_kink(mlp: &Mlp, x: &Tensor<Q>, i: usize) -> Mlp {
    let l1 = mlp.layer1();
    let wx = l1.weight().mat_vec_mul(x).unwrap();
    let mut b1 = l1.bias().to_vec();
    b1[i] = -wx.data()[i].clone();
    Mlp::from_layers(
        Linear::new(l1.weight().clone(), Tensor::from_vec(b1)).unwrap(),
        mlp.layer2().clone(),
    )
    .unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_check_names_the_kink(
        ((mlp, x, dy), pick) in (1usize..5, 1usize..5, 1usize..4).prop_flat_map(|(n, h, m)| (mlp_case(n, h, m, any_q()), 0..h))
    ) {
        let mlp = on_kink(&mlp, &x, pick);
        // Another unit may be on its kink too; the first zero is reported.
        let i = mlp.z1(&x).unwrap().data().iter().position(|z| *z == Q::from_integer(0.into())).unwrap();
        let dx = exactgrad::check::probe(x.shape(), 0).unwrap();
        prop_assert!(is_kink_at(adjoint(&mlp, &x, &dx, &dy), 2, i));
        prop_assert!(is_kink_at(jacobian(&mlp, &x, &dx, &dy), 2, i));
        prop_assert!(is_kink_at(reference_jacobian(&mlp, &x), 2, i));
        prop_assert!(is_kink_at(kink_radius(&mlp, &x), 2, i));
        prop_assert!(is_kink_at(increment(&mlp, &x, &dx), 2, i));
        prop_assert!(is_kink_at(fderiv(&mlp, &x, &dy), 2, i));
        prop_assert!(is_kink_at(mlp_theorem(&mlp, &x, &dy), 2, i));
        prop_assert!(is_kink_at(mlp.deriv(&x), 2, i));
    }
}

#[test]
fn the_message_names_layer_and_coordinate() {
    let (mlp, x, dy) = exactgrad::report::builtin_example();
    let mlp = on_kink(&mlp, &x, 3);
    let err = mlp_theorem(&mlp, &x, &dy).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no-kinks hypothesis fails: layer 2 (ReLU) has pre-activation exactly 0 at coordinate [3]; \
         the derivative does not exist at this point"
    );
}

#[test]
fn a_kink_in_a_deeper_layer_names_that_layer() {
    // Linear → ReLU → Linear → ReLU with the second ReLU's input 0 at coordinate 1.
    let l1 = Linear::new(t(&[2, 2], &["1", "0", "0", "1"]), t(&[2], &["0", "0"])).unwrap();
    let l2 = Linear::new(t(&[2, 2], &["1", "0", "1", "-1"]), t(&[2], &["0", "0"])).unwrap();
    let net = l1.then(Relu).then(l2).then(Relu);
    let x = t(&[2], &["2", "2"]);
    assert!(is_kink_at(adjoint(&net, &x, &x, &x), 4, 1));
    assert!(is_kink_at(kink_radius(&net, &x), 4, 1));
}

#[test]
fn a_scalar_loss_on_a_kink_is_refused() {
    let mlp = Mlp::new(
        t(&[1, 1], &["1"]),
        t(&[1], &["-1"]),
        t(&[1, 1], &["1"]),
        t(&[1], &["0"]),
    )
    .unwrap();
    assert!(is_kink_at(gradient(&mlp, &t(&[1], &["1"])), 2, 0));
    assert!(gradient(&mlp, &t(&[1], &["1/1000000"])).is_ok());
}
