//! Linear, Conv1d, Conv2d and the MSE/L1/Huber losses equal torch float64 bit for bit: batched,
//! grouped, dilated, strided and padded configurations and the three reductions, at dyadic
//! points where torch's floats are exact.
//!
//! The values come from `tests/fixtures/torch_ops/conv/*.json`, written by `make.py` beside
//! them (torch is needed only to regenerate them). Each value is stored as an exact fraction,
//! so the comparison is an equality of rationals.

use exactgrad::ops::{Conv1d, Conv2d, HuberLoss, L1Loss, Linear, MseLoss, Reduction};
use exactgrad::{OpSpec, Tensor, Q};
use serde_json::Value;

/// The cases of one fixture file.
fn cases(file: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/fixtures/torch_ops/conv/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(doc["dtype"], "float64", "{path}");
    let cases = doc["cases"].as_array().expect("a list of cases").clone();
    assert!(!cases.is_empty(), "{path}");
    cases
}

fn uint(v: &Value) -> usize {
    usize::try_from(v.as_u64().expect("an unsigned integer")).expect("fits in usize")
}

fn pair(v: &Value) -> (usize, usize) {
    (uint(&v[0]), uint(&v[1]))
}

/// The tensor stored under `key`: its shape and its entries as exact fractions.
fn tensor(case: &Value, key: &str) -> Tensor<Q> {
    let t = &case[key];
    let shape = t["shape"].as_array().expect("a shape").iter().map(uint);
    let data: Vec<&str> = t["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|v| v.as_str().expect("a fraction"))
        .collect();
    Tensor::parse(shape.collect(), &data).unwrap_or_else(|e| panic!("{key}: {e}"))
}

/// exactgrad's forward value and input gradient (the vjp at torch's cotangent) equal torch's,
/// and, when `weight_and_bias`, so do the parameter gradients (flattened `W`, then `b`).
fn assert_equals_torch<O: OpSpec<Q> + ?Sized>(op: &O, case: &Value, weight_and_bias: bool) {
    let name = op.name();
    let (x, dy) = (tensor(case, "x"), tensor(case, "cotangent"));
    assert_eq!(
        op.forward(&x).unwrap(),
        tensor(case, "y"),
        "{name}: forward"
    );
    let grad_x = op.vjp(&x, &dy).unwrap();
    assert_eq!(grad_x, tensor(case, "grad_x"), "{name}: input gradient");
    if weight_and_bias {
        let (gw, gb) = (tensor(case, "grad_weight"), tensor(case, "grad_bias"));
        let g = op.vjp_params(&x, &dy).unwrap().into_data();
        assert_eq!(g.len(), gw.len() + gb.len(), "{name}: parameter count");
        assert_eq!(&g[..gw.len()], gw.data(), "{name}: weight gradient");
        assert_eq!(&g[gw.len()..], gb.data(), "{name}: bias gradient");
    }
}

fn conv2d(case: &Value, dilation: (usize, usize)) -> Conv2d {
    let (stride, padding) = (pair(&case["stride"]), pair(&case["padding"]));
    Conv2d::new(
        tensor(case, "weight"),
        tensor(case, "bias"),
        stride,
        padding,
    )
    .and_then(|c| c.with_dilation(dilation))
    .and_then(|c| c.with_groups(uint(&case["groups"])))
    .unwrap()
}

fn conv1d(case: &Value, dilation: usize) -> Conv1d {
    let (stride, padding) = (uint(&case["stride"]), uint(&case["padding"]));
    Conv1d::new(
        tensor(case, "weight"),
        tensor(case, "bias"),
        stride,
        padding,
    )
    .and_then(|c| c.with_dilation(dilation))
    .and_then(|c| c.with_groups(uint(&case["groups"])))
    .unwrap()
}

fn reduction(case: &Value) -> Reduction {
    match case["reduction"].as_str() {
        Some("none") => Reduction::None,
        Some("sum") => Reduction::Sum,
        Some("mean") => Reduction::Mean,
        other => panic!("reduction {other:?}"),
    }
}

/// The loss of a case, with the reduction `r`.
fn loss(case: &Value, r: Reduction) -> Box<dyn OpSpec<Q>> {
    let target = tensor(case, "target");
    match case["loss"].as_str() {
        Some("mse") => Box::new(MseLoss::new(target).with_reduction(r)),
        Some("l1") => Box::new(L1Loss::new(target).with_reduction(r)),
        Some("huber") => {
            let delta = exactgrad::parse_q(case["delta"].as_str().expect("δ")).unwrap();
            Box::new(HuberLoss::new(target, delta).unwrap().with_reduction(r))
        }
        other => panic!("loss {other:?}"),
    }
}

#[test]
fn conv2d_equals_torch_batched_grouped_dilated() {
    let cases = cases("conv2d.json");
    assert_eq!(cases.len(), 3);
    for case in &cases {
        assert_equals_torch(&conv2d(case, pair(&case["dilation"])), case, true);
    }
}

#[test]
fn conv1d_equals_torch_batched_grouped_dilated() {
    let cases = cases("conv1d.json");
    assert_eq!(cases.len(), 2);
    for case in &cases {
        assert_equals_torch(&conv1d(case, uint(&case["dilation"])), case, true);
    }
}

#[test]
fn linear_equals_torch_on_a_3d_and_a_1d_input() {
    let cases = cases("linear.json");
    assert_eq!(cases.len(), 2);
    for case in &cases {
        let op = Linear::new(tensor(case, "weight"), tensor(case, "bias")).unwrap();
        assert_equals_torch(&op, case, true);
    }
}

#[test]
fn the_losses_equal_torch_with_every_reduction() {
    let cases = cases("losses.json");
    assert_eq!(cases.len(), 9);
    for case in &cases {
        assert_equals_torch(&*loss(case, reduction(case)), case, false);
    }
}

/// The comparison can fail: an op built without the dilation, or a loss with another reduction,
/// disagrees with torch's values on every fixture that uses them.
#[test]
fn a_wrong_dilation_or_reduction_disagrees_with_torch() {
    let disagrees = |op: &dyn OpSpec<Q>, case: &Value| {
        op.forward(&tensor(case, "x"))
            .map_or(true, |y| y != tensor(case, "y"))
    };
    for case in cases("conv2d.json") {
        if pair(&case["dilation"]) != (1, 1) {
            assert!(disagrees(&conv2d(&case, (1, 1)), &case), "{}", case["name"]);
        }
    }
    for case in cases("conv1d.json") {
        if uint(&case["dilation"]) != 1 {
            assert!(disagrees(&conv1d(&case, 1), &case), "{}", case["name"]);
        }
    }
    for case in cases("losses.json") {
        let other = match reduction(&case) {
            Reduction::Mean => Reduction::Sum,
            _ => Reduction::Mean,
        };
        assert!(disagrees(&*loss(&case, other), &case), "{case}");
    }
}
