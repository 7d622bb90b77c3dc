//! Pooling, reductions and padding against torch itself: `tests/fixtures/torch_ops/pool/cases.json`
//! holds torch's float64 forward values and input gradients (written by `make.py` beside it; CI
//! never runs torch). Each float is stored as its exact fraction, so "our exact value equals
//! torch's" is equality of rationals, and since torch's value is a float, the float nearest ours
//! is torch's, bit for bit (the sign of a zero aside).

use exactgrad::ops::{AvgPool2d, MaxPool2d, Pad, Reduce};
use exactgrad::{OpSpec, Tensor, Q};
use serde::Deserialize;

const CASES: &str = include_str!("../fixtures/torch_ops/pool/cases.json");

#[derive(Deserialize)]
struct Fixture {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    op: String,
    args: Args,
    x: Values,
    dy: Values,
    y: Values,
    dx: Values,
}

#[derive(Deserialize)]
struct Args {
    kernel: Option<(usize, usize)>,
    stride: Option<(usize, usize)>,
    padding: Option<(usize, usize)>,
    dilation: Option<(usize, usize)>,
    ceil_mode: Option<bool>,
    count_include_pad: Option<bool>,
    axes: Option<Vec<usize>>,
    keepdims: Option<bool>,
    begin: Option<Vec<usize>>,
    end: Option<Vec<usize>>,
}

#[derive(Deserialize)]
struct Values {
    shape: Vec<usize>,
    data: Vec<String>,
}

impl Values {
    fn tensor(&self) -> Tensor<Q> {
        let literals: Vec<&str> = self.data.iter().map(String::as_str).collect();
        Tensor::parse(self.shape.clone(), &literals).expect("exact fractions")
    }
}

fn cases() -> Vec<Case> {
    serde_json::from_str::<Fixture>(CASES)
        .expect("the fixture parses")
        .cases
}

/// The op a case describes, with `count_include_pad` as given (or flipped, to show the values
/// tell the two rules apart).
fn op(case: &Case, flip_count_include_pad: bool) -> Box<dyn OpSpec<Q>> {
    let a = &case.args;
    let pair = |v: Option<(usize, usize)>| v.expect("a pooling argument");
    match case.op.as_str() {
        "max_pool2d" => Box::new(
            MaxPool2d::new(pair(a.kernel), pair(a.stride))
                .and_then(|p| p.with_padding(pair(a.padding)))
                .and_then(|p| p.with_dilation(pair(a.dilation)))
                .and_then(|p| p.with_ceil_mode(a.ceil_mode.unwrap()))
                .unwrap(),
        ),
        "avg_pool2d" => Box::new(
            AvgPool2d::new(pair(a.kernel), pair(a.stride))
                .and_then(|p| p.with_padding(pair(a.padding)))
                .and_then(|p| p.with_ceil_mode(a.ceil_mode.unwrap()))
                .and_then(|p| {
                    p.with_count_include_pad(a.count_include_pad.unwrap() != flip_count_include_pad)
                })
                .unwrap(),
        ),
        "sum" => Box::new(Reduce::sum(a.axes.clone().unwrap(), a.keepdims.unwrap()).unwrap()),
        "mean" => Box::new(Reduce::mean(a.axes.clone().unwrap(), a.keepdims.unwrap()).unwrap()),
        "pad" => Box::new(Pad::new(a.begin.clone().unwrap(), a.end.clone().unwrap()).unwrap()),
        other => panic!("unknown op {other} in the fixture"),
    }
}

#[test]
fn forward_and_input_gradients_equal_torch_float64() {
    let cases = cases();
    assert_eq!(cases.len(), 12);
    for case in &cases {
        let op = op(case, false);
        let x = case.x.tensor();
        let y = op
            .forward(&x)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(y, case.y.tensor(), "{}: forward", case.name);
        let dx = op.vjp(&x, &case.dy.tensor()).unwrap();
        assert_eq!(dx, case.dx.tensor(), "{}: input gradient", case.name);
        // And forward mode agrees with torch's reverse mode: ⟪jvp(x, e_k), δ⟫ = dx[k].
        let k = dx.len() / 2;
        let e = Tensor::basis(x.shape(), k).unwrap();
        let along = op.jvp(&x, &e).unwrap().dot(&case.dy.tensor()).unwrap();
        assert_eq!(&along, &dx.data()[k], "{}: jvp at entry {k}", case.name);
    }
}

#[test]
fn the_fixture_tells_the_divisor_rules_apart() {
    // Every padded average differs from torch's under the other count_include_pad rule, so the
    // comparison above does test the rule torch uses.
    let mut compared = 0;
    for case in cases().iter().filter(|c| c.op == "avg_pool2d") {
        if case.args.padding == Some((0, 0)) {
            continue;
        }
        let y = op(case, true).forward(&case.x.tensor()).unwrap();
        assert_ne!(y, case.y.tensor(), "{}", case.name);
        compared += 1;
    }
    assert_eq!(compared, 3);
}

#[test]
fn ceil_mode_drops_the_window_that_would_start_in_the_padding() {
    // Rows 5, kernel 2, stride 2, padding 1: ceil gives 4 windows, the 4th starting at row 5 =
    // H + p, in the padding, so 3 remain; columns 6, kernel 3: ceil keeps a 4th, partial window.
    let case = cases()
        .into_iter()
        .find(|c| c.name == "max_pool2d ceil_mode dropping a window")
        .unwrap();
    assert_eq!(case.y.shape, [2, 1, 3, 4]);
    let pool = MaxPool2d::new((2, 3), (2, 2))
        .and_then(|p| p.with_padding((1, 1)))
        .unwrap();
    assert_eq!(
        exactgrad::Op::output_shape(&pool, &case.x.shape).unwrap(),
        [2, 1, 3, 3]
    );
}
