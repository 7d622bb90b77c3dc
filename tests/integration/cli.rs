//! The binary: the showcase derivation, `--json` complete enough to recompute the Jacobian and
//! VJP from the printed weights, and typed errors for bad options.

use exactgrad::{parse_q, Q};
use serde_json::Value;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_exactgrad"))
        .args(args)
        .output()
        .unwrap()
}

/// The values of a `{"shape": [n], "data": [...]}` tensor.
fn vec_of(v: &Value) -> Vec<Q> {
    assert_eq!(v["shape"].as_array().unwrap().len(), 1, "{v}");
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| parse_q(s.as_str().unwrap()).unwrap())
        .collect()
}

/// The rows of a `{"shape": [m, n], "data": [...]}` tensor.
fn mat_of(v: &Value) -> Vec<Vec<Q>> {
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let [_, n] = shape[..] else {
        panic!("not a matrix: {v}")
    };
    let data: Vec<Q> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| parse_q(s.as_str().unwrap()).unwrap())
        .collect();
    data.chunks(n).map(<[Q]>::to_vec).collect()
}

#[test]
fn the_default_run_prints_the_derivation_and_exits_zero() {
    let out = run(&[]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "z1 = W1·x + b1 = [1/3, -13/10, 7/6, -29/40]",
        "relu′(z1) = [1, 0, 1, 0]",
        "kink radius ρ = 4/13",
        "holds exactly",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

/// Recomputes z1, the mask, J = W2·diag(mask)·W1 and Jᵀδ from the printed values with plain
/// loops, and compares with what the binary printed.
fn recompute(json: &Value) {
    let (w1, b1, w2) = (
        mat_of(&json["W1"]),
        vec_of(&json["b1"]),
        mat_of(&json["W2"]),
    );
    let (x, delta) = (vec_of(&json["x"]), vec_of(&json["delta"]));
    let zero = Q::from_integer(0.into());
    let z1: Vec<Q> = w1
        .iter()
        .zip(&b1)
        .map(|(row, b)| row.iter().zip(&x).map(|(w, v)| w * v).sum::<Q>() + b)
        .collect();
    assert!(
        z1.iter().all(|z| *z != zero),
        "the generated point must be off the kinks"
    );
    let mask: Vec<Q> = z1
        .iter()
        .map(|z| {
            if *z > zero {
                Q::from_integer(1.into())
            } else {
                zero.clone()
            }
        })
        .collect();
    let jac: Vec<Vec<Q>> = w2
        .iter()
        .map(|row2| {
            (0..x.len())
                .map(|j| (0..b1.len()).map(|i| &row2[i] * &mask[i] * &w1[i][j]).sum())
                .collect()
        })
        .collect();
    let vjp: Vec<Q> = (0..x.len())
        .map(|j| jac.iter().zip(&delta).map(|(row, d)| &row[j] * d).sum())
        .collect();
    assert_eq!(vec_of(&json["z1"]), z1);
    assert_eq!(vec_of(&json["mask"]), mask);
    assert_eq!(mat_of(&json["jacobian"]), jac);
    assert_eq!(vec_of(&json["vjp"]), vjp);
    assert_eq!(json["verdict"], "holds");
}

#[test]
fn json_output_is_exact_and_complete() {
    for seed in ["1", "2", "17"] {
        let out = run(&["--dims", "5,7,3", "--seed", seed, "--json"]);
        assert!(out.status.success());
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["schema"], 1);
        assert_eq!(json["kind"], "exactgrad MLP theorem");
        assert_eq!(json["dims"], serde_json::json!([5, 7, 3]));
        assert_eq!(json["W1"]["shape"], serde_json::json!([7, 5]));
        // Every value is written "p/q", integers included.
        assert!(json["W1"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s.as_str().unwrap().contains('/')));
        recompute(&json);
    }
}

#[test]
fn the_same_seed_gives_the_same_network() {
    let a = run(&["--dims", "4,4,2", "--seed", "9", "--json"]).stdout;
    let b = run(&["--dims", "4,4,2", "--seed", "9", "--json"]).stdout;
    let c = run(&["--dims", "4,4,2", "--seed", "10", "--json"]).stdout;
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn bad_options_are_clear_errors_not_panics() {
    for args in [
        &["--dims", "5,0,3"][..],
        &["--dims", "abc"],
        &["--dims", "1,2"],
        &["--seed", "-1"],
        &["--dims", "9999999,1,1"],
    ] {
        let out = run(args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("error") && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn help_explains_every_option() {
    let text = String::from_utf8(run(&["--help"]).stdout).unwrap();
    for needle in [
        "--dims",
        "--seed",
        "--json",
        "p/q",
        "--weights",
        "--deep",
        "--summary",
        "--full",
    ] {
        assert!(text.contains(needle), "{needle} missing from --help");
    }
}

#[test]
fn prove_proves_the_theorem_for_all_inputs_and_weights() {
    let out = run(&["prove", "--dims", "3,4,2"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "PROVED for every input and every weight of shape [3] → [2]",
        "backward(x, δ) = mlpDeriv(x)ᵀ·δ",
        "3 inputs, 26 weights",
        "4 masks (all 2^4 activation patterns at once)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    let out = run(&["prove", "--deep", "2,3,3,2", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["schema"], 1);
    assert_eq!(json["weights"], "symbolic");
    assert_eq!(json["symbols"]["masks"], 6);
    assert!(json["op"].as_str().unwrap().contains("2→3→3→2"), "{json}");
}

#[test]
fn prove_rejects_bad_sizes_with_status_two() {
    for args in [
        &["prove"][..],
        &["prove", "--dims", "3,0,2"],
        &["prove", "--deep", "2,2"],
        &["prove", "--dims", "2,2,2", "--deep", "2,2,2"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(!out.stderr.is_empty());
    }
}

#[test]
fn a_size_over_the_budget_is_refused_at_once_with_the_estimate() {
    for args in [
        &["--dims", "4096,4096,4096"][..],
        &["prove", "--dims", "4096,4096,4096"],
        &["prove", "--deep", "64,64,64,64,64"],
        &["--dims", "1024,1024,1024", "--budget-seconds", "5"],
        &["prove", "--dims", "64,64,64", "--max-memory", "100"],
    ] {
        let start = std::time::Instant::now();
        let out = run(args);
        // No work is done: the refusal comes before the network is even drawn.
        assert!(
            start.elapsed().as_secs() < 10,
            "{args:?} took {:?}",
            start.elapsed()
        );
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        for needle in ["estimated", "over the budget", "--budget-seconds"] {
            assert!(
                err.contains(needle),
                "{args:?}: {needle:?} missing in {err}"
            );
        }
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_run_within_the_budget_still_works() {
    let out = run(&["--dims", "5,7,3", "--budget-seconds", "1"]);
    assert!(out.status.success(), "{out:?}");
    // Under a second: no estimate printed.
    assert!(out.stderr.is_empty(), "{out:?}");
    let out = run(&["prove", "--dims", "3,4,2", "--max-memory", "100"]);
    assert!(out.status.success(), "{out:?}");
}
