//! `check::kink_radius`, `check::increment` and `check::fderiv`: the exact kink-free box, the
//! identity `f(x+h) − f(x) = J·h` inside it (and its failure across a kink), and the VJP against
//! exact difference quotients.

use crate::common::*;
use exactgrad::check::{fderiv, increment, kink_radius};
use exactgrad::ops::{Elementwise, Linear, Relu, ScalarFn};
use exactgrad::strategy::{any_mlp_case, any_q, linear, small_q, tensor};
use exactgrad::{Compose, Error, Ordered, Result, Ring, Scalar, Tensor, Q};
use proptest::prelude::*;
use std::cmp::Ordering;

/// `min_i |z_i| / ‖row i of W‖₁` computed directly from the weights.
fn first_layer_radius(l: &Linear, x: &Tensor<Q>) -> Q {
    let z = l.weight().linear(l.bias(), x).unwrap();
    let n = x.len();
    z.data()
        .iter()
        .enumerate()
        .filter_map(|(i, zi)| {
            let norm = l.weight().data()[i * n..(i + 1) * n]
                .iter()
                .fold(Q::from_i64(0), |a, w| a + w.abs_val());
            (norm.sign() != Ordering::Equal).then(|| zi.abs_val() / norm)
        })
        .min()
        .unwrap()
}

/// A direction with `‖v‖∞ = 1`.
fn unit(v: &Tensor<Q>) -> Tensor<Q> {
    let norm = v.data().iter().map(Ordered::abs_val).max().unwrap();
    if norm.sign() == Ordering::Equal {
        Tensor::basis(v.shape(), 0).unwrap()
    } else {
        v.map(|e| e / &norm)
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn first_layer_radius_is_min_z_over_row_norm(
        (l, x) in (1usize..5, 1usize..5).prop_flat_map(|(n, m)| (linear(n, m, small_q()), tensor(vec![n], small_q())))
    ) {
        let op = (&l).then(Relu);
        match kink_radius(&op, &x) {
            Ok(r) => {
                if l.weight().data().iter().all(|w| w.sign() == Ordering::Equal) {
                    prop_assert_eq!(r.radius, None);
                } else {
                    prop_assert_eq!(r.radius.unwrap(), first_layer_radius(&l, &x));
                }
            }
            Err(e) => prop_assert!(matches!(e, Error::Kink { layer: 2, .. }), "{e}"),
        }
    }

    #[test]
    fn the_increment_identity_holds_on_the_whole_closed_box(
        (mlp, x, _dy) in any_mlp_case(4), v in tensor(vec![4], any_q()), shrink in 1i64..4
    ) {
        let n = x.len();
        let dir = unit(&Tensor::from_vec(v.data()[..n].to_vec()));
        let r = kink_radius(&mlp, &x).unwrap();
        let rho = r.radius.unwrap_or_else(|| Q::from_i64(1));
        // ‖h‖∞ = ρ/shrink: on the boundary of the box for shrink = 1.
        let h = dir.scale(&(rho / Q::from_i64(shrink)));
        let proof = increment(&mlp, &x, &h).unwrap();
        prop_assert!(proof.inside);
    }

    #[test]
    fn the_increment_identity_fails_across_the_nearest_kink(
        (l, x) in (1usize..5, 1usize..5).prop_flat_map(|(n, m)| (linear(n, m, small_q()), tensor(vec![n], small_q())))
    ) {
        let op = (&l).then(Relu);
        let Ok(r) = kink_radius(&op, &x) else { return Ok(()) };
        let (Some(rho), Some(g)) = (r.radius, r.binding) else { return Ok(()) };
        // Step 3ρ/2 against the binding pre-activation: it changes sign.
        let i = g.coordinate[0];
        let n = x.len();
        let toward_zero = if g.value.sign() == Ordering::Greater { Q::from_i64(-1) } else { Q::from_i64(1) };
        let step = rho * Q::new(3.into(), 2.into());
        let h = Tensor::from_vec(
            l.weight().data()[i * n..(i + 1) * n]
                .iter()
                .map(|w| match w.sign() {
                    Ordering::Greater => toward_zero.clone() * &step,
                    Ordering::Less => -(toward_zero.clone() * &step),
                    Ordering::Equal => Q::from_i64(0),
                })
                .collect(),
        );
        let err = increment(&op, &x, &h).unwrap_err();
        let Error::Violated(c) = err else { panic!("{err}") };
        prop_assert!(c.inputs.iter().any(|(k, v)| k == "h inside the kink-free box" && v == "false"), "{c}");
    }

    #[test]
    fn fderiv_holds_for_every_mlp((mlp, x, dy) in any_mlp_case(5)) {
        let proof = fderiv(&mlp, &x, &dy).unwrap();
        prop_assert_eq!(proof.derivative, mlp.deriv(&x).unwrap());
    }
}

#[test]
fn the_builtin_example_has_the_hand_computed_radius() {
    let (mlp, x, dy) = exactgrad::report::builtin_example();
    let proof = fderiv(&mlp, &x, &dy).unwrap();
    // z1₀ = 1/3 and ‖(1/2, −1/3, 1/4)‖₁ = 13/12.
    assert_eq!(proof.radius.radius, Some(q("4/13")));
    // The largest power of two ≤ ρ/2 = 2/13.
    assert_eq!(proof.step, q("1/8"));
    let g = proof.radius.binding.unwrap();
    assert_eq!((g.layer, g.coordinate), (2, vec![0]));
}

#[test]
fn an_affine_op_has_an_unbounded_box() {
    let l = Linear::new(t(&[1, 2], &["1", "-1"]), t(&[1], &["3"])).unwrap();
    let r = kink_radius(&l, &t(&[2], &["1", "2"])).unwrap();
    assert_eq!((r.radius, r.binding), (None, None));
    assert!(
        increment(&l, &t(&[2], &["1", "2"]), &t(&[2], &["1000", "-1000"]))
            .unwrap()
            .inside
    );
}

#[test]
fn fderiv_catches_a_vjp_off_by_two_to_the_minus_100() {
    let (mlp, x, dy) = exactgrad::report::builtin_example();
    let bad = VjpOffBy {
        inner: mlp,
        coordinate: 0,
        offset: two_pow_neg(100),
    };
    let Error::Violated(c) = fderiv(&bad, &x, &dy).unwrap_err() else {
        panic!()
    };
    assert!(c.check.contains("Df(x)ᵀ"), "{c}");
    assert_eq!(
        (c.coordinate.clone(), c.difference.clone()),
        (vec![0], two_pow_neg(100).to_string())
    );
}

#[test]
fn fderiv_catches_a_missing_transpose() {
    let w = t(&[2, 2], &["1", "2", "3", "4"]);
    let bad = LinearNoTranspose(Linear::new(w, t(&[2], &["0", "0"])).unwrap());
    let Error::Violated(c) =
        fderiv(&bad, &t(&[2], &["1", "1"]), &t(&[2], &["0", "1"])).unwrap_err()
    else {
        panic!()
    };
    // Wᵀ·e_1 = (3, 4) but W·e_1 = (2, 4).
    assert_eq!(
        (c.coordinate.clone(), c.rule.as_str(), c.reference.as_str()),
        (vec![0], "2", "3")
    );
}

#[test]
fn fderiv_catches_the_relu_mask_from_the_output_side() {
    let Error::Violated(c) = fderiv(
        &ReluMaskFromOutput,
        &t(&[2], &["-1/2", "1"]),
        &t(&[2], &["5", "1"]),
    )
    .unwrap_err() else {
        panic!()
    };
    assert_eq!(
        (c.coordinate.clone(), c.rule.as_str(), c.reference.as_str()),
        (vec![0], "5", "0")
    );
}

struct Square;
impl ScalarFn for Square {
    fn name(&self) -> String {
        "x²".into()
    }
    fn value<S: Scalar>(&self, x: &S) -> Result<S> {
        Ok(x.mul_ref(x))
    }
    fn deriv<S: Scalar>(&self, x: &S) -> Result<S> {
        Ok(S::from_i64(2).mul_ref(x))
    }
}

#[test]
fn a_smooth_nonlinear_op_is_refused_not_misjudged() {
    let err = fderiv(&Elementwise(Square), &t(&[1], &["3"]), &t(&[1], &["1"])).unwrap_err();
    assert!(
        matches!(err, Error::NotPiecewiseLinear(ref name) if name == "x²"),
        "{err}"
    );
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_piecewise_linear_primitive_passes_fderiv(
        (l, a, c, x, dy_m, dy_n) in (1usize..5, 1usize..5).prop_flat_map(|(n, m)| (
            linear(n, m, any_q()), tensor(vec![m, n], any_q()), tensor(vec![m], any_q()),
            tensor(vec![n], any_q()), tensor(vec![m], any_q()), tensor(vec![n], any_q())))
    ) {
        use exactgrad::ops::{Add, Identity, MatVec};
        fderiv(&l, &x, &dy_m).unwrap();
        fderiv(&MatVec::new(a).unwrap().then(Add::new(c)), &x, &dy_m).unwrap();
        fderiv(&Identity, &x, &dy_n).unwrap();
        match fderiv(&Relu, &x, &dy_n) {
            Ok(p) => prop_assert_eq!(p.derivative, exactgrad::ops::relu_deriv_spec(&x).diag().unwrap()),
            Err(e) => prop_assert!(matches!(e, Error::Kink { .. }), "{e}"),
        }
    }
}

#[test]
fn a_radius_behind_a_nonlinear_op_is_refused_not_guessed() {
    // x² − 1 then ReLU: the guard x² − 1 is not affine, so |g|/|g′| is no certified distance.
    let op = Elementwise(Square)
        .then(exactgrad::ops::Add::new(t(&[1], &["-1"])))
        .then(Relu);
    let err = kink_radius(&op, &t(&[1], &["2"])).unwrap_err();
    assert!(
        matches!(err, Error::RadiusNotCertified { layer: 3, .. }),
        "{err}"
    );
    // Behind piecewise-linear ops only, the same guard is certified.
    let affine = exactgrad::ops::Add::new(t(&[1], &["-1"])).then(Relu);
    assert_eq!(
        kink_radius(&affine, &t(&[1], &["2"])).unwrap().radius,
        Some(q("1"))
    );
}
