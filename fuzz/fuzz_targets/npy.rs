//! `npy_from_bytes` and `npz_from_bytes` on any bytes: a tensor or a typed error, never a panic,
//! a hang or an allocation the input did not pay for (a header's shape is checked against the
//! bytes present before anything is decoded; see `exactgrad::import::npy`).
//!
//! What is read must write back and read back equal: every float dtype (f16, f32, f64) and every
//! integer up to 2⁵³ is a float64 exactly, so `write` then `read` is the identity on it.
#![no_main]

use exactgrad::import::npy::{
    npy_from_bytes_with_dtype, npy_to_bytes, npz_from_bytes_with_dtype, npz_to_bytes, Dtype,
};
use exactgrad::{Error, Tensor, Q};
use libfuzzer_sys::fuzz_target;

/// Whether writing `t` (read with dtype `dtype`) as float64 keeps every value.
fn exact_in_f64(dtype: Dtype, t: &Tensor<Q>) -> bool {
    dtype != Dtype::Int || {
        let bound = Q::from_float(9_007_199_254_740_992.0).unwrap();
        t.data().iter().all(|v| *v <= bound && -v <= bound)
    }
}

fuzz_target!(|data: &[u8]| {
    match npy_from_bytes_with_dtype("fuzz.npy", data) {
        Ok((dtype, t)) => {
            // Nothing from nothing: at least one byte per value after a 10-byte prefix.
            assert!(t.is_empty() || t.len() < data.len());
            let written = npy_to_bytes(&t).expect("every value read fits in float64");
            let (back_dtype, back) = npy_from_bytes_with_dtype("back.npy", &written).unwrap();
            assert_eq!(back_dtype, Dtype::F64);
            if exact_in_f64(dtype, &t) {
                assert_eq!(back, t);
            } else {
                assert_eq!(back.shape(), t.shape());
            }
        }
        Err(e) => assert!(matches!(e, Error::Npy(_)), "{e:?}"),
    }
    match npz_from_bytes_with_dtype("fuzz.npz", data) {
        Ok(arrays) => {
            let plain: Vec<(String, Tensor<Q>)> = arrays
                .iter()
                .map(|(k, _, t)| (k.clone(), t.clone()))
                .collect();
            // Keys may repeat in a zip read; the writer refuses duplicates, so only check the rest.
            let mut keys: Vec<&str> = plain.iter().map(|(k, _)| k.as_str()).collect();
            keys.sort_unstable();
            keys.dedup();
            if keys.len() == plain.len() {
                if let Ok(written) = npz_to_bytes(&plain) {
                    let back = npz_from_bytes_with_dtype("back.npz", &written).unwrap();
                    assert_eq!(back.len(), arrays.len());
                    for ((k, dtype, t), (bk, bdtype, bt)) in arrays.iter().zip(&back) {
                        assert_eq!(k, bk);
                        assert_eq!(*bdtype, Dtype::F64);
                        if exact_in_f64(*dtype, t) {
                            assert_eq!(t, bt);
                        }
                    }
                }
            }
        }
        Err(e) => assert!(matches!(e, Error::Npy(_)), "{e:?}"),
    }
});
