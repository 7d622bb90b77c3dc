//! Every value of a theorem check as JSON with exact `"p/q"` strings, so that an outside tool
//! can recompute the Jacobian and the VJP from the printed weights, and so that the output fed
//! back with `--weights` reruns the same check (README, "JSON schema").
//!
//! The layout is the `Serialize` derive of the view types below, which borrow from the reports;
//! tensors are [`ExactTensor`]s (`{"shape", "data"}`), the top level carries
//! `"schema": SCHEMA` and a `"kind"`, as the proof certificate does.

use super::case::{Case, Network};
use super::error_json::error_json;
use super::exact::{exact_tensors, ExactQ, ExactTensor};
use crate::check::{DeepTheoremReport, FDerivProof, KinkRadius, TheoremReport};
use crate::error::Error;
use crate::ops::DeepMlp;
use crate::scalar::Q;
use crate::tensor::Tensor;
use serde::Serialize;
use serde_json::Value;

/// The version of the JSON layout (README, "JSON schema"); the same number as the proof
/// certificate's, raised whenever a field changes meaning or disappears.
pub const SCHEMA: u32 = 1;

/// The `"kind"` of the 2-layer theorem's JSON.
pub const MLP_KIND: &str = "exactgrad MLP theorem";

/// The `"kind"` of the deep theorem's JSON.
pub const DEEP_KIND: &str = "exactgrad deep MLP theorem";

/// A tensor as `{"shape", "data"}` (the old name of [`ExactTensor`]'s JSON, as a value).
pub fn tensor_json(t: &Tensor<Q>) -> Value {
    serde_json::to_value(ExactTensor(t)).unwrap_or_default()
}

#[derive(Serialize)]
struct AdjointJson<'a> {
    dx: ExactTensor<'a>,
    jvp_dot_delta: ExactQ<'a>,
    dx_dot_vjp: ExactQ<'a>,
}

#[derive(Serialize)]
struct KinkJson<'a> {
    layer: usize,
    op: &'a str,
    coordinate: &'a [usize],
    pre_activation: ExactQ<'a>,
}

#[derive(Serialize)]
struct IncrementJson<'a> {
    step: ExactQ<'a>,
    h: ExactTensor<'a>,
    f_x_plus_h_minus_f_x: ExactTensor<'a>,
}

/// The part both theorems share after the closed form: adjointness, the box and the increment.
#[derive(Serialize)]
struct BoxJson<'a> {
    radius: Option<ExactQ<'a>>,
    nearest_kink: Option<KinkJson<'a>>,
    increment: IncrementJson<'a>,
}

fn box_json<'a>(radius: &'a KinkRadius<Q>, fderiv: &'a FDerivProof<Q>) -> BoxJson<'a> {
    BoxJson {
        radius: radius.radius.as_ref().map(ExactQ),
        nearest_kink: radius.binding.as_ref().map(|g| KinkJson {
            layer: g.layer,
            op: &g.op,
            coordinate: &g.coordinate,
            pre_activation: ExactQ(&g.value),
        }),
        increment: IncrementJson {
            step: ExactQ(&fderiv.step),
            h: ExactTensor(&fderiv.increment.h),
            f_x_plus_h_minus_f_x: ExactTensor(&fderiv.increment.increment),
        },
    }
}

#[derive(Serialize)]
struct TheoremJson<'a> {
    schema: u32,
    kind: &'static str,
    verdict: &'static str,
    network: &'a str,
    dims: [usize; 3],
    #[serde(rename = "W1")]
    w1: ExactTensor<'a>,
    b1: ExactTensor<'a>,
    #[serde(rename = "W2")]
    w2: ExactTensor<'a>,
    b2: ExactTensor<'a>,
    x: ExactTensor<'a>,
    delta: ExactTensor<'a>,
    z1: ExactTensor<'a>,
    mask: ExactTensor<'a>,
    output: ExactTensor<'a>,
    jacobian: ExactTensor<'a>,
    vjp: ExactTensor<'a>,
    adjoint: AdjointJson<'a>,
    #[serde(flatten)]
    kink_free_box: BoxJson<'a>,
}

fn theorem_view(report: &TheoremReport<Q>) -> TheoremJson<'_> {
    TheoremJson {
        schema: SCHEMA,
        kind: MLP_KIND,
        verdict: "holds",
        network: &report.net,
        dims: [report.x.len(), report.z1.len(), report.output.len()],
        w1: ExactTensor(&report.w1),
        b1: ExactTensor(&report.b1),
        w2: ExactTensor(&report.w2),
        b2: ExactTensor(&report.b2),
        x: ExactTensor(&report.x),
        delta: ExactTensor(&report.delta),
        z1: ExactTensor(&report.z1),
        mask: ExactTensor(&report.mask),
        output: ExactTensor(&report.output),
        jacobian: ExactTensor(&report.deriv),
        vjp: ExactTensor(&report.vjp),
        adjoint: AdjointJson {
            dx: ExactTensor(&report.dx),
            jvp_dot_delta: ExactQ(&report.adjoint.lhs),
            dx_dot_vjp: ExactQ(&report.adjoint.rhs),
        },
        kink_free_box: box_json(&report.fderiv.radius, &report.fderiv),
    }
}

/// The whole 2-layer theorem check as JSON: parameters, point, every intermediate value and the
/// verdict.
pub fn theorem_json(report: &TheoremReport<Q>) -> Value {
    serde_json::to_value(theorem_view(report)).unwrap_or_default()
}

/// [`theorem_json`] written pretty-printed to `out` value by value, without building the tree.
pub fn write_theorem_json(
    report: &TheoremReport<Q>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &theorem_view(report))?;
    writeln!(out)
}

#[derive(Serialize)]
struct LayerJson<'a> {
    #[serde(rename = "W")]
    w: ExactTensor<'a>,
    b: ExactTensor<'a>,
}

fn layers_view(net: &DeepMlp) -> Vec<LayerJson<'_>> {
    net.layers()
        .into_iter()
        .map(|l| LayerJson {
            w: ExactTensor(l.weight()),
            b: ExactTensor(l.bias()),
        })
        .collect()
}

#[derive(Serialize)]
struct DeepTheoremJson<'a> {
    schema: u32,
    kind: &'static str,
    verdict: &'static str,
    network: &'a str,
    widths: &'a [usize],
    layers: Vec<LayerJson<'a>>,
    x: ExactTensor<'a>,
    delta: ExactTensor<'a>,
    pre_activations: Vec<ExactTensor<'a>>,
    masks: Vec<ExactTensor<'a>>,
    output: ExactTensor<'a>,
    jacobian: ExactTensor<'a>,
    vjp: ExactTensor<'a>,
    adjoint: AdjointJson<'a>,
    #[serde(flatten)]
    kink_free_box: BoxJson<'a>,
}

fn deep_view<'a>(net: &'a DeepMlp, report: &'a DeepTheoremReport<Q>) -> DeepTheoremJson<'a> {
    DeepTheoremJson {
        schema: SCHEMA,
        kind: DEEP_KIND,
        verdict: "holds",
        network: &report.net,
        widths: &report.widths,
        layers: layers_view(net),
        x: ExactTensor(&report.x),
        delta: ExactTensor(&report.delta),
        pre_activations: exact_tensors(&report.pre_activations),
        masks: exact_tensors(&report.masks),
        output: ExactTensor(&report.output),
        jacobian: ExactTensor(&report.deriv),
        vjp: ExactTensor(&report.vjp),
        adjoint: AdjointJson {
            dx: ExactTensor(&report.dx),
            jvp_dot_delta: ExactQ(&report.adjoint.lhs),
            dx_dot_vjp: ExactQ(&report.adjoint.rhs),
        },
        kink_free_box: box_json(&report.radius, &report.fderiv),
    }
}

/// The deep theorem check as JSON: the layers of `net` (`{"W", "b"}` each), the point, every
/// intermediate value and the verdict.
pub fn deep_theorem_json(net: &DeepMlp, report: &DeepTheoremReport<Q>) -> Value {
    serde_json::to_value(deep_view(net, report)).unwrap_or_default()
}

/// [`deep_theorem_json`] written pretty-printed to `out` value by value.
pub fn write_deep_theorem_json(
    net: &DeepMlp,
    report: &DeepTheoremReport<Q>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &deep_view(net, report))?;
    writeln!(out)
}

#[derive(Serialize)]
#[serde(untagged)]
enum NetworkJson<'a> {
    Mlp {
        #[serde(rename = "W1")]
        w1: ExactTensor<'a>,
        b1: ExactTensor<'a>,
        #[serde(rename = "W2")]
        w2: ExactTensor<'a>,
        b2: ExactTensor<'a>,
    },
    Deep {
        layers: Vec<LayerJson<'a>>,
    },
}

/// The inputs of a run in the layout `--weights` reads (README, "JSON schema").
#[derive(Serialize)]
struct CaseJson<'a> {
    #[serde(flatten)]
    network: NetworkJson<'a>,
    x: ExactTensor<'a>,
    delta: ExactTensor<'a>,
}

fn case_view(case: &Case) -> CaseJson<'_> {
    let network = match &case.network {
        Network::Mlp(mlp) => NetworkJson::Mlp {
            w1: ExactTensor(mlp.layer1().weight()),
            b1: ExactTensor(mlp.layer1().bias()),
            w2: ExactTensor(mlp.layer2().weight()),
            b2: ExactTensor(mlp.layer2().bias()),
        },
        Network::Deep(net) => NetworkJson::Deep {
            layers: layers_view(net),
        },
    };
    CaseJson {
        network,
        x: ExactTensor(&case.x),
        delta: ExactTensor(&case.delta),
    }
}

/// A case (network, `x`, `δ`) as JSON in the layout [`super::read_weights`] reads:
/// `"schema"`, then `W1`, `b1`, `W2`, `b2` or `layers`, then `x`, `delta`.
pub fn case_json(case: &Case) -> Value {
    let mut v = serde_json::json!({ "schema": SCHEMA });
    if let (Some(map), Ok(Value::Object(fields))) =
        (v.as_object_mut(), serde_json::to_value(case_view(case)))
    {
        map.extend(fields);
    }
    v
}

/// A failed check as JSON: `"verdict": "fails"`, the structured error ([`super::error_json`])
/// and, when the case is known, its network, point and cotangent in the layout `--weights`
/// reads, so the failing run can be replayed.
pub fn failure_json(case: Option<&Case>, e: &Error) -> Value {
    let kind = match case.map(|c| &c.network) {
        Some(Network::Deep(_)) => DEEP_KIND,
        _ => MLP_KIND,
    };
    let mut v = serde_json::json!({
        "schema": SCHEMA,
        "kind": kind,
        "verdict": "fails",
        "error": error_json(e),
    });
    if let (Some(case), Some(map)) = (case, v.as_object_mut()) {
        map.insert("widths".into(), case.network.widths().into());
        if let Ok(Value::Object(fields)) = serde_json::to_value(case_view(case)) {
            map.extend(fields);
        }
    }
    v
}
