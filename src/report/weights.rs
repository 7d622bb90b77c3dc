//! `--weights FILE`: a network, a point and a cotangent read from JSON in the layout the
//! `--json` output writes (README, "JSON schema"), so that output fed back reruns the check.
//!
//! Every value is an exact `"p/q"` string (JSON numbers are refused: a float is not exact, and
//! only strings give every rational), so nothing read can be NaN or rounded. Every defect is an
//! [`Error::InvalidArgument`] whose `argument` names the field and index (`W1.data[3]`,
//! `layers[1].W.shape`), never a panic.

use super::case::{Case, Network};
use super::json::SCHEMA;
use crate::error::{shorten, Error, Result};
use crate::ops::{DeepMlp, Linear, Mlp};
use crate::scalar::{parse_q, Q};
use crate::tensor::Tensor;
use serde_json::{Map, Value};

/// The largest layer size accepted, from a file as on the command line.
pub const MAX_SIZE: usize = 4096;

/// The error for `field` holding `value` where `requirement` was due.
fn bad(field: &str, value: impl Into<String>, requirement: impl Into<String>) -> Error {
    Error::InvalidArgument {
        op: "--weights".into(),
        argument: field.into(),
        value: value.into(),
        requirement: requirement.into(),
    }
}

/// A JSON value as it appeared, shortened for the message.
fn shown(v: &Value) -> String {
    shorten(&v.to_string())
}

/// The tensor under `key` of `object` (`{"shape": [...], "data": ["p/q", ...]}`) with the given
/// rank; `path` is how the message names it.
fn tensor(object: &Map<String, Value>, key: &str, path: &str, rank: usize) -> Result<Tensor<Q>> {
    const LAYOUT: &str = "{\"shape\": [sizes], \"data\": [\"p/q\", …]}";
    let Some(v) = object.get(key) else {
        return Err(bad(path, "absent", LAYOUT));
    };
    let Some(t) = v.as_object() else {
        return Err(bad(path, shown(v), LAYOUT));
    };
    let shape_path = format!("{path}.shape");
    let shape = match t.get("shape") {
        Some(Value::Array(sizes)) => sizes
            .iter()
            .enumerate()
            .map(|(i, s)| match s.as_u64() {
                Some(n) if (1..=MAX_SIZE as u64).contains(&n) => Ok(n as usize),
                _ => Err(bad(
                    &format!("{shape_path}[{i}]"),
                    shown(s),
                    format!("an integer from 1 to {MAX_SIZE}"),
                )),
            })
            .collect::<Result<Vec<usize>>>()?,
        Some(other) => return Err(bad(&shape_path, shown(other), "an array of sizes")),
        None => return Err(bad(&shape_path, "absent", "an array of sizes")),
    };
    if shape.len() != rank {
        return Err(bad(
            &shape_path,
            format!("{shape:?}"),
            format!("{rank} size(s)"),
        ));
    }
    let data_path = format!("{path}.data");
    let data = match t.get("data") {
        Some(Value::Array(data)) => data,
        Some(other) => return Err(bad(&data_path, shown(other), "an array of \"p/q\" strings")),
        None => return Err(bad(&data_path, "absent", "an array of \"p/q\" strings")),
    };
    // Sizes are at most MAX_SIZE and the rank at most 2, so the product fits.
    let count: usize = shape.iter().product();
    if data.len() != count {
        return Err(bad(
            &data_path,
            format!("{} values", data.len()),
            format!("{count} values, to fill the shape {shape:?}"),
        ));
    }
    let values = data
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let field = format!("{data_path}[{i}]");
            let Some(s) = v.as_str() else {
                return Err(bad(
                    &field,
                    shown(v),
                    "a string \"p/q\" (JSON numbers are not read: they need not be exact)",
                ));
            };
            parse_q(s).map_err(|e| bad(&field, shown(v), format!("an exact rational ({e})")))
        })
        .collect::<Result<Vec<Q>>>()?;
    Tensor::new(shape, values)
}

/// `Ok` when `t` (named `path`) has shape `want`; otherwise the error says what it must chain with.
fn expect(t: &Tensor<Q>, path: &str, want: &[usize], why: &str) -> Result<()> {
    if t.shape() == want {
        return Ok(());
    }
    Err(bad(
        &format!("{path}.shape"),
        format!("{:?}", t.shape()),
        format!("{want:?} ({why})"),
    ))
}

/// Linear → ReLU → Linear from `W1`, `b1`, `W2`, `b2`.
fn mlp(top: &Map<String, Value>) -> Result<(Network, usize, usize)> {
    let w1 = tensor(top, "W1", "W1", 2)?;
    let (h, n) = (w1.shape()[0], w1.shape()[1]);
    let b1 = tensor(top, "b1", "b1", 1)?;
    expect(&b1, "b1", &[h], "one bias per row of W1")?;
    let w2 = tensor(top, "W2", "W2", 2)?;
    let m = w2.shape()[0];
    expect(&w2, "W2", &[m, h], "as many columns as W1 has rows")?;
    let b2 = tensor(top, "b2", "b2", 1)?;
    expect(&b2, "b2", &[m], "one bias per row of W2")?;
    Ok((Network::Mlp(Mlp::new(w1, b1, w2, b2)?), n, m))
}

/// A deep MLP from `layers: [{"W", "b"}, …]`.
fn deep(layers: &Value) -> Result<(Network, usize, usize)> {
    let Some(list) = layers.as_array().filter(|l| !l.is_empty()) else {
        return Err(bad(
            "layers",
            shown(layers),
            "a non-empty array of {\"W\", \"b\"}",
        ));
    };
    let mut linears: Vec<Linear> = Vec::with_capacity(list.len());
    for (k, layer) in list.iter().enumerate() {
        let path = format!("layers[{k}]");
        let Some(object) = layer.as_object() else {
            return Err(bad(&path, shown(layer), "an object {\"W\", \"b\"}"));
        };
        let w = tensor(object, "W", &format!("{path}.W"), 2)?;
        if let Some(previous) = linears.last() {
            let rows = w.shape()[0];
            let why = format!("as many columns as layers[{}].W has rows", k - 1);
            expect(&w, &format!("{path}.W"), &[rows, previous.dims().0], &why)?;
        }
        let b = tensor(object, "b", &format!("{path}.b"), 1)?;
        expect(
            &b,
            &format!("{path}.b"),
            &[w.shape()[0]],
            "one bias per row of W",
        )?;
        linears.push(Linear::new(w, b)?);
    }
    let (n, m) = (linears[0].dims().1, linears[linears.len() - 1].dims().0);
    Ok((Network::Deep(DeepMlp::new(linears)?), n, m))
}

/// Reads a [`Case`] from the text of a weights file: `"schema": 1`, then either `W1`, `b1`,
/// `W2`, `b2` (a 2-layer MLP) or `layers` (a deep one), and `x`, `delta`; every other field (the
/// results of a `--json` run) is ignored. [`Error::InvalidArgument`] naming the field and index
/// for the first defect.
pub fn read_weights(text: &str) -> Result<Case> {
    let top: Value = serde_json::from_str(text).map_err(|e| {
        bad(
            "the file",
            format!("line {} column {}", e.line(), e.column()),
            format!("JSON ({e})"),
        )
    })?;
    let Some(top) = top.as_object() else {
        return Err(bad("the file", shown(&top), "a JSON object"));
    };
    match top.get("schema") {
        Some(s) if s.as_u64() == Some(u64::from(SCHEMA)) => {}
        Some(s) => return Err(bad("schema", shown(s), format!("{SCHEMA}"))),
        None => return Err(bad("schema", "absent", format!("{SCHEMA}"))),
    }
    let (network, n, m) = match top.get("layers") {
        Some(layers) => deep(layers)?,
        None => mlp(top)?,
    };
    let x = tensor(top, "x", "x", 1)?;
    expect(&x, "x", &[n], "the network's input size")?;
    let delta = tensor(top, "delta", "delta", 1)?;
    expect(&delta, "delta", &[m], "the network's output size")?;
    Ok(Case { network, x, delta })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: &Error) -> &str {
        match e {
            Error::InvalidArgument { argument, .. } => argument,
            other => panic!("not an InvalidArgument: {other:?}"),
        }
    }

    const GOOD: &str = r#"{"schema": 1,
        "W1": {"shape": [2, 1], "data": ["1/2", "-3"]}, "b1": {"shape": [2], "data": ["1", "1/3"]},
        "W2": {"shape": [1, 2], "data": ["2", "5/7"]}, "b2": {"shape": [1], "data": ["0"]},
        "x": {"shape": [1], "data": ["1/5"]}, "delta": {"shape": [1], "data": ["-1"]}}"#;

    #[test]
    fn a_good_file_is_read_exactly() {
        let case = read_weights(GOOD).unwrap();
        assert_eq!(case.network.widths(), vec![1, 2, 1]);
        assert_eq!(case.x, Tensor::parse(vec![1], &["1/5"]).unwrap());
        let Network::Mlp(mlp) = case.network else {
            panic!("a 2-layer file gives an Mlp")
        };
        assert_eq!(mlp.layer1().weight().data()[1], parse_q("-3").unwrap());
    }

    #[test]
    fn a_case_written_as_json_reads_back_the_same() {
        let case = read_weights(GOOD).unwrap();
        let text = crate::report::case_json(&case).to_string();
        assert_eq!(read_weights(&text).unwrap(), case);
    }

    #[test]
    fn each_defect_names_its_field_and_index() {
        let cases = [
            (GOOD.replace("\"-3\"", "\"1/0\""), "W1.data[1]"),
            (GOOD.replace("\"-3\"", "-3"), "W1.data[1]"),
            (GOOD.replace("\"-3\"", "\"x\""), "W1.data[1]"),
            (GOOD.replace("\"-3\"", "\"1e99999\""), "W1.data[1]"),
            (GOOD.replace("[\"1\", \"1/3\"]", "[\"1\"]"), "b1.data"),
            (
                GOOD.replace("\"shape\": [1, 2]", "\"shape\": [1, 3]"),
                "W2.data",
            ),
            (
                GOOD.replace(
                    "\"shape\": [1, 2], \"data\": [\"2\", \"5/7\"]",
                    "\"shape\": [2, 1], \"data\": [\"2\", \"5/7\"]",
                ),
                "W2.shape",
            ),
            (
                GOOD.replace("\"shape\": [2, 1]", "\"shape\": [2, 0]"),
                "W1.shape[1]",
            ),
            (
                GOOD.replace("\"shape\": [2, 1]", "\"shape\": [2]"),
                "W1.shape",
            ),
            (GOOD.replace("\"x\"", "\"y\""), "x"),
            (
                GOOD.replace("\"delta\": {\"shape\": [1]", "\"delta\": {\"shape\": [2]"),
                "delta.data",
            ),
            (GOOD.replace("\"schema\": 1", "\"schema\": 2"), "schema"),
            (GOOD.replace("\"schema\": 1,", ""), "schema"),
            (GOOD[..GOOD.len() / 2].to_string(), "the file"),
            ("[1, 2]".to_string(), "the file"),
            (GOOD.replace("\"W1\"", "\"layers\": [], \"W0\""), "layers"),
        ];
        for (text, field) in cases {
            let e = read_weights(&text).unwrap_err();
            assert_eq!(field_of(&e), field, "{e}");
        }
    }

    #[test]
    fn deep_layers_must_chain() {
        let layer = |rows: usize, cols: usize| {
            let data = vec!["\"1\""; rows * cols].join(",");
            let bias = vec!["\"0\""; rows].join(",");
            format!(
                r#"{{"W": {{"shape": [{rows}, {cols}], "data": [{data}]}}, "b": {{"shape": [{rows}], "data": [{bias}]}}}}"#
            )
        };
        let file = |layers: &[String]| {
            format!(
                r#"{{"schema": 1, "layers": [{}], "x": {{"shape": [2], "data": ["1", "2"]}}, "delta": {{"shape": [1], "data": ["1"]}}}}"#,
                layers.join(",")
            )
        };
        let ok = read_weights(&file(&[layer(3, 2), layer(3, 3), layer(1, 3)])).unwrap();
        assert_eq!(ok.network.widths(), vec![2, 3, 3, 1]);
        let e = read_weights(&file(&[layer(3, 2), layer(3, 4), layer(1, 3)])).unwrap_err();
        assert_eq!(field_of(&e), "layers[1].W.shape");
        let e = read_weights(&file(&[layer(3, 2), layer(1, 3), layer(2, 1)])).unwrap_err();
        assert_eq!(field_of(&e), "delta.shape", "{e}");
    }
}
