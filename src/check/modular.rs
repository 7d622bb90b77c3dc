//! The randomized checks at float speed: the same probes and identities as
//! [`randomized_jacobian`] and [`randomized_params`], evaluated modulo a random 61-bit prime
//! behind a float filter ([`ModP`]), and replayed over `Q` whenever the fast run cannot vouch
//! for itself.
//!
//! # Why a pass is a pass
//! The exact check evaluates rational identities `L = R` (the JVP and VJP identities on integer
//! probes, and the linearity checks). The run over [`ModP`] is the same generic code on the
//! same probes. Its arithmetic is the residue map `x ↦ x mod p`, a ring homomorphism, and every
//! branch the code takes (every [`crate::Ordered::sign`]) is decided by a certified `f64`
//! enclosure that excludes 0, so it is the branch the exact run takes. Where the enclosure
//! contains 0, where a divisor's residue is 0, and where a constant's denominator is a multiple
//! of `p`, the run is marked and **replayed over `Q`**; [`ModularProof::route`] says so.
//!
//! So the fast run computes `L mod p` and `R mod p` for the very `L`, `R` of the exact run. If
//! they differ, `L ≠ R`: the check fails, and is replayed over `Q` to report the exact
//! counterexample the exact check reports (its bisection names the coordinate). If they agree,
//! either `L = R`, or `p` divides the numerator of `L − R ≠ 0`. A numerator of `B` bits has at
//! most `B/60` prime factors in `[2⁶⁰, 2⁶¹)`, and the prime is drawn uniformly from the more
//! than `2.68·10¹⁶` primes there, so each equality test adds at most `B·6.3·10⁻¹⁹`
//! ([`PRIME_MISS_PER_BIT`]) to the miss probability of the exact check (`< 2⁻⁶²`, see
//! [`randomized_params`]). For `K` tests on values of at most `B` bits: `K·B·6.3·10⁻¹⁹`; e.g.
//! 100 comparisons of 10,000-bit values add `6.3·10⁻¹³`. The probes and the prime are drawn
//! from the seed; the probability is over a seed chosen after the rule (a rule wrong by a
//! multiple of the very prime its seed draws passes that seed, and no other).
//!
//! The probes enter as residues **without** an enclosure (`ModP::untracked_integers`): the
//! identities compare residues, and a correct rule never branches on a tangent or cotangent, so
//! the float work would decide nothing. Every product or sum with such a term is itself
//! untracked, and the kernels then compute residues alone (one 64×64-bit product and a 128-bit
//! addition per term; with the enclosure, the loop body was 27 instructions). A rule that does branch on a tangent's sign meets an unbounded enclosure:
//! [`Undecided`], and the check is replayed over `Q`. The weights, the input and every value
//! computed from them alone (pre-activations, masks) keep their enclosures, so the branches of
//! the forward pass are decided as before.
//!
//! A failure is always the exact check's failure: the same error, from the replay over `Q`.
//!
//! # What it costs
//! Residues are u64 in Montgomery form and the products inside matrix–vector products are
//! summed in 128 bits, reduced every 63 terms; where both factors are tracked, the enclosure is
//! one `f64` product and three sums per term. An op's exact parameters are converted once per check (see
//! [`crate::scalar::with_kernel_cache`]), for that check's prime; a tensor of 1,024 values or
//! more, from its second check on, keeps what does not depend on the prime (its small numerators
//! and denominators, the float enclosures, one inverse per distinct denominator to compute) for
//! the process's later checks ([`crate::Field::from_q_named`]), so that these convert each value
//! with one Montgomery reduction. The first check converts directly: keeping the parts costs
//! more than it saves once. At 256×128×10 (callgrind, one thread, weights (a) / (b)): 18.6 /
//! 18.7 M instructions per later check; 21.9 / 22.5 M for the first on a set of weights,
//! measured before the probes' conversion became Shoup's (0.36 M less in a later check).

use super::randomized::{randomized_jacobian, randomized_params, RandomizedProof};
use crate::error::Result;
use crate::ops::OpSpec;
use crate::scalar::modular::{random_prime, with_prime, Undecided};
use crate::scalar::{Dual, ModP, Q};
use crate::tensor::Tensor;
use rand::rngs::ChaCha8Rng;
use rand::SeedableRng;
use std::fmt;

/// An upper bound on the probability that a random prime of [`random_prime`] divides a given
/// non-zero integer, per bit of that integer: `1/(60 · 2.68·10¹⁶) < 6.3·10⁻¹⁹`.
pub const PRIME_MISS_PER_BIT: f64 = 6.3e-19;

/// How a modular check reached its verdict.
#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    /// Every identity held modulo the prime, every branch decided by the float filter.
    Modular,
    /// The run over residues could not vouch for itself and the check was replayed over `Q`.
    Exact {
        /// Why the fast run was not trusted.
        why: Replay,
        /// The exact check's proof.
        proof: Box<RandomizedProof<Q>>,
    },
}

/// Why a modular check was replayed over `Q`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replay {
    /// The fast run met something its filter cannot decide ([`Undecided`]).
    Undecided(Undecided),
    /// The fast run reported a failure that the exact replay did not confirm. The residue map
    /// makes this impossible; it is reported rather than hidden, and the exact verdict stands.
    Disagreed,
}

/// The record of a passed modular check.
#[derive(Clone, Debug, PartialEq)]
pub struct ModularProof {
    /// The seed of the probes and of the prime.
    pub seed: u64,
    /// The prime the identities were evaluated modulo.
    pub prime: u64,
    /// How many probe coordinates were drawn.
    pub probes: usize,
    /// Whether the verdict came from the residues or from the exact replay.
    pub route: Route,
}

/// Keeps the prime's random stream apart from the probes' (which start from `seed` itself).
const PRIME_STREAM: u64 = 0x6d6f_6475_6c61_7221;

/// The prime a modular check with this seed uses.
pub fn prime_for_seed(seed: u64) -> u64 {
    random_prime(&mut ChaCha8Rng::seed_from_u64(seed ^ PRIME_STREAM))
}

/// Runs `fast` over residues modulo the seed's prime; replays `exact` over `Q` unless it passed
/// with every branch decided.
fn filtered(
    seed: u64,
    fast: impl FnOnce() -> Result<usize>,
    exact: impl FnOnce() -> Result<RandomizedProof<Q>>,
) -> Result<ModularProof> {
    let prime = prime_for_seed(seed);
    let (result, undecided) = with_prime(prime, fast);
    let proof = |route| ModularProof {
        seed,
        prime,
        probes: 0,
        route,
    };
    match (result, undecided) {
        (Ok(probes), None) => Ok(ModularProof {
            probes,
            ..proof(Route::Modular)
        }),
        (_, why) => {
            let exact = exact()?;
            let why = why.map_or(Replay::Disagreed, Replay::Undecided);
            Ok(ModularProof {
                probes: exact.probes,
                ..proof(Route::Exact {
                    why,
                    proof: Box::new(exact),
                })
            })
        }
    }
}

/// [`randomized_jacobian`] modulo a random prime behind a float filter (module docs): the same
/// verdict, and on a failure the same exact error.
pub fn modular_jacobian<O>(op: &O, x: &Tensor<Q>, seed: u64) -> Result<ModularProof>
where
    O: OpSpec<Q> + OpSpec<Dual<Q>> + OpSpec<ModP> + OpSpec<Dual<ModP>>,
{
    filtered(
        seed,
        || randomized_jacobian::<ModP, O>(op, &x.lift(), seed).map(|p| p.probes),
        || randomized_jacobian(op, x, seed),
    )
}

/// [`randomized_params`] (inputs and all parameters) modulo a random prime behind a float
/// filter (module docs): the same verdict, and on a failure the same exact error.
///
/// ```
/// use exactgrad::check::{modular_params, Route};
/// use exactgrad::ops::Mlp;
/// use exactgrad::Tensor;
///
/// let t = |shape: &[usize], v: &[&str]| Tensor::parse(shape.to_vec(), v).unwrap();
/// let mlp = Mlp::new(
///     t(&[2, 2], &["1", "-1/2", "3/4", "2"]),
///     t(&[2], &["1/3", "-1"]),
///     t(&[1, 2], &["2", "-5/7"]),
///     t(&[1], &["0"]),
/// )
/// .unwrap();
/// let proof = modular_params(&mlp, &t(&[2], &["1", "2/3"]), 7).unwrap();
/// assert_eq!(proof.route, Route::Modular);
/// ```
pub fn modular_params<O>(op: &O, x: &Tensor<Q>, seed: u64) -> Result<ModularProof>
where
    O: OpSpec<Q> + OpSpec<Dual<Q>> + OpSpec<ModP> + OpSpec<Dual<ModP>>,
{
    filtered(
        seed,
        || randomized_params::<ModP, O>(op, &x.lift(), seed).map(|p| p.probes),
        || randomized_params(op, x, seed),
    )
}

impl fmt::Display for ModularProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.route {
            Route::Modular => write!(
                f,
                "randomized (mod p = {}): the JVP and VJP identities hold modulo p on {} random \
                 probe coordinates, every branch decided by the float filter (seed {})",
                self.prime, self.probes, self.seed
            ),
            Route::Exact { why, proof } => {
                let why = match why {
                    Replay::Undecided(reason) => reason.to_string(),
                    Replay::Disagreed => "a failure modulo p the exact run did not confirm".into(),
                };
                write!(f, "replayed over Q ({why}): {proof}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::symbols::is_prime;

    #[test]
    fn each_seed_draws_a_prime_of_61_bits_from_a_stream_apart_from_the_probes() {
        // The probes' stream starts from the seed itself (`randomized::Probes`): seeds whose
        // bits contain, or lie within, PRIME_STREAM's are where `|` or `&` would merge the two.
        let seeds = [0, 1, 7, PRIME_STREAM, !PRIME_STREAM, u64::MAX];
        let primes: Vec<u64> = seeds.iter().map(|&seed| prime_for_seed(seed)).collect();
        for (&seed, &p) in seeds.iter().zip(&primes) {
            assert!(
                (1 << 60..1 << 61).contains(&p) && is_prime(p),
                "seed {seed}: {p}"
            );
            let probes_stream = random_prime(&mut ChaCha8Rng::seed_from_u64(seed));
            assert_ne!(
                p, probes_stream,
                "seed {seed}: the prime comes from the probes' stream"
            );
        }
        for (i, p) in primes.iter().enumerate() {
            assert!(
                !primes[..i].contains(p),
                "seed {}: prime drawn twice",
                seeds[i]
            );
        }
    }
}
