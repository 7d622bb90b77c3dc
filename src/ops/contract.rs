//! The op contract: what an op is ([`Op`]), its rules over a scalar ([`OpSpec`]) — for its input
//! and for its parameters — with the guards that locate kinks ([`Guard`]), and the one bound
//! the checks ask for ([`Checkable`]).

use crate::error::{Error, Result};
use crate::scalar::{Dual, Ex, Jet, Scalar, Q};
use crate::tensor::Tensor;
use std::fmt;

/// A differentiable op with its derivative rules — Lean's `Spec.OpSpec`.
///
/// * `forward(x)` is the function `f`;
/// * `jvp(x, dx)` must equal `Df(x)·dx` (forward mode);
/// * `vjp(x, δ)` must equal `Df(x)ᵀ·δ` (reverse mode, "backward").
///
/// An op with parameters `θ` ([`Op::params`]) also gives `f_θ(x)` for any `θ`
/// ([`OpSpec::forward_with_params`], the reference side) and its rules with respect to them
/// ([`OpSpec::jvp_params`], [`OpSpec::vjp_params`]; [`crate::ops::derived`] has forward-mode
/// defaults). Parameters travel as one flat vector: the op's parameter tensors in the order of
/// [`Op::params`], each row-major.
///
/// Write the impl once, generically — `impl<S: Scalar> OpSpec<S> for MyOp` — so the checks can
/// evaluate the op over `Q`, `Dual<Q>`, `Jet<Q>` and every scalar added later. The checks in
/// [`crate::check`] verify the rules exactly, computing `Df(x)` without calling any rule. Every
/// method returns a typed error on bad shapes instead of panicking.
pub trait OpSpec<S: Scalar>: Op {
    /// `f(x)`.
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>>;

    /// `Df(x)·dx`, the rule under test in forward mode.
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>>;

    /// `Df(x)ᵀ·δ`, the rule under test in reverse mode.
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>>;

    /// The pre-activations whose signs select the smooth piece that contains `x` (for ReLU, its
    /// input coordinates). A zero among them is a kink: the derivative does not exist there.
    /// Smooth ops have none.
    fn guards(&self, _x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        Ok(Vec::new())
    }

    /// [`OpSpec::guards`] and [`OpSpec::forward`] at the same `x`. A composition needs both of
    /// its first stage (the second stage's guards are taken at its output), so it overrides this
    /// to run that stage once; the default simply calls the two.
    fn guards_and_output(&self, x: &Tensor<S>) -> Result<(Vec<Guard<S>>, Tensor<S>)> {
        Ok((self.guards(x)?, self.forward(x)?))
    }

    /// `f_θ(x)` with the parameters replaced by the flat vector `θ` — the reference side: the
    /// checks evaluate it over dual numbers to get `∂f/∂θ` without calling a parameter rule.
    /// Ops without parameters need not implement it.
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        if self.param_count() > 0 {
            return Err(missing(self, "forward_with_params"));
        }
        params.expect_shape(&[0], &format!("{}: parameter vector", self.name()))?;
        self.forward(x)
    }

    /// `(∂f/∂θ)·dθ` at the op's own parameters, `dθ` flat.
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        if self.param_count() > 0 {
            return Err(missing(self, "jvp_params"));
        }
        dparams.expect_shape(&[0], &format!("{}: parameter tangent", self.name()))?;
        Tensor::zeros(&self.output_shape(x.shape())?)
    }

    /// `(∂f/∂θ)ᵀ·δ` at the op's own parameters: the parameter gradients, flat.
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        if self.param_count() > 0 {
            return Err(missing(self, "vjp_params"));
        }
        dy.expect_shape(
            &self.output_shape(x.shape())?,
            &format!("{}: δ must have the output's shape", self.name()),
        )?;
        Ok(Tensor::from_vec(Vec::new()))
    }

    /// For a composition, the ops it chains, first to last, nested compositions flattened
    /// (`a.then(b).then(c)` has the stages `a`, `b`, `c`); empty for any other op. When a
    /// composition fails, [`crate::check::check_op`] checks the stages one by one at the values
    /// they see, to name the stage whose rule is wrong.
    fn stages(&self) -> Vec<&dyn OpSpec<S>> {
        Vec::new()
    }
}

/// `op`'s stages ([`OpSpec::stages`]), or `op` itself when it is not a composition.
pub(crate) fn stages_of<S: Scalar, O: OpSpec<S>>(op: &O) -> Vec<&dyn OpSpec<S>> {
    let stages = op.stages();
    if stages.is_empty() {
        vec![op]
    } else {
        stages
    }
}

fn missing<O: Op + ?Sized>(op: &O, rule: &'static str) -> Error {
    Error::MissingRule {
        op: op.name(),
        rule,
    }
}

/// A pre-activation of a piecewise op at the current point: its sign must not change for the op
/// to stay on one smooth piece.
#[derive(Clone, PartialEq, Eq)]
pub struct Guard<S> {
    /// 1-based position of the op in the composed network.
    pub layer: usize,
    /// The op's name.
    pub op: String,
    /// The multi-index within that op's input.
    pub coordinate: Vec<usize>,
    /// The pre-activation's value.
    pub value: S,
}

crate::error::debug_with_fractions!(Guard<S> { layer, op, coordinate, value });

/// What an op is independently of the scalar it is evaluated over: its name, shapes, kind and
/// parameters.
pub trait Op {
    /// A short name for reports, e.g. `"Linear(3→4)"`.
    fn name(&self) -> String;

    /// The output shape for an input of shape `input`, or [`crate::Error::ShapeMismatch`].
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>>;

    /// Whether `f` is affine on each piece (Linear, ReLU and their compositions), so that exact
    /// difference quotients inside a kink-free box equal the derivative.
    fn is_piecewise_linear(&self) -> bool {
        false
    }

    /// How many primitive ops this op chains (1 for a primitive); used to number layers.
    fn depth(&self) -> usize {
        1
    }

    /// Guards at layers `1..=certified_guard_layers()` are affine functions of this op's input
    /// on the current piece, so [`crate::check::kink_radius`] can certify an exact radius for
    /// them. By default: every layer of a piecewise-linear op, and the first layer of any other
    /// op (a primitive's guards are affine in its own input). Return 0 when even that fails.
    fn certified_guard_layers(&self) -> usize {
        if self.is_piecewise_linear() {
            self.depth()
        } else {
            1
        }
    }

    /// The parameter tensors, named, in the order of the flat parameter vector. A primitive
    /// reports layer 1 ([`Param::new`]); a composition renumbers its parts' layers.
    fn params(&self) -> Vec<Param<'_>> {
        Vec::new()
    }

    /// How many parameters (the length of the flat parameter vector).
    fn param_count(&self) -> usize {
        self.params().iter().map(|p| p.value.len()).sum()
    }
}

/// One named parameter tensor of an op, stored exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct Param<'a> {
    /// 1-based position of the op that owns it in the composed network.
    pub layer: usize,
    /// That op's name, e.g. `"Conv2d(1→2, 3×3)"`.
    pub op: String,
    /// The tensor's name within the op, e.g. `"weight"`.
    pub tensor: &'static str,
    /// Its exact value.
    pub value: &'a Tensor<Q>,
}

impl<'a> Param<'a> {
    /// The parameter `tensor` of the primitive op `op` (layer 1).
    pub fn new<O: Op + ?Sized>(op: &O, tensor: &'static str, value: &'a Tensor<Q>) -> Self {
        Param {
            layer: 1,
            op: op.name(),
            tensor,
            value,
        }
    }

    /// The same parameter seen from a composition in which its op starts after `shift` layers.
    pub fn shifted(self, shift: usize) -> Self {
        Param {
            layer: self.layer + shift,
            ..self
        }
    }

    /// Names the entry at position `index` of the flat parameter vector of `params`, e.g.
    /// `"layer 3 Conv2d(1→2, 3×3) weight[0, 1, 2, 2]"`; `None` past the end.
    pub fn name_flat(params: &[Param<'_>], mut index: usize) -> Option<String> {
        for p in params {
            if index < p.value.len() {
                return Some(format!("{p}{:?}", p.value.multi_index(index)));
            }
            index -= p.value.len();
        }
        None
    }
}

impl fmt::Display for Param<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "layer {} {} {}", self.layer, self.op, self.tensor)
    }
}

/// The op's parameters as one flat vector over `S`, in the order of [`Op::params`].
pub fn param_vector<S: Scalar, O: Op + ?Sized>(op: &O) -> Tensor<S> {
    // Lifted through the check's cache: the rules lift the same weights again.
    let mut data = Vec::with_capacity(op.param_count());
    for p in op.params() {
        data.extend_from_slice(p.value.lifted::<S>().data());
    }
    Tensor::from_vec(data)
}

/// An op whose rules run over the exact scalar `B` (the verdicts), `Dual<B>` and `Jet<B>` (the
/// reference derivatives). Implemented for every op with a generic `impl<S: Scalar> OpSpec<S>`.
pub trait CheckableOver<B: Scalar>: OpSpec<B> + OpSpec<Dual<B>> + OpSpec<Jet<B>> {}
impl<B: Scalar, T: OpSpec<B> + OpSpec<Dual<B>> + OpSpec<Jet<B>> + ?Sized> CheckableOver<B> for T {}

/// An op the checks can take: its rules run over `Q` and over [`Ex`] (for ops with `exp` and
/// `ln`), each with `Dual` and `Jet` of it for the reference derivatives. Implemented for every
/// op with a generic `impl<S: Scalar> OpSpec<S>`; never implement it by hand.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an op over every scalar the checks use",
    label = "needs `OpSpec<S>` for every `S: Scalar`, not only for `Q`",
    note = "write the rules once, generically: `impl<S: exactgrad::Scalar> exactgrad::OpSpec<S> for {Self} {{ … }}`; the checks evaluate them over `Q` and `Ex`, and over `Dual` and `Jet` of those"
)]
pub trait Checkable: CheckableOver<Q> + CheckableOver<Ex> {}
impl<T: CheckableOver<Q> + CheckableOver<Ex> + ?Sized> Checkable for T {}

/// An exact scalar the checks decide over: [`Q`], or [`Ex`] when an op needs `exp` or `ln` at
/// points where `Q` has no value. [`crate::check::check_op`] starts over `Q` and moves to `Ex`
/// when an op answers [`Error::OutsideField`] over `Q`.
pub trait Exact: Scalar {
    /// Whether a sum over every coordinate stays cheap. Over [`Ex`] it does not: a sum of `n`
    /// fractions with different denominators (one per coordinate of an elementwise op) has a
    /// denominator of up to `3ⁿ` terms, so the suite does not form the adjoint identity's inner
    /// products there; the identity follows exactly from the Jacobian check's two entrywise
    /// identities `jvp = J·dx` and `vjp = Jᵀ·δ`.
    const CHEAP_SUMS: bool;

    /// The op's rules over this scalar.
    fn view(op: &dyn Checkable) -> &dyn CheckableOver<Self>;
}

impl Exact for Q {
    const CHEAP_SUMS: bool = true;
    fn view(op: &dyn Checkable) -> &dyn CheckableOver<Q> {
        op
    }
}

impl Exact for Ex {
    const CHEAP_SUMS: bool = false;
    fn view(op: &dyn Checkable) -> &dyn CheckableOver<Ex> {
        op
    }
}

/// Ops by reference are ops, so compositions can borrow their parts.
impl<O: Op + ?Sized> Op for &O {
    fn name(&self) -> String {
        (**self).name()
    }
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        (**self).output_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        (**self).is_piecewise_linear()
    }
    fn depth(&self) -> usize {
        (**self).depth()
    }
    fn certified_guard_layers(&self) -> usize {
        (**self).certified_guard_layers()
    }
    fn params(&self) -> Vec<Param<'_>> {
        (**self).params()
    }
    fn param_count(&self) -> usize {
        (**self).param_count()
    }
}

impl<S: Scalar, O: OpSpec<S> + ?Sized> OpSpec<S> for &O {
    fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
        (**self).forward(x)
    }
    fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
        (**self).jvp(x, dx)
    }
    fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        (**self).vjp(x, dy)
    }
    fn guards(&self, x: &Tensor<S>) -> Result<Vec<Guard<S>>> {
        (**self).guards(x)
    }
    fn guards_and_output(&self, x: &Tensor<S>) -> Result<(Vec<Guard<S>>, Tensor<S>)> {
        (**self).guards_and_output(x)
    }
    fn forward_with_params(&self, params: &Tensor<S>, x: &Tensor<S>) -> Result<Tensor<S>> {
        (**self).forward_with_params(params, x)
    }
    fn jvp_params(&self, x: &Tensor<S>, dparams: &Tensor<S>) -> Result<Tensor<S>> {
        (**self).jvp_params(x, dparams)
    }
    fn vjp_params(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
        (**self).vjp_params(x, dy)
    }
    fn stages(&self) -> Vec<&dyn OpSpec<S>> {
        (**self).stages()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_support::t;
    use crate::ops::{Compose, Linear, Relu};

    /// A user's op that writes only what it must: `f(x) = x²`, elementwise.
    struct Square;

    impl Op for Square {
        fn name(&self) -> String {
            "Square".into()
        }
        fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
            Ok(input.to_vec())
        }
    }

    impl<S: Scalar> OpSpec<S> for Square {
        fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
            x.hadamard(x)
        }
        fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
            Ok(x.hadamard(dx)?.scale(&S::from_i64(2)))
        }
        fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
            Ok(x.hadamard(dy)?.scale(&S::from_i64(2)))
        }
    }

    /// An op with two parameter tensors (7 entries) that implements none of the parameter
    /// rules, and says it chains three piecewise-linear layers; its rules are the identity's
    /// (only its description and the defaults are tested).
    struct Weighted {
        weight: Tensor<Q>,
        bias: Tensor<Q>,
    }

    impl Op for Weighted {
        fn name(&self) -> String {
            "Weighted".into()
        }
        fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
            Ok(input.to_vec())
        }
        fn is_piecewise_linear(&self) -> bool {
            true
        }
        fn depth(&self) -> usize {
            3
        }
        fn params(&self) -> Vec<Param<'_>> {
            vec![
                Param::new(self, "weight", &self.weight),
                Param::new(self, "bias", &self.bias),
            ]
        }
    }

    impl<S: Scalar> OpSpec<S> for Weighted {
        fn forward(&self, x: &Tensor<S>) -> Result<Tensor<S>> {
            Ok(x.clone())
        }
        fn jvp(&self, _x: &Tensor<S>, dx: &Tensor<S>) -> Result<Tensor<S>> {
            Ok(dx.clone())
        }
        fn vjp(&self, _x: &Tensor<S>, dy: &Tensor<S>) -> Result<Tensor<S>> {
            Ok(dy.clone())
        }
    }

    fn weighted() -> Weighted {
        Weighted {
            weight: t(&[2, 2], &["1", "2", "3", "4"]),
            bias: t(&[3], &["5", "6", "7"]),
        }
    }

    fn empty() -> Tensor<Q> {
        Tensor::from_vec(Vec::new())
    }

    #[test]
    fn the_defaults_describe_a_smooth_primitive_without_parameters() {
        let x = t(&[2], &["3", "-1/2"]);
        assert!(!Square.is_piecewise_linear());
        assert_eq!((Square.depth(), Square.certified_guard_layers()), (1, 1));
        assert!(Square.params().is_empty());
        assert_eq!(Square.param_count(), 0);
        assert!(OpSpec::<Q>::guards(&Square, &x).unwrap().is_empty());
        assert_eq!(
            Square.guards_and_output(&x).unwrap(),
            (Vec::new(), t(&[2], &["9", "1/4"]))
        );
        assert!(OpSpec::<Q>::stages(&Square).is_empty());
        let stages = stages_of::<Q, _>(&Square);
        assert_eq!(stages.len(), 1);
        assert_eq!(stages[0].name(), "Square");
    }

    /// Without parameters, the parameter rules are those of an empty parameter vector: `f_θ = f`,
    /// a zero tangent of the output's shape, an empty gradient; other shapes are refused.
    #[test]
    fn the_parameter_rules_of_an_op_without_parameters_take_an_empty_vector() {
        let x = t(&[2], &["3", "-1/2"]);
        let dy = t(&[2], &["1", "1"]);
        let one = t(&[1], &["1"]);
        assert_eq!(
            Square.forward_with_params(&empty(), &x).unwrap(),
            t(&[2], &["9", "1/4"])
        );
        assert_eq!(
            Square.jvp_params(&x, &empty()).unwrap(),
            t(&[2], &["0", "0"])
        );
        assert_eq!(Square.vjp_params(&x, &dy).unwrap(), empty());
        for refused in [
            Square.forward_with_params(&one, &x),
            Square.jvp_params(&x, &one),
            Square.vjp_params(&x, &one),
        ] {
            assert!(
                matches!(&refused, Err(Error::ShapeMismatch { op, .. }) if op.starts_with("Square")),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn an_op_with_parameters_but_no_parameter_rules_names_the_missing_rule() {
        let op = weighted();
        let x = t(&[2], &["1", "2"]);
        assert_eq!(op.param_count(), 7);
        let theta: Tensor<Q> = param_vector(&op);
        assert_eq!(theta, t(&[7], &["1", "2", "3", "4", "5", "6", "7"]));
        for (answer, rule) in [
            (op.forward_with_params(&theta, &x), "forward_with_params"),
            (op.jvp_params(&x, &theta), "jvp_params"),
            (op.vjp_params(&x, &x), "vjp_params"),
        ] {
            assert!(
                matches!(&answer, Err(Error::MissingRule { op, rule: r }) if op == "Weighted" && *r == rule),
                "{answer:?}"
            );
        }
    }

    /// Every layer of a piecewise-linear op is certified, not only the first.
    #[test]
    fn every_layer_of_a_piecewise_linear_op_is_certified() {
        assert_eq!(weighted().certified_guard_layers(), 3);
    }

    #[test]
    fn parameters_are_numbered_by_layer_and_named_by_flat_index() {
        let op = weighted();
        let moved = Param::new(&op, "weight", &op.weight).shifted(2);
        assert_eq!(moved.layer, 3);
        assert_eq!(moved.to_string(), "layer 3 Weighted weight");
        let params = [op.params(), vec![moved]].concat();
        let names = [0, 3, 4, 6, 7, 10, 11].map(|i| Param::name_flat(&params, i));
        assert_eq!(
            names,
            [
                Some("layer 1 Weighted weight[0, 0]"),
                Some("layer 1 Weighted weight[1, 1]"),
                Some("layer 1 Weighted bias[0]"),
                Some("layer 1 Weighted bias[2]"),
                Some("layer 3 Weighted weight[0, 0]"),
                Some("layer 3 Weighted weight[1, 1]"),
                None,
            ]
            .map(|n| n.map(String::from))
        );
    }

    /// Everything `op` answers over `Q`, at `x` with cotangent `dy`, written out.
    fn answers<O: OpSpec<Q>>(op: &O, x: &Tensor<Q>, dy: &Tensor<Q>) -> String {
        let theta: Tensor<Q> = param_vector(op);
        let params: Vec<String> = op.params().iter().map(ToString::to_string).collect();
        let answers = (
            (
                op.name(),
                op.output_shape(x.shape()).unwrap(),
                op.is_piecewise_linear(),
            ),
            (
                op.depth(),
                op.certified_guard_layers(),
                params,
                op.param_count(),
            ),
            (
                op.forward(x).unwrap(),
                op.jvp(x, x).unwrap(),
                op.vjp(x, dy).unwrap(),
                op.guards(x).unwrap(),
                op.guards_and_output(x).unwrap(),
            ),
            (
                op.forward_with_params(&theta, x).unwrap(),
                op.jvp_params(x, &theta).unwrap(),
                op.vjp_params(x, dy).unwrap(),
                op.stages().iter().map(|s| s.name()).collect::<Vec<_>>(),
            ),
        );
        format!("{answers:?}")
    }

    /// A borrowed op answers every method as the op itself (a method the forwarding impl
    /// forgot would fall back to the default: depth 1 for a whole network).
    #[test]
    fn a_borrowed_op_answers_as_the_op() {
        let lin = |w: &[&str], b: &[&str]| Linear::new(t(&[2, 2], w), t(&[2], b)).unwrap();
        let net = lin(&["1", "2", "-3", "1"], &["0", "1"])
            .then(Relu)
            .then(lin(&["2", "-1", "1", "1"], &["1", "-2"]));
        let (x, dy) = (t(&[2], &["1", "1/2"]), t(&[2], &["3", "-1"]));
        let direct = answers(&net, &x, &dy);
        // `O = &Then<…>`: every call goes through the forwarding impl.
        let borrowed = answers(&&net, &x, &dy);
        assert_eq!(borrowed, direct);
        // What the comparison covers: a network whose answers differ from the defaults.
        assert_eq!(
            (net.depth(), net.certified_guard_layers(), net.param_count()),
            (3, 3, 12)
        );
        assert!(net.is_piecewise_linear());
        assert_eq!(OpSpec::<Q>::stages(&net).len(), 3);
        assert_eq!(OpSpec::<Q>::guards(&net, &x).unwrap().len(), 2);
    }
}
