//! ONNX models exported by PyTorch (committed fixtures, made by `scripts/torch_export.py`):
//! imported exactly, their exact gradients graded against torch's float gradients.

use exactgrad::check::{grade, model_gradients, model_kinks, FloatFormat, Verdict};
use exactgrad::import::npy::{read_npy, read_npz_with_dtype};
use exactgrad::import::onnx::Model;
use exactgrad::{Rounded, Q};
use std::path::PathBuf;

fn fixture(name: &str, file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/onnx")
        .join(name)
        .join(file)
}

/// Every gradient tensor of `grads` graded against the model's exact gradients.
fn grades(name: &str, grads: &str) -> Vec<(String, Verdict, f64)> {
    let x = read_npy(&fixture(name, "input.npy")).unwrap();
    let dy = read_npy(&fixture(name, "cotangent.npy")).unwrap();
    let model = Model::load(&fixture(name, "model.onnx"), Some(x.shape())).unwrap();
    model_kinks(&model, &x).unwrap();
    let exact = model_gradients::<Rounded>(&model, &x, &dy).unwrap();
    let q = model_gradients::<Q>(&model, &x, &dy).unwrap();
    let mut out = Vec::new();
    for (key, dtype, float) in read_npz_with_dtype(&fixture(name, grads)).unwrap() {
        let (_, e) = exact
            .all()
            .find(|(n, _)| *n == key)
            .expect("a gradient of that name");
        let (_, v) = q.all().find(|(n, _)| *n == key).unwrap();
        assert_eq!(
            &e.map(|r| r.value.clone()),
            v,
            "Rounded and Q give the same values"
        );
        let g = grade(&key, &float, e, FloatFormat::of(dtype).unwrap()).unwrap();
        out.push((key, g.verdict, g.worst.map_or(0.0, |w| w.ulps)));
    }
    out
}

#[test]
fn torch_float64_gradients_of_the_fixtures_are_exact_or_rounding() {
    for name in ["mlp", "cnn", "residual"] {
        for (key, verdict, ulps) in grades(name, "grads_f64.npz") {
            assert!(
                matches!(verdict, Verdict::Exact | Verdict::Rounding),
                "{name} {key}: {verdict:?} ({ulps} ulps)"
            );
        }
    }
}

#[test]
fn torch_float32_gradients_of_the_fixtures_are_exact_or_rounding() {
    for name in ["mlp", "cnn", "residual"] {
        for (key, verdict, ulps) in grades(name, "grads_f32.npz") {
            assert!(
                matches!(verdict, Verdict::Exact | Verdict::Rounding),
                "{name} {key}: {verdict:?} ({ulps} ulps)"
            );
        }
    }
}

#[test]
fn the_planted_wrong_gradient_is_graded_wrong() {
    let g = grades("cnn_wrong", "grads_f64.npz");
    let wrong: Vec<_> = g.iter().filter(|(_, v, _)| *v == Verdict::Wrong).collect();
    assert_eq!(wrong.len(), 1, "{g:?}");
}
