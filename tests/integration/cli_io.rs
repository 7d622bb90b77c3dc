//! The binary's researcher I/O: `--weights` (the `--json` output fed back reruns the check;
//! every defect of a file is a typed error naming the field), the deep theorem at a point
//! (`--deep`), summaries of big networks (`--summary`, `--full`) and structured failures.

use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_exactgrad"))
        .args(args)
        .output()
        .unwrap()
}

/// A file under the system's temporary directory, unique to this process and `name`.
fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("exactgrad-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

#[test]
fn json_output_fed_back_with_weights_reruns_the_same_check() {
    for (name, args) in [
        ("mlp", &["--dims", "4,5,3", "--seed", "7", "--json"][..]),
        ("deep", &["--deep", "3,4,4,2", "--seed", "3", "--json"]),
        ("builtin", &["--json"]),
    ] {
        let first = run(args);
        assert!(first.status.success(), "{first:?}");
        let path = temp_file(&format!("roundtrip-{name}.json"), &first.stdout);
        let again = run(&["--weights", path.to_str().unwrap(), "--json"]);
        assert!(again.status.success(), "{again:?}");
        assert_eq!(
            String::from_utf8(first.stdout).unwrap(),
            String::from_utf8(again.stdout).unwrap(),
            "{name}: the rerun differs"
        );
        // The text derivation of the file is the one of the seed.
        let text = run(&["--weights", path.to_str().unwrap()]);
        assert!(text.status.success());
        assert!(String::from_utf8_lossy(&text.stdout).contains("holds exactly"));
        std::fs::remove_file(path).unwrap();
    }
}

/// The inputs of the built-in example as the `--json` output writes them.
fn builtin_inputs() -> Value {
    let full = json_of(&run(&["--json"]));
    let mut inputs = serde_json::Map::new();
    for key in ["schema", "W1", "b1", "W2", "b2", "x", "delta"] {
        inputs.insert(key.into(), full[key].clone());
    }
    Value::Object(inputs)
}

#[test]
fn every_defect_of_a_weights_file_names_its_field_with_status_two() {
    let good = builtin_inputs();
    let text = good.to_string();
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        v.to_string().into_bytes()
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated",
            text.as_bytes()[..text.len() / 2].to_vec(),
            "the file",
        ),
        ("empty", Vec::new(), "the file"),
        ("not-utf8", vec![0xff, 0xfe, b'{'], "--weights"),
        (
            "wrong-shape",
            edit(&|v| v["W2"]["shape"] = json!([2, 3])),
            "W2.data",
        ),
        (
            "shape-does-not-chain",
            edit(&|v| {
                v["b1"] = json!({"shape": [3], "data": ["1", "2", "3"]});
            }),
            "b1.shape",
        ),
        (
            "bad-literal",
            edit(&|v| v["x"]["data"][1] = json!("one half")),
            "x.data[1]",
        ),
        (
            "zero-denominator",
            edit(&|v| v["W1"]["data"][5] = json!("1/0")),
            "W1.data[5]",
        ),
        (
            "json-number",
            edit(&|v| v["W1"]["data"][0] = json!(0.1)),
            "W1.data[0]",
        ),
        (
            "nan",
            edit(&|v| v["b2"]["data"][0] = json!("NaN")),
            "b2.data[0]",
        ),
        (
            "missing-field",
            edit(&|v| {
                v.as_object_mut().unwrap().remove("delta");
            }),
            "delta",
        ),
        (
            "missing-schema",
            edit(&|v| {
                v.as_object_mut().unwrap().remove("schema");
            }),
            "schema",
        ),
        (
            "huge-size",
            edit(&|v| v["x"]["shape"] = json!([99999999999u64])),
            "x.shape[0]",
        ),
    ];
    for (name, contents, field) in cases {
        let path = temp_file(&format!("bad-{name}.json"), &contents);
        let out = run(&["--weights", path.to_str().unwrap(), "--json"]);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}: {out:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(err.contains(field), "{name}: {field:?} missing in {err}");
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["verdict"], "fails", "{name}");
        assert_eq!(json["error"]["kind"], "invalid_argument", "{name}: {json}");
        assert_eq!(json["error"]["argument"], field, "{name}: {json}");
    }
    let out = run(&["--weights", "/nonexistent/exactgrad.json"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["--weights", "a.json", "--seed", "1"]);
    assert!(!out.status.success(), "--weights conflicts with --seed");
}

#[test]
fn a_failure_is_written_as_structured_json() {
    // Move b1[0] so that z1[0] = W1[0]·x + b1[0] is exactly zero: the point is on a kink.
    let mut v = builtin_inputs();
    v["b1"]["data"][0] = json!("-1/6");
    let path = temp_file("kink.json", v.to_string().as_bytes());
    let out = run(&["--weights", path.to_str().unwrap(), "--json"]);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let json = json_of(&out);
    assert_eq!(json["schema"], 1);
    assert_eq!(json["verdict"], "fails");
    assert_eq!(json["error"]["kind"], "kink", "{json}");
    assert_eq!(json["error"]["layer"], 2);
    assert_eq!(json["error"]["op"], "ReLU");
    assert_eq!(json["error"]["coordinate"], json!([0]));
    assert!(json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no-kinks"));
    // The failing inputs are written too, so the run can be replayed from the output.
    assert_eq!(json["b1"]["data"][0], "-1/6");
    assert!(!String::from_utf8(out.stderr).unwrap().is_empty());
}

#[test]
fn the_deep_theorem_is_checked_at_a_point() {
    let out = run(&["--deep", "4,8,8,3", "--seed", "1"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "The deep MLP theorem",
        "(4 → 8 → 8 → 3)",
        "relu′(z2) = [",
        "holds exactly",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    let summary = run(&["--deep", "4,8,8,3", "--seed", "1", "--summary"]);
    let summary = String::from_utf8(summary.stdout).unwrap();
    for needle in [
        "z2 = shape [8], largest |entry| ",
        "tensors summarised",
        "holds exactly",
    ] {
        assert!(summary.contains(needle), "missing {needle:?} in\n{summary}");
    }
    let json = json_of(&run(&["--deep", "4,8,8,3", "--seed", "1", "--json"]));
    assert_eq!(json["kind"], "exactgrad deep MLP theorem");
    assert_eq!(json["widths"], json!([4, 8, 8, 3]));
    assert_eq!(json["layers"][1]["W"]["shape"], json!([8, 8]));
    assert_eq!(json["masks"].as_array().unwrap().len(), 2);
    assert_eq!(json["jacobian"]["shape"], json!([3, 4]));
    assert_eq!(json["verdict"], "holds");
    for args in [
        &["--deep", "4,4"][..],
        &["--deep", "2,2,2", "--dims", "2,2,2"],
    ] {
        assert!(!run(args).status.success(), "{args:?}");
    }
    let out = run(&["--deep", "4096,4096,4096,4096"]);
    assert_eq!(out.status.code(), Some(2), "refused by the budget: {out:?}");
}

#[test]
fn big_networks_print_summaries_and_json_stays_complete() {
    // 784 → 512 → 10: 418,286 values, which printed in full were 2.1 MB.
    let out = run(&["--dims", "784,512,10", "--seed", "1"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.len() < 10_000, "{} bytes", text.len());
    for needle in [
        "W1 = shape [512, 784], largest |entry| ",
        "digest ",
        "--full",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // --full prints everything, --summary summarises a small one.
    let full = run(&["--dims", "60,60,10", "--seed", "2", "--full"]);
    let full = String::from_utf8(full.stdout).unwrap();
    let auto = String::from_utf8(run(&["--dims", "60,60,10", "--seed", "2"]).stdout).unwrap();
    assert!(auto.contains("tensors summarised") && !full.contains("tensors summarised"));
    assert!(full.len() > 10 * auto.len());
    let small = String::from_utf8(run(&["--summary"]).stdout).unwrap();
    assert!(small.contains("W1 = shape [4, 3], largest |entry| -1 at [1, 0], digest "));
    // The JSON of the big network holds every value.
    let json = json_of(&run(&["--dims", "784,512,10", "--seed", "1", "--json"]));
    assert_eq!(json["W1"]["data"].as_array().unwrap().len(), 512 * 784);
    assert!(!run(&["--summary", "--full"]).status.success());
}
