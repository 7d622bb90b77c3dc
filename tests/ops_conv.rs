//! Structured linear ops and pooling: batched matmul, conv1d and conv2d (stride, padding) with
//! their weight and bias gradients, and 2-D max pooling (ties are kinks). Properties over
//! generated shapes and exact inputs, parameter checks through `WrtParams`, and planted wrong
//! rules with their exact counterexamples.

mod ops_common;

use exactgrad::check::{adjoint, jacobian};
use exactgrad::ops::{param_vector, BatchMatMul, Conv1d, Conv2d, Guard, MaxPool2d, Op, WrtParams};
use exactgrad::strategy::{any_q, tensor};
use exactgrad::{Error, OpSpec, Result, Scalar, Tensor, Q};
use ops_common::*;
use proptest::prelude::*;

/// A batched product: `A` `[batch, m, k]` and `B` `[k, n]` (shared) or `[batch, k, n]`.
fn matmul_case() -> impl Strategy<Value = (BatchMatMul, Tensor<Q>)> {
    (
        1usize..=3,
        1usize..=3,
        1usize..=3,
        1usize..=3,
        any::<bool>(),
    )
        .prop_flat_map(|(batch, m, k, n, shared)| {
            let bshape = if shared {
                vec![k, n]
            } else {
                vec![batch, k, n]
            };
            (tensor(bshape, any_q()), tensor(vec![batch, m, k], any_q()))
                .prop_map(|(b, a)| (BatchMatMul::new(b).unwrap(), a))
        })
}

/// A conv2d with 1–2 channels in and out, kernels up to 3×3, stride 1–2, padding 0–1, and an
/// input the padded kernel fits in.
fn conv2d_case() -> impl Strategy<Value = (Conv2d, Tensor<Q>)> {
    (
        (1usize..=2, 1usize..=2, 1usize..=3, 1usize..=3),
        (1usize..=2, 1usize..=2, 0usize..=1, 0usize..=1),
        (0usize..=2, 0usize..=2),
    )
        .prop_flat_map(|((cin, cout, kh, kw), (sh, sw, ph, pw), (eh, ew))| {
            let (h, w) = (
                (kh + eh).saturating_sub(2 * ph).max(1),
                (kw + ew).saturating_sub(2 * pw).max(1),
            );
            (
                tensor(vec![cout, cin, kh, kw], any_q()),
                tensor(vec![cout], any_q()),
                tensor(vec![cin, h, w], any_q()),
            )
                .prop_map(move |(wt, b, x)| (Conv2d::new(wt, b, (sh, sw), (ph, pw)).unwrap(), x))
        })
}

fn conv1d_case() -> impl Strategy<Value = (Conv1d, Tensor<Q>)> {
    (
        1usize..=2,
        1usize..=2,
        1usize..=3,
        1usize..=3,
        0usize..=2,
        0usize..=4,
    )
        .prop_flat_map(|(cin, cout, k, s, pad, extra)| {
            let len = (k + extra).saturating_sub(2 * pad).max(1);
            (
                tensor(vec![cout, cin, k], any_q()),
                tensor(vec![cout], any_q()),
                tensor(vec![cin, len], any_q()),
            )
                .prop_map(move |(w, b, x)| (Conv1d::new(w, b, s, pad).unwrap(), x))
        })
}

fn pool_case() -> impl Strategy<Value = (MaxPool2d, Tensor<Q>)> {
    (
        1usize..=2,
        1usize..=3,
        1usize..=3,
        1usize..=3,
        1usize..=3,
        0usize..=3,
        0usize..=3,
    )
        .prop_flat_map(|(c, kh, kw, sh, sw, eh, ew)| {
            tensor(vec![c, kh + eh, kw + ew], any_q())
                .prop_map(move |x| (MaxPool2d::new((kh, kw), (sh, sw)).unwrap(), x))
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn batch_matmul_rules_and_right_factor_gradient((op, a) in matmul_case(), p in pool(), d in pool()) {
        check_op(&op, &a, &p, &d)?;
        check_params(&op, &a, &p, &d)?;
    }

    #[test]
    fn conv2d_rules_and_weight_bias_gradients((op, x) in conv2d_case(), p in pool(), d in pool()) {
        check_op(&op, &x, &p, &d)?;
        check_params(&op, &x, &p, &d)?;
    }

    #[test]
    fn conv1d_rules_and_weight_bias_gradients((op, x) in conv1d_case(), p in pool(), d in pool()) {
        check_op(&op, &x, &p, &d)?;
        check_params(&op, &x, &p, &d)?;
    }

    #[test]
    fn max_pool_rules_off_ties((op, x) in pool_case(), p in pool(), d in pool()) {
        let x = away_from_kinks(&op, x);
        check_op(&op, &x, &p, &d)?;
    }
}

#[test]
fn conv2d_with_stride_and_padding_is_exact() {
    // One channel, kernel [[1, 2], [3, 4]], bias 1/2, stride 2, padding 1 on a 3×3 input:
    // output 2×2, each entry a window of the zero-padded input.
    let op = Conv2d::new(
        t(&[1, 1, 2, 2], &["1", "2", "3", "4"]),
        t(&[1], &["1/2"]),
        (2, 2),
        (1, 1),
    )
    .unwrap();
    let x = t(&[1, 3, 3], &["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    let y = OpSpec::<Q>::forward(&op, &x).unwrap();
    // y[0,0] = 4·1 + 1/2; y[0,1] = 3·2 + 4·3 + 1/2; y[1,0] = 2·4 + 4·7 + 1/2;
    // y[1,1] = 1·5 + 2·6 + 3·8 + 4·9 + 1/2.
    assert_eq!(y, t(&[1, 2, 2], &["9/2", "37/2", "73/2", "155/2"]));
}

#[test]
fn ties_are_kinks_and_bad_shapes_are_errors() {
    let pool = MaxPool2d::new((2, 2), (2, 2)).unwrap();
    let x = t(&[1, 2, 2], &["1", "4", "4", "2"]);
    let e = adjoint(&pool, &x, &x, &t(&[1, 1, 1], &["1"])).unwrap_err();
    assert_eq!(
        e,
        Error::Kink {
            layer: 1,
            op: "MaxPool2d(kernel (2, 2), stride (2, 2))".into(),
            coordinate: vec![0, 1, 0]
        }
    );
    assert_eq!(
        MaxPool2d::new((0, 2), (1, 1)).err(),
        Some(Error::InvalidArgument {
            op: "MaxPool2d".into(),
            argument: "kernel".into(),
            value: "(0, 2)".into(),
            requirement: "at least 1 in both dimensions".into(),
        })
    );
    assert_eq!(
        MaxPool2d::new((2, 2), (1, 0)).err(),
        Some(Error::InvalidArgument {
            op: "MaxPool2d".into(),
            argument: "stride".into(),
            value: "(1, 0)".into(),
            requirement: "at least 1 in both dimensions".into(),
        })
    );
    assert!(matches!(
        Conv2d::new(t(&[1, 1, 2], &["1", "2"]), t(&[1], &["0"]), (1, 1), (0, 0)),
        Err(Error::ShapeMismatch { .. })
    ));
    assert_eq!(
        Conv2d::new(t(&[1, 1, 1, 1], &["1"]), t(&[1], &["0"]), (0, 1), (0, 0)).err(),
        Some(Error::InvalidArgument {
            op: "Conv2d".into(),
            argument: "stride".into(),
            value: "(0, 1)".into(),
            requirement: "at least 1 in both dimensions".into(),
        })
    );
    let conv = Conv2d::new(t(&[1, 1, 3, 3], &["1"; 9]), t(&[1], &["0"]), (1, 1), (0, 0)).unwrap();
    assert!(matches!(
        OpSpec::<Q>::forward(&conv, &t(&[1, 2, 2], &["1"; 4])),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        OpSpec::<Q>::forward(
            &BatchMatMul::new(t(&[2, 2], &["1"; 4])).unwrap(),
            &t(&[1, 1, 3], &["1"; 3])
        ),
        Err(Error::ShapeMismatch { .. })
    ));
}

// ---- planted wrong rules ---------------------------------------------------------------------

planted!(MatMulNoTranspose(BatchMatMul), fn vjp(&op, x, dy) {
    // δ·B instead of δ·Bᵀ (only right for a symmetric B).
    let b = op.right().lifted::<S>();
    let s = dy.shape().to_vec();
    dy.clone().reshape(vec![s[0] * s[1], s[2]])?.matmul(&b)?.reshape(x.shape().to_vec())
});

#[test]
fn planted_matmul_without_transpose() {
    let op = MatMulNoTranspose(BatchMatMul::new(t(&[2, 2], &["1", "2", "3", "4"])).unwrap());
    let (a, dy) = (t(&[1, 1, 2], &["1", "1"]), t(&[1, 1, 2], &["1", "0"]));
    // dA = δ·Bᵀ = [B₀₀, B₁₀] = [1, 3]; the wrong rule gives [B₀₀, B₀₁] = [1, 2].
    let c = counterexample(jacobian(&op, &a, &a, &dy));
    assert_counterexample(&c, VJP, &[0, 0, 1], "2", "3", "-1");
}

planted!(Conv1dStrideIgnored(Conv1d), fn vjp(&op, x, dy) {
    // The transposed convolution scattered with stride 1 whatever the forward stride was.
    let w = op.as_conv2d().weight().lifted::<S>();
    let k = w.len();
    let mut dx = vec![S::zero(); x.len()];
    for (t, d) in dy.data().iter().enumerate() {
        for (p, wp) in w.data().iter().enumerate().take(k) {
            if let Some(slot) = dx.get_mut(t + p) {
                *slot = slot.add_ref(&wp.mul_ref(d));
            }
        }
    }
    Tensor::new(x.shape().to_vec(), dx)
});

#[test]
fn planted_conv1d_stride_ignored_in_backward() {
    let conv = Conv1d::new(t(&[1, 1, 2], &["1", "2"]), t(&[1], &["0"]), 2, 0).unwrap();
    let (x, dy) = (t(&[1, 4], &["1", "2", "3", "4"]), t(&[1, 2], &["1", "1"]));
    // Correct dx = [1, 2, 1, 2]; stride 1 gives [1, 3, 2, 0].
    let c = counterexample(jacobian(&Conv1dStrideIgnored(conv), &x, &x, &dy));
    assert_counterexample(&c, VJP, &[0, 1], "3", "2", "1");
}

planted!(Conv2dFlipped(Conv2d), fn vjp(&op, x, dy) {
    // The transposed convolution with the kernel flipped (mixing up convolution and
    // cross-correlation); one channel, stride 1, no padding.
    let w = op.weight().lifted::<S>();
    let (kh, kw) = (w.shape()[2], w.shape()[3]);
    let (wd, ho, wo) = (x.shape()[2], dy.shape()[1], dy.shape()[2]);
    let mut dx = vec![S::zero(); x.len()];
    for r in 0..ho {
        for c in 0..wo {
            for p in 0..kh {
                for q in 0..kw {
                    let flipped = &w.data()[(kh - 1 - p) * kw + (kw - 1 - q)];
                    let slot = &mut dx[(r + p) * wd + c + q];
                    *slot = slot.add_ref(&flipped.mul_ref(&dy.data()[r * wo + c]));
                }
            }
        }
    }
    Tensor::new(x.shape().to_vec(), dx)
});

#[test]
fn planted_conv2d_kernel_flipped_in_backward() {
    let conv = Conv2d::new(
        t(&[1, 1, 2, 2], &["1", "2", "3", "4"]),
        t(&[1], &["0"]),
        (1, 1),
        (0, 0),
    )
    .unwrap();
    let (x, dy) = (t(&[1, 2, 2], &["1", "2", "3", "4"]), t(&[1, 1, 1], &["1"]));
    // dx = W = [1, 2, 3, 4]; the flipped kernel gives [4, 3, 2, 1].
    let c = counterexample(jacobian(&Conv2dFlipped(conv), &x, &x, &dy));
    assert_counterexample(&c, VJP, &[0, 0, 0], "4", "1", "3");
}

/// Conv2d whose bias gradient reads one output position per channel instead of summing over all
/// of them (the reduction over space forgotten).
struct ConvBiasNotReduced(Conv2d);

impl Op for ConvBiasNotReduced {
    fn name(&self) -> String {
        self.0.name()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.0.output_shape(input)
    }
    fn params(&self) -> Vec<exactgrad::Param<'_>> {
        self.0.params()
    }
}

impl<S: Scalar> OpSpec<S> for ConvBiasNotReduced {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.0.forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        self.0.jvp(x, dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.0.vjp(x, dy)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        self.0.guards(x)
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        self.0.forward_with_params(params, x)
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        self.0.jvp_params(x, dparams)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        let mut g = self.0.vjp_params(x, dy)?.into_data();
        let (cout, per) = (dy.shape()[0], dy.len() / dy.shape()[0]);
        let nw = g.len() - cout;
        for o in 0..cout {
            g[nw + o] = dy.data()[o * per].clone();
        }
        Ok(Tensor::from_vec(g))
    }
}

#[test]
fn planted_conv2d_bias_gradient_not_reduced() {
    let conv = Conv2d::new(t(&[1, 1, 1, 1], &["2"]), t(&[1], &["1/2"]), (1, 1), (0, 0)).unwrap();
    let op = ConvBiasNotReduced(conv);
    let x = t(&[1, 2, 2], &["1", "2", "3", "4"]);
    let wrt = WrtParams::new(&op, x);
    let theta: Tensor<Q> = param_vector(&op);
    assert_eq!(theta, t(&[2], &["2", "1/2"]));
    let dy = t(&[1, 2, 2], &["1", "1", "1", "1"]);
    // ∂W = Σ x·δ = 10 is right; ∂b must be Σ δ = 4, the planted rule gives δ[0,0,0] = 1.
    let c = counterexample(jacobian(&wrt, &theta, &theta, &dy));
    assert_counterexample(&c, VJP, &[1], "1", "4", "-3");
}

planted!(PoolFirstEntry(MaxPool2d), fn vjp(&_op, x, dy) {
    // δ routed to the window's first entry instead of its argmax (kernel = stride = 2×2).
    let (h, w) = (x.shape()[1], x.shape()[2]);
    let (ho, wo) = (dy.shape()[1], dy.shape()[2]);
    let mut dx = vec![S::zero(); x.len()];
    for c in 0..x.shape()[0] {
        for r in 0..ho {
            for s in 0..wo {
                dx[(c * h + 2 * r) * w + 2 * s] = dy.data()[(c * ho + r) * wo + s].clone();
            }
        }
    }
    Tensor::new(x.shape().to_vec(), dx)
});

#[test]
fn planted_max_pool_gradient_to_the_wrong_entry() {
    let op = PoolFirstEntry(MaxPool2d::new((2, 2), (2, 2)).unwrap());
    let (x, dy) = (t(&[1, 2, 2], &["1", "4", "3", "2"]), t(&[1, 1, 1], &["1"]));
    let c = counterexample(jacobian(&op, &x, &x, &dy));
    assert_counterexample(&c, VJP, &[0, 0, 0], "1", "0", "1");
}

#[test]
fn the_same_op_values_run_over_f64() {
    // Dyadic inputs and weights are exact in binary, so the float forward equals the rational one.
    let conv = Conv2d::new(
        t(&[1, 1, 2, 2], &["1/2", "-1", "1/4", "2"]),
        t(&[1], &["1/8"]),
        (1, 1),
        (1, 0),
    )
    .unwrap();
    let x = t(&[1, 2, 3], &["1", "-1/2", "3/4", "2", "1/16", "-3"]);
    let exact = OpSpec::<Q>::forward(&conv, &x).unwrap();
    let xf = x.map(|v| num_traits::ToPrimitive::to_f64(v).unwrap());
    let float = OpSpec::<f64>::forward(&conv, &xf).unwrap();
    let back = Tensor::<Q>::from_f64_exact(float.shape().to_vec(), float.data()).unwrap();
    assert_eq!(back, exact);
    assert_eq!(
        Tensor::<Q>::from_f64_exact(vec![2], &[1.0, f64::NAN]).err(),
        Some(Error::NotFinite {
            index: 1,
            value: "NaN".into()
        })
    );
}
