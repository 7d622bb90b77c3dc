//! The CNN of `examples/cnn.rs` as a property: random small networks conv2d → ReLU → max pool →
//! flatten → linear (→ MSE) pass fderiv (the piecewise-linear part, with the kink radius carried
//! through the ReLU and pooling guards), the scalar-loss gradient with respect to the input and
//! to every parameter, and refuse a dead pooling window as a tie.

mod ops_common;

use exactgrad::check::{fderiv, gradient, jacobian, no_kinks};
use exactgrad::ops::{param_vector, Conv2d, Flatten, Linear, MaxPool2d, MseLoss, Relu, WrtParams};
use exactgrad::strategy::{small_q, tensor};
use exactgrad::{Compose, Error, Tensor, Q};
use ops_common::*;
use proptest::prelude::*;

/// Conv (1 → c channels, 2×2, padding 0–1) on a 1×4×4 input, pooling 2×2 with stride 1–2, a
/// linear layer to 2 outputs and an MSE target.
#[allow(clippy::type_complexity)]
fn cnn_case() -> impl Strategy<Value = (Conv2d, MaxPool2d, Linear, MseLoss, Tensor<Q>)> {
    (1usize..=2, 0usize..=1, 1usize..=2).prop_flat_map(|(c, pad, stride)| {
        let side = 4 + 2 * pad - 1; // conv output side
        let pooled = (side - 2) / stride + 1;
        let features = c * pooled * pooled;
        (
            tensor(vec![c, 1, 2, 2], small_q()),
            tensor(vec![c], small_q()),
            tensor(vec![2, features], small_q()),
            tensor(vec![2], small_q()),
            tensor(vec![2], small_q()),
            tensor(vec![1, 4, 4], small_q()),
        )
            .prop_map(move |(w, b, wl, bl, target, x)| {
                (
                    Conv2d::new(w, b, (1, 1), (pad, pad)).unwrap(),
                    MaxPool2d::new((2, 2), (stride, stride)).unwrap(),
                    Linear::new(wl, bl).unwrap(),
                    MseLoss::new(target),
                    x,
                )
            })
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn cnn_gradients_are_exact((conv, pool, lin, mse, x) in cnn_case(), d in pool()) {
        let features = (&conv).then(Relu).then(pool).then(Flatten).then(&lin);
        // Dead windows (all pre-activations < 0) tie at 0: refused as kinks, so skipped here.
        prop_assume!(no_kinks(&features, &x).is_ok());
        let out = exactgrad::Op::output_shape(&features, x.shape()).unwrap();
        fderiv(&features, &x, &cut(&d, &out)).map_err(fail)?;

        let net = (&features).then(&mse);
        let grad = gradient(&net, &x).map_err(fail)?;
        prop_assert_eq!(grad.gradient.shape(), x.shape());

        let theta: Tensor<Q> = param_vector(&conv);
        let wrt_conv = WrtParams::new(&conv, x.clone()).then(Relu).then(pool).then(Flatten).then(&lin).then(&mse);
        gradient(&wrt_conv, &theta).map_err(fail)?;

        let h = exactgrad::OpSpec::<Q>::forward(&(&conv).then(Relu).then(pool).then(Flatten), &x).unwrap();
        let theta: Tensor<Q> = param_vector(&lin);
        gradient(&WrtParams::new(&lin, h).then(&mse), &theta).map_err(fail)?;
    }
}

#[test]
fn a_dead_pooling_window_is_a_tie() {
    // Every conv output is negative (bias −10), so ReLU gives 0 everywhere and each pooling
    // window ties at 0: the composition is locally constant, but the guard max − other = 0 is
    // reported — the conservative reading of the kink rule, naming layer 3 and the tied entry.
    let conv = Conv2d::new(
        t(&[1, 1, 2, 2], &["1", "1", "1", "1"]),
        t(&[1], &["-10"]),
        (1, 1),
        (0, 0),
    )
    .unwrap();
    let pool = MaxPool2d::new((2, 2), (1, 1)).unwrap();
    let net = (&conv).then(Relu).then(pool).then(Flatten);
    let x = t(&[1, 3, 3], &["1"; 9]);
    let dy = t(&[1], &["1"]);
    let e = jacobian(&net, &x, &x, &dy).unwrap_err();
    assert_eq!(
        e,
        Error::Kink {
            layer: 3,
            op: "MaxPool2d(kernel (2, 2), stride (1, 1))".into(),
            coordinate: vec![0, 0, 1]
        }
    );
}
