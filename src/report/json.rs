//! Every value of a theorem check as exact `"p/q"` strings, so that an outside tool can
//! recompute the Jacobian and the VJP from the printed weights.

use crate::check::TheoremReport;
use crate::scalar::{exact_string, Q};
use crate::tensor::Tensor;
use serde_json::{json, Value};

/// A vector as an array of `"p/q"`, a matrix as an array of rows, other shapes flat.
pub fn tensor_json(t: &Tensor<Q>) -> Value {
    let strings: Vec<Value> = t
        .data()
        .iter()
        .map(|v| Value::String(exact_string(v)))
        .collect();
    match *t.shape() {
        [_, n] if n > 0 => Value::Array(
            strings
                .chunks(n)
                .map(|row| Value::Array(row.to_vec()))
                .collect(),
        ),
        _ => Value::Array(strings),
    }
}

/// The whole theorem check as JSON: parameters, point, every intermediate value and the verdict.
pub fn theorem_json(report: &TheoremReport<Q>) -> Value {
    let radius = &report.fderiv.radius;
    let (n, h, m) = (report.x.len(), report.z1.len(), report.output.len());
    json!({
        "network": report.net,
        "dims": [n, h, m],
        "W1": tensor_json(&report.w1),
        "b1": tensor_json(&report.b1),
        "W2": tensor_json(&report.w2),
        "b2": tensor_json(&report.b2),
        "x": tensor_json(&report.x),
        "delta": tensor_json(&report.delta),
        "z1": tensor_json(&report.z1),
        "mask": tensor_json(&report.mask),
        "output": tensor_json(&report.output),
        "jacobian": tensor_json(&report.deriv),
        "vjp": tensor_json(&report.vjp),
        "adjoint": {
            "dx": tensor_json(&report.dx),
            "jvp_dot_delta": exact_string(&report.adjoint.lhs),
            "dx_dot_vjp": exact_string(&report.adjoint.rhs),
        },
        "radius": radius.radius.as_ref().map(exact_string),
        "nearest_kink": radius.binding.as_ref().map(|g| json!({
            "layer": g.layer,
            "op": g.op,
            "coordinate": g.coordinate,
            "pre_activation": exact_string(&g.value),
        })),
        "increment": {
            "h": tensor_json(&report.fderiv.increment.h),
            "f_x_plus_h_minus_f_x": tensor_json(&report.fderiv.increment.increment),
        },
        "verdict": "holds",
    })
}
