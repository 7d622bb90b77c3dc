//! Reductions and losses: sum, mean, MSE, L1 and Huber (rational threshold), all scalar-valued
//! (shape `[]`), with the target stored in the op. Properties over generated exact inputs, kinks
//! (L1 at a zero residual, Huber at `|r| = β`), and one planted wrong rule per op with its exact
//! counterexample.

mod ops_common;

use exactgrad::check::{gradient, jacobian};
use exactgrad::ops::{HuberLoss, L1Loss, Mean, MseLoss, Sum};
use exactgrad::strategy::{any_q, small_q, tensor};
use exactgrad::{Error, OpSpec, Tensor, Q};
use ops_common::*;
use proptest::prelude::*;

fn shape() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1usize..=3, 1..=3)
}

/// An input and a target of one shape.
fn pair() -> impl Strategy<Value = (Tensor<Q>, Tensor<Q>)> {
    shape().prop_flat_map(|s| (tensor(s.clone(), any_q()), tensor(s, any_q())))
}

fn q(s: &str) -> Q {
    exactgrad::parse_q(s).unwrap()
}

fn one() -> Tensor<Q> {
    Tensor::new(vec![], vec![q("1")]).unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sum_and_mean_rules((x, _) in pair(), p in pool(), d in pool()) {
        check_op(&Sum, &x, &p, &d)?;
        check_op(&Mean, &x, &p, &d)?;
    }

    #[test]
    fn mse_rules_and_gradient((x, target) in pair(), p in pool(), d in pool()) {
        let op = MseLoss::new(target);
        check_op(&op, &x, &p, &d)?;
        gradient(&op, &x).map_err(fail)?;
    }

    #[test]
    fn l1_rules((x, target) in pair(), p in pool(), d in pool()) {
        let op = L1Loss::new(target);
        let x = away_from_kinks(&op, x);
        check_op(&op, &x, &p, &d)?;
    }

    #[test]
    fn huber_rules((x, target) in pair(), beta in small_q(), p in pool(), d in pool()) {
        let beta = exactgrad::Ordered::abs_val(&beta) + q("1/7");
        let op = HuberLoss::new(target, beta).unwrap();
        let x = away_from_kinks(&op, x);
        check_op(&op, &x, &p, &d)?;
    }
}

#[test]
fn losses_are_scalars_and_exact() {
    let x = t(&[2], &["3", "0"]);
    let target = t(&[2], &["1", "1"]);
    // ((3−1)² + (0−1)²)/2 = 5/2, gradient (x − t)·2/2 = [2, −1].
    let mse = gradient(&MseLoss::new(target.clone()), &x).unwrap();
    assert_eq!((mse.value, mse.gradient), (q("5/2"), t(&[2], &["2", "-1"])));
    // (|2| + |−1|)/2 = 3/2; gradient sign/2.
    let l1 = gradient(&L1Loss::new(target.clone()), &x).unwrap();
    assert_eq!(
        (l1.value, l1.gradient),
        (q("3/2"), t(&[2], &["1/2", "-1/2"]))
    );
    // β = 1/2: h(2) = (1/2)(2 − 1/4) = 7/8, h(−1) = (1/2)(1 − 1/4) = 3/8; mean 5/8.
    let huber = gradient(&HuberLoss::new(target, q("1/2")).unwrap(), &x).unwrap();
    assert_eq!(
        (huber.value, huber.gradient),
        (q("5/8"), t(&[2], &["1/4", "-1/4"]))
    );
}

#[test]
fn kinks_and_bad_input_are_typed_errors() {
    let target = t(&[3], &["0", "0", "0"]);
    let x = t(&[3], &["1", "0", "2"]);
    let e = jacobian(&L1Loss::new(target.clone()), &x, &x, &one()).unwrap_err();
    assert_eq!(
        e,
        Error::Kink {
            layer: 1,
            op: "L1Loss".into(),
            coordinate: vec![1]
        }
    );
    // Residual −1/2 sits on the boundary r + β = 0 of the quadratic piece.
    let huber = HuberLoss::new(target.clone(), q("1/2")).unwrap();
    let x = t(&[3], &["0", "-1/2", "1"]);
    let e = jacobian(&huber, &x, &x, &one()).unwrap_err();
    assert_eq!(
        e,
        Error::Kink {
            layer: 1,
            op: "HuberLoss(β=1/2)".into(),
            coordinate: vec![1]
        }
    );
    assert_eq!(
        HuberLoss::new(target.clone(), q("0")).err(),
        Some(Error::InvalidArgument {
            op: "HuberLoss".into(),
            argument: "beta".into(),
            value: "0".into(),
            requirement: "positive".into(),
        })
    );
    assert!(matches!(
        OpSpec::<Q>::forward(&MseLoss::new(target), &t(&[2], &["1", "2"])),
        Err(Error::ShapeMismatch { .. })
    ));
    let empty = Tensor::<Q>::new(vec![0], vec![]).unwrap();
    assert!(matches!(
        OpSpec::<Q>::forward(&Mean, &empty),
        Err(Error::DivisionByZero { .. })
    ));
}

// ---- planted wrong rules ---------------------------------------------------------------------

planted!(SumFirstOnly(Sum), fn vjp(&_op, x, dy) {
    // The cotangent routed to the first entry only, instead of broadcast to all.
    let mut data = vec![S::zero(); x.len()];
    data[0] = dy.data()[0].clone();
    Tensor::new(x.shape().to_vec(), data)
});

#[test]
fn planted_sum_not_broadcast() {
    let (x, dy) = (
        t(&[3], &["1", "2", "3"]),
        Tensor::new(vec![], vec![q("2")]).unwrap(),
    );
    let c = counterexample(jacobian(&SumFirstOnly(Sum), &x, &x, &dy));
    assert_counterexample(&c, VJP, &[1], "0", "2", "-2");
}

planted!(MeanNotDivided(Mean), fn vjp(&_op, x, dy) {
    // The 1/n of the mean forgotten in the backward pass.
    Ok(x.map(|_| dy.data()[0].clone()))
});

#[test]
fn planted_mean_without_one_over_n() {
    let x = t(&[4], &["1", "2", "3", "4"]);
    let c = counterexample(jacobian(&MeanNotDivided(Mean), &x, &x, &one()));
    assert_counterexample(&c, VJP, &[0], "1", "1/4", "3/4");
}

planted!(MseNoTwo(MseLoss), fn vjp(&op, x, dy) {
    // d/dx (x − t)² taken as (x − t): the factor 2 lost.
    let half = S::one().checked_div(&S::from_i64(2)).unwrap();
    Ok(op.vjp(x, dy)?.scale(&half))
});

#[test]
fn planted_mse_without_factor_two() {
    let op = MseNoTwo(MseLoss::new(t(&[2], &["1", "1"])));
    let x = t(&[2], &["3", "0"]);
    let c = counterexample(jacobian(&op, &x, &x, &one()));
    assert_counterexample(&c, VJP, &[0], "1", "2", "-1");
}

planted!(L1Residual(L1Loss), fn vjp(&op, x, dy) {
    // The residual itself used where its sign belongs (the MSE rule pasted into L1).
    let n = S::from_i64(x.len() as i64);
    let r = x.sub(&op.target().lifted::<S>())?;
    Ok(r.scale(&dy.data()[0].checked_div(&n).unwrap()))
});

#[test]
fn planted_l1_residual_instead_of_sign() {
    let op = L1Residual(L1Loss::new(t(&[2], &["0", "0"])));
    // At residual 1 sign and residual agree; at −2 they do not.
    let x = t(&[2], &["1", "-2"]);
    let c = counterexample(jacobian(&op, &x, &x, &one()));
    assert_counterexample(&c, VJP, &[1], "-1", "-1/2", "-1/2");
}

planted!(HuberUnclipped(HuberLoss), fn vjp(&op, x, dy) {
    // The quadratic piece's slope r used everywhere: the threshold ignored in the backward pass.
    let n = S::from_i64(x.len() as i64);
    let r = x.sub(&op.target().lifted::<S>())?;
    Ok(r.scale(&dy.data()[0].checked_div(&n).unwrap()))
});

#[test]
fn planted_huber_threshold_ignored() {
    let op = HuberUnclipped(HuberLoss::new(t(&[3], &["0", "0", "0"]), q("1/2")).unwrap());
    // Residual 1/4 is inside (both give 1/4 / 3); residual 2 is outside: 2/3 instead of (1/2)/3.
    let x = t(&[3], &["1/4", "2", "-3"]);
    let c = counterexample(jacobian(&op, &x, &x, &one()));
    assert_counterexample(&c, VJP, &[1], "2/3", "1/6", "1/2");
}

planted!(MeanJvpNotDivided(Mean), fn jvp(&_op, _x, dx) {
    // The forward-mode rule of the mean without its 1/n: the tangent summed.
    let total = dx.data().iter().fold(S::zero(), |a, v| a.add_ref(v));
    Tensor::new(vec![], vec![total])
});

#[test]
fn planted_mean_jvp_without_one_over_n() {
    let x = t(&[4], &["1", "2", "3", "4"]);
    // J·dx = (1 + 2 + 3 + 4)/4 = 5/2; the planted forward-mode rule gives 10. The output is a
    // scalar, so the coordinate is the empty multi-index.
    let c = counterexample(jacobian(&MeanJvpNotDivided(Mean), &x, &x, &one()));
    assert_counterexample(&c, JVP, &[], "10", "5/2", "15/2");
}
