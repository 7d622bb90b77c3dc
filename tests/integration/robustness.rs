//! Bad input is a typed error, never a panic, a hang or a silently wrong answer: overflowing
//! shapes and paddings, ragged rows, literals with huge exponents, indices out of range, and the
//! command line's sizes. The crashes found by fuzzing (`fuzz/`, README "Fuzzing") are kept here.

use crate::common::*;
use exactgrad::check::{
    check_kinks, check_op, modular_jacobian, modular_params, randomized_adjoint,
    randomized_jacobian, randomized_params, zero_tangents, CheckConfig,
};
use exactgrad::cli::{parse_dims, parse_sizes, run, Cli};
use exactgrad::ops::{Conv1d, Conv2d, Flatten, Pad, Relu, Reshape};
use exactgrad::prove::{prove_deep_mlp_theorem, prove_mlp_theorem, prove_op, ProveConfig};
use exactgrad::tensor::element_count;
use exactgrad::{parse_q, Budget, Error, Op, OpSpec, Tensor, Q};

const HUGE: [usize; 2] = [1 << 32, 1 << 32];

fn overflow(op: &str, quantity: &'static str, shape: &[usize]) -> Error {
    Error::SizeOverflow {
        op: op.into(),
        quantity,
        shape: shape.to_vec(),
    }
}

#[test]
fn a_padding_of_two_to_the_63_is_an_overflow_not_the_bias_alone() {
    let w = t(&[1, 1, 2, 2], &["1", "2", "3", "4"]);
    let conv = Conv2d::new(w, t(&[1], &["7"]), (1, 1), (1 << 63, 1 << 63)).unwrap();
    let x = t(&[1, 2, 2], &["1", "1", "1", "1"]);
    assert_eq!(
        OpSpec::<Q>::forward(&conv, &x),
        Err(overflow(&conv.name(), "H + 2·p_h", &[1, 2, 2]))
    );
    let conv1 = Conv1d::new(t(&[1, 1, 2], &["1", "2"]), t(&[1], &["7"]), 1, 1 << 63).unwrap();
    assert!(matches!(
        OpSpec::<Q>::forward(&conv1, &t(&[1, 2], &["1", "1"])),
        Err(Error::SizeOverflow { .. })
    ));
}

#[test]
fn ragged_rows_name_the_first_row_that_differs() {
    let rows = vec![
        vec![q("1"), q("2")],
        vec![q("3")],
        vec![q("4"), q("5"), q("6")],
    ];
    assert_eq!(
        Tensor::from_rows(rows),
        Err(Error::RaggedRow {
            row: 1,
            expected: 2,
            got: 1
        })
    );
}

#[test]
fn an_exponent_beyond_the_bound_is_refused_at_once() {
    let literal = "1e999999/1e-999999";
    let expected = Error::ExponentTooLarge {
        input: literal.into(),
        exponent: "999999".into(),
        limit: exactgrad::scalar::MAX_EXPONENT,
    };
    assert_eq!(parse_q(literal), Err(expected.clone()));
    assert_eq!(Tensor::parse(vec![2], &["1", literal]), Err(expected));
    // At the bound the value is exact.
    let big = parse_q("1e10000").unwrap();
    assert_eq!(big.numer().to_string().len(), 10_001);
}

#[test]
fn a_shape_whose_element_count_overflows_is_refused() {
    let refused = overflow("Tensor", "element count", &HUGE);
    assert_eq!(element_count(&HUGE), Err(refused.clone()));
    assert_eq!(
        Tensor::<Q>::new(HUGE.to_vec(), vec![]),
        Err(refused.clone())
    );
    assert_eq!(Tensor::<Q>::zeros(&HUGE), Err(refused.clone()));
    assert_eq!(Tensor::<Q>::basis(&HUGE, 0), Err(refused.clone()));
    assert_eq!(Tensor::<Q>::parse(HUGE.to_vec(), &[]), Err(refused.clone()));
    assert_eq!(Flatten.output_shape(&HUGE), Err(refused.clone()));
    assert_eq!(Reshape::new(vec![1]).output_shape(&HUGE), Err(refused));
}

#[test]
fn a_basis_index_out_of_range_is_an_index_error() {
    assert_eq!(
        Tensor::<Q>::basis(&[3], 3),
        Err(Error::Index {
            index: vec![3],
            shape: vec![3]
        })
    );
}

/// A shape whose element count fits `usize` but whose values do not fit in memory: `basis` with
/// an index out of range allocated all the zeros before looking at the index, and `try_zeros`
/// left the size in bytes to `vec!`, which panics ("capacity overflow") past `isize::MAX`.
#[test]
fn a_shape_too_large_for_memory_is_refused_before_allocating() {
    let shape = [1 << 62];
    assert_eq!(
        Tensor::<Q>::basis(&shape, 1 << 62),
        Err(Error::Index {
            index: vec![1 << 62],
            shape: shape.to_vec()
        })
    );
    let refused = overflow("Tensor", "size in bytes", &shape);
    assert_eq!(Tensor::<Q>::zeros(&shape), Err(refused.clone()));
    assert_eq!(Tensor::<Q>::basis(&shape, 0), Err(refused));
}

#[test]
fn checks_and_proofs_on_an_overflowing_shape_are_setup_failures() {
    let config = CheckConfig::default().cases(4);
    let failure = check_op(&Relu, &HUGE, &config).unwrap_err();
    assert_eq!(failure.error, overflow("Tensor", "element count", &HUGE));
    assert_eq!(failure.case, None);
    let failure = check_kinks(&Relu, &HUGE, &config).unwrap_err();
    assert!(matches!(failure.error, Error::SizeOverflow { .. }));
    assert!(matches!(
        prove_op(&Relu, &HUGE),
        Err(Error::SizeOverflow { .. })
    ));
    // An op whose output shape overflows for an input shape that fits.
    let w = t(&[1, 1, 1, 1], &["1"]);
    let conv = Conv2d::new(w, t(&[1], &["0"]), (1, 1), (1 << 40, 1 << 40)).unwrap();
    let failure = check_op(&conv, &[1, 1, 1], &config).unwrap_err();
    assert!(matches!(
        failure.error,
        Error::SizeOverflow {
            quantity: "output size",
            ..
        }
    ));
}

/// `Tensor::zeros` returned a tensor or panicked; it now returns [`Error::SizeOverflow`], and
/// `zeros_like` (the shape of a tensor already held) is the infallible form.
#[test]
fn zeros_identity_and_diag_are_typed_errors_past_usize() {
    assert_eq!(
        Tensor::<Q>::zeros(&HUGE),
        Err(overflow("Tensor", "element count", &HUGE))
    );
    assert_eq!(
        Tensor::<Q>::identity(1 << 32),
        Err(overflow("Tensor", "element count", &HUGE))
    );
    let x = t(&[2, 1], &["1", "-2"]);
    assert_eq!(x.zeros_like(), t(&[2, 1], &["0", "0"]));
    assert_eq!(x.diag(), Ok(t(&[2, 2], &["1", "0", "0", "-2"])));
    assert_eq!(
        Tensor::<Q>::identity(2),
        Ok(t(&[2, 2], &["1", "0", "0", "1"]))
    );
}

/// Pad's output of 2⁶¹ + 1 values has an element count that fits `usize` but a size in bytes
/// that does not: its forward (a scatter into zeros) and the default parameter rule of an op
/// without parameters (zeros of the output shape) panicked with "capacity overflow".
#[test]
fn an_output_too_large_for_memory_is_refused_by_every_rule_and_check() {
    let pad = Pad::new(vec![1 << 61], vec![0]).unwrap();
    let x = t(&[1], &["1"]);
    let out = [(1 << 61) + 1];
    let refused = overflow("Tensor", "size in bytes", &out);
    assert_eq!(pad.output_shape(x.shape()), Ok(out.to_vec()));
    assert_eq!(OpSpec::<Q>::forward(&pad, &x), Err(refused.clone()));
    let none = t(&[0], &[]);
    assert_eq!(
        OpSpec::<Q>::jvp_params(&pad, &x, &none),
        Err(refused.clone())
    );
    assert_eq!(zero_tangents(&pad, &x), Err(refused.clone()));
    let failure = check_op(&pad, &[1], &CheckConfig::default().cases(4)).unwrap_err();
    assert_eq!(failure.error, refused);
}

/// `check_op!` fails a test by panicking with the check's failure text: on a shape whose values
/// cannot be held, that text is the setup failure naming the typed error, not a panic from
/// inside the generator.
#[test]
fn check_op_macro_on_a_shape_too_large_fails_with_the_typed_error() {
    let pad = Pad::new(vec![1 << 61], vec![0]).unwrap();
    let panic = std::panic::catch_unwind(|| {
        exactgrad::check_op!(pad, [1], CheckConfig::default().cases(4));
    })
    .unwrap_err();
    let text = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    let refused = overflow("Tensor", "size in bytes", &[(1 << 61) + 1]);
    assert!(text.contains(&refused.to_string()), "{text}");
}

/// The MLP proofs built their template weights with `zeros` of the user's sizes: with an
/// unlimited budget, sizes whose weight count overflows panicked. The layer before the
/// overflowing one (2³² values) must not be allocated first.
#[test]
fn mlp_proofs_at_sizes_that_overflow_are_typed_errors() {
    let config = ProveConfig {
        budget: Budget::unlimited(),
        ..Default::default()
    };
    let dims = [1, 1 << 32, 1 << 32];
    assert_eq!(
        prove_mlp_theorem(&dims, &config).unwrap_err(),
        overflow("Tensor", "element count", &HUGE)
    );
    assert_eq!(
        prove_deep_mlp_theorem(&dims, &config).unwrap_err(),
        overflow("Tensor", "element count", &HUGE)
    );
}

#[test]
fn the_command_line_sizes_are_typed_errors() {
    assert_eq!(parse_dims("3,4,2"), Ok((3, 4, 2)));
    assert!(matches!(
        parse_dims("1,2"),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        parse_dims("1,0,2"),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        parse_sizes("2,2"),
        Err(Error::InvalidArgument { .. })
    ));
    use clap::Parser;
    let cli =
        Cli::try_parse_from(["exactgrad", "--dims", "2,2,1", "--seed", "3", "--json"]).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(
        run(&cli, &mut out, &mut err),
        0,
        "{}",
        String::from_utf8_lossy(&err)
    );
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["dims"], serde_json::json!([2, 2, 1]));
}

/// A shape whose size in bytes fits `isize` but not the address space (2⁴⁵ rationals of 64
/// bytes, 2 PB): `vec!` aborted the process on the failed allocation; the memory is now asked
/// for first, and a refusal is a typed error.
#[test]
fn a_shape_larger_than_the_address_space_is_refused_not_aborted() {
    let shape = [1 << 45];
    let refused = overflow("Tensor", "memory", &shape);
    assert_eq!(Tensor::<Q>::zeros(&shape), Err(refused.clone()));
    assert_eq!(
        Tensor::<Q>::from_fn(&shape, |_| Q::from_integer(0.into())),
        Err(refused.clone())
    );
    assert_eq!(exactgrad::check::probe::<Q>(&shape, 0), Err(refused));
}

/// The randomized checks drew their probes with an unchecked product of the output shape and
/// `expect`: an op declaring an output too large to hold made them panic ("capacity
/// overflow") or abort. They now return the typed error of the shape, as the other checks do.
#[test]
fn randomized_checks_on_an_output_too_large_to_hold_are_typed_errors() {
    let x = t(&[1], &["1"]);
    for (pad, quantity) in [(1usize << 61, "size in bytes"), (1 << 45, "memory")] {
        let pad = Pad::new(vec![pad], vec![0]).unwrap();
        let refused = overflow("Tensor", quantity, &[pad.output_shape(&[1]).unwrap()[0]]);
        assert_eq!(randomized_params(&pad, &x, 1).unwrap_err(), refused);
        assert_eq!(randomized_jacobian(&pad, &x, 1).unwrap_err(), refused);
        assert_eq!(randomized_adjoint(&pad, &x, 1).unwrap_err(), refused);
        assert_eq!(modular_params(&pad, &x, 1).unwrap_err(), refused);
        assert_eq!(modular_jacobian(&pad, &x, 1).unwrap_err(), refused);
    }
}
