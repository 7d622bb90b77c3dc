//! The exact kernels behind `Ring::{dot, mat_vec, transpose_mat_vec, matmul}` for `Q` and
//! `Dual<Q>` give exactly the values of the plain `BigRational` loops, on every kind of entry:
//! small fractions, huge fractions (denominators past a machine word), exact `f64` values (the
//! dyadic kernel), zeros, and mixtures.

use exactgrad::strategy::{any_q, f64_q, huge_q, small_q};
use exactgrad::{Dual, Ring, Tensor, Q};
use num_traits::Zero;
use proptest::prelude::*;

fn plain_dot(a: &[Q], b: &[Q]) -> Q {
    a.iter().zip(b).fold(Q::zero(), |acc, (x, y)| acc + x * y)
}

fn plain_matmul(a: &[Q], m: usize, k: usize, b: &[Q], n: usize) -> Vec<Q> {
    let mut out = Vec::new();
    for i in 0..m {
        for j in 0..n {
            let col: Vec<Q> = (0..k).map(|t| b[t * n + j].clone()).collect();
            out.push(plain_dot(&a[i * k..(i + 1) * k], &col));
        }
    }
    out
}

fn entry() -> impl Strategy<Value = Q> + Clone {
    prop_oneof![
        3 => small_q(),
        1 => huge_q(100),
        1 => f64_q(),
        1 => Just(Q::zero()),
        // Denominators just past one word, to leave the word-factor path.
        1 => (any::<i64>(), any::<u64>()).prop_map(|(p, q)| {
            Q::new(p.into(), num_bigint::BigInt::from(q) * 3u32 + (num_bigint::BigInt::from(1u8) << 64))
        }),
    ]
}

/// Entries of one kind per case, so the dyadic kernel (all `f64`) and the word-factor path (all
/// small fractions) are each exercised on their own.
fn kind() -> impl Strategy<Value = BoxedStrategy<Q>> {
    prop_oneof![
        Just(entry().boxed()),
        Just(f64_q().boxed()),
        Just(small_q().boxed()),
        Just(any_q().boxed()),
        Just(prop_oneof![f64_q(), Just(Q::zero())].boxed()),
        Just(
            (any::<i64>())
                .prop_map(|n| Q::from_integer(n.into()))
                .boxed()
        ),
        // Word denominators from the small-factor table (below 1024), just past it, and up to
        // a full word: each source of the word-factor path's factors.
        Just(
            (
                any::<i32>(),
                prop_oneof![1u64..1024, 1024u64..1 << 20, 1u64..=u64::MAX]
            )
                .prop_map(|(p, q)| Q::new(p.into(), q.into()))
                .boxed()
        ),
    ]
}

fn matrices() -> impl Strategy<Value = (usize, usize, usize, Vec<Q>, Vec<Q>)> {
    (1usize..9, 1usize..12, 1usize..7, kind()).prop_flat_map(|(m, k, n, e)| {
        (
            Just(m),
            Just(k),
            Just(n),
            proptest::collection::vec(e.clone(), m * k),
            proptest::collection::vec(e, k * n),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn matmul_equals_plain_loop((m, k, n, a, b) in matrices()) {
        prop_assert_eq!(Q::matmul(&a, m, k, &b, n), plain_matmul(&a, m, k, &b, n));
    }

    #[test]
    fn mat_vec_and_transpose_equal_plain_loop((m, k, _n, a, b) in matrices()) {
        let v = &b[..k];
        prop_assert_eq!(Q::mat_vec(&a, m, k, v), plain_matmul(&a, m, k, v, 1));
        let w: Vec<Q> = (0..m).map(|i| a[i * k].clone()).collect();
        let at: Vec<Q> = (0..k).flat_map(|j| (0..m).map(move |i| (i, j))).map(|(i, j)| a[i * k + j].clone()).collect();
        prop_assert_eq!(Q::transpose_mat_vec(&a, m, k, &w), plain_matmul(&at, k, m, &w, 1));
    }

    #[test]
    fn dot_equals_plain_loop((_m, k, _n, a, b) in matrices()) {
        prop_assert_eq!(Q::dot(&a[..k], &b[..k]), plain_dot(&a[..k], &b[..k]));
    }

    #[test]
    fn dual_products_equal_componentwise_products((m, k, _n, a, b) in matrices()) {
        // A dual matrix with a non-zero tangent part, times a dual vector.
        let ad: Vec<Dual<Q>> = a.iter().zip(a.iter().rev()).map(|(x, y)| Dual::new(x.clone(), y.clone())).collect();
        let vd: Vec<Dual<Q>> = b[..k].iter().zip(b[..k].iter().rev()).map(|(x, y)| Dual::new(x.clone(), y.clone())).collect();
        let plain: Vec<Dual<Q>> = (0..m)
            .map(|i| ad[i * k..(i + 1) * k].iter().zip(&vd).fold(Dual::zero(), |acc, (x, y)| acc + x.mul_ref(y)))
            .collect();
        prop_assert_eq!(Dual::<Q>::mat_vec(&ad, m, k, &vd), plain);
    }
}

/// Exact floats of every magnitude, `odd·2⁻ᵉ` with `e < 130`: powers of two past a machine
/// word as denominators.
fn wide_float() -> impl Strategy<Value = Q> + Clone {
    (any::<i32>(), 0u32..130)
        .prop_map(|(m, e)| Q::new(m.into(), num_bigint::BigInt::from(1u8) << e))
}

fn transposed(a: &[Q], rows: usize, cols: usize) -> Vec<Q> {
    (0..cols)
        .flat_map(|j| (0..rows).map(move |i| a[i * cols + j].clone()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256)
    ))]

    /// A float matrix beside fractions is packed by common denominators; its powers of two
    /// are cleared by shifts (the lcm of powers of two is the largest).
    #[test]
    fn float_matrices_past_a_word_times_fractions_equal_plain_loops(
        (m, k, n, a, b) in (1usize..9, 6usize..14, 1usize..7).prop_flat_map(|(m, k, n)| (
            Just(m),
            Just(k),
            Just(n),
            proptest::collection::vec(wide_float(), m * k),
            proptest::collection::vec(any_q(), k * n),
        ))
    ) {
        prop_assert_eq!(Q::matmul(&a, m, k, &b, n), plain_matmul(&a, m, k, &b, n));
        let (at, bt) = (transposed(&a, m, k), transposed(&b, k, n));
        prop_assert_eq!(Q::matmul(&bt, n, k, &at, m), plain_matmul(&bt, n, k, &at, m));
        prop_assert_eq!(Q::mat_vec(&a, m, k, &b[..k]), plain_matmul(&a, m, k, &b[..k], 1));
    }
}

#[test]
fn large_products_take_the_kernels_and_stay_exact() {
    // 64×60 times 60×5: well past the small-size cutoff, on both kernels, and split across
    // threads (at least 2¹⁴ multiply–adds).
    let (m, k, n) = (64, 60, 5);
    let frac = |i: usize| {
        Q::new(
            ((i * 37 % 201) as i64 - 100).into(),
            ((i * 13 % 100) as i64 + 1).into(),
        )
    };
    let float = |i: usize| Q::from_float(((i as f64) * 0.731).sin() / 7.0).unwrap();
    for f in [&frac as &dyn Fn(usize) -> Q, &float] {
        let a: Vec<Q> = (0..m * k).map(f).collect();
        let b: Vec<Q> = (0..k * n).map(|i| f(i + 7)).collect();
        assert_eq!(Q::matmul(&a, m, k, &b, n), plain_matmul(&a, m, k, &b, n));
        let ta = Tensor::new(vec![m, k], a.clone()).unwrap();
        let v = Tensor::from_vec(b[..k].to_vec());
        assert_eq!(
            ta.mat_vec_mul(&v).unwrap().into_data(),
            plain_matmul(&a, m, k, &b[..k], 1)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn outer_equals_plain_products(
        u in proptest::collection::vec(entry(), 0..6),
        v in proptest::collection::vec(kind().prop_flat_map(|e| proptest::collection::vec(e, 0..6)), 1),
        swap in any::<bool>(),
    ) {
        let (u, v) = if swap { (v[0].clone(), u) } else { (u, v[0].clone()) };
        let plain: Vec<Q> = u.iter().flat_map(|a| v.iter().map(move |b| a * b)).collect();
        prop_assert_eq!(Q::outer(&u, &v), plain);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn linear_equals_product_plus_bias((m, k, _n, a, b) in matrices()) {
        let w = Tensor::new(vec![m, k], a.clone()).unwrap();
        let x = Tensor::from_vec(b[..k].to_vec());
        let bias = Tensor::from_vec((0..m).map(|i| a[i * k].clone()).collect());
        let plain: Vec<Q> = plain_matmul(&a, m, k, &b[..k], 1).into_iter().zip(bias.data()).map(|(p, c)| p + c).collect();
        prop_assert_eq!(w.linear(&bias, &x).unwrap().into_data(), plain);
    }
}

fn duals(re: &[Q], eps: &[Q], zero_eps: bool) -> Vec<Dual<Q>> {
    re.iter()
        .zip(eps.iter().cycle())
        .map(|(r, e)| Dual::new(r.clone(), if zero_eps { Q::zero() } else { e.clone() }))
        .collect()
}

fn plain_dual_dot(a: &[Dual<Q>], b: &[Dual<Q>]) -> Dual<Q> {
    a.iter()
        .zip(b)
        .fold(Dual::zero(), |acc, (x, y)| acc + x.mul_ref(y))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256)
    ))]

    /// Every product shape over `Dual<Q>` (read in place by the `Q` kernels), with zero and
    /// non-zero tangents on either side, equals the plain dual-number loop.
    #[test]
    fn dual_q_products_equal_plain_loops((m, k, n, a, b) in matrices(), za in any::<bool>(), zb in any::<bool>()) {
        let ad = duals(&a, &b, za);
        let bd = duals(&b, &a, zb);
        let row = |i: usize| ad[i * k..(i + 1) * k].to_vec();
        let col = |j: usize| (0..k).map(|t| bd[t * n + j].clone()).collect::<Vec<_>>();
        let mm: Vec<Dual<Q>> = (0..m).flat_map(|i| (0..n).map(move |j| (i, j))).map(|(i, j)| plain_dual_dot(&row(i), &col(j))).collect();
        prop_assert_eq!(Dual::<Q>::matmul(&ad, m, k, &bd, n), mm);
        let v = &bd[..k];
        let mv: Vec<Dual<Q>> = (0..m).map(|i| plain_dual_dot(&row(i), v)).collect();
        prop_assert_eq!(Dual::<Q>::mat_vec(&ad, m, k, v), mv.clone());
        let bias = &ad[..m];
        let aff: Vec<Dual<Q>> = mv.iter().zip(bias).map(|(x, y)| x.add_ref(y)).collect();
        prop_assert_eq!(Dual::<Q>::affine(&ad, m, k, v, bias), aff);
        let w: Vec<Dual<Q>> = ad.iter().rev().take(m).cloned().collect();
        let w = &w[..];
        let tmv: Vec<Dual<Q>> = (0..k).map(|j| plain_dual_dot(&(0..m).map(|i| ad[i * k + j].clone()).collect::<Vec<_>>(), w)).collect();
        prop_assert_eq!(Dual::<Q>::transpose_mat_vec(&ad, m, k, w), tmv);
        prop_assert_eq!(Dual::<Q>::dot(&ad[..k], v), plain_dual_dot(&ad[..k], v));
    }
}

/// Equal as fractions in lowest terms: the same numerator and the same denominator (`==` on
/// `BigRational` compares values by cross-multiplication, so it would accept an unreduced one).
fn same_parts(got: &[Q], want: &[Q]) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.len(), want.len());
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        prop_assert!(
            g.numer() == w.numer() && g.denom() == w.denom(),
            "entry {}: {}/{} is not {}/{}",
            k,
            g.numer(),
            g.denom(),
            w.numer(),
            w.denom()
        );
    }
    Ok(())
}

/// Huge entries: numerators and denominators of hundreds to a few thousand bits, mostly
/// coprime, so that a vector's distinct denominators add up past the size where the kernels
/// stop clearing them; in half the cases every entry's denominator also shares one big factor
/// (as the values `W1·x + b1` or an increment `ρ·p` do), the case the fraction-by-fraction
/// kernel takes out once per vector. Zeros and word-sized fractions are mixed in.
fn huge_matrices() -> impl Strategy<Value = (usize, usize, usize, Vec<Q>, Vec<Q>)> {
    let entry = |shared: Q| {
        prop_oneof![
            6 => huge_q(1800).prop_map(move |q| &q / &shared),
            1 => small_q(),
            1 => Just(Q::zero()),
        ]
    };
    (
        1usize..5,
        2usize..9,
        1usize..4,
        prop_oneof![Just(Q::from_integer(1.into())), huge_q(900)],
    )
        .prop_flat_map(move |(m, k, n, shared)| {
            let shared = if shared.is_zero() {
                Q::from_integer(3.into())
            } else {
                shared
            };
            (
                Just(m),
                Just(k),
                Just(n),
                proptest::collection::vec(entry(shared.clone()), m * k),
                proptest::collection::vec(entry(shared), k * n),
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(64).min(64)
    ))]

    /// The products on huge operands (fraction by fraction, each vector's common factor taken
    /// out, Lehmer's gcd) give exactly the plain `BigRational` loop's reduced fractions.
    #[test]
    fn huge_products_equal_plain_loops((m, k, n, a, b) in huge_matrices()) {
        same_parts(&Q::matmul(&a, m, k, &b, n), &plain_matmul(&a, m, k, &b, n))?;
        let v = &b[..k];
        same_parts(&Q::mat_vec(&a, m, k, v), &plain_matmul(&a, m, k, v, 1))?;
        let w: Vec<Q> = (0..m).map(|i| a[i * k + k - 1].clone()).collect();
        let at: Vec<Q> = (0..k).flat_map(|j| (0..m).map(move |i| (i, j))).map(|(i, j)| a[i * k + j].clone()).collect();
        same_parts(&Q::transpose_mat_vec(&a, m, k, &w), &plain_matmul(&at, k, m, &w, 1))?;
        same_parts(&[Q::dot(&a[..k], v)], &[plain_dot(&a[..k], v)])?;
        let bias: Vec<Q> = (0..m).map(|i| a[i * k].clone()).collect();
        let plain: Vec<Q> = plain_matmul(&a, m, k, v, 1).into_iter().zip(&bias).map(|(p, c)| p + c).collect();
        same_parts(&Q::affine(&a, m, k, v, &bias), &plain)?;
    }

    /// Sums, products and quotients of huge fractions (Lehmer's gcd behind each) are
    /// num-rational's reduced results.
    #[test]
    fn huge_field_operations_equal_num_rational(x in huge_q(3000), y in huge_q(3000), f in huge_q(2000)) {
        // A big common factor in both denominators, so the sum's gcds are big too.
        let (x, y) = (&x / &f, &y / &f);
        same_parts(&[x.add_ref(&y), x.sub_ref(&y), x.mul_ref(&y)], &[&x + &y, &x - &y, &x * &y])?;
        if !y.is_zero() {
            same_parts(&[exactgrad::Field::checked_div(&x, &y).unwrap()], &[&x / &y])?;
        }
    }

    /// Dual-number products over huge values (the reference Jacobian's path) equal the plain
    /// dual loops.
    #[test]
    fn huge_dual_products_equal_plain_loops((m, k, _n, a, b) in huge_matrices()) {
        let ad = duals(&a, &b, false);
        let vd = duals(&b[..k], &a, false);
        let plain: Vec<Dual<Q>> = (0..m).map(|i| plain_dual_dot(&ad[i * k..(i + 1) * k], &vd)).collect();
        let got = Dual::<Q>::mat_vec(&ad, m, k, &vd);
        let parts = |d: &[Dual<Q>]| -> Vec<Q> { d.iter().flat_map(|x| [x.re.clone(), x.eps.clone()]).collect() };
        same_parts(&parts(&got), &parts(&plain))?;
    }
}
