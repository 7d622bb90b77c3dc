//! Randomized exact checks: the adjoint and Jacobian identities verified on random integer
//! probes (Freivalds' technique, with the Schwartz–Zippel lemma as its bound), in exact
//! arithmetic, at the cost of a few rule calls and **one** dual-number forward pass — instead of
//! one pass per input coordinate, as [`super::reference_jacobian`] needs.
//!
//! # What is checked, and the bound
//! Probes `dx`, `dθ`, `δ` have independent entries drawn uniformly from the integers
//! `[−2⁶³, 2⁶³)` (a set of size `2⁶⁴`, both signs). The linearity test below calls every rule
//! again at a second probe whose entries have the signs opposite to the first's (magnitudes
//! drawn afresh), so a rule that goes wrong only for negative (or only for positive) tangents or
//! cotangents in some coordinate is called on its wrong side whatever the seed. Right on one
//! side and wrong on the other, it is not linear and fails that test; the identities are then
//! checked at the second probe too, and name the coordinate. The reference tangent
//! `t = J_x·dx + J_θ·dθ` is the tangent part of one forward pass over [`Dual`] numbers at
//! `(x + ε·dx, θ + ε·dθ)`; it never calls the rules under test. Then
//! * **JVP identity**: `jvp(x, dx) + jvp_θ(x, dθ) = t`, entry by entry;
//! * **VJP identity** (Freivalds): `⟪vjp(x, δ), dx⟫ + ⟪vjp_θ(x, δ), dθ⟫ = ⟪δ, t⟫`.
//!
//! Every comparison is an equality of exact values, so a reported failure is certain (no false
//! alarm) and comes with an exact counterexample. A wrong rule can only slip through if the
//! probes are a root of a non-zero polynomial.
//!
//! **Assumption behind the bound: the rules are linear in the tangent and in the cotangent**
//! (every JVP/VJP is meant to be). Then `(R − J)·v` has degree 1 and `δᵀ(J − G)v` degree 2, so by
//! Schwartz–Zippel the probability of missing a wrong rule is at most
//! `1/2⁶⁴ + 2/2⁶⁴ < 2⁻⁶²` ([`MISS_PROBABILITY_LOG2`]) — for a wrong rule of any size, down to a
//! single differing entry. A rule of polynomial degree `d` in its tangent is missed with
//! probability at most `(2d + 1)/2⁶⁴`. A rule that is not a polynomial in its tangent (one that
//! branches on the tangent's sign or size) is outside the argument, so each check also tests the
//! assumption: [`crate::check::linear_in_tangent`] and [`crate::check::linear_in_cotangent`]
//! (for the parameter rules too) at `a·v + b·v₂`, with `v` the identities' probe, `v₂` the
//! sign-opposed second probe and random signed fractional coefficients `a = p/q`, `b`. A rule
//! caught there fails with that structural counterexample, unless the identities at `v₂` fail
//! first. This is a test of linearity at one random combination, not a proof of it: a rule
//! nonlinear only where no probe lands (beyond `2⁶³`, say) can still pass, and then the bound
//! says nothing about it. The probability is over the probes, i.e. over a seed drawn at random
//! after the rule is fixed (a fixed seed in a test suite gives a reproducible
//! check; draw a fresh one, e.g. from the clock, for the bound to apply to each run).
//!
//! On a failure the checks locate a coordinate exactly: which rule (inputs or parameters), and,
//! for a VJP, which entry of the gradient, by bisection on the probe's support (each step one
//! dual pass, so `O(log n)` passes). The point must not be on a kink ([`crate::Error::Kink`]).
//!
//! Within one check the packed (denominator-cleared) form of each weight matrix is computed once
//! and shared by the forward pass, the dual pass and the rules (the kernels' pack cache).

use super::structural::{linear_in_cotangent_given, linear_in_tangent_given};
use super::{adjoint, agree, no_kinks, prepare, violation};
use crate::error::{Error, Result};
use crate::error::{Short, ShortTensor};
use crate::ops::{param_vector, Op, OpSpec, Param};
use crate::scalar::{Dual, ModP, Scalar, Q};
use crate::tensor::Tensor;
use num_bigint::BigInt;
use rand::rngs::ChaCha8Rng;
use rand::{Rng, SeedableRng};
use std::fmt;

/// `log₂` of the bound on the probability that a randomized check passes a wrong rule, assuming
/// the rules are linear in their tangent and cotangent (tested by each check, see the module
/// docs): `3/2⁶⁴ < 2⁻⁶²`.
pub const MISS_PROBABILITY_LOG2: i32 = -62;

/// A scalar that holds every 64-bit integer exactly (the probes are drawn from `[−2⁶³, 2⁶³)`).
pub trait ProbeScalar: Scalar {
    /// The integer `n`.
    fn from_u64(n: u64) -> Self;
    /// The probe entries `ns` ([`crate::Ring::from_i64_slice`] unless the scalar tracks probes
    /// differently: [`ModP`] gives them no float enclosure, since no correct rule branches on a
    /// tangent or cotangent).
    fn probe_entries(ns: &[i64]) -> Vec<Self> {
        Self::from_i64_slice(ns)
    }
}

impl ProbeScalar for Q {
    fn from_u64(n: u64) -> Self {
        Q::from_integer(BigInt::from(n))
    }
}

impl ProbeScalar for ModP {
    fn from_u64(n: u64) -> Self {
        ModP::from_u64(n)
    }
    fn probe_entries(ns: &[i64]) -> Vec<Self> {
        ModP::untracked_integers(ns)
    }
}

impl<S: ProbeScalar> ProbeScalar for Dual<S> {
    fn from_u64(n: u64) -> Self {
        Dual::constant(S::from_u64(n))
    }
}

/// Random integer probes in `[−2⁶³, 2⁶³)`, reproducible from a seed.
struct Probes(ChaCha8Rng);

impl Probes {
    fn new(seed: u64) -> Probes {
        Probes(ChaCha8Rng::seed_from_u64(seed))
    }
    fn entry<S: ProbeScalar>(&mut self) -> S {
        // The bits reinterpreted as two's complement: uniform on [−2⁶³, 2⁶³).
        S::from_i64(self.0.next_u64() as i64)
    }
    /// A probe. [`Error::SizeOverflow`] for a shape no tensor can have (an op declaring an
    /// absurd output shape), before anything is drawn.
    fn signed<S: ProbeScalar>(&mut self, shape: &[usize]) -> Result<Signed<S>> {
        // The bits reinterpreted as two's complement: uniform on [−2⁶³, 2⁶³).
        let drawn = Tensor::<i64>::from_fn(shape, |_| self.0.next_u64() as i64)?;
        let probe = Tensor::new(shape.to_vec(), S::probe_entries(drawn.data()))?;
        Ok(Signed { probe, drawn })
    }
    /// A fresh probe whose every entry has the sign opposite to `first`'s (a zero of `first`
    /// gets a negative entry): magnitudes uniform in `[0, 2⁶³)`.
    fn opposed<S: ProbeScalar>(&mut self, first: &Signed<S>) -> Result<Tensor<S>> {
        let drawn = first.drawn.data();
        let second: Vec<i64> = drawn
            .iter()
            .map(|&n| {
                let magnitude = (self.0.next_u64() >> 1) as i64;
                if n < 0 {
                    magnitude
                } else {
                    -magnitude
                }
            })
            .collect();
        Tensor::new(first.probe.shape().to_vec(), S::probe_entries(&second))
    }
    /// `p/q` with `p` a signed probe and `q ∈ [2, 2³² + 1]`: rarely an integer, so a rule that
    /// is right only on integer tangents (the probe set) is met off it.
    fn fraction<S: ProbeScalar>(&mut self) -> S {
        let q = S::from_i64(i64::from(self.0.next_u32()) + 2);
        self.entry::<S>().checked_div(&q).expect("q ≥ 2")
    }
}

/// A probe and the integers it was drawn as, from whose signs [`Probes::opposed`] draws its
/// second.
struct Signed<S> {
    probe: Tensor<S>,
    drawn: Tensor<i64>,
}

/// The rules' values at the identities' probes: `jvp(x, dx)` and `vjp(x, δ)`.
struct AtProbes<'a, S> {
    dx: &'a Tensor<S>,
    jvp: &'a Tensor<S>,
    dy: &'a Tensor<S>,
    vjp: &'a Tensor<S>,
}

/// The assumption behind the bound, tested at `a·v₁ + b·v₂` with random signed fractions `a`,
/// `b`: `jvp` linear in the tangent and `vjp` in the cotangent. `v₁` is the identities' probe,
/// whose rule values are known already; `v₂ = [dx₂, δ₂]` is fresh, of the opposite sign in
/// every entry ([`Probes::opposed`]).
fn linearity<S, O>(
    op: &O,
    x: &Tensor<S>,
    at: AtProbes<'_, S>,
    [dx2, dy2]: [&Tensor<S>; 2],
    probes: &mut Probes,
) -> Result<()>
where
    S: ProbeScalar,
    O: OpSpec<S> + ?Sized,
{
    let (a, b) = (probes.fraction::<S>(), probes.fraction::<S>());
    linear_in_tangent_given(op, x, [at.dx, dx2], [&a, &b], Some(at.jvp))?;
    linear_in_cotangent_given(op, x, [at.dy, dy2], [&a, &b], Some(at.vjp))
}

/// `θ ↦ f_θ(x)` at the op's own `θ`, for any probe scalar: its rules are the op's parameter
/// rules, so the structural checks apply to them unchanged.
struct ParamRules<'a, S, O: ?Sized> {
    op: &'a O,
    x: &'a Tensor<S>,
}

impl<S, O: Op + ?Sized> Op for ParamRules<'_, S, O> {
    fn name(&self) -> String {
        format!("{} w.r.t. parameters", self.op.name())
    }
    fn output_shape(&self, _params: &[usize]) -> Result<Vec<usize>> {
        self.op.output_shape(self.x.shape())
    }
}

impl<S: Scalar, O: OpSpec<S> + ?Sized> OpSpec<S> for ParamRules<'_, S, O> {
    fn forward(&self, params: &Tensor<S>) -> Result<Tensor<S>> {
        self.op.forward_with_params(params, self.x)
    }
    fn jvp(&self, _params: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        self.op.jvp_params(self.x, dparams)
    }
    fn vjp(&self, _params: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        self.op.vjp_params(self.x, dy)
    }
}

/// The values a randomized check computed: enough to re-run it (the seed) and to see the
/// identities hold.
#[derive(Clone, PartialEq)]
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

crate::error::debug_with_fractions!(RandomizedProof<S> {
    seed,
    tangent,
    lhs,
    rhs,
    probes
});

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
        let dx = probes.signed::<S>(x.shape())?;
        let dy = probes.signed::<S>(&out)?;
        let once = |dx: &Tensor<S>, dy: &Tensor<S>| -> Result<(Tensor<S>, Tensor<S>, S, S)> {
            let jvp = op.jvp(x, dx)?;
            let vjp = op.vjp(x, dy)?;
            super::expect_rule_shape(&jvp, &out, "jvp")?;
            super::expect_rule_shape(&vjp, x.shape(), "vjp")?;
            let (lhs, rhs) = (jvp.dot(dy)?, dx.dot(&vjp)?);
            if lhs != rhs {
                // The deterministic check locates the disagreeing Jacobian entry on the same
                // probes.
                adjoint(op, x, dx, dy)?;
                return Err(violation(
                    "randomized adjoint: ⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫ (the rules are not \
                     deterministic)",
                    vec![],
                    &rhs,
                    &lhs,
                    &[("seed", seed.to_string())],
                ));
            }
            Ok((jvp, vjp, lhs, rhs))
        };
        let (jvp, vjp, lhs, rhs) = once(&dx.probe, &dy.probe)?;
        let (dx2, dy2) = (probes.opposed(&dx)?, probes.opposed(&dy)?);
        let at = AtProbes {
            dx: &dx.probe,
            jvp: &jvp,
            dy: &dy.probe,
            vjp: &vjp,
        };
        if let Err(error) = linearity(op, x, at, [&dx2, &dy2], &mut probes) {
            // A rule wrong only on the second probes' side: the identity there says where.
            once(&dx2, &dy2)?;
            return Err(error);
        }
        let (dx, dy) = (dx.probe, dy.probe);
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
        let dx = probes.signed::<S>(x.shape())?;
        let dy = probes.signed::<S>(&out)?;
        let pass = |v: &Tensor<S>| -> Result<Tensor<S>> {
            let y = op.forward(&dual(x, v)?)?;
            super::expect_rule_shape(&y, &out, "forward over dual numbers")?;
            Ok(y.map(|d| d.eps.clone()))
        };
        let t = pass(&dx.probe)?;
        // The identities at (dx, δ, t).
        let identities =
            |dx: &Tensor<S>, dy: &Tensor<S>, t: &Tensor<S>| -> Result<(S, Tensor<S>, Tensor<S>)> {
                let inputs = || {
                    vec![
                        ("x", x.to_string()),
                        ("dx", dx.to_string()),
                        ("δ", dy.to_string()),
                        ("seed", seed.to_string()),
                    ]
                };
                let jvp = op.jvp(x, dx)?;
                super::expect_rule_shape(&jvp, &out, "jvp")?;
                // The inputs are printed only for a report: not on the passing path.
                if jvp != *t {
                    agree("randomized: jvp(x, dx) = J·dx", &jvp, t, &inputs)?;
                }
                let vjp = op.vjp(x, dy)?;
                super::expect_rule_shape(&vjp, x.shape(), "vjp")?;
                let lhs = dy.dot(t)?;
                let rhs = vjp.dot(dx)?;
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
                Ok((lhs, jvp, vjp))
            };
        let (lhs, jvp, vjp) = identities(&dx.probe, &dy.probe, &t)?;
        let (dx2, dy2) = (probes.opposed(&dx)?, probes.opposed(&dy)?);
        let at = AtProbes {
            dx: &dx.probe,
            jvp: &jvp,
            dy: &dy.probe,
            vjp: &vjp,
        };
        if let Err(error) = linearity(op, x, at, [&dx2, &dy2], &mut probes) {
            // A rule wrong only on the second probes' side: the identities there locate it.
            identities(&dx2, &dy2, &pass(&dx2)?)?;
            return Err(error);
        }
        let (dx, dy) = (dx.probe, dy.probe);
        Ok(RandomizedProof {
            seed,
            tangent: t,
            rhs: lhs.clone(),
            lhs,
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
        let dx = probes.signed::<S>(x.shape())?;
        let dtheta = probes.signed::<S>(theta.shape())?;
        let dy = probes.signed::<S>(&out)?;
        let pass = |vx: &Tensor<S>, vt: &Tensor<S>| -> Result<Tensor<S>> {
            let y = op.forward_with_params(&dual(&theta, vt)?, &dual(x, vx)?)?;
            super::expect_rule_shape(&y, &out, "forward over dual numbers")?;
            Ok(y.map(|d| d.eps.clone()))
        };
        let t = pass(&dx.probe, &dtheta.probe)?;
        // The identities at (dx, dθ, δ, t).
        let identities = |dx: &Tensor<S>,
                          dtheta: &Tensor<S>,
                          dy: &Tensor<S>,
                          t: &Tensor<S>|
         -> Result<Values<S>> {
            let inputs = || {
                vec![
                    ("x", x.to_string()),
                    ("seed", seed.to_string()),
                    ("dx", dx.to_string()),
                    ("δ", dy.to_string()),
                ]
            };

            let jvp_x = op.jvp(x, dx)?;
            super::expect_rule_shape(&jvp_x, &out, "jvp")?;
            let jvp_t = op.jvp_params(x, dtheta)?;
            super::expect_rule_shape(&jvp_t, &out, "jvp_params")?;
            if jvp_x.add(&jvp_t)? != *t {
                // Which rule: compare each with its own reference pass.
                let zx = x.zeros_like();
                let zt = theta.zeros_like();
                agree(
                    "randomized: jvp(x, dx) = J_x·dx",
                    &jvp_x,
                    &pass(dx, &zt)?,
                    &inputs,
                )?;
                agree(
                    "randomized: jvp_params(x, dθ) = J_θ·dθ",
                    &jvp_t,
                    &pass(&zx, dtheta)?,
                    &inputs,
                )?;
                return Err(violation(
                "randomized: jvp(x, dx) + jvp_params(x, dθ) = t (a rule or the forward pass is not \
                 linear in its tangent)",
                vec![],
                &jvp_x.add(&jvp_t)?.dot(dy)?,
                &t.dot(dy)?,
                &inputs(),
            ));
            }

            let vjp_x = op.vjp(x, dy)?;
            super::expect_rule_shape(&vjp_x, x.shape(), "vjp")?;
            let vjp_t = op.vjp_params(x, dy)?;
            super::expect_rule_shape(&vjp_t, theta.shape(), "vjp_params")?;
            let lhs = dy.dot(t)?;
            let rhs = vjp_x.dot(dx)?.add_ref(&vjp_t.dot(dtheta)?);
            if lhs != rhs {
                let zx = x.zeros_like();
                let zt = theta.zeros_like();
                let on_x = |v: &Tensor<S>| dy.dot(&pass(v, &zt)?);
                let on_t = |v: &Tensor<S>| dy.dot(&pass(&zx, v)?);
                if vjp_x.dot(dx)? != on_x(dx)? {
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
                let mut error = violation(
                    check,
                    vec![j],
                    &vjp_t.data()[j],
                    &on_t(&Tensor::basis(theta.shape(), j)?)?,
                    &inputs(),
                );
                // The coordinate is an index into the flat parameter vector: name the
                // parameter it is, as the suite does.
                if let Error::Violated(c) = &mut error {
                    c.parameter = Param::name_flat(&op.params(), j);
                }
                return Err(error);
            }
            Ok(Values {
                lhs,
                rhs,
                rules: [jvp_x, vjp_x, jvp_t, vjp_t],
            })
        };
        let Values { lhs, rhs, rules } = identities(&dx.probe, &dtheta.probe, &dy.probe, &t)?;
        let [jvp_x, vjp_x, jvp_t, vjp_t] = &rules;
        let dx2 = probes.opposed(&dx)?;
        let dtheta2 = probes.opposed(&dtheta)?;
        let dy2 = probes.opposed(&dy)?;
        let at_x = AtProbes {
            dx: &dx.probe,
            jvp: jvp_x,
            dy: &dy.probe,
            vjp: vjp_x,
        };
        let at_theta = AtProbes {
            dx: &dtheta.probe,
            jvp: jvp_t,
            dy: &dy.probe,
            vjp: vjp_t,
        };
        let linear = linearity(op, x, at_x, [&dx2, &dy2], &mut probes).and_then(|()| {
            let rules = ParamRules { op, x };
            linearity(&rules, &theta, at_theta, [&dtheta2, &dy2], &mut probes)
        });
        if let Err(error) = linear {
            // A rule wrong only on the second probes' side: the identities there locate it.
            identities(&dx2, &dtheta2, &dy2, &pass(&dx2, &dtheta2)?)?;
            return Err(error);
        }
        let (dx, dtheta, dy) = (dx.probe, dtheta.probe, dy.probe);
        Ok(RandomizedProof {
            seed,
            tangent: t,
            lhs,
            rhs,
            probes: dx.len() + dtheta.len() + dy.len(),
        })
    })
}

/// What [`randomized_params`]' identities computed: both sides of the VJP identity, and the
/// rules' values `jvp(x, dx)`, `vjp(x, δ)`, `jvp_params(x, dθ)`, `vjp_params(x, δ)`.
struct Values<S> {
    lhs: S,
    rhs: S,
    rules: [Tensor<S>; 4],
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

impl<S: fmt::Display> fmt::Display for RandomizedProof<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "randomized: the JVP and VJP identities hold exactly on {} random probe coordinates \
             (seed {}; a wrong linear rule passes with probability < 2^{})",
            self.probes, self.seed, MISS_PROBABILITY_LOG2
        )?;
        writeln!(
            f,
            "  ⟪δ, t⟫ = {} = the rules' side {}",
            Short(&self.lhs),
            Short(&self.rhs)
        )?;
        write!(f, "  t = {}", ShortTensor(&self.tangent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::{parse_q, pow2, Ring};

    #[test]
    fn the_miss_bound_is_the_least_power_of_two_above_3_over_2_pow_64() {
        // 1/2⁶⁴ + 2/2⁶⁴ (module docs): below 2^MISS_PROBABILITY_LOG2, and not below half of it.
        let bound = Q::from_i64(3) * pow2(-64);
        assert!(bound < pow2(MISS_PROBABILITY_LOG2.into()));
        assert!(bound >= pow2((MISS_PROBABILITY_LOG2 - 1).into()));
    }

    #[test]
    fn from_u64_holds_every_64_bit_integer_exactly() {
        let max = parse_q("18446744073709551615").unwrap();
        assert_eq!(<Q as ProbeScalar>::from_u64(u64::MAX), max);
        assert_eq!(<Q as ProbeScalar>::from_u64(7), Q::from_i64(7));
        assert_eq!(<Q as ProbeScalar>::from_u64(0), Q::from_i64(0));
        let d = <Dual<Q> as ProbeScalar>::from_u64(u64::MAX);
        assert_eq!((d.re, d.eps), (max, Q::from_i64(0)));
    }

    /// `fraction` is the next signed probe over `q = n + 2`, `n` a 32-bit draw taken first: `q`
    /// in `[2, 2³² + 1]` (never 0, which would panic, nor 1, which would make it an integer),
    /// reproducible from the seed.
    #[test]
    fn a_fraction_is_a_signed_probe_over_a_denominator_from_2_to_2_pow_32_plus_1() {
        for seed in 0..64 {
            let mut stream = ChaCha8Rng::seed_from_u64(seed);
            let n = stream.next_u32();
            let p = stream.next_u64() as i64;
            let q = Q::from_i64(i64::from(n) + 2);
            assert_eq!(
                Probes::new(seed).fraction::<Q>(),
                Q::from_i64(p) / q,
                "seed {seed}"
            );
        }
    }

    /// `bisect` assumes a linear reference; when none of the coordinates it narrows to differs
    /// (a reference that is not linear), it says so instead of naming one, and on an empty probe
    /// it never names coordinate 0 of nothing.
    #[test]
    fn bisect_names_no_coordinate_when_the_reference_is_not_linear() {
        let one = Q::from_i64(1);
        let (g, v) = (vec![one.clone(); 2], vec![one.clone(); 2]);
        // ⟪g, w⟫, plus 1 when no entry of w is 0: differs from the rule at v, at no e_j.
        let reference = |w: &Tensor<Q>| -> Result<Q> {
            let dot = <Q as Ring>::dot(&g, w.data());
            Ok(if w.data().iter().all(|e| *e != Q::from_i64(0)) {
                dot + Q::from_i64(1)
            } else {
                dot
            })
        };
        let not_linear = Error::NotLinear {
            op: "op".into(),
            check: "check".into(),
        };
        let r = bisect(&g, &v, &reference, &[2], ("op".into(), "check"));
        assert_eq!(r.unwrap_err(), not_linear);
        let constant = |_: &Tensor<Q>| -> Result<Q> { Ok(Q::from_i64(1)) };
        let r = bisect(&[], &[], &constant, &[0], ("op".into(), "check"));
        assert_eq!(r.unwrap_err(), not_linear);
    }
}
