//! The exact forward values and VJPs of the exp/log ops at dyadic points (exactly representable
//! in float64), as certified rational enclosures 2⁻²⁰⁰ wide, in JSON: the reference that
//! `scripts/exp_ops_vs_torch.py` grades torch's float64 results against, in ulps.
//!
//! `cargo run --release --example exp_ops_exact > /tmp/exact.json`

use exactgrad::ops::{
    CrossEntropy, Elu, Exp, GeluTanh, Log, LogSoftmax, Reduction, Sigmoid, Silu, Softmax, Softplus,
    Tanh,
};
use exactgrad::scalar::exact_string;
use exactgrad::{Ex, OpSpec, Tensor, Q};
use serde_json::{json, Value};

fn dyadic(shape: &[usize], values: &[f64]) -> Tensor<Q> {
    Tensor::from_f64_exact(shape.to_vec(), values).expect("finite floats")
}

fn enclosures(t: &Tensor<Ex>) -> Vec<Value> {
    t.data()
        .iter()
        .map(|v| {
            let (lo, hi) = v.enclosure(200).expect("a representable value");
            json!([exact_string(&lo), exact_string(&hi)])
        })
        .collect()
}

fn case<O: OpSpec<Ex>>(
    label: &str,
    op: &O,
    name: &str,
    params: Value,
    x: Tensor<Q>,
    dy: Tensor<Q>,
) -> Value {
    let xe = x.lift::<Ex>();
    let y = op.forward(&xe).expect("forward");
    let g = op.vjp(&xe, &dy.lift::<Ex>()).expect("vjp");
    json!({
        "label": label,
        "op": name,
        "params": params,
        "shape": x.shape(),
        "x": x.data().iter().map(exact_string).collect::<Vec<_>>(),
        "dy": dy.data().iter().map(exact_string).collect::<Vec<_>>(),
        "forward": enclosures(&y),
        "vjp": enclosures(&g),
    })
}

fn main() {
    let xs = [-3.5, -1.25, -0.375, 0.0625, 0.5, 1.0, 2.75, 6.0];
    let pos = [0.0078125, 0.25, 0.5, 0.9375, 1.5, 3.0, 10.0, 1000.0];
    let dys = [1.0, -0.5, 0.25, 2.0, -1.5, 0.125, 3.0, -0.75];
    let x = dyadic(&[8], &xs);
    let dy = dyadic(&[8], &dys);
    let m = dyadic(&[2, 4], &xs);
    let dm = dyadic(&[2, 4], &dys);
    let none = json!({});
    let out = vec![
        case("exp", &Exp, "Exp", none.clone(), x.clone(), dy.clone()),
        case(
            "log",
            &Log,
            "Log",
            none.clone(),
            dyadic(&[8], &pos),
            dy.clone(),
        ),
        case(
            "sigmoid",
            &Sigmoid,
            "Sigmoid",
            none.clone(),
            x.clone(),
            dy.clone(),
        ),
        case("tanh", &Tanh, "Tanh", none.clone(), x.clone(), dy.clone()),
        case("silu", &Silu, "Silu", none.clone(), x.clone(), dy.clone()),
        case(
            "softplus (β 1, threshold 20)",
            &Softplus::default(),
            "Softplus",
            json!({"beta": "1", "threshold": "20"}),
            x.clone(),
            dy.clone(),
        ),
        case(
            "elu (α 1)",
            &Elu::default(),
            "Elu",
            json!({"alpha": "1"}),
            x.clone(),
            dy.clone(),
        ),
        case(
            "gelu (tanh)",
            &GeluTanh,
            "GeluTanh",
            none.clone(),
            x.clone(),
            dy.clone(),
        ),
        case(
            "softmax (dim 1)",
            &Softmax::new(1),
            "Softmax",
            json!({"axis": 1}),
            m.clone(),
            dm.clone(),
        ),
        case(
            "log_softmax (dim 1)",
            &LogSoftmax::new(1),
            "LogSoftmax",
            json!({"axis": 1}),
            m.clone(),
            dm.clone(),
        ),
        case(
            "cross_entropy (mean)",
            &CrossEntropy::classes(vec![1, 3], Reduction::Mean).expect("classes < 4"),
            "CrossEntropy",
            json!({"classes": [1, 3], "reduction": "mean"}),
            m,
            dyadic(&[], &[1.0]),
        ),
    ];
    println!("{}", serde_json::to_string_pretty(&out).expect("json"));
}
