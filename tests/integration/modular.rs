//! The modular randomized checks (`check::modular_params`, `modular_jacobian`): the same
//! verdicts and the same exact counterexamples as the exact randomized checks, a rule wrong by
//! one unit caught on every seed, a rule wrong by a multiple of one seed's prime missed by that
//! seed only, and points the float filter cannot decide (a kink too close, a rule that branches
//! on its tangent) replayed over `Q`.

use super::randomized::{Bug, Planted};
use exactgrad::check::{
    modular_jacobian, modular_params, prime_for_seed, randomized_jacobian, randomized_params,
    Replay, Route,
};
use exactgrad::ops::Mlp;
use exactgrad::scalar::modular::Undecided;
use exactgrad::strategy::{any_mlp_case, mlp_case, sample, small_q};
use exactgrad::{Error, Tensor, Q};
use proptest::prelude::*;

fn t(shape: &[usize], literals: &[&str]) -> Tensor<Q> {
    Tensor::parse(shape.to_vec(), literals).unwrap()
}

/// Both results, which must be the same verdict, and on a failure the same error.
fn agree<P: std::fmt::Debug, R: std::fmt::Debug>(
    modular: exactgrad::Result<P>,
    exact: exactgrad::Result<R>,
) -> std::result::Result<(), TestCaseError> {
    match (modular, exact) {
        (Ok(_), Ok(_)) => Ok(()),
        (Err(a), Err(b)) => {
            prop_assert_eq!(a, b);
            Ok(())
        }
        (a, b) => Err(TestCaseError::fail(format!(
            "verdicts differ: modular {a:?}, exact {b:?}"
        ))),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(48)
    ))]

    /// Random MLPs (inputs on kinks included), correct or with one wrong entry in one rule.
    #[test]
    fn verdicts_and_counterexamples_agree_with_the_exact_checks(
        (mlp, x, _dy) in any_mlp_case(5),
        seed in any::<u64>(),
        which in 0usize..5,
        at in any::<prop::sample::Index>(),
    ) {
        let (n, h, m) = mlp.dims();
        if which == 4 {
            agree(modular_params(&mlp, &x, seed), randomized_params(&mlp, &x, seed))?;
            agree(modular_jacobian(&mlp, &x, seed), randomized_jacobian(&mlp, &x, seed))?;
            return Ok(());
        }
        let bug = [Bug::Jvp, Bug::Vjp, Bug::JvpParams, Bug::VjpParams][which];
        let len = match bug {
            Bug::Jvp | Bug::JvpParams => m,
            Bug::Vjp => n,
            Bug::VjpParams => h * n + h + m * h + m,
        };
        let bad = Planted { mlp: &mlp, bug, at: at.index(len) };
        agree(modular_params(&bad, &x, seed), randomized_params(&bad, &x, seed))?;
        agree(modular_jacobian(&bad, &x, seed), randomized_jacobian(&bad, &x, seed))?;
    }
}

fn case() -> (Mlp, Tensor<Q>) {
    let (mlp, x, _) = sample(mlp_case(6, 8, 3, small_q()), 11);
    (mlp, x)
}

exactgrad::planted!(OffByOne(Mlp), fn vjp(&op, x, dy) {
    // Entry 0 of the input gradient is off by δ₀: one unit for δ = e₀.
    let mut g = op.vjp(x, dy)?.to_vec();
    g[0] = g[0].add_ref(&dy.data()[0]);
    Tensor::new(x.shape().to_vec(), g)
});

#[test]
fn a_rule_wrong_by_one_unit_in_one_coordinate_is_caught_on_every_seed() {
    let (mlp, x) = case();
    let bad = OffByOne(mlp);
    for seed in 0..200 {
        let modular = modular_params(&bad, &x, seed).unwrap_err();
        match &modular {
            Error::Violated(c) => assert_eq!(c.coordinate, vec![0], "seed {seed}"),
            other => panic!("seed {seed}: {other:?}"),
        }
        if seed < 5 {
            assert_eq!(modular, randomized_params(&bad, &x, seed).unwrap_err());
        }
    }
}

const SEED: u64 = 5;

exactgrad::planted!(OffByThePrime(Mlp), fn vjp(&op, x, dy) {
    // Off by p·δ₀ for the prime the check with SEED draws: the residues cannot see it.
    let p = S::from_i64(prime_for_seed(SEED) as i64);
    let mut g = op.vjp(x, dy)?.to_vec();
    g[0] = g[0].add_ref(&p.mul_ref(&dy.data()[0]));
    Tensor::new(x.shape().to_vec(), g)
});

#[test]
fn a_rule_wrong_by_a_multiple_of_one_seeds_prime_passes_that_seed_only() {
    // The probes carry no enclosure, so nothing but the residues sees this rule: the miss is
    // the PRIME_MISS_PER_BIT event, and the probability is over a seed drawn after the rule.
    let (mlp, x) = case();
    let bad = OffByThePrime(mlp);
    let proof = modular_params(&bad, &x, SEED).unwrap();
    assert_eq!(proof.route, Route::Modular);
    assert_eq!(proof.prime, prime_for_seed(SEED));
    for seed in [SEED + 1, SEED + 2] {
        let modular = modular_params(&bad, &x, seed).unwrap_err();
        assert_eq!(modular, randomized_params(&bad, &x, seed).unwrap_err());
        assert!(matches!(modular, Error::Violated(ref c) if c.coordinate == vec![0]));
    }
    assert!(
        randomized_params(&bad, &x, SEED).is_err(),
        "the exact check sees it"
    );
}

/// `1 → 1 → 1` with pre-activation `x − 1/3 + ε` at `x = 1/3`.
fn near_kink(epsilon: &str) -> (Mlp, Tensor<Q>) {
    let b1 = exactgrad::parse_q(epsilon).unwrap() - exactgrad::parse_q("1/3").unwrap();
    let mlp = Mlp::new(
        t(&[1, 1], &["1"]),
        Tensor::from_vec(vec![b1]),
        t(&[1, 1], &["2"]),
        t(&[1], &["0"]),
    )
    .unwrap();
    (mlp, t(&[1], &["1/3"]))
}

#[test]
fn a_point_the_filter_cannot_decide_is_replayed_over_q() {
    // 10⁻³⁰ from a kink: the enclosure of 1/3 alone is wider than that.
    let (mlp, x) = near_kink("1e-30");
    let proof = modular_params(&mlp, &x, 3).unwrap();
    match proof.route {
        Route::Exact { why, proof: exact } => {
            assert_eq!(why, Replay::Undecided(Undecided::Sign));
            assert_eq!(*exact, randomized_params(&mlp, &x, 3).unwrap());
            // The replay's probe count is reported, not the fast run's (which never finished).
            assert_eq!(proof.probes, exact.probes);
            assert!(proof.probes > 0);
        }
        Route::Modular => panic!("a sign 10⁻³⁰ from 0 was decided by floats"),
    }
    // 1/1000 from it: decided by the filter.
    let (mlp, x) = near_kink("1/1000");
    assert_eq!(modular_params(&mlp, &x, 3).unwrap().route, Route::Modular);
    // On the kink: the exact check's typed error.
    let (mlp, x) = near_kink("0");
    let error = modular_params(&mlp, &x, 3).unwrap_err();
    assert!(matches!(error, Error::Kink { .. }), "{error:?}");
    assert_eq!(error, randomized_params(&mlp, &x, 3).unwrap_err());
}

exactgrad::planted!(BranchesOnTheTangent(Mlp), fn jvp(&op, x, dx) {
    // Right everywhere, but it asks for the sign of a probe, which carries no enclosure.
    let _sign = dx.data()[0].sign();
    op.jvp(x, dx)
});

#[test]
fn a_rule_that_branches_on_its_tangent_is_replayed_over_q() {
    let (mlp, x) = case();
    let branching = BranchesOnTheTangent(mlp.clone());
    for seed in 0..3 {
        let proof = modular_params(&branching, &x, seed).unwrap();
        match proof.route {
            Route::Exact { why, proof: exact } => {
                assert_eq!(why, Replay::Undecided(Undecided::Sign));
                assert_eq!(*exact, randomized_params(&branching, &x, seed).unwrap());
            }
            Route::Modular => panic!("seed {seed}: the sign of a probe was decided"),
        }
        // The op's own rules never ask.
        assert_eq!(
            modular_params(&mlp, &x, seed).unwrap().route,
            Route::Modular
        );
    }
}

#[test]
fn sound_networks_are_decided_by_the_filter() {
    let (mlp, x) = case();
    for seed in 0..20 {
        let proof = modular_params(&mlp, &x, seed).unwrap();
        assert_eq!(proof.route, Route::Modular, "seed {seed}");
        assert_eq!(proof.prime, prime_for_seed(seed));
        assert_eq!(
            proof.probes,
            randomized_params(&mlp, &x, seed).unwrap().probes
        );
    }
    // The report says which route was taken.
    let text = modular_params(&mlp, &x, 1).unwrap().to_string();
    assert!(
        text.contains("mod p") && text.contains("float filter"),
        "{text}"
    );
}

/// The route of `modular_params` and `modular_jacobian` on a correct op, with the exact
/// verdict alongside.
fn decided_by_the_filter<O>(op: &O, x: &Tensor<Q>)
where
    O: exactgrad::ops::OpSpec<Q>
        + exactgrad::ops::OpSpec<exactgrad::scalar::Dual<Q>>
        + exactgrad::ops::OpSpec<exactgrad::scalar::ModP>
        + exactgrad::ops::OpSpec<exactgrad::scalar::Dual<exactgrad::scalar::ModP>>,
{
    for seed in 0..3 {
        let name = op.name();
        let proof = modular_params(op, x, seed).unwrap();
        assert_eq!(proof.route, Route::Modular, "{name}, seed {seed}");
        assert!(randomized_params(op, x, seed).is_ok(), "{name}");
        let proof = modular_jacobian(op, x, seed).unwrap();
        assert_eq!(proof.route, Route::Modular, "{name}, seed {seed}");
    }
}

#[test]
fn the_crates_piecewise_rational_ops_never_branch_on_a_probe() {
    // Untracked probes (no enclosure) would replay any rule that asks a tangent's sign.
    use exactgrad::ops::{Abs, Clamp, Conv2d, LeakyRelu, MaxPool2d, Relu, Softsign};
    let q = |s: &str| exactgrad::parse_q(s).unwrap();
    let v = t(&[6], &["3/2", "-1/3", "2", "-5/4", "1/7", "-2/9"]);
    decided_by_the_filter(&Relu, &v);
    decided_by_the_filter(&Abs, &v);
    decided_by_the_filter(&LeakyRelu::new(q("1/10")), &v);
    decided_by_the_filter(&Clamp::new(q("-1"), q("1")).unwrap(), &v);
    decided_by_the_filter(&Softsign, &v);
    let fraction = |n: i64, d: i64| Q::new(n.into(), d.into());
    let image = Tensor::from_fn(&[1, 4, 4], |k| fraction(((k * 7) % 11) as i64 - 5, 3)).unwrap();
    decided_by_the_filter(&MaxPool2d::new((2, 2), (2, 2)).unwrap(), &image);
    let conv = Conv2d::new(
        Tensor::from_fn(&[2, 1, 2, 2], |k| fraction(k as i64 - 3, 4)).unwrap(),
        t(&[2], &["1/2", "-1"]),
        (1, 1),
        (1, 1),
    )
    .unwrap();
    decided_by_the_filter(&conv, &image);
}
