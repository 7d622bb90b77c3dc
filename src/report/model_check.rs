//! The result of `exactgrad check MODEL.onnx`: the exact gradients of a model at a point and,
//! when a framework's gradients are given, the grade of each, as text or JSON.

use super::exact::{ExactQ, ExactTensor};
use super::summary::{digest, shorten_number, Detail};
use crate::check::{Closest, Entry, Grade, ModelGradients, Verdict};
use crate::scalar::{exact_string, Ordered, Q};
use crate::tensor::Tensor;
use num_traits::ToPrimitive;
use serde_json::{json, Value};
use std::fmt;

/// Everything `exactgrad check` found.
#[derive(Clone, Debug)]
pub struct ModelCheck {
    /// The model file.
    pub model: String,
    /// What wrote it and the opset.
    pub producer: String,
    /// The default domain's opset.
    pub opset: i64,
    /// Nodes of the exact graph.
    pub nodes: usize,
    /// Where the input came from (a file, or the seed it was drawn with).
    pub input_source: String,
    /// Where the cotangent came from.
    pub cotangent_source: String,
    /// The guard closest to zero (how far the point is from a kink).
    pub closest: Option<Closest>,
    /// The exact gradients.
    pub gradients: ModelGradients<Q>,
    /// The framework's gradient file and the grade of each of its tensors.
    pub compared: Option<(String, Vec<Grade>)>,
}

impl ModelCheck {
    /// 0 when every graded tensor is `exact` or `rounding` (or nothing was graded), else 1.
    pub fn exit_code(&self) -> u8 {
        let failed = self.compared.as_ref().is_some_and(|(_, gs)| {
            gs.iter()
                .any(|g| matches!(g.verdict, Verdict::Wrong | Verdict::Unbounded))
        });
        u8::from(failed)
    }

    /// The report as text; `detail` says whether gradients are printed in full or summarised
    /// (by default in full up to [`super::summary::SUMMARY_ABOVE`] values).
    pub fn text(&self, detail: Detail) -> Text<'_> {
        Text {
            check: self,
            detail,
        }
    }

    /// The report as JSON: every value exact (`"p/q"`), whatever the size.
    pub fn json(&self) -> Value {
        let grads: Vec<Value> = self
            .gradients
            .all()
            .map(|(name, t)| json!({"name": name, "gradient": ExactTensor(t)}))
            .collect();
        let compared = self.compared.as_ref().map(|(file, gs)| {
            json!({
                "file": file,
                "grades": gs.iter().map(grade_json).collect::<Vec<_>>(),
            })
        });
        json!({
            "schema": 1,
            "model": self.model,
            "producer": self.producer,
            "opset": self.opset,
            "nodes": self.nodes,
            "input": {"name": self.gradients.input.0, "source": self.input_source},
            "cotangent": {"source": self.cotangent_source},
            "closest_guard": self.closest.as_ref().map(|c| json!({
                "node": c.node, "coordinate": c.coordinate, "value": ExactQ(&c.value),
            })),
            "output": ExactTensor(&self.gradients.output),
            "gradients": grads,
            "compared": compared,
            "passed": self.exit_code() == 0,
        })
    }
}

fn entry_json(e: &Entry) -> Value {
    json!({
        "coordinate": e.coordinate,
        "float": ExactQ(&e.float),
        "exact": ExactQ(&e.exact),
        "error": ExactQ(&e.error),
        "ulps": e.ulps,
        "bound": e.bound.as_ref().map(ExactQ),
        "bound_ulps": e.bound_ulps,
        "roundings": e.roundings,
    })
}

fn grade_json(g: &Grade) -> Value {
    json!({
        "name": g.name,
        "shape": g.shape,
        "format": g.format.name,
        "verdict": verdict_name(g.verdict),
        "worst": g.worst.as_ref().map(entry_json),
        "worst_error_over_bound": ExactQ(&g.worst_ratio),
        "first_bad": g.first_bad.as_ref().map(entry_json),
    })
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Exact => "exact",
        Verdict::Rounding => "rounding",
        Verdict::Wrong => "wrong",
        Verdict::Unbounded => "unbounded",
    }
}

/// [`ModelCheck`] as text (see [`ModelCheck::text`]).
pub struct Text<'a> {
    check: &'a ModelCheck,
    detail: Detail,
}

/// A float shown with 4 significant digits.
fn approx(q: &Q) -> String {
    format!("{:.4e}", q.to_f64().unwrap_or(f64::NAN))
}

/// An exact value, shortened when long, with its float approximation.
fn exact_and_approx(q: &Q) -> String {
    let s = shorten_number(&exact_string(q));
    if q.denom() == &num_bigint::BigInt::from(1) && s.len() < 12 {
        s
    } else {
        format!("{s} (≈ {})", approx(q))
    }
}

fn max_abs(t: &Tensor<Q>) -> Q {
    t.data()
        .iter()
        .map(Ordered::abs_val)
        .max()
        .unwrap_or_else(num_traits::Zero::zero)
}

fn ulps(x: f64) -> String {
    if x < 10.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.0}")
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.check;
        writeln!(
            f,
            "model {} ({}, opset {}): {} exact graph nodes",
            c.model, c.producer, c.opset, c.nodes
        )?;
        writeln!(
            f,
            "input {:?} {:?} from {}",
            c.gradients.input.0,
            c.gradients.input.1.shape(),
            c.input_source
        )?;
        writeln!(
            f,
            "cotangent δ {:?} from {}",
            c.gradients.output.shape(),
            c.cotangent_source
        )?;
        match &c.closest {
            Some(k) => writeln!(
                f,
                "no kink: every piecewise choice is decided; the closest guard is {} at node {} {:?}",
                exact_and_approx(&k.value),
                k.node,
                k.coordinate
            )?,
            None => writeln!(f, "no kink: the model has no piecewise op")?,
        }
        let values: usize = c.gradients.all().map(|(_, t)| t.len()).sum();
        let full = !self.detail.summarises(values);
        writeln!(f, "\nexact gradients of ⟨output, δ⟩:")?;
        let width = c.gradients.all().map(|(n, _)| n.len()).max().unwrap_or(0);
        for (name, t) in c.gradients.all() {
            writeln!(
                f,
                "  {name:width$}  {:<16} max |·| {}  digest {}",
                format!("{:?}", t.shape()),
                approx(&max_abs(t)),
                digest(t)
            )?;
            if full {
                for (k, v) in t.data().iter().enumerate() {
                    writeln!(
                        f,
                        "    {:?} = {}",
                        t.multi_index(k),
                        shorten_number(&exact_string(v))
                    )?;
                }
            }
        }
        if !full {
            writeln!(
                f,
                "  (summaries: --full prints every value, --json every value exactly)"
            )?;
        }
        let Some((file, grades)) = &c.compared else {
            return Ok(());
        };
        writeln!(f, "\ncompared with {file}:")?;
        for g in grades {
            write!(f, "  {:width$}  {:<9} ", g.name, verdict_name(g.verdict))?;
            match (g.verdict, &g.worst, &g.first_bad) {
                (Verdict::Exact, _, _) => {
                    writeln!(f, "{}: every value bit for bit", g.format.name)?
                }
                (Verdict::Rounding, Some(w), _) => writeln!(
                    f,
                    "{}: max {} ulps at {:?} (bound there {} ulps; worst error/bound {:.3})",
                    g.format.name,
                    ulps(w.ulps),
                    w.coordinate,
                    w.bound_ulps.map_or("none".into(), ulps),
                    g.worst_ratio.to_f64().unwrap_or(f64::INFINITY)
                )?,
                (_, _, Some(b)) => writeln!(
                    f,
                    "{}: at {:?} the float is {}, the exact value {}, error {} = {} ulps, {}",
                    g.format.name,
                    b.coordinate,
                    exact_and_approx(&b.float),
                    exact_and_approx(&b.exact),
                    approx(&b.error),
                    ulps(b.ulps),
                    match &b.bound {
                        Some(bound) => format!(
                            "above the rounding bound {} ({} ulps, {} roundings)",
                            approx(bound),
                            b.bound_ulps.map_or("?".into(), ulps),
                            b.roundings.unwrap_or(0)
                        ),
                        None => "and no rounding bound exists there".into(),
                    }
                )?,
                _ => writeln!(f)?,
            }
        }
        let count = |v: Verdict| grades.iter().filter(|g| g.verdict == v).count();
        writeln!(
            f,
            "\nverdict: {} — {} exact, {} rounding, {} wrong{}",
            if c.exit_code() == 0 { "PASS" } else { "FAIL" },
            count(Verdict::Exact),
            count(Verdict::Rounding),
            count(Verdict::Wrong),
            match count(Verdict::Unbounded) {
                0 => String::new(),
                n => format!(", {n} without a rounding bound"),
            }
        )
    }
}
