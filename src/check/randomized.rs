//! Randomized exact checks: the adjoint and Jacobian identities verified on random integer
//! probes (Freivalds' technique, with the Schwartz–Zippel lemma as its bound), in exact
//! arithmetic, at the cost of a few rule calls and **one** dual-number forward pass — instead of
//! one pass per input coordinate, as [`super::reference_jacobian`] needs.
//!
//! # What is checked, and the bound
//! Probes `dx`, `dθ`, `δ` have independent entries drawn uniformly from the integers
//! `[0, 2⁶⁴)` (a set of size `2⁶⁴`). The reference tangent `t = J_x·dx + J_θ·dθ` is the tangent
//! part of one forward pass over [`Dual`] numbers at `(x + ε·dx, θ + ε·dθ)`; it never calls the
//! rules under test. Then
//! * **JVP identity**: `jvp(x, dx) + jvp_θ(x, dθ) = t`, entry by entry;
//! * **VJP identity** (Freivalds): `⟪vjp(x, δ), dx⟫ + ⟪vjp_θ(x, δ), dθ⟫ = ⟪δ, t⟫`.
//!
//! Every comparison is an equality of exact values, so a reported failure is certain (no false
//! alarm) and comes with an exact counterexample. A wrong rule can only slip through if the
//! probes are a root of a non-zero polynomial: for rules that are linear in their tangent (every
//! JVP/VJP is meant to be), `(R − J)·v` has degree 1 and `δᵀ(J − G)v` degree 2, so by
//! Schwartz–Zippel the probability of missing a wrong rule is at most
//! `1/2⁶⁴ + 2/2⁶⁴ < 2⁻⁶²` ([`MISS_PROBABILITY_LOG2`]) — for a wrong rule of any size, down to a
//! single differing entry. A rule of polynomial degree `d` in its tangent is missed with
//! probability at most `(2d + 1)/2⁶⁴`. The probability is over the probes, i.e. over a seed
//! drawn at random after the rule is fixed (a fixed seed in a test suite gives a reproducible
//! check; draw a fresh one, e.g. from the clock, for the bound to apply to each run).
//!
//! On a failure the checks locate a coordinate exactly: which rule (inputs or parameters), and,
//! for a VJP, which entry of the gradient, by bisection on the probe's support (each step one
//! dual pass, so `O(log n)` passes). The point must not be on a kink ([`crate::Error::Kink`]).
//!
//! Within one check the packed (denominator-cleared) form of each weight matrix is computed once
//! and shared by the forward pass, the dual pass and the rules (the kernels' pack cache).

use super::{adjoint, agree, no_kinks, prepare, violation};
use crate::error::{Error, Result};
use crate::ops::{param_vector, OpSpec};
use crate::scalar::{Dual, Scalar, Q};
use crate::tensor::Tensor;
use num_bigint::BigInt;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `log₂` of the bound on the probability that a randomized check passes a wrong rule that is
/// linear in its tangent: `3/2⁶⁴ < 2⁻⁶²`.
pub const MISS_PROBABILITY_LOG2: i32 = -62;

/// A scalar that holds every integer in `[0, 2⁶⁴)` exactly (the probe set).
pub trait ProbeScalar: Scalar {
    /// The integer `n`.
    fn from_u64(n: u64) -> Self;
}

impl ProbeScalar for Q {
    fn from_u64(n: u64) -> Self {
        Q::from_integer(BigInt::from(n))
    }
}

impl<S: ProbeScalar> ProbeScalar for Dual<S> {
    fn from_u64(n: u64) -> Self {
        Dual::constant(S::from_u64(n))
    }
}

/// Random integer probes in `[0, 2⁶⁴)`, reproducible from a seed.
struct Probes(ChaCha8Rng);

impl Probes {
    fn new(seed: u64) -> Probes {
        Probes(ChaCha8Rng::seed_from_u64(seed))
    }
    fn tensor<S: ProbeScalar>(&mut self, shape: &[usize]) -> Tensor<S> {
        let n: usize = shape.iter().product();
        let data = (0..n).map(|_| S::from_u64(self.0.next_u64())).collect();
        Tensor::new(shape.to_vec(), data).expect("length is the product of the shape")
    }
}

/// The values a randomized check computed: enough to re-run it (the seed) and to see the
/// identities hold.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomizedProof<S> {
    /// The seed of the probes.
    pub seed: u64,
    /// The reference tangent `t` from the dual-number pass (for [`randomized_adjoint`], the
    /// rule's own `jvp(x, dx)`).
    pub tangent: Tensor<S>,
    /// `⟪δ, t⟫`.
    pub lhs: S,
    /// The rules' side of the VJP identity, equal to `lhs`.
    pub rhs: S,
    /// How many probe coordinates were drawn at random (`dx`, `dθ` and `δ` together).
    pub probes: usize,
}

/// `⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫` on random probes (no reference pass: the rules are
/// checked against each other, like [`super::adjoint`]). On a failure the deterministic
/// [`super::adjoint`] check runs on the same probes and names the Jacobian entry on which the
/// rules disagree.
pub fn randomized_adjoint<S, O>(op: &O, x: &Tensor<S>, seed: u64) -> Result<RandomizedProof<S>>
where
    S: ProbeScalar,
    O: OpSpec<S>,
{
    crate::scalar::with_kernel_cache(|| {
        let out = prepare(op, x, None, None)?;
        let mut probes = Probes::new(seed);
        let dx = probes.tensor::<S>(x.shape());
        let dy = probes.tensor::<S>(&out);
        let jvp = op.jvp(x, &dx)?;
        let vjp = op.vjp(x, &dy)?;
        super::expect_rule_shape(&jvp, &out, "jvp")?;
        super::expect_rule_shape(&vjp, x.shape(), "vjp")?;
        let (lhs, rhs) = (jvp.dot(&dy)?, dx.dot(&vjp)?);
        if lhs != rhs {
            // The deterministic check locates the disagreeing Jacobian entry on the same probes.
            adjoint(op, x, &dx, &dy)?;
            return Err(violation(
            "randomized adjoint: ⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫ (the rules are not deterministic)",
            vec![],
            &rhs,
            &lhs,
            &[("seed", seed.to_string())],
        ));
        }
        Ok(RandomizedProof {
            seed,
            tangent: jvp,
            lhs,
            rhs,
            probes: dx.len() + dy.len(),
        })
    })
}

/// `jvp(x, dx) = J·dx` and `⟪vjp(x, δ), dx⟫ = ⟪δ, J·dx⟫` on random probes, with `J·dx` from one
/// dual-number pass of `forward`. Applied to [`crate::ops::WrtParams`] it checks the parameter
/// rules; [`randomized_params`] checks inputs and parameters together in one pass.
pub fn randomized_jacobian<S, O>(op: &O, x: &Tensor<S>, seed: u64) -> Result<RandomizedProof<S>>
where
    S: ProbeScalar,
    O: OpSpec<S> + OpSpec<Dual<S>>,
{
    crate::scalar::with_kernel_cache(|| {
        let out = prepare(op, x, None, None)?;
        let mut probes = Probes::new(seed);
        let dx = probes.tensor::<S>(x.shape());
        let dy = probes.tensor::<S>(&out);
        let pass = |v: &Tensor<S>| -> Result<Tensor<S>> {
            let y = op.forward(&dual(x, v)?)?;
            super::expect_rule_shape(&y, &out, "forward over dual numbers")?;
            Ok(y.map(|d| d.eps.clone()))
        };
        let t = pass(&dx)?;
        let inputs = || {
            vec![
                ("x", x.to_string()),
                ("dx", dx.to_string()),
                ("δ", dy.to_string()),
                ("seed", seed.to_string()),
            ]
        };
        let jvp = op.jvp(x, &dx)?;
        super::expect_rule_shape(&jvp, &out, "jvp")?;
        agree("randomized: jvp(x, dx) = J·dx", &jvp, &t, &inputs())?;
        let vjp = op.vjp(x, &dy)?;
        super::expect_rule_shape(&vjp, x.shape(), "vjp")?;
        let lhs = dy.dot(&t)?;
        let rhs = vjp.dot(&dx)?;
        if lhs != rhs {
            let reference = |v: &Tensor<S>| dy.dot(&pass(v)?);
            let check = "randomized: vjp(x, δ) = Jᵀ·δ";
            let j = bisect(
                vjp.data(),
                dx.data(),
                &reference,
                x.shape(),
                (op.name(), check),
            )?;
            let at_j = reference(&Tensor::basis(x.shape(), j)?)?;
            return Err(violation(
                check,
                x.multi_index(j),
                &vjp.data()[j],
                &at_j,
                &inputs(),
            ));
        }
        Ok(RandomizedProof {
            seed,
            tangent: t,
            lhs,
            rhs,
            probes: dx.len() + dy.len(),
        })
    })
}

/// The JVP and VJP identities with respect to the input **and all parameters** at once: one
/// dual-number pass of [`OpSpec::forward_with_params`] at `(x + ε·dx, θ + ε·dθ)` gives
/// `t = J_x·dx + J_θ·dθ`; then `jvp(x, dx) + jvp_params(x, dθ) = t` and
/// `⟪vjp(x, δ), dx⟫ + ⟪vjp_params(x, δ), dθ⟫ = ⟪δ, t⟫`. Miss probability `< 2⁻⁶²` (module docs).
///
/// A failure names the rule (`jvp`, `jvp_params`, `vjp` or `vjp_params`) and the coordinate: an
/// output index for the forward rules, an input or parameter index for the reverse ones.
pub fn randomized_params<S, O>(op: &O, x: &Tensor<S>, seed: u64) -> Result<RandomizedProof<S>>
where
    S: ProbeScalar,
    O: OpSpec<S> + OpSpec<Dual<S>>,
{
    crate::scalar::with_kernel_cache(|| {
        let out = op.output_shape(x.shape())?;
        no_kinks(op, x)?;
        let theta: Tensor<S> = param_vector(op);
        let mut probes = Probes::new(seed);
        let dx = probes.tensor::<S>(x.shape());
        let dtheta = probes.tensor::<S>(theta.shape());
        let dy = probes.tensor::<S>(&out);
        let pass = |vx: &Tensor<S>, vt: &Tensor<S>| -> Result<Tensor<S>> {
            let y = op.forward_with_params(&dual(&theta, vt)?, &dual(x, vx)?)?;
            super::expect_rule_shape(&y, &out, "forward over dual numbers")?;
            Ok(y.map(|d| d.eps.clone()))
        };
        let t = pass(&dx, &dtheta)?;
        let inputs = || {
            vec![
                ("x", x.to_string()),
                ("seed", seed.to_string()),
                ("dx", dx.to_string()),
                ("δ", dy.to_string()),
            ]
        };

        let jvp_x = op.jvp(x, &dx)?;
        super::expect_rule_shape(&jvp_x, &out, "jvp")?;
        let jvp_t = op.jvp_params(x, &dtheta)?;
        super::expect_rule_shape(&jvp_t, &out, "jvp_params")?;
        if jvp_x.add(&jvp_t)? != t {
            // Which rule: compare each with its own reference pass.
            let zx = Tensor::zeros(x.shape());
            let zt = Tensor::zeros(theta.shape());
            agree(
                "randomized: jvp(x, dx) = J_x·dx",
                &jvp_x,
                &pass(&dx, &zt)?,
                &inputs(),
            )?;
            agree(
                "randomized: jvp_params(x, dθ) = J_θ·dθ",
                &jvp_t,
                &pass(&zx, &dtheta)?,
                &inputs(),
            )?;
            return Err(violation(
            "randomized: jvp(x, dx) + jvp_params(x, dθ) = t (a rule or the forward pass is not \
             linear in its tangent)",
            vec![],
            &jvp_x.add(&jvp_t)?.dot(&dy)?,
            &t.dot(&dy)?,
            &inputs(),
        ));
        }

        let vjp_x = op.vjp(x, &dy)?;
        super::expect_rule_shape(&vjp_x, x.shape(), "vjp")?;
        let vjp_t = op.vjp_params(x, &dy)?;
        super::expect_rule_shape(&vjp_t, theta.shape(), "vjp_params")?;
        let lhs = dy.dot(&t)?;
        let rhs = vjp_x.dot(&dx)?.add_ref(&vjp_t.dot(&dtheta)?);
        if lhs != rhs {
            let zx = Tensor::zeros(x.shape());
            let zt = Tensor::zeros(theta.shape());
            let on_x = |v: &Tensor<S>| dy.dot(&pass(v, &zt)?);
            let on_t = |v: &Tensor<S>| dy.dot(&pass(&zx, v)?);
            if vjp_x.dot(&dx)? != on_x(&dx)? {
                let check = "randomized: vjp(x, δ) = J_xᵀ·δ";
                let j = bisect(
                    vjp_x.data(),
                    dx.data(),
                    &on_x,
                    x.shape(),
                    (op.name(), check),
                )?;
                return Err(violation(
                    check,
                    x.multi_index(j),
                    &vjp_x.data()[j],
                    &on_x(&Tensor::basis(x.shape(), j)?)?,
                    &inputs(),
                ));
            }
            let check = "randomized: vjp_params(x, δ) = J_θᵀ·δ";
            let j = bisect(
                vjp_t.data(),
                dtheta.data(),
                &on_t,
                theta.shape(),
                (op.name(), check),
            )?;
            return Err(violation(
                check,
                vec![j],
                &vjp_t.data()[j],
                &on_t(&Tensor::basis(theta.shape(), j)?)?,
                &inputs(),
            ));
        }
        Ok(RandomizedProof {
            seed,
            tangent: t,
            lhs,
            rhs,
            probes: dx.len() + dtheta.len() + dy.len(),
        })
    })
}

/// `re + ε·tangent`, entry by entry.
fn dual<S: Scalar>(re: &Tensor<S>, tangent: &Tensor<S>) -> Result<Tensor<Dual<S>>> {
    re.zip_with(tangent, |a, b| Dual::new(a.clone(), b.clone()))
}

/// A coordinate `j` with `g_j ≠ reference(e_j)`, given that `⟪g, v⟫ ≠ reference(v)` for the
/// probe `v` and that `reference` is linear: halve the support of `v` while keeping a half on
/// which the two sides still differ (they differ on one half at least, by linearity).
/// [`Error::NotLinear`], naming `(op, check)`, when no coordinate is found: linearity fails.
fn bisect<S: Scalar>(
    g: &[S],
    v: &[S],
    reference: &dyn Fn(&Tensor<S>) -> Result<S>,
    shape: &[usize],
    (op, check): (String, &str),
) -> Result<usize> {
    let restricted = |lo: usize, hi: usize| -> Tensor<S> {
        let data = (0..v.len())
            .map(|k| {
                if (lo..hi).contains(&k) {
                    v[k].clone()
                } else {
                    S::zero()
                }
            })
            .collect();
        Tensor::new(shape.to_vec(), data).expect("same length as the probe")
    };
    let differs = |lo: usize, hi: usize| -> Result<bool> {
        let rule = S::dot(&g[lo..hi], &v[lo..hi]);
        Ok(rule != reference(&restricted(lo, hi))?)
    };
    let (mut lo, mut hi) = (0, v.len());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if differs(lo, mid)? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    if lo < v.len() && differs(lo, hi)? {
        Ok(lo)
    } else {
        Err(Error::NotLinear {
            op,
            check: check.into(),
        })
    }
}
