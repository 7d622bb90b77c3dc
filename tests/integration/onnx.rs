//! ONNX models exported by PyTorch (committed fixtures, made by `scripts/torch_export.py`):
//! imported exactly, their exact gradients graded against torch's float gradients.

use exactgrad::check::{grade, model_gradients, model_kinks, Closest, FloatFormat, Verdict};
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

// ---- the command ------------------------------------------------------------------------

use exactgrad::import::onnx::proto::{
    Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorShapeProto,
    TensorTypeProto, TypeProto, ValueInfoProto,
};
use exactgrad::import::onnx::OnnxError;
use exactgrad::Error;
use prost::Message;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_exactgrad"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn check(name: &str, grads: Option<&str>, extra: &[&str]) -> Output {
    let (m, x, dy) = (
        fixture(name, "model.onnx"),
        fixture(name, "input.npy"),
        fixture(name, "cotangent.npy"),
    );
    let mut args = vec!["check".to_string(), m.display().to_string()];
    args.extend(["--input".into(), x.display().to_string()]);
    args.extend(["--cotangent".into(), dy.display().to_string()]);
    if let Some(g) = grads {
        args.extend(["--compare".into(), fixture(name, g).display().to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn the_command_passes_torch_and_fails_the_planted_gradient() {
    let ok = check("residual", Some("grads_f64.npz"), &[]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let text = String::from_utf8(ok.stdout).unwrap();
    assert!(text.contains("verdict: PASS"), "{text}");
    let bad = check("cnn_wrong", Some("grads_f64.npz"), &[]);
    assert_eq!(bad.status.code(), Some(1));
    let text = String::from_utf8(bad.stdout).unwrap();
    assert!(text.contains("conv1.weight  wrong"), "{text}");
    assert!(text.contains("verdict: FAIL"), "{text}");
}

#[test]
fn the_json_names_the_wrong_coordinate_exactly() {
    let out = check("cnn_wrong", Some("grads_f64.npz"), &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let grades = v["compared"]["grades"].as_array().unwrap();
    let wrong: Vec<_> = grades.iter().filter(|g| g["verdict"] == "wrong").collect();
    assert_eq!(wrong.len(), 1);
    let bad = &wrong[0]["first_bad"];
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("cnn_wrong", "manifest.json")).unwrap(),
    )
    .unwrap();
    let coordinate = manifest["wrong"]["index"].clone();
    assert_eq!(bad["coordinate"], coordinate, "{manifest}");
    assert!(bad["exact"].as_str().unwrap().contains('/'));
    assert_eq!(v["passed"], false);
}

#[test]
fn without_compare_the_exact_gradients_are_summarised_and_saved() {
    let dir = std::env::temp_dir().join(format!("exactgrad-onnx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let saved = dir.join("exact.npz");
    let out = check("mlp", None, &["--save", saved.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("fc1.weight") || text.contains("weight"),
        "{text}"
    );
    let back = exactgrad::import::npy::read_npz(&saved).unwrap();
    assert_eq!(back[0].0, "input");
    assert!(back.len() > 1);
}

/// A one-node model `y = op(input)` with input shape `dims` (`None` = dynamic).
fn tiny(op_type: &str, dims: &[Option<i64>]) -> Vec<u8> {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            dim_value: *d,
            dim_param: d.is_none().then(|| "batch".to_string()),
        })
        .collect();
    let value = |name: &str, dim| ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: Some(1),
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
    };
    ModelProto {
        ir_version: Some(8),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(17),
        }],
        graph: Some(GraphProto {
            node: vec![NodeProto {
                input: vec!["input".into()],
                output: vec!["y".into()],
                name: Some("the_node".into()),
                op_type: Some(op_type.into()),
                ..Default::default()
            }],
            input: vec![value("input", dim)],
            output: vec![value("y", vec![])],
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

fn onnx_error(r: exactgrad::Result<Model>) -> OnnxError {
    match r {
        Err(Error::Onnx(e)) => *e,
        other => panic!("expected an ONNX error, got {other:?}"),
    }
}

#[test]
fn an_unknown_op_names_the_node_its_type_and_the_supported_list() {
    let e = onnx_error(Model::from_bytes(&tiny("Erf", &[Some(2)]), None));
    let OnnxError::UnsupportedOp {
        node,
        op_type,
        supported,
    } = e
    else {
        panic!("{e:?}")
    };
    assert_eq!((node.as_str(), op_type.as_str()), ("the_node", "Erf"));
    assert!(supported.iter().any(|s| s == "Conv"));
    // The command exits 2 and says the same.
    let dir = std::env::temp_dir().join(format!("exactgrad-erf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("erf.onnx");
    std::fs::write(&path, tiny("Erf", &[Some(2)])).unwrap();
    let out = run(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("\"Erf\" is not supported") && err.contains("the_node"),
        "{err}"
    );
}

#[test]
fn truncated_and_malformed_files_are_typed_errors() {
    let bytes = std::fs::read(fixture("cnn", "model.onnx")).unwrap();
    for cut in [1, 10, bytes.len() / 2, bytes.len() - 1] {
        let r = Model::from_bytes(&bytes[..cut], None);
        assert!(matches!(r, Err(Error::Onnx(_))), "cut at {cut}: {r:?}");
    }
    let e = onnx_error(Model::from_bytes(b"not a model at all", None));
    assert!(matches!(
        e,
        OnnxError::Decode { .. } | OnnxError::NoGraph | OnnxError::Opset { .. }
    ));
}

#[test]
fn a_dynamic_axis_needs_an_input_and_a_shape_must_fit() {
    let m = tiny("Relu", &[None, Some(3)]);
    let e = onnx_error(Model::from_bytes(&m, None));
    assert!(matches!(e, OnnxError::DynamicDim { axis: 0, .. }), "{e:?}");
    let model = Model::from_bytes(&m, Some(&[5, 3])).unwrap();
    assert_eq!(model.input_shape(), &[5, 3]);
    let e = onnx_error(Model::from_bytes(&m, Some(&[5, 4])));
    assert!(matches!(e, OnnxError::InputShape { .. }), "{e:?}");
}

#[test]
fn a_model_whose_output_is_constant_has_no_differentiable_path() {
    let mut m = ModelProto::decode(tiny("Relu", &[Some(2)]).as_slice()).unwrap();
    let g = m.graph.as_mut().unwrap();
    g.node[0] = NodeProto {
        output: vec!["y".into()],
        name: Some("const".into()),
        op_type: Some("Constant".into()),
        attribute: vec![exactgrad::import::onnx::proto::AttributeProto {
            name: Some("value_float".into()),
            f: Some(1.5),
            ..Default::default()
        }],
        ..Default::default()
    };
    let e = onnx_error(Model::from_proto(&m, None));
    assert!(matches!(e, OnnxError::NoDifferentiablePath { .. }), "{e:?}");
}

#[test]
fn bad_input_files_exit_2_naming_the_problem() {
    let dir = std::env::temp_dir().join(format!("exactgrad-badnpy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // NaN in the input.
    let mut x = read_npy(&fixture("mlp", "input.npy")).unwrap();
    let shape = x.shape().to_vec();
    let nan_path = dir.join("nan.npy");
    let mut floats: Vec<f64> = x
        .data()
        .iter()
        .map(|q| num_traits::ToPrimitive::to_f64(q).unwrap())
        .collect();
    floats[1] = f64::NAN;
    write_f64_npy(&nan_path, &shape, &floats);
    let m = fixture("mlp", "model.onnx");
    let out = run(&[
        "check",
        m.to_str().unwrap(),
        "--input",
        nan_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.to_lowercase().contains("nan"), "{err}");
    // An input of the wrong shape.
    x = exactgrad::Tensor::new(vec![shape.iter().product()], x.data().to_vec()).unwrap();
    let flat = dir.join("flat.npy");
    exactgrad::import::npy::write_npy(&flat, &x).unwrap();
    let out = run(&[
        "check",
        m.to_str().unwrap(),
        "--input",
        flat.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("declares shape"), "{err}");
}

/// A little-endian float64 `.npy` written by hand (so that it can hold a NaN).
fn write_f64_npy(path: &std::path::Path, shape: &[usize], v: &[f64]) {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let mut header = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({},), }}",
        dims.join(", ")
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.bytes());
    for f in v {
        bytes.extend(f.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_point_on_a_kink_names_the_onnx_node_and_the_coordinate() {
    let model = Model::from_bytes(&tiny("Relu", &[Some(3)]), None).unwrap();
    let x = exactgrad::Tensor::parse(vec![3], &["1", "0", "-2"]).unwrap();
    match model_kinks(&model, &x) {
        Err(Error::Kink { op, coordinate, .. }) => {
            assert!(op.contains("the_node") && op.contains("Relu"), "{op}");
            assert_eq!(coordinate, vec![1]);
        }
        other => panic!("expected a kink, got {other:?}"),
    }
    let x = exactgrad::Tensor::parse(vec![3], &["1", "1/3", "-2"]).unwrap();
    let closest = model_kinks(&model, &x).unwrap().unwrap();
    assert_eq!(closest.coordinate, vec![1]);
}

#[test]
fn of_guards_as_close_the_first_is_the_closest_with_its_node_and_value() {
    let model = Model::from_bytes(&tiny("Relu", &[Some(4)]), None).unwrap();
    // |−1/2| = |1/2| < |2| < |3|: the first of the two, coordinate 1.
    let x = exactgrad::Tensor::parse(vec![4], &["2", "-1/2", "1/2", "3"]).unwrap();
    assert_eq!(
        model_kinks(&model, &x).unwrap(),
        Some(Closest {
            node: "\"the_node\" (Relu)".into(),
            coordinate: vec![1],
            value: crate::common::q("-1/2"),
        })
    );
}

#[test]
fn an_exp_family_model_stops_with_a_typed_outside_field_error_over_q() {
    let model = Model::from_bytes(&tiny("Sigmoid", &[Some(2)]), None).unwrap();
    let x = exactgrad::Tensor::parse(vec![2], &["1/2", "-1"]).unwrap();
    let dy = exactgrad::Tensor::parse(vec![2], &["1", "1"]).unwrap();
    let r = model_gradients::<Q>(&model, &x, &dy);
    assert!(matches!(r, Err(Error::OutsideField { .. })), "{r:?}");
}

#[test]
fn a_dynamic_batch_export_runs_at_the_input_s_batch() {
    // Exported at batch 2 with a dynamic batch axis; Shape/Gather/Unsqueeze/Concat compute the
    // Reshape target from the input's batch of 3.
    let x = read_npy(&fixture("dynamic", "input.npy")).unwrap();
    assert_eq!(x.shape()[0], 3);
    let model = Model::load(&fixture("dynamic", "model.onnx"), Some(x.shape())).unwrap();
    assert_eq!(model.output_shape(), &[3, 2]);
    let dy = exactgrad::Tensor::new(vec![3, 2], vec![exactgrad::parse_q("1").unwrap(); 6]).unwrap();
    let g = model_gradients::<Q>(&model, &x, &dy).unwrap();
    assert_eq!(g.input.1.shape(), &[3, 2, 4, 4]);
    let e = onnx_error(Model::load(&fixture("dynamic", "model.onnx"), None));
    assert!(
        matches!(e, OnnxError::DynamicDim { axis: 0, ref param, .. } if param == "batch"),
        "{e:?}"
    );
}

#[test]
fn a_matmul_weight_gradient_comes_back_in_the_file_s_layout() {
    // y = x·B + c with B [3, 2] (MatMul's [in, out] layout, the transpose of Linear's) and a
    // bias c through Add; ∂⟨y, δ⟩/∂B = xᵀ·δ, ∂/∂c = Σ_rows δ, ∂/∂x = δ·Bᵀ.
    use exactgrad::import::onnx::proto::TensorProto;
    let floats = |v: &[f32]| -> Vec<u8> { v.iter().flat_map(|f| f.to_le_bytes()).collect() };
    let init = |name: &str, dims: Vec<i64>, v: &[f32]| TensorProto {
        name: Some(name.into()),
        dims,
        data_type: Some(1),
        raw_data: Some(floats(v)),
        ..Default::default()
    };
    let mut m = ModelProto::decode(tiny("Relu", &[Some(2), Some(3)]).as_slice()).unwrap();
    let g = m.graph.as_mut().unwrap();
    g.initializer = vec![
        init("B", vec![3, 2], &[1.0, 2.0, -1.0, 0.5, 3.0, -2.0]),
        init("c", vec![2], &[0.25, -0.75]),
    ];
    g.node = vec![
        NodeProto {
            input: vec!["input".into(), "B".into()],
            output: vec!["h".into()],
            name: Some("mm".into()),
            op_type: Some("MatMul".into()),
            ..Default::default()
        },
        NodeProto {
            input: vec!["h".into(), "c".into()],
            output: vec!["y".into()],
            name: Some("bias".into()),
            op_type: Some("Add".into()),
            ..Default::default()
        },
    ];
    let model = Model::from_proto(&m, None).unwrap();
    let x = exactgrad::Tensor::parse(vec![2, 3], &["1", "2", "3", "-1", "0", "1/2"]).unwrap();
    let dy = exactgrad::Tensor::parse(vec![2, 2], &["1", "-1", "2", "1/4"]).unwrap();
    let grads = model_gradients::<Q>(&model, &x, &dy).unwrap();
    let by = |n: &str| grads.all().find(|(k, _)| k == n).unwrap().1.clone();
    // xᵀ·δ: row i = (x[0][i]·δ[0] + x[1][i]·δ[1]).
    let expected_b =
        exactgrad::Tensor::parse(vec![3, 2], &["-1", "-5/4", "2", "-2", "4", "-23/8"]).unwrap();
    assert_eq!(by("B"), expected_b);
    assert_eq!(
        by("c"),
        exactgrad::Tensor::parse(vec![2], &["3", "-3/4"]).unwrap()
    );
    // δ·Bᵀ: entry [r, i] = Σ_j δ[r][j]·B[i][j].
    let expected_x =
        exactgrad::Tensor::parse(vec![2, 3], &["-1", "-3/2", "5", "5/2", "-15/8", "11/2"]).unwrap();
    assert_eq!(by("input"), expected_x);
    assert_eq!(model.output_shape(), &[2, 2]);
}

/// Found by fuzzing (`onnx` target, no sanitizer): an initializer of shape [0, 2³², 2³²] holds no
/// values, so a running product of its dimensions (0) matched its empty data, and the importer
/// then panicked in `Tensor::new`, which also requires the non-zero dimensions to fit.
#[test]
fn an_empty_initializer_whose_other_dimensions_overflow_is_a_typed_error() {
    use exactgrad::import::onnx::proto::TensorProto;
    let mut m = ModelProto::decode(tiny("Relu", &[Some(2)]).as_slice()).unwrap();
    let dims = vec![0, 1 << 32, 1 << 32];
    m.graph.as_mut().unwrap().initializer = vec![TensorProto {
        name: Some("w".into()),
        dims: dims.clone(),
        data_type: Some(1),
        raw_data: Some(vec![]),
        ..Default::default()
    }];
    let e = onnx_error(Model::from_proto(&m, None));
    assert!(
        matches!(&e, OnnxError::TensorData { tensor, shape, found: 0, .. }
            if tensor == "w" && *shape == dims),
        "{e:?}"
    );
}
