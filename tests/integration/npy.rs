//! NumPy files: every dtype read exactly (against `tests/fixtures/npy/expected.json`, which
//! Python's `Fraction` computed from the floats NumPy wrote), NaN/Inf named by coordinate,
//! writing rounds to nearest and reads back, and every truncated or malformed file is a typed
//! error.

use crate::common::q;
use exactgrad::import::npy::{
    npy_from_bytes, npy_from_bytes_with_dtype, npy_to_bytes, npz_from_bytes,
    npz_from_bytes_with_dtype, npz_to_bytes, read_npy, read_npz, read_npz_with_dtype, write_npy,
    write_npz, Dtype, HeaderProblem, NpyError, NpyErrorKind, MAX_HEADER_BYTES, MAX_VALUES,
};
use exactgrad::{Error, Tensor, Q};
use num_bigint::BigInt;
use num_traits::Signed;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/npy")
        .join(name)
}

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

fn expected() -> Value {
    serde_json::from_slice(&bytes("expected.json")).unwrap()
}

fn dtype(name: &str) -> Dtype {
    match name {
        "F16" => Dtype::F16,
        "F32" => Dtype::F32,
        "F64" => Dtype::F64,
        "Int" => Dtype::Int,
        other => panic!("unknown dtype {other}"),
    }
}

fn tensor(shape: &Value, values: &Value) -> Tensor<Q> {
    let shape = shape
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let data = values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| q(v.as_str().unwrap()))
        .collect();
    Tensor::new(shape, data).unwrap()
}

/// The `NpyError` inside, or a panic naming what came instead.
fn npy_error<T: std::fmt::Debug>(r: exactgrad::Result<T>) -> NpyError {
    match r {
        Err(Error::Npy(e)) => e,
        other => panic!("expected Error::Npy, got {other:?}"),
    }
}

/// An `.npy` file with `header` as its header text (padded as NumPy does) and `data` after it.
fn npy(version: (u8, u8), header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = b"\x93NUMPY".to_vec();
    out.extend([version.0, version.1]);
    let prefix = if version.0 == 1 { 10 } else { 12 };
    let mut text = header.to_string();
    while !(prefix + text.len() + 1).is_multiple_of(64) {
        text.push(' ');
    }
    text.push('\n');
    if version.0 == 1 {
        out.extend((text.len() as u16).to_le_bytes());
    } else {
        out.extend((text.len() as u32).to_le_bytes());
    }
    out.extend(text.as_bytes());
    out.extend(data);
    out
}

fn f64_header(shape: &str) -> String {
    format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}")
}

#[test]
fn every_dtype_is_read_exactly() {
    let all = expected();
    let arrays = all["arrays"].as_object().unwrap();
    // f16/f32/f64 in both byte orders, the eight integer types, Fortran order, 0-d, empty, v2.
    assert_eq!(arrays.len(), 20);
    for (name, e) in arrays {
        let want = tensor(&e["shape"], &e["values"]);
        let (dt, got) = npy_from_bytes_with_dtype(name, &bytes(name)).unwrap();
        assert_eq!(got, want, "{name}");
        assert_eq!(dt, dtype(e["dtype"].as_str().unwrap()), "{name}");
        assert_eq!(read_npy(&fixture(name)).unwrap(), want, "{name}");
    }
}

#[test]
fn extreme_values_are_exact() {
    // The largest float64 is (2⁵³ − 1)·2⁹⁷¹ and the smallest subnormal 2⁻¹⁰⁷⁴, exactly.
    let t = read_npy(&fixture("f64_be.npy")).unwrap();
    let max = Q::from_integer((BigInt::from(1u64 << 53) - 1) * BigInt::from(2).pow(971));
    assert_eq!(t.get(&[0, 6]).unwrap(), &max);
    let tiny = Q::new(BigInt::from(1), BigInt::from(2).pow(1074));
    assert_eq!(t.get(&[1, 1]).unwrap(), &tiny);
    let u = read_npy(&fixture("uint64.npy")).unwrap();
    assert_eq!(
        u.get(&[0, 1]).unwrap(),
        &Q::from_integer(BigInt::from(u64::MAX))
    );
    let i = read_npy(&fixture("int64_be.npy")).unwrap();
    assert_eq!(i.data()[0], Q::from_integer(BigInt::from(i64::MIN)));
}

#[test]
fn fortran_order_is_row_major_in_the_tensor() {
    // NumPy wrote arange(24).reshape(2, 3, 4) / 8 - 1 column-major; the tensor is row-major.
    let t = read_npy(&fixture("f64_fortran.npy")).unwrap();
    assert_eq!(t.shape(), [2, 3, 4]);
    for (k, v) in t.data().iter().enumerate() {
        assert_eq!(
            v,
            &(Q::from_integer(BigInt::from(k)) / Q::from_integer(8.into()) - q("1"))
        );
    }
}

#[test]
fn npz_keys_dtypes_and_order() {
    let all = expected();
    for file in ["grads.npz", "grads_compressed.npz"] {
        let got = read_npz_with_dtype(&fixture(file)).unwrap();
        let want = all["npz"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{file}");
        for ((key, dt, t), w) in got.iter().zip(want) {
            assert_eq!(key, w[0].as_str().unwrap(), "{file}");
            assert_eq!(*dt, dtype(w[1].as_str().unwrap()), "{file} {key}");
            assert_eq!(t, &tensor(&w[2], &w[3]), "{file} {key}");
        }
        let plain = read_npz(&fixture(file)).unwrap();
        let from_bytes = npz_from_bytes(file, &bytes(file)).unwrap();
        assert_eq!(plain, from_bytes);
        assert_eq!(
            plain.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["fc1.weight", "fc1.bias", "input"]
        );
    }
}

#[test]
fn not_finite_values_are_named_by_file_and_coordinate() {
    let all = expected();
    for (name, e) in all["not_finite"].as_object().unwrap() {
        let index: Vec<usize> = e[0]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_u64().unwrap() as usize)
            .collect();
        let err = npy_error(read_npy(&fixture(name)));
        assert!(err.file.ends_with(name.as_str()), "{err:?}");
        assert_eq!(err.key, None);
        assert_eq!(
            err.kind,
            NpyErrorKind::NotFinite {
                index: index.clone(),
                value: e[1].as_str().unwrap().to_string()
            },
            "{name}"
        );
        let text = Error::Npy(err).to_string();
        assert!(
            text.contains(name.as_str()) && text.contains(&format!("{index:?}")),
            "{text}"
        );
    }
    let err = npy_error(read_npz(&fixture("nan.npz")));
    assert_eq!(err.key.as_deref(), Some("bad"));
    assert_eq!(
        err.kind,
        NpyErrorKind::NotFinite {
            index: vec![1, 1],
            value: "NaN".into()
        }
    );
    assert!(Error::Npy(err).to_string().contains("\"bad\""));
}

#[test]
fn unsupported_dtypes_are_typed_errors() {
    for (name, descr) in [
        ("bool.npy", "'|b1'"),
        ("complex.npy", "'<c16'"),
        ("object.npy", "'|O'"),
        ("str.npy", "'<U2'"),
        ("longdouble.npy", "'<f16'"),
    ] {
        let err = npy_error(read_npy(&fixture(name)));
        assert_eq!(
            err.kind,
            NpyErrorKind::UnsupportedDtype {
                descr: descr.into()
            },
            "{name}"
        );
    }
    let err = npy_error(read_npy(&fixture("structured.npy")));
    assert!(
        matches!(&err.kind, NpyErrorKind::UnsupportedDtype { descr } if descr.contains("'a'")),
        "{err:?}"
    );
}

#[test]
fn write_then_read_is_the_identity_on_float64_values() {
    let dir = std::env::temp_dir().join(format!("exactgrad-npy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Every value of every float fixture is a float64, so it comes back unchanged.
    for name in [
        "f16_le.npy",
        "f32_be.npy",
        "f64_le.npy",
        "f64_fortran.npy",
        "scalar.npy",
        "empty.npy",
    ] {
        let t = read_npy(&fixture(name)).unwrap();
        let path = dir.join(name);
        write_npy(&path, &t).unwrap();
        let (dt, back) = npy_from_bytes_with_dtype(name, &std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(dt, Dtype::F64);
        assert_eq!(back, t, "{name}");
    }
    let arrays = read_npz(&fixture("grads.npz")).unwrap();
    let path = dir.join("out.npz");
    write_npz(&path, &arrays).unwrap();
    let back = read_npz_with_dtype(&path).unwrap();
    assert!(back.iter().all(|(_, dt, _)| *dt == Dtype::F64));
    assert_eq!(
        back.into_iter().map(|(k, _, t)| (k, t)).collect::<Vec<_>>(),
        arrays
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn written_files_have_numpy_headers() {
    let t = Tensor::parse(vec![2, 1], &["1/2", "-3"]).unwrap();
    let b = npy_to_bytes(&t).unwrap();
    assert_eq!(&b[..8], b"\x93NUMPY\x01\x00");
    let header_len = u16::from_le_bytes([b[8], b[9]]) as usize;
    assert_eq!(
        (10 + header_len) % 64,
        0,
        "NumPy aligns the data to 64 bytes"
    );
    let header = std::str::from_utf8(&b[10..10 + header_len]).unwrap();
    assert!(
        header.contains("'descr': '<f8'") && header.contains("'shape': (2, 1"),
        "{header}"
    );
    assert_eq!(&b[10 + header_len..18 + header_len], &0.5f64.to_le_bytes());
    // An archive entry is named KEY.npy and stored as the .npy bytes.
    let z = npz_to_bytes(&[("w".into(), t.clone())]).unwrap();
    assert_eq!(npz_from_bytes("z", &z).unwrap(), vec![("w".to_string(), t)]);
}

#[test]
fn writing_rounds_to_nearest_ties_to_even() {
    let two53 = BigInt::from(1u64 << 53);
    let cases = [
        (q("1/3"), 1.0f64 / 3.0),
        (q("-1/10"), -0.1),
        // Exactly half way between 1 and its successor: to even, 1.
        (Q::new(&two53 + 1, two53.clone()), 1.0),
        // Half way between 1 + 2⁻⁵² and 1 + 2⁻⁵¹: to even, 1 + 2⁻⁵¹.
        (Q::new(&two53 + 3, two53.clone()), 1.0 + 2f64.powi(-51)),
        // Just above half way: up.
        (Q::new(&two53 * 2 + 3, &two53 * 2), 1.0 + 2f64.powi(-52)),
        // Below the smallest subnormal's half: 0; just above it: the smallest subnormal.
        (Q::new(BigInt::from(1), BigInt::from(2).pow(1076)), 0.0),
        (
            Q::new(BigInt::from(3), BigInt::from(2).pow(1076)),
            2f64.powi(-1074),
        ),
    ];
    for (value, want) in cases {
        let t = Tensor::new(vec![1], vec![value.clone()]).unwrap();
        let back = npy_from_bytes("x", &npy_to_bytes(&t).unwrap()).unwrap();
        assert_eq!(back.data()[0], Q::from_float(want).unwrap(), "{value}");
    }
}

#[test]
fn values_beyond_float64_are_refused_on_writing() {
    let huge = Q::from_integer(BigInt::from(2).pow(1024));
    let t = Tensor::new(vec![2, 2], vec![q("0"), q("1"), q("2"), -huge]).unwrap();
    let err = npy_error(npy_to_bytes(&t));
    assert_eq!(
        err.kind,
        NpyErrorKind::NotRepresentable { index: vec![1, 1] }
    );
    let err = npy_error(npz_to_bytes(&[("ok".into(), q_vec()), ("big".into(), t)]));
    assert_eq!(err.key.as_deref(), Some("big"));
    let dup = npy_error(npz_to_bytes(&[
        ("a".into(), q_vec()),
        ("a".into(), q_vec()),
    ]));
    assert!(matches!(dup.kind, NpyErrorKind::Archive { .. }), "{dup:?}");
}

fn q_vec() -> Tensor<Q> {
    Tensor::parse(vec![2], &["1", "2"]).unwrap()
}

#[test]
fn every_truncation_is_a_typed_error() {
    for name in ["f64_le.npy", "f32_fortran.npy", "f64_v2.npy", "int8.npy"] {
        let full = bytes(name);
        // The data starts after the length field (2 bytes in version 1, 4 after) and the header.
        let data_start = if full[6] == 1 {
            10 + u16::from_le_bytes([full[8], full[9]]) as usize
        } else {
            12 + u32::from_le_bytes([full[8], full[9], full[10], full[11]]) as usize
        };
        for cut in 0..full.len() {
            let err = npy_error(npy_from_bytes(name, &full[..cut]));
            if cut < data_start {
                assert!(
                    matches!(err.kind, NpyErrorKind::TruncatedHeader { got, .. } if got == cut as u64),
                    "{name} cut at {cut}: {err:?}"
                );
            } else {
                assert!(
                    matches!(err.kind, NpyErrorKind::DataLength { got, .. } if got == (cut - data_start) as u64),
                    "{name} cut at {cut}: {err:?}"
                );
            }
        }
        let mut longer = full.clone();
        longer.push(0);
        let err = npy_error(npy_from_bytes(name, &longer));
        assert!(
            matches!(err.kind, NpyErrorKind::DataLength { .. }),
            "{err:?}"
        );
    }
    // Archives cut anywhere: a typed error (the zip layer or the entry), never a panic.
    for name in ["grads.npz", "grads_compressed.npz"] {
        let full = bytes(name);
        for cut in 0..full.len() {
            let err = npy_error(npz_from_bytes(name, &full[..cut]));
            assert_eq!(err.file, name);
        }
    }
}

#[test]
fn bad_magic_and_versions() {
    let mut b = bytes("f64_le.npy");
    b[0] = b'P';
    assert_eq!(
        npy_error(npy_from_bytes("x", &b)).kind,
        NpyErrorKind::BadMagic
    );
    assert_eq!(
        npy_error(npy_from_bytes("x", b"PK\x03\x04")).kind,
        NpyErrorKind::BadMagic
    );
    let mut b = bytes("f64_le.npy");
    b[6] = 4;
    assert_eq!(
        npy_error(npy_from_bytes("x", &b)).kind,
        NpyErrorKind::UnsupportedVersion { major: 4, minor: 0 }
    );
    // An .npz given as .npy, and the other way round.
    assert_eq!(
        npy_error(npy_from_bytes("x", &bytes("grads.npz"))).kind,
        NpyErrorKind::BadMagic
    );
    assert!(matches!(
        npy_error(npz_from_bytes("x", &bytes("f64_le.npy"))).kind,
        NpyErrorKind::Archive { .. }
    ));
}

#[test]
fn lying_headers_are_refused_before_allocating() {
    let kind = |b: Vec<u8>| npy_error(npy_from_bytes("x", &b)).kind;
    // 2⁴⁰ · 2⁴⁰ values: the count overflows.
    assert_eq!(
        kind(npy(
            (1, 0),
            &f64_header("(1099511627776, 1099511627776)"),
            &[]
        )),
        NpyErrorKind::ShapeOverflow {
            shape: vec![1 << 40, 1 << 40]
        }
    );
    // A dimension past u64.
    assert_eq!(
        kind(npy((1, 0), &f64_header("(18446744073709551616,)"), &[])),
        NpyErrorKind::BadHeader(HeaderProblem::BadShape)
    );
    // More values than read, with no data at all.
    assert_eq!(
        kind(npy(
            (1, 0),
            &f64_header(&format!("({},)", MAX_VALUES + 1)),
            &[]
        )),
        NpyErrorKind::TooManyValues {
            shape: vec![MAX_VALUES + 1],
            count: MAX_VALUES + 1,
            limit: MAX_VALUES
        }
    );
    // A million values claimed, one present.
    assert_eq!(
        kind(npy(
            (1, 0),
            &f64_header("(1000, 1000)"),
            &1.5f64.to_le_bytes()
        )),
        NpyErrorKind::DataLength {
            shape: vec![1000, 1000],
            dtype: "<f8".into(),
            expected: 8_000_000,
            got: 8
        }
    );
    // A header length of 4 GiB (version 2), and one past the file's end.
    let mut b = npy((2, 0), &f64_header("(1,)"), &1.5f64.to_le_bytes());
    b[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        kind(b),
        NpyErrorKind::HeaderTooLarge {
            bytes: u64::from(u32::MAX),
            limit: MAX_HEADER_BYTES
        }
    );
    let mut b = npy((1, 0), &f64_header("(1,)"), &[]);
    b[8..10].copy_from_slice(&60000u16.to_le_bytes());
    assert_eq!(
        kind(b.clone()),
        NpyErrorKind::TruncatedHeader {
            needed: 60010,
            got: b.len() as u64
        }
    );
    // Zero-sized and 0-d arrays are fine.
    let t = npy_from_bytes("x", &npy((1, 0), &f64_header("(0, 1099511627776)"), &[])).unwrap();
    assert_eq!(t.shape(), [0, 1 << 40]);
    let t = npy_from_bytes("x", &npy((3, 0), &f64_header("()"), &2.0f64.to_le_bytes())).unwrap();
    assert_eq!(t.data(), [q("2")]);
}

#[test]
fn malformed_headers_are_typed() {
    let kind = |header: &str| npy_error(npy_from_bytes("x", &npy((1, 0), header, &[]))).kind;
    let bad = NpyErrorKind::BadHeader;
    assert_eq!(kind("[1, 2]"), bad(HeaderProblem::NotADict));
    assert_eq!(
        kind("{'descr': '<f8', 'shape': (0,)}"),
        bad(HeaderProblem::MissingKey("fortran_order"))
    );
    assert_eq!(
        kind("{'descr': '<f8', 'fortran_order': 1, 'shape': (0,)}"),
        bad(HeaderProblem::FortranOrderNotBool)
    );
    assert_eq!(
        kind("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}"),
        bad(HeaderProblem::BadShape)
    );
    assert_eq!(
        kind("{'descr': '<f8', 'fortran_order': False, 'shape': 3}"),
        bad(HeaderProblem::BadShape)
    );
    assert_eq!(
        kind("{'descr': '<f8', 'fortran_order': False, 'shape': (1.5,)}"),
        bad(HeaderProblem::BadShape)
    );
    assert_eq!(
        kind("{'descr': 'zz', 'fortran_order': False, 'shape': (0,)}"),
        NpyErrorKind::UnsupportedDtype {
            descr: "'zz'".into()
        }
    );
    assert!(matches!(
        kind("{'descr': '<f8', 'fortran_order': False,"),
        NpyErrorKind::BadHeader(HeaderProblem::Syntax { .. })
    ));
    assert_eq!(
        kind("{'descr': '<f8', 'fortran_order': False, 'shape': (0,), 'order': 'C'}"),
        bad(HeaderProblem::UnexpectedKey {
            key: "'order'".into()
        })
    );
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let mut b = npy((2, 0), "", &[]);
    b.truncate(8);
    b.extend((deep.len() as u32).to_le_bytes());
    b.extend(deep.as_bytes());
    assert_eq!(
        npy_error(npy_from_bytes("x", &b)).kind,
        bad(HeaderProblem::TooDeep { limit: 16 })
    );
    let mut b = npy((1, 0), &f64_header("(0,)"), &[]);
    b[12] = 0xff;
    assert_eq!(
        npy_error(npy_from_bytes("x", &b)).kind,
        bad(HeaderProblem::NotText)
    );
}

#[test]
fn archive_entries_are_named_in_errors() {
    // A zip whose second entry is not an .npy file.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("good.npy", options).unwrap();
    zip.write_all(&bytes("scalar.npy")).unwrap();
    zip.start_file("notes.txt", options).unwrap();
    zip.write_all(b"hello").unwrap();
    let b = zip.finish().unwrap().into_inner();
    let err = npy_error(npz_from_bytes("mixed.npz", &b));
    assert_eq!(err.file, "mixed.npz");
    assert_eq!(err.key.as_deref(), Some("notes.txt"));
    assert_eq!(err.kind, NpyErrorKind::BadMagic);
    // A flipped bit in stored data (7.0f32, the last value of "fc1.weight") fails the entry's
    // checksum.
    let mut b = bytes("grads.npz");
    let at = b
        .windows(4)
        .position(|w| w == 7.0f32.to_le_bytes())
        .unwrap();
    b[at] ^= 1;
    let err = npy_error(npz_from_bytes_with_dtype("g", &b));
    assert_eq!(err.key.as_deref(), Some("fc1.weight"));
    assert!(matches!(err.kind, NpyErrorKind::Archive { .. }), "{err:?}");
}

#[test]
fn missing_files_are_io_errors() {
    let err = npy_error(read_npy(Path::new("/nonexistent/x.npy")));
    assert!(matches!(
        err.kind,
        NpyErrorKind::Io {
            kind: std::io::ErrorKind::NotFound,
            ..
        }
    ));
    assert_eq!(err.file, "/nonexistent/x.npy");
    let err = npy_error(read_npz(Path::new(env!("CARGO_MANIFEST_DIR"))));
    assert!(matches!(err.kind, NpyErrorKind::Io { .. }), "{err:?}");
}

/// The torch fixtures (`tests/fixtures/onnx/*`, written by `scripts/torch_export.py`) read with
/// the dtypes, keys and shapes their manifests list, and `cnn_wrong` differs from `cnn` at the
/// one coordinate its manifest names, by the values it records.
#[test]
fn torch_fixtures_read_as_their_manifests_say() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx");
    for name in ["mlp", "cnn", "residual"] {
        let dir = root.join(name);
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        let shape = |v: &Value| -> Vec<usize> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect()
        };
        let (dt, x) =
            npy_from_bytes_with_dtype(name, &std::fs::read(dir.join("input.npy")).unwrap())
                .unwrap();
        assert_eq!(
            (dt, x.shape()),
            (Dtype::F32, &shape(&manifest["input_shape"])[..])
        );
        // Inputs are multiples of 1/8 in [-2, 2], cotangents multiples of 1/4.
        let eighth = q("1/8");
        for v in x.data() {
            assert!(
                (v / &eighth).is_integer() && v.abs() <= q("2"),
                "{name} input {v}"
            );
        }
        let dy = read_npy(&dir.join("cotangent.npy")).unwrap();
        assert_eq!(dy.shape(), &shape(&manifest["output_shape"])[..]);
        assert!(dy
            .data()
            .iter()
            .all(|v| (v / q("1/4")).is_integer() && v.abs() <= q("2")));
        let inits = manifest["initializers"].as_object().unwrap();
        for (file, want) in [("grads_f64.npz", Dtype::F64), ("grads_f32.npz", Dtype::F32)] {
            let grads = read_npz_with_dtype(&dir.join(file)).unwrap();
            assert_eq!(grads.len(), inits.len() + 1, "{name}/{file}");
            for (key, dt, g) in &grads {
                assert_eq!(*dt, want, "{name}/{file} {key}");
                let expected = if key == "input" {
                    shape(&manifest["input_shape"])
                } else {
                    shape(&inits[key])
                };
                assert_eq!(g.shape(), &expected[..], "{name}/{file} {key}");
            }
        }
    }
    let wrong: Value =
        serde_json::from_slice(&std::fs::read(root.join("cnn_wrong/manifest.json")).unwrap())
            .unwrap();
    let w = &wrong["wrong"];
    let key = w["key"].as_str().unwrap();
    let index: Vec<usize> = w["index"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap() as usize)
        .collect();
    let good = read_npz(&root.join("cnn/grads_f64.npz")).unwrap();
    let bad = read_npz(&root.join("cnn_wrong/grads_f64.npz")).unwrap();
    let mut differing = Vec::new();
    for ((k, g), (bk, b)) in good.iter().zip(&bad) {
        assert_eq!(k, bk);
        for (off, (x, y)) in g.data().iter().zip(b.data()).enumerate() {
            if x != y {
                differing.push((k.clone(), g.multi_index(off), x.clone(), y.clone()));
            }
        }
    }
    let old: f64 = w["old"].as_str().unwrap().parse().unwrap();
    let new: f64 = w["new"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        differing,
        vec![(
            key.to_string(),
            index,
            Q::from_float(old).unwrap(),
            Q::from_float(new).unwrap()
        )]
    );
}

/// What NumPy accepts in a header, found by the fuzzer: a repeated key takes its last value (a
/// Python dict), and the text may end in `\r\n` or spaces.
#[test]
fn headers_as_numpy_reads_them() {
    let two = [1.5f64.to_le_bytes(), (-2.0f64).to_le_bytes()].concat();
    let repeated = "{'descr': '<i8', 'fortran_order': True, 'shape': (7,), \
                    'descr': '<f8', 'fortran_order': False, 'shape': (2, 1)}";
    let t = npy_from_bytes("x", &npy((1, 0), repeated, &two)).unwrap();
    assert_eq!(t, Tensor::parse(vec![2, 1], &["3/2", "-2"]).unwrap());
    let mut b = npy((1, 0), &f64_header("(2,)"), &two);
    // The last two bytes of the header text (a space and the newline) become \r\n.
    b[126] = b'\r';
    assert_eq!(b[127], b'\n');
    assert_eq!(npy_from_bytes("x", &b).unwrap().data(), [q("3/2"), q("-2")]);
}
