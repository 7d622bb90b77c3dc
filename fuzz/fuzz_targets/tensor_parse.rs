//! `Tensor::parse` and `Tensor::from_rows` on any shape and literals, then every accessor on
//! what they return: a tensor or a typed error, never a panic, a hang or an allocation the input
//! did not pay for.
//!
//! Input: one byte for the rank (mod 5), then 8 bytes per dimension (little-endian, so that
//! shapes whose element count overflows are reached), then literals separated by `,`, with `;`
//! between the rows given to `from_rows`. Inputs with large exponents are skipped (see
//! `exponents::MAX_WRITTEN_EXPONENTS`); shapes of any size are not, and nothing is built for a shape
//! without the literals to fill it.
#![no_main]

use exactgrad::tensor::element_count;
use exactgrad::{Error, Tensor, Q};
use libfuzzer_sys::fuzz_target;

#[path = "common/exponents.rs"]
mod exponents;

fuzz_target!(|data: &[u8]| {
    let Some((&rank, rest)) = data.split_first() else {
        return;
    };
    let rank = usize::from(rank % 5);
    if rest.len() < 8 * rank {
        return;
    }
    let (dims, text) = rest.split_at(8 * rank);
    let shape: Vec<usize> = dims
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()) as usize)
        .collect();
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    if exponents::too_costly(text) {
        return;
    }
    let literals: Vec<&str> = text.split([',', ';']).collect();

    let count = element_count(&shape);
    // Refused without allocating, whatever the shape: no offset is `usize::MAX`, and no `Vec`
    // holds more than `isize::MAX` bytes.
    assert!(Tensor::<Q>::basis(&shape, usize::MAX).is_err());
    if count
        .as_ref()
        .is_ok_and(|&n| n > isize::MAX as usize / std::mem::size_of::<Q>())
    {
        assert!(matches!(
            Tensor::<Q>::zeros(&shape),
            Err(Error::SizeOverflow { .. })
        ));
    }
    match Tensor::parse(shape.clone(), &literals) {
        Ok(t) => {
            assert_eq!(count, Ok(t.len()));
            for k in 0..t.len() {
                let index = t.multi_index(k);
                assert_eq!(t.offset(&index), Ok(k));
                assert_eq!(t.get(&index), Ok(&t.data()[k]));
            }
            assert!(Tensor::<Q>::basis(&shape, t.len()).is_err());
            if let Some(k) = t.len().checked_sub(1) {
                assert!(Tensor::<Q>::basis(&shape, k).is_ok());
            }
            let _ = t.to_string();
            let _ = t.clone().reshape(vec![t.len()]).unwrap();
        }
        Err(_) => {
            // Indices and basis tensors of a shape nothing could be built for must fail too.
            if count.is_err() {
                assert!(Tensor::<Q>::zeros(&shape).is_err());
                assert!(Tensor::<Q>::basis(&shape, 0).is_err());
            }
        }
    }

    let rows: Option<Vec<Vec<Q>>> = text
        .split(';')
        .map(|row| {
            row.split(',')
                .map(|s| exactgrad::parse_q(s).ok())
                .collect::<Option<Vec<_>>>()
        })
        .collect();
    if let Some(rows) = rows {
        let lengths: Vec<usize> = rows.iter().map(Vec::len).collect();
        match Tensor::from_rows(rows) {
            Ok(m) => {
                assert!(lengths.iter().all(|&n| n == lengths[0]));
                assert_eq!(m.shape(), [lengths.len(), lengths[0]]);
                let _ = m.to_string();
            }
            Err(_) => assert!(lengths.iter().any(|&n| n != lengths[0])),
        }
    }
});
