//! Ops that move entries or add a skip path: reshape, flatten, transpose, concatenation, slicing,
//! broadcasting add (with its bias gradient) and the residual connection. Properties over
//! generated shapes and exact inputs, and planted wrong rules with exact counterexamples.

mod ops_common;

use exactgrad::check::jacobian;
use exactgrad::ops::{
    param_vector, BroadcastAdd, Concat, Conv2d, Flatten, LeakyRelu, Linear, Relu, Reshape,
    Residual, Slice, Transpose, WrtParams,
};
use exactgrad::strategy::{any_q, linear, small_q, tensor};
use exactgrad::{Compose, Error, OpSpec, Tensor, Q};
use ops_common::*;
use proptest::prelude::*;

fn shape() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1usize..=3, 1..=3)
}

fn input() -> impl Strategy<Value = Tensor<Q>> {
    shape().prop_flat_map(|s| tensor(s, any_q()))
}

fn q(s: &str) -> Q {
    exactgrad::parse_q(s).unwrap()
}

/// A tensor of rank 1–4 and a permutation of its axes.
fn transpose_case() -> impl Strategy<Value = (Transpose, Tensor<Q>)> {
    proptest::collection::vec(1usize..=3, 1..=4).prop_flat_map(|s| {
        let perm = Just((0..s.len()).collect::<Vec<_>>()).prop_shuffle();
        (perm, tensor(s, any_q())).prop_map(|(p, x)| (Transpose::new(p).unwrap(), x))
    })
}

/// `k` stacked operands of one shape and an axis to concatenate along.
fn concat_case() -> impl Strategy<Value = (Concat, Tensor<Q>)> {
    (1usize..=3, shape()).prop_flat_map(|(k, s)| {
        let mut full = vec![k];
        full.extend(&s);
        (0..s.len(), tensor(full, any_q())).prop_map(move |(axis, x)| (Concat::new(k, axis), x))
    })
}

fn slice_case() -> impl Strategy<Value = (Slice, Tensor<Q>)> {
    shape().prop_flat_map(|s| {
        (0..s.len()).prop_flat_map(move |axis| {
            let n = s[axis];
            (0..n, tensor(s.clone(), any_q())).prop_flat_map(move |(start, x)| {
                (start + 1..=n)
                    .prop_map(move |end| (Slice::new(axis, start, end).unwrap(), x.clone()))
            })
        })
    })
}

/// An input and a bias of a trailing sub-shape, some axes of which are 1 (repeated).
fn broadcast_case() -> impl Strategy<Value = (BroadcastAdd, Tensor<Q>)> {
    shape().prop_flat_map(|s| {
        let r = s.len();
        (
            0..=r,
            proptest::collection::vec(any::<bool>(), r),
            tensor(s.clone(), any_q()),
        )
            .prop_flat_map(move |(len, ones, x)| {
                let bshape: Vec<usize> = s[r - len..]
                    .iter()
                    .zip(&ones)
                    .map(|(&d, &one)| if one { 1 } else { d })
                    .collect();
                tensor(bshape, any_q()).prop_map(move |b| (BroadcastAdd::new(b), x.clone()))
            })
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn reshape_and_flatten_rules(x in input(), p in pool(), d in pool()) {
        let mut reversed = x.shape().to_vec();
        reversed.reverse();
        check_op(&Reshape::new(reversed), &x, &p, &d)?;
        check_op(&Reshape::new(vec![1, x.len()]), &x, &p, &d)?;
        check_op(&Flatten, &x, &p, &d)?;
    }

    #[test]
    fn transpose_rules((op, x) in transpose_case(), p in pool(), d in pool()) {
        check_op(&op, &x, &p, &d)?;
    }

    #[test]
    fn concat_rules((op, x) in concat_case(), p in pool(), d in pool()) {
        check_op(&op, &x, &p, &d)?;
    }

    #[test]
    fn slice_rules((op, x) in slice_case(), p in pool(), d in pool()) {
        check_op(&op, &x, &p, &d)?;
    }

    #[test]
    fn broadcast_add_rules_and_bias_gradient((op, x) in broadcast_case(), p in pool(), d in pool()) {
        check_op(&op, &x, &p, &d)?;
        check_params(&op, &x, &p, &d)?;
    }

    #[test]
    fn residual_rules_over_piecewise_and_parametrised_blocks(
        (l, x) in (1usize..=4).prop_flat_map(|n| (linear(n, n, any_q()), tensor(vec![n], any_q()))),
        (w, b, img) in (
            tensor(vec![2, 2, 3, 3], small_q()), tensor(vec![2], small_q()), tensor(vec![2, 3, 3], small_q())
        ),
        p in pool(),
        d in pool(),
    ) {
        let block = Residual::new(l.then(Relu));
        let x = nudge_hidden(&block, x);
        // A hidden unit with a zero weight row and zero bias is on its kink for every x: no
        // input can be checked there (the kink tests cover its refusal).
        if exactgrad::check::no_kinks(&block, &x).is_ok() {
            check_op(&block, &x, &p, &d)?;
        }
        let leaky = Residual::new(LeakyRelu::new(q("1/3")));
        let x = away_from_kinks(&leaky, x);
        check_op(&leaky, &x, &p, &d)?;
        check_params(&leaky, &x, &p, &d)?;
        // A same-shape conv block (3×3 kernel, padding 1), its weights checked through the skip
        // (small fractions: a 3×3×2 window sum of 256-bit fractions with unrelated denominators has
        // thousands of bits, which the other properties already cover at lower cost).
        let conv = Residual::new(Conv2d::new(w, b, (1, 1), (1, 1)).unwrap());
        check_op(&conv, &img, &p, &d)?;
        check_params(&conv, &img, &p, &d)?;
    }
}

/// Moves `x` until no hidden pre-activation of `Linear >>> ReLU` is zero (the kink lies at a
/// hidden unit, not an input coordinate, so the input is shifted as a whole).
fn nudge_hidden<O: OpSpec<Q>>(op: &O, x: Tensor<Q>) -> Tensor<Q> {
    let mut x = x;
    for k in 1..=64i64 {
        if exactgrad::check::no_kinks(op, &x).is_ok() {
            break;
        }
        let step = Q::new(1.into(), (k + 2).into());
        x = x.map(|v| v + &step * Q::from_integer(k.into()));
    }
    x
}

#[test]
fn shape_errors_are_typed() {
    let x = t(&[2, 3], &["1", "2", "3", "4", "5", "6"]);
    assert!(matches!(
        OpSpec::<Q>::forward(&Reshape::new(vec![4]), &x),
        Err(Error::ShapeMismatch { .. })
    ));
    assert_eq!(
        Transpose::new(vec![0, 0]).err(),
        Some(Error::InvalidArgument {
            op: "Transpose".into(),
            argument: "perm".into(),
            value: "[0, 0]".into(),
            requirement: "a permutation of 0..2".into(),
        })
    );
    assert_eq!(
        Slice::new(0, 2, 2).err(),
        Some(Error::InvalidArgument {
            op: "Slice".into(),
            argument: "range".into(),
            value: "2..2".into(),
            requirement: "non-empty (start < end)".into(),
        })
    );
    assert!(matches!(
        OpSpec::<Q>::forward(&Slice::new(1, 1, 4).unwrap(), &x),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        OpSpec::<Q>::forward(&Concat::new(3, 0), &x),
        Err(Error::ShapeMismatch { .. })
    ));
    let bias = BroadcastAdd::new(t(&[2], &["1", "2"]));
    assert!(matches!(
        OpSpec::<Q>::forward(&bias, &x),
        Err(Error::ShapeMismatch { .. })
    ));
    // A bias of shape [2, 1] broadcasts along the columns.
    let column = BroadcastAdd::new(t(&[2, 1], &["10", "20"]));
    assert_eq!(
        OpSpec::<Q>::forward(&column, &x).unwrap(),
        t(&[2, 3], &["11", "12", "13", "24", "25", "26"])
    );
    let l = Linear::new(t(&[1, 2], &["1", "1"]), t(&[1], &["0"])).unwrap();
    assert!(matches!(
        OpSpec::<Q>::forward(&Residual::new(l), &t(&[2], &["1", "2"])),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn residual_kink_names_the_inner_coordinate() {
    let block = Residual::new(LeakyRelu::new(q("1/2")));
    let x = t(&[3], &["1", "0", "2"]);
    let e = jacobian(&block, &x, &x, &x).unwrap_err();
    assert_eq!(
        e,
        Error::Kink {
            layer: 1,
            op: "LeakyReLU(α=1/2)".into(),
            coordinate: vec![1]
        }
    );
}

// ---- planted wrong rules ---------------------------------------------------------------------

planted!(ReshapeTransposed(Reshape), fn vjp(&_op, x, dy) {
    // Gradient of a reshape taken back by transposing (a classic mix-up for matrices).
    dy.transpose()?.reshape(x.shape().to_vec())
});

#[test]
fn planted_reshape_undone_by_transpose() {
    let op = ReshapeTransposed(Reshape::new(vec![3, 2]));
    let x = t(&[2, 3], &["1", "2", "3", "4", "5", "6"]);
    let dy = t(&[3, 2], &["1", "2", "3", "4", "5", "6"]);
    // Correct dx = [[1, 2, 3], [4, 5, 6]]; δᵀ = [[1, 3, 5], [2, 4, 6]].
    let c = counterexample(jacobian(&op, &x, &x, &dy));
    assert_counterexample(&c, VJP, &[0, 1], "3", "2", "1");
}

planted!(FlattenColumnMajor(Flatten), fn vjp(&_op, x, dy) {
    // Unflattened in column-major order while the forward flattened row-major.
    let s = x.shape().to_vec();
    dy.clone().reshape(vec![s[1], s[0]])?.transpose()
});

#[test]
fn planted_flatten_column_major() {
    let x = t(&[2, 2], &["1", "2", "3", "4"]);
    let dy = t(&[4], &["1", "2", "3", "4"]);
    let c = counterexample(jacobian(&FlattenColumnMajor(Flatten), &x, &x, &dy));
    assert_counterexample(&c, VJP, &[0, 1], "3", "2", "1");
}

planted!(TransposeNotInverted(Transpose), fn vjp(&op, _x, dy) {
    // The forward permutation applied again instead of its inverse (right only for involutions).
    op.forward(dy)
});

#[test]
fn planted_transpose_without_inverse_permutation() {
    let op = TransposeNotInverted(Transpose::new(vec![1, 2, 0]).unwrap());
    let x = t(&[2, 2, 2], &["1", "2", "3", "4", "5", "6", "7", "8"]);
    // δ[a, b, c] = 4a + 2b + c + 1. dx[j] = δ[j₁, j₂, j₀]: dx[0,0,1] = δ[0,1,0] = 3, while the
    // forward map reads δ[1,0,0] = 5 there.
    let c = counterexample(jacobian(&op, &x, &x, &x));
    assert_counterexample(&c, VJP, &[0, 0, 1], "5", "3", "2");
}

planted!(ConcatSplitWrongAxis(Concat), fn vjp(&_op, x, dy) {
    // δ split along the leading axis although the forward concatenated along axis 1.
    dy.clone().reshape(x.shape().to_vec())
});

#[test]
fn planted_concat_split_along_the_wrong_axis() {
    let op = ConcatSplitWrongAxis(Concat::new(2, 1));
    let x = t(&[2, 2, 1], &["1", "2", "3", "4"]);
    let dy = t(&[2, 2], &["1", "2", "3", "4"]);
    // out[r, k] = operand k's row r, so dx[k, r] = δ[r, k] = [[1, 3], [2, 4]].
    let c = counterexample(jacobian(&op, &x, &x, &dy));
    assert_counterexample(&c, VJP, &[0, 1, 0], "2", "3", "-1");
}

planted!(SliceOffByOne(Slice), fn vjp(&_op, x, dy) {
    // δ put back from index 0 instead of the slice's start (which is 1 here).
    let mut data = vec![S::zero(); x.len()];
    for (k, d) in dy.data().iter().enumerate() {
        data[k] = d.clone();
    }
    Tensor::new(x.shape().to_vec(), data)
});

#[test]
fn planted_slice_gradient_misplaced() {
    let op = SliceOffByOne(Slice::new(0, 1, 3).unwrap());
    let (x, dy) = (t(&[4], &["5", "6", "7", "8"]), t(&[2], &["1", "2"]));
    let c = counterexample(jacobian(&op, &x, &x, &dy));
    assert_counterexample(&c, VJP, &[0], "1", "0", "1");
}

/// BroadcastAdd whose bias gradient overwrites instead of accumulating: each broadcast copy
/// replaces the previous one, so only the last row of δ survives.
struct BiasOverwrite(BroadcastAdd);

impl exactgrad::Op for BiasOverwrite {
    fn name(&self) -> String {
        exactgrad::Op::name(&self.0)
    }
    fn output_shape(&self, input: &[usize]) -> exactgrad::Result<Vec<usize>> {
        exactgrad::Op::output_shape(&self.0, input)
    }
    fn params(&self) -> Vec<exactgrad::Param<'_>> {
        self.0.params()
    }
}

impl<S: exactgrad::Scalar> OpSpec<S> for BiasOverwrite {
    fn forward(&self, x: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        self.0.forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        self.0.jvp(x, dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        self.0.vjp(x, dy)
    }
    fn forward_with_params(&self, p: &Tensor<S>, x: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        self.0.forward_with_params(p, x)
    }
    fn jvp_params(&self, x: &Tensor<S>, dp: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        self.0.jvp_params(x, dp)
    }
    fn vjp_params(&self, _x: &Tensor<S>, dy: &Tensor<S>) -> exactgrad::Result<Tensor<S>> {
        let n = self.0.bias().len();
        let mut g = vec![S::zero(); n];
        for (k, d) in dy.data().iter().enumerate() {
            g[k % n] = d.clone();
        }
        Ok(Tensor::from_vec(g))
    }
}

#[test]
fn planted_broadcast_bias_gradient_overwritten() {
    let op = BiasOverwrite(BroadcastAdd::new(t(&[3], &["1", "2", "3"])));
    let x = t(&[2, 3], &["0", "0", "0", "0", "0", "0"]);
    let theta: Tensor<Q> = param_vector(&op);
    let dy = t(&[2, 3], &["1", "2", "3", "4", "5", "6"]);
    // ∂b = column sums [5, 7, 9]; overwriting keeps the last row [4, 5, 6].
    let c = counterexample(jacobian(&WrtParams::new(&op, x), &theta, &theta, &dy));
    assert_counterexample(&c, VJP, &[0], "4", "5", "-1");
}

planted!(ResidualNoSkip(Residual<LeakyRelu>), fn vjp(&op, x, dy) {
    // The skip path's gradient dropped: only the inner block's VJP returned.
    op.inner().vjp(x, dy)
});

#[test]
fn planted_residual_without_skip_gradient() {
    let op = ResidualNoSkip(Residual::new(LeakyRelu::new(q("1/2"))));
    let (x, dy) = (t(&[2], &["1", "-1"]), t(&[2], &["1", "1"]));
    // Correct: δ + inner′·δ = [2, 3/2]; without the skip: [1, 1/2].
    let c = counterexample(jacobian(&op, &x, &x, &dy));
    assert_counterexample(&c, VJP, &[0], "1", "2", "-1");
}
