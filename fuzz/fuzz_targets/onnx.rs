//! The ONNX importer behind `exactgrad check` ([`exactgrad::import::onnx::Model`]): any bytes
//! give a model or a typed error, never a panic; a model small enough is run exactly (forward,
//! kinks, gradients), which may fail only with a typed error.
//!
//! Input: the bytes of a `.onnx` file (seeds: the committed torch fixtures).
#![no_main]

use exactgrad::check::{model_gradients, model_kinks};
use exactgrad::import::onnx::Model;
use exactgrad::{Op, Q, Tensor};
use libfuzzer_sys::fuzz_target;

/// Models are run only when every node holds at most this many values in all, so that a shape
/// attribute of 2⁴⁰ costs nothing but its (typed) refusal.
const MAX_VALUES: usize = 4096;

fuzz_target!(|bytes: &[u8]| {
    let Ok(model) = Model::from_bytes(bytes, None) else {
        return;
    };
    let g = model.graph();
    let values: Option<usize> = (0..g.nodes().len())
        .map(|k| g.shape(exactgrad::tape::NodeId(k)).ok().map(|s| s.iter().product::<usize>()))
        .try_fold(0usize, |acc, n| acc.checked_add(n?));
    if values.is_none_or(|v| v > MAX_VALUES) || g.param_count() > MAX_VALUES {
        return;
    }
    let n: usize = model.input_shape().iter().product();
    let x = Tensor::new(
        model.input_shape().to_vec(),
        (0..n).map(|k| exactgrad::parse_q(&format!("{}/8", k as i64 % 7 - 3)).expect("a literal")).collect(),
    )
    .expect("the shape's count");
    let m: usize = model.output_shape().iter().product();
    let dy = Tensor::new(model.output_shape().to_vec(), vec![exactgrad::parse_q("1").expect("a literal"); m])
        .expect("the shape's count");
    if model_kinks(&model, &x).is_ok() {
        let _ = model_gradients::<Q>(&model, &x, &dy);
    }
});
