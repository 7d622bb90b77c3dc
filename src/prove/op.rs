//! `prove_op`: an op's rules checked as polynomial identities over [`Sym`], once, for every
//! input (and optionally every weight) of given dimensions.

use super::certificate::{Certificate, SymbolCounts, Weights};
use super::failure::{find_point, Point, ProofFailure};
use super::Provable;
use crate::check::{adjoint, jacobian};
use crate::error::{Error, Result};
use crate::ops::{param_vector, Op, OpSpec, Param, WrtParams};
use crate::scalar::symbols::{self, Refusal};
use crate::scalar::{Dual, Field, Ring, Sym, Var, Q};
use crate::tensor::Tensor;
use num_traits::Zero;
use std::collections::HashMap;
use std::time::Instant;

/// Settings of a proof: the search for a counterexample point when an identity fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProveConfig {
    /// Seed of the point search.
    pub seed: u64,
    /// How many random points to try before giving up ([`Error::NotProved`]).
    pub tries: usize,
    /// The time and memory a proof of the MLP theorems may take
    /// ([`crate::budget::proof_estimate`]); past it the proof is refused before it starts with
    /// [`Error::OverBudget`].
    pub budget: crate::Budget,
}

impl Default for ProveConfig {
    fn default() -> Self {
        ProveConfig {
            seed: 0,
            tries: 512,
            budget: crate::Budget::default(),
        }
    }
}

/// Proves, for every input of shape `shape` at the op's own weights, that
/// `jvp(x, dx) = Df(x)·dx`, `vjp(x, δ) = Df(x)ᵀ·δ` and `⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫` as
/// polynomial identities in `x`, `dx`, `δ` and the masks of the guards, with `Df` by forward
/// mode over dual numbers of [`Sym`] (never the rule under test); for an op with parameters,
/// the same three identities for its parameter rules.
///
/// Off the kinks every mask is 0 or 1, so the proof covers every activation pattern. A false
/// identity is [`Error::ProofFailed`] with the first differing coordinate, a monomial of the
/// difference, and a rational point consistent with the guards where the point checks fail too;
/// [`Error::NotProved`] if no such point is found. An op that branches with `if` on a symbolic
/// value is [`Error::BranchOnSymbol`].
///
/// ```
/// use exactgrad::ops::Relu;
/// use exactgrad::prove::prove_op;
///
/// let certificate = prove_op(&Relu, &[3]).unwrap();
/// assert_eq!(certificate.symbols.masks, 3);
/// println!("{certificate}");
/// ```
pub fn prove_op<O: Provable + ?Sized>(op: &O, shape: &[usize]) -> Result<Certificate> {
    prove_op_with(op, shape, &ProveConfig::default())
}

/// [`prove_op`] with explicit settings.
pub fn prove_op_with<O: Provable + ?Sized>(
    op: &O,
    shape: &[usize],
    config: &ProveConfig,
) -> Result<Certificate> {
    symbols::scoped(|| {
        let start = Instant::now();
        let run = Run::new(op, shape, Weights::AsGiven)?;
        match run.prove(op, Tally::default())? {
            Ok((tally, _)) => Ok(run.certificate(op, tally, start)),
            Err(diff) => {
                let rule = diff.rule;
                Err(run.fail(op, diff, &HashMap::new(), config, |point| {
                    run.recheck(op, rule, point)
                }))
            }
        }
    })
}

/// [`prove_op`] with every weight and bias a symbol too: the proof holds for every input and
/// every weight of these dimensions.
///
/// `rebuild` makes the op from parameter tensors shaped like `op`'s ([`Op::params`], in
/// order) and must store them unchanged: it is called once with markers that stand for the
/// weight symbols, and again with the weights of a counterexample point. An op that computes
/// constants from its weights in `Q` (outside the scalar) is refused with
/// [`Error::WeightsOutsideScalar`] rather than proved wrongly.
///
/// The weights must reach the rules through the scalar (`lift`, `from_q`), as every op in the
/// crate does. A *comparison* of stored weights in `Q` (`if w > 0` on a `Q` value) cannot be
/// seen: the markers are tiny positive numbers, so such an op would be proved only for the
/// weights on the side the markers take. Compare through the scalar ([`crate::Ordered::select`])
/// instead.
pub fn prove_op_for_all_weights<O, F>(
    op: &O,
    rebuild: F,
    shape: &[usize],
    config: &ProveConfig,
) -> Result<Certificate>
where
    O: Provable,
    F: Fn(&[Tensor<Q>]) -> Result<O>,
{
    prove_all_weights(op, rebuild, shape, config, None)
}

/// A closed form of the derivative (`mlpDeriv`) to prove equal to `Df` and to the backward rule,
/// beside the op's own identities.
pub(crate) struct ClosedForm<'a, O> {
    /// What the closed form is called in the statement, e.g. `"mlpDeriv(x)"`.
    pub name: &'static str,
    /// The closed form at `x`, an `[out, in]` matrix.
    pub deriv: &'a DerivFn<O>,
    /// The point check of the same statement at `(x, δ)` (the theorem over `Q`).
    pub recheck: &'a TheoremFn<O>,
}

/// A closed-form derivative of `O` at a symbolic point.
pub(crate) type DerivFn<O> = dyn Fn(&O, &Tensor<Sym>) -> Result<Tensor<Sym>>;
/// A theorem of `O` checked at an exact point `(x, δ)`.
pub(crate) type TheoremFn<O> = dyn Fn(&O, &Tensor<Q>, &Tensor<Q>) -> Result<()>;

/// [`prove_op_for_all_weights`], and the closed form's identities when one is given.
pub(crate) fn prove_all_weights<O, F>(
    op: &O,
    rebuild: F,
    shape: &[usize],
    config: &ProveConfig,
    closed: Option<&ClosedForm<'_, O>>,
) -> Result<Certificate>
where
    O: Provable,
    F: Fn(&[Tensor<Q>]) -> Result<O>,
{
    symbols::scoped(|| {
        let start = Instant::now();
        let shapes: Vec<(Vec<usize>, String)> = op
            .params()
            .iter()
            .map(|p| (p.value.shape().to_vec(), symbol_prefix(p)))
            .collect();
        let markers: Vec<Tensor<Q>> = shapes
            .iter()
            .map(|(shape, prefix)| {
                let template = Tensor::<Q>::zeros(shape)?;
                let data = (0..template.len())
                    .map(|k| {
                        let at = template.multi_index(k);
                        symbols::marker(format!("{prefix}{}", index(&at))).0
                    })
                    .collect();
                Tensor::new(shape.clone(), data)
            })
            .collect::<Result<_>>()?;
        let symbolic = rebuild(&markers)?;
        let flat: Vec<Q> = markers.iter().flat_map(|t| t.data().to_vec()).collect();
        if param_vector::<Q, _>(&symbolic).data() != flat.as_slice() {
            return Err(Error::InvalidArgument {
                op: op.name(),
                argument: "rebuild".into(),
                value: "a closure that changed or reordered them".into(),
                requirement: "store the parameter tensors it is given, unchanged and in order"
                    .into(),
            });
        }
        let run = Run::new(&symbolic, shape, Weights::Symbolic)?;
        let outcome = match (run.prove(&symbolic, Tally::default())?, closed) {
            (Err(d), _) => Err(d),
            (Ok((tally, _)), None) => Ok((tally, Vec::new())),
            (Ok((tally, evaluated)), Some(c)) => {
                run.closed_form(&symbolic, c, tally, &evaluated)?
            }
        };
        match outcome {
            Ok((tally, extra)) => {
                let mut certificate = run.certificate(&symbolic, tally, start);
                certificate.statement.extend(extra);
                Ok(certificate)
            }
            Err(diff) => {
                let rule = diff.rule;
                Err(run.fail(&symbolic, diff, &HashMap::new(), config, |point| {
                    let weights: Vec<Tensor<Q>> = markers
                        .iter()
                        .map(|t| {
                            let data = t
                                .data()
                                .iter()
                                .map(|m| point.eval(&Sym::from_q(m)).expect("a weight is a symbol"))
                                .collect();
                            Tensor::new(t.shape().to_vec(), data)
                        })
                        .collect::<Result<_>>()?;
                    let at = rebuild(&weights)?;
                    match (rule, closed) {
                        (Rule::ClosedJacobian | Rule::ClosedBackward, Some(c)) => {
                            let (x, dy) =
                                (run.at(&at, &run.x, point)?, run.at(&at, &run.dy, point)?);
                            match (c.recheck)(&at, &x, &dy) {
                                Ok(()) => Ok(None),
                                Err(Error::Violated(c)) => Ok(Some(*c)),
                                Err(e) => Err(e),
                            }
                        }
                        _ => run.recheck(&at, rule, point),
                    }
                }))
            }
        }
    })
}

/// `"weight1"` for the weight of layer 1: a symbol name short enough to read in a polynomial.
fn symbol_prefix(p: &Param<'_>) -> String {
    format!("{}{}", p.tensor, p.layer)
}

/// `[0,1]` for a multi-index.
fn index(at: &[usize]) -> String {
    let parts: Vec<String> = at.iter().map(usize::to_string).collect();
    format!("[{}]", parts.join(","))
}

/// A tensor of fresh symbols named `name[i,j]`.
fn symbols_named(name: &str, shape: &[usize]) -> Result<(Tensor<Sym>, Vec<Var>)> {
    let template = Tensor::<Q>::zeros(shape)?;
    let vars: Vec<Var> = (0..template.len())
        .map(|k| symbols::fresh(format!("{name}{}", index(&template.multi_index(k)))))
        .collect();
    let t = Tensor::new(
        shape.to_vec(),
        vars.iter().map(|&v| Sym::symbol(v)).collect(),
    )?;
    Ok((t, vars))
}

/// Which side of the contract an identity is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    Jvp,
    Vjp,
    Adjoint,
    JvpParams,
    VjpParams,
    AdjointParams,
    ClosedJacobian,
    ClosedBackward,
}

impl Rule {
    pub(crate) fn identity(self) -> &'static str {
        match self {
            Rule::Jvp => "jvp(x, dx) = Df(x)·dx",
            Rule::Vjp => "vjp(x, δ) = Df(x)ᵀ·δ",
            Rule::Adjoint => "⟪jvp(x, dx), δ⟫ = ⟪dx, vjp(x, δ)⟫",
            Rule::JvpParams => "jvp_params(x, dθ) = ∂f/∂θ·dθ",
            Rule::VjpParams => "vjp_params(x, δ) = (∂f/∂θ)ᵀ·δ",
            Rule::AdjointParams => "⟪jvp_params(x, dθ), δ⟫ = ⟪dθ, vjp_params(x, δ)⟫",
            Rule::ClosedJacobian => "the closed form times dx = Df(x)·dx",
            Rule::ClosedBackward => "vjp(x, δ) = (the closed form)ᵀ·δ",
        }
    }
}

/// The first identity found false: which, where, and the difference.
pub(crate) struct Difference {
    pub(crate) rule: Rule,
    pub(crate) coordinate: String,
    pub(crate) diff: Sym,
}

/// The derivative applied to the tangent and the VJP, kept for the closed form's identities.
pub(crate) struct Evaluated {
    df_dx: Tensor<Sym>,
    vjp: Tensor<Sym>,
}

/// What the comparisons counted, and in collecting mode every difference found.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) coordinates: usize,
    monomials: usize,
    largest: usize,
    /// `Some` to go on past differences, collecting them (for proofs region by region).
    pub(crate) collected: Option<Vec<Difference>>,
}

impl Tally {
    /// A tally that collects every difference instead of stopping at the first.
    pub(crate) fn collecting() -> Self {
        Tally {
            collected: Some(Vec::new()),
            ..Tally::default()
        }
    }

    /// Compares the rule's value with the reference at `coordinate`; the difference when they
    /// are not identical (collected instead when collecting).
    fn compare(
        &mut self,
        rule: Rule,
        coordinate: impl FnOnce() -> String,
        got: &Sym,
        reference: &Sym,
    ) -> Option<Difference> {
        self.coordinates += 1;
        let (a, b) = (got.term_count(), reference.term_count());
        self.monomials += a + b;
        self.largest = self.largest.max(a).max(b);
        let diff = got.sub_ref(reference);
        if diff.is_zero() {
            return None;
        }
        let d = Difference {
            rule,
            coordinate: coordinate(),
            diff,
        };
        match &mut self.collected {
            Some(all) => {
                all.push(d);
                None
            }
            None => Some(d),
        }
    }
}

/// The symbols of one proof.
pub(crate) struct Run {
    shape: Vec<usize>,
    out_shape: Vec<usize>,
    weights: Weights,
    x: Tensor<Sym>,
    /// The input symbols, in `x`'s order.
    pub(crate) x_vars: Vec<Var>,
    dx: (Tensor<Sym>, Vec<Var>),
    dy: Tensor<Sym>,
    /// `(θ, dθ)` for an op with parameters.
    params: Option<(Tensor<Sym>, Tensor<Sym>, Vec<Var>)>,
}

/// The refusal recorded by `rule` of `op`, as the crate's error.
fn refused<O: Op + ?Sized>(op: &O, rule: &'static str) -> Result<()> {
    match symbols::take_refusals().into_iter().next() {
        None => Ok(()),
        Some(Refusal::Branched { value }) => Err(Error::BranchOnSymbol {
            op: op.name(),
            rule,
            value,
        }),
        Some(Refusal::DerivedFromWeights { value }) => Err(Error::WeightsOutsideScalar {
            op: op.name(),
            rule,
            value,
        }),
    }
}

/// Calls `f` (rule `rule` of `op`) and turns a recorded refusal into an error.
fn call<O: Op + ?Sized, T>(op: &O, rule: &'static str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    refused(op, "setup")?;
    let out = f();
    refused(op, rule)?;
    out
}

fn dual(x: &Tensor<Sym>, dx: &Tensor<Sym>) -> Result<Tensor<Dual<Sym>>> {
    x.zip_with(dx, |a, b| Dual {
        re: a.clone(),
        eps: b.clone(),
    })
}

fn pairing(a: &Tensor<Sym>, b: &Tensor<Sym>) -> Sym {
    Sym::dot(a.data(), b.data())
}

/// `∂⟪δ, T⟫/∂vᵢ` for each direction symbol `vᵢ` of a form linear in them: the transpose of the
/// derivative applied to `δ`, read off the pairing without forming the matrix.
fn transpose_applied(pair: &Sym, directions: &[Var]) -> Vec<Sym> {
    let den = Sym::poly(pair.denom().clone());
    pair.numer()
        .coefficients_of(directions)
        .into_iter()
        .map(|c| {
            Sym::poly(c)
                .checked_div(&den)
                .expect("a denominator is not zero")
        })
        .collect()
}

impl Run {
    pub(crate) fn new<O: Provable + ?Sized>(
        op: &O,
        shape: &[usize],
        weights: Weights,
    ) -> Result<Self> {
        crate::tensor::element_count(shape)?;
        let out_shape = op.output_shape(shape)?;
        let (x, x_vars) = symbols_named("x", shape)?;
        let dx = symbols_named("dx", shape)?;
        let (dy, _) = symbols_named("δ", &out_shape)?;
        let params = if op.param_count() > 0 {
            let theta: Tensor<Sym> = param_vector(op);
            let names: Vec<String> = op
                .params()
                .iter()
                .flat_map(|p| {
                    let prefix = symbol_prefix(p);
                    (0..p.value.len())
                        .map(move |k| format!("d{prefix}{}", index(&p.value.multi_index(k))))
                })
                .collect();
            let vars: Vec<Var> = names.into_iter().map(symbols::fresh).collect();
            let dtheta = Tensor::from_vec(vars.iter().map(|&v| Sym::symbol(v)).collect());
            Some((theta, dtheta, vars))
        } else {
            None
        };
        refused(op, "its parameters")?;
        Ok(Run {
            shape: shape.to_vec(),
            out_shape,
            weights,
            x,
            x_vars,
            dx,
            dy,
            params,
        })
    }

    /// Every identity; the tally, or the first difference.
    pub(crate) fn prove<O: Provable + ?Sized>(
        &self,
        op: &O,
        mut tally: Tally,
    ) -> Result<std::result::Result<(Tally, Evaluated), Difference>> {
        let (x, (dx, dx_vars), dy) = (&self.x, &self.dx, &self.dy);
        let input = |k: usize| format!("input {:?}", self.x.multi_index(k));

        let df_dx: Tensor<Sym> = call(op, "forward", || {
            Ok(OpSpec::<Dual<Sym>>::forward(op, &dual(x, dx)?)?.map(|d| d.eps.clone()))
        })?;
        let jvp = call(op, "jvp", || OpSpec::<Sym>::jvp(op, x, dx))?;
        let vjp = call(op, "vjp", || OpSpec::<Sym>::vjp(op, x, dy))?;
        expect_shape(op, Rule::Jvp, &jvp, &self.out_shape)?;
        expect_shape(op, Rule::Vjp, &vjp, &self.shape)?;
        let rules = [Rule::Jvp, Rule::Vjp, Rule::Adjoint];
        let directions = (dx, dx_vars.as_slice());
        if let Some(d) = self.identities(&mut tally, rules, &df_dx, &jvp, &vjp, directions, input) {
            return Ok(Err(d));
        }

        let evaluated = Evaluated { df_dx, vjp };
        let Some((theta, dtheta, dtheta_vars)) = &self.params else {
            return Ok(Ok((tally, evaluated)));
        };
        let param = |k: usize| {
            format!(
                "parameter {}",
                Param::name_flat(&op.params(), k).unwrap_or_else(|| format!("[{k}]"))
            )
        };
        let df_dtheta: Tensor<Sym> = call(op, "forward_with_params", || {
            Ok(
                OpSpec::<Dual<Sym>>::forward_with_params(op, &dual(theta, dtheta)?, &lift(x))?
                    .map(|d| d.eps.clone()),
            )
        })?;
        let jvp_p = call(op, "jvp_params", || {
            OpSpec::<Sym>::jvp_params(op, x, dtheta)
        })?;
        let vjp_p = call(op, "vjp_params", || OpSpec::<Sym>::vjp_params(op, x, dy))?;
        if jvp_p.len() != df_dtheta.len() || vjp_p.len() != dtheta.len() {
            return Err(Error::shape_mismatch(
                &format!("{}: parameter rules of the wrong length", op.name()),
                vec![df_dtheta.len(), dtheta.len()],
                vec![jvp_p.len(), vjp_p.len()],
            ));
        }
        let rules = [Rule::JvpParams, Rule::VjpParams, Rule::AdjointParams];
        let directions = (dtheta, dtheta_vars.as_slice());
        if let Some(d) = self.identities(
            &mut tally, rules, &df_dtheta, &jvp_p, &vjp_p, directions, param,
        ) {
            return Ok(Err(d));
        }
        Ok(Ok((tally, evaluated)))
    }

    /// The three identities of a pair of rules in the direction `t` (symbols `t_vars`):
    /// `jvp = D·t` at every output, `vjp = Dᵀ·δ` at every coordinate of `t` (named by
    /// `name`), and `⟪jvp, δ⟫ = ⟪t, vjp⟫`, with `d_t = D·t` from forward mode. The first
    /// difference, if any.
    #[allow(clippy::too_many_arguments)]
    fn identities(
        &self,
        tally: &mut Tally,
        [jvp_rule, vjp_rule, adjoint_rule]: [Rule; 3],
        d_t: &Tensor<Sym>,
        jvp: &Tensor<Sym>,
        vjp: &Tensor<Sym>,
        (t, t_vars): (&Tensor<Sym>, &[Var]),
        name: impl Fn(usize) -> String,
    ) -> Option<Difference> {
        let dy = &self.dy;
        let output = |k: usize| format!("output {:?}", dy.multi_index(k));
        for (k, (a, b)) in jvp.data().iter().zip(d_t.data()).enumerate() {
            if let Some(d) = tally.compare(jvp_rule, || output(k), a, b) {
                return Some(d);
            }
        }
        let reference = transpose_applied(&pairing(dy, d_t), t_vars);
        for (k, (a, b)) in vjp.data().iter().zip(&reference).enumerate() {
            if let Some(d) = tally.compare(vjp_rule, || name(k), a, b) {
                return Some(d);
            }
        }
        tally.compare(
            adjoint_rule,
            || "the whole pairing".into(),
            &pairing(jvp, dy),
            &pairing(t, vjp),
        )
    }

    /// `closed(x)·dx = Df(x)·dx` for every output and `vjp(x, δ) = closed(x)ᵀ·δ` for every input;
    /// the statements proved, or the first difference.
    fn closed_form<O: Provable>(
        &self,
        op: &O,
        closed: &ClosedForm<'_, O>,
        mut tally: Tally,
        evaluated: &Evaluated,
    ) -> Result<std::result::Result<(Tally, Vec<String>), Difference>> {
        let deriv = call(op, "closed form", || (closed.deriv)(op, &self.x))?;
        let (out, n) = (self.dy.len(), self.x.len());
        let entry = |i: usize, j: usize| {
            deriv
                .data()
                .get(i * n + j)
                .cloned()
                .unwrap_or_else(Sym::zero)
        };
        for i in 0..out {
            let row = (0..n).fold(Sym::zero(), |acc, j| {
                acc.add_ref(&entry(i, j).mul_ref(&self.dx.0.data()[j]))
            });
            if let Some(d) = tally.compare(
                Rule::ClosedJacobian,
                || format!("output {:?}", self.dy.multi_index(i)),
                &row,
                &evaluated.df_dx.data()[i],
            ) {
                return Ok(Err(d));
            }
        }
        for j in 0..n {
            let col = (0..out).fold(Sym::zero(), |acc, i| {
                acc.add_ref(&entry(i, j).mul_ref(&self.dy.data()[i]))
            });
            if let Some(d) = tally.compare(
                Rule::ClosedBackward,
                || format!("input {:?}", self.x.multi_index(j)),
                &evaluated.vjp.data()[j],
                &col,
            ) {
                return Ok(Err(d));
            }
        }
        let name = closed.name;
        Ok(Ok((
            tally,
            vec![
                format!("{name}·dx = Df(x)·dx ({name} is the derivative)"),
                format!("backward(x, δ) = {name}ᵀ·δ"),
            ],
        )))
    }

    fn certificate<O: Op + ?Sized>(&self, op: &O, tally: Tally, start: Instant) -> Certificate {
        let n = self.x.len();
        let p = self.params.as_ref().map_or(0, |(t, _, _)| t.len());
        let mut statement = vec![
            Rule::Jvp.identity(),
            Rule::Vjp.identity(),
            Rule::Adjoint.identity(),
        ];
        if p > 0 {
            statement.extend([
                Rule::JvpParams.identity(),
                Rule::VjpParams.identity(),
                Rule::AdjointParams.identity(),
            ]);
        }
        Certificate {
            kind: "exactgrad proof certificate",
            schema: 1,
            op: op.name(),
            statement: statement.into_iter().map(String::from).collect(),
            input_shape: self.shape.clone(),
            output_shape: self.out_shape.clone(),
            weights: self.weights,
            symbols: SymbolCounts {
                inputs: n,
                weights: if self.weights == Weights::Symbolic {
                    p
                } else {
                    0
                },
                tangents: n + p,
                cotangents: self.dy.len(),
                masks: symbols::masks().len(),
            },
            coordinates: tally.coordinates,
            monomials: tally.monomials,
            largest_polynomial: tally.largest,
            seconds: start.elapsed().as_secs_f64(),
        }
    }

    /// The failure for `d`: the monomial, a point (with the symbols of `fixed` held at their
    /// values), and the point check's verdict there.
    pub(crate) fn fail<O: Op + ?Sized>(
        &self,
        op: &O,
        d: Difference,
        fixed: &HashMap<Var, Q>,
        config: &ProveConfig,
        recheck: impl Fn(&Point) -> Result<Option<crate::Counterexample>>,
    ) -> Error {
        let terms = d.diff.numer().terms();
        let (monomial, coefficient) = terms
            .last()
            .map(|(m, c)| (m.to_string(), c.to_string()))
            .unwrap_or_default();
        let mut failure = ProofFailure {
            op: op.name(),
            identity: d.rule.identity().into(),
            coordinate: d.coordinate,
            monomial,
            coefficient,
            terms: terms.len(),
            difference: d.diff.to_string(),
            point: Vec::new(),
            counterexample: None,
        };
        let Some(point) = find_point(&d.diff, fixed, config.tries, config.seed) else {
            return Error::NotProved(Box::new(failure));
        };
        failure.point = point.named();
        match recheck(&point) {
            Ok(Some(c)) => {
                failure.counterexample = Some(c);
                Error::ProofFailed(Box::new(failure))
            }
            // The point check could not confirm it: no verdict rather than a doubtful one.
            Ok(None) | Err(_) => Error::NotProved(Box::new(failure)),
        }
    }

    /// The point check at `point` for the identity `rule`: the counterexample it reports.
    pub(crate) fn recheck<O: Provable + ?Sized>(
        &self,
        op: &O,
        rule: Rule,
        point: &Point,
    ) -> Result<Option<crate::Counterexample>> {
        let at = |t: &Tensor<Sym>| self.at(op, t, point);
        let (x, dx, dy) = (at(&self.x)?, at(&self.dx.0)?, at(&self.dy)?);
        let verdict = match rule {
            Rule::Jvp | Rule::Vjp => jacobian(&op, &x, &dx, &dy).map(|_| ()),
            Rule::Adjoint => adjoint(&op, &x, &dx, &dy).map(|_| ()),
            Rule::ClosedJacobian | Rule::ClosedBackward => Ok(()),
            Rule::JvpParams | Rule::VjpParams | Rule::AdjointParams => {
                let (_, dtheta, _) = self.params.as_ref().expect("a parameter rule");
                let wrt = WrtParams::new(op, x);
                let theta = wrt.point::<Q>();
                let dtheta = at(dtheta)?;
                if rule == Rule::AdjointParams {
                    adjoint(&wrt, &theta, &dtheta, &dy).map(|_| ())
                } else {
                    jacobian(&wrt, &theta, &dtheta, &dy).map(|_| ())
                }
            }
        };
        match verdict {
            Ok(()) => Ok(None),
            Err(Error::Violated(c)) => Ok(Some(*c)),
            Err(e) => Err(e),
        }
    }
}

impl Run {
    /// `t` at `point`; a division by zero if it has a pole there.
    fn at<O: Op + ?Sized>(&self, op: &O, t: &Tensor<Sym>, point: &Point) -> Result<Tensor<Q>> {
        let data = t
            .data()
            .iter()
            .map(|s| point.eval(s).ok_or_else(|| pole(op)))
            .collect::<Result<Vec<Q>>>()?;
        Tensor::new(t.shape().to_vec(), data)
    }
}

fn expect_shape<O: Op + ?Sized>(
    op: &O,
    rule: Rule,
    got: &Tensor<Sym>,
    want: &[usize],
) -> Result<()> {
    if got.shape() == want {
        return Ok(());
    }
    Err(Error::shape_mismatch(
        &format!("{}: {}", op.name(), rule.identity()),
        want.to_vec(),
        got.shape().to_vec(),
    ))
}

fn pole<O: Op + ?Sized>(op: &O) -> Error {
    Error::DivisionByZero {
        context: op.name(),
        coordinate: Vec::new(),
    }
}

fn lift(x: &Tensor<Sym>) -> Tensor<Dual<Sym>> {
    x.map(|v| Dual {
        re: v.clone(),
        eps: Sym::zero(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Linear, Polynomial, Relu};
    use crate::planted;
    use crate::scalar::{parse_q, Scalar};
    use crate::Compose;

    use crate::ops::test_support::t;

    #[test]
    fn the_certificate_prints_as_text_and_json() {
        let c = prove_op(&Relu, &[2]).unwrap();
        let text = c.to_string();
        assert!(text.starts_with("PROVED for every input (weights as given) of shape [2]"));
        assert!(
            text.contains("2 masks (all 2^2 activation patterns at once)"),
            "{text}"
        );
        let json: serde_json::Value = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(json["schema"], 1);
        assert_eq!(json["weights"], "as_given");
        assert_eq!(json["symbols"]["masks"], 2);
        assert_eq!(json["statement"][1], "vjp(x, δ) = Df(x)ᵀ·δ");
    }

    planted!(RelatedMasks(Relu), fn vjp(&op, x, dy) {
        // Adds [x > 0]·[x + 1 ≤ 0]·δ, which is 0 at every real x (x > 0 forces x + 1 > 0) but
        // not as a polynomial in two unrelated masks.
        let extra = x.map(|v| {
            let m = S::select(v, S::one(), S::zero());
            let n = S::select(&v.add_ref(&S::one()), S::zero(), S::one());
            m.mul_ref(&n)
        });
        op.vjp(x, dy)?.add(&extra.hadamard(dy)?)
    });

    #[test]
    fn a_difference_no_consistent_point_reaches_is_not_proved_rather_than_failed() {
        let e = prove_op(&RelatedMasks(Relu), &[1]).unwrap_err();
        let Error::NotProved(f) = e else {
            panic!("{e:?}")
        };
        assert!(f.point.is_empty() && f.counterexample.is_none(), "{f}");
        assert!(
            f.to_string()
                .contains("no point consistent with the guards"),
            "{f}"
        );
    }

    planted!(SignBranch(Relu), fn jvp(&_op, x, dx) {
        // A Rust `if` on the sign: right at every point, unprovable over symbols.
        dx.zip_with(x, |d, v| if v.sign() == std::cmp::Ordering::Greater { d.clone() } else { S::zero() })
    });

    #[test]
    fn a_rule_that_branches_with_if_is_refused_naming_the_rule() {
        let e = prove_op(&SignBranch(Relu), &[2]).unwrap_err();
        assert!(
            matches!(&e, Error::BranchOnSymbol { rule: "jvp", value, .. } if value == "x[0]"),
            "{e:?}"
        );
    }

    /// `Linear` whose forward doubles its weights in `Q` before lifting them.
    #[derive(Debug)]
    struct DoubledInQ(Linear);
    impl Op for DoubledInQ {
        fn name(&self) -> String {
            "DoubledInQ".into()
        }
        fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
            self.0.output_shape(input)
        }
        fn params(&self) -> Vec<Param<'_>> {
            self.0.params()
        }
    }
    impl<S: Scalar> OpSpec<S> for DoubledInQ {
        fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
            let two = parse_q("2").unwrap();
            let w = self.0.weight().map(|v| v * &two);
            w.lift::<S>().linear(&self.0.bias().lift(), x)
        }
        fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
            self.0.jvp(x, &dx.scale(&S::from_i64(2)))
        }
        fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
            Ok(self.0.vjp(x, dy)?.scale(&S::from_i64(2)))
        }
        fn forward_with_params(&self, p: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
            self.0.forward_with_params(p, &x.scale(&S::from_i64(2)))
        }
        fn jvp_params(&self, x: &Tensor<S>, dp: &Tensor<S>) -> Result<Tensor<S>> {
            self.0.jvp_params(&x.scale(&S::from_i64(2)), dp)
        }
        fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
            self.0.vjp_params(&x.scale(&S::from_i64(2)), dy)
        }
    }

    #[test]
    fn weights_computed_on_outside_the_scalar_are_refused_for_all_weights_but_fine_as_given() {
        let l = Linear::new(t(&[1, 2], &["1", "-3"]), t(&[1], &["1/2"])).unwrap();
        let rebuild = |p: &[Tensor<Q>]| Ok(DoubledInQ(Linear::new(p[0].clone(), p[1].clone())?));
        let e =
            prove_op_for_all_weights(&DoubledInQ(l.clone()), rebuild, &[2], &Default::default());
        assert!(
            matches!(
                &e,
                Err(Error::WeightsOutsideScalar {
                    rule: "forward",
                    ..
                })
            ),
            "{e:?}"
        );
        assert!(prove_op(&DoubledInQ(l), &[2]).is_ok());
    }

    #[test]
    fn a_rebuild_that_changes_the_weights_is_a_typed_error() {
        let l = Linear::new(t(&[1, 1], &["1"]), t(&[1], &["0"])).unwrap();
        let e = prove_op_for_all_weights(
            &l,
            |p| Linear::new(p[0].clone(), Tensor::zeros(&[1])?),
            &[1],
            &Default::default(),
        );
        assert!(matches!(e, Err(Error::InvalidArgument { .. })), "{e:?}");
    }

    #[test]
    fn shapes_are_checked_before_any_symbol_is_made() {
        let e = prove_op(
            &Linear::new(t(&[1, 2], &["1", "2"]), t(&[1], &["0"])).unwrap(),
            &[3],
        );
        assert!(matches!(e, Err(Error::ShapeMismatch { .. })), "{e:?}");
    }

    #[test]
    fn a_non_linear_smooth_op_is_proved_too() {
        // x ↦ 1 − x + x³/3 elementwise, then ReLU: polynomial guards, masks over them.
        let p = Polynomial::new(
            ["1", "-1", "0", "1/3"]
                .map(|s| parse_q(s).unwrap())
                .to_vec(),
        );
        let c = prove_op(&p.then(Relu), &[2]).unwrap();
        assert_eq!(c.symbols.masks, 2);
    }
}
