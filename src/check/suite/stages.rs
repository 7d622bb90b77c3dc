//! Which stage of a composition is wrong. When a composition (`a.then(b).then(c)`,
//! [`crate::ops::Sequential`], a named network) fails, the counterexample is of the whole; the
//! stages ([`crate::OpSpec::stages`]) are then checked one by one, each alone at the value it
//! sees — its input as the stages before it compute it from the failing case's `x` — with every
//! check of the suite, and the first one that fails is named ([`WrongStage`]).
//!
//! A stage is judged by the same exact checks as any op, so a stage named is certainly wrong at
//! that value. Its tangents and cotangents are fixed probes ([`crate::strategy::probe`]): a rule
//! wrong only for rare tangents can pass there, and then no stage is named (the whole's
//! counterexample stands on its own). Stages are located over `Q`; a run over [`crate::Ex`]
//! names none.

use super::case::Case;
use super::checks::{check_case, Subject};
use super::report::CheckFailure;
use crate::error::{Error, WrongStage};
use crate::ops::{CheckableOver, Exact, Guard, Op, OpSpec, Param};
use crate::scalar::{Dual, Jet, Scalar, Q};
use crate::strategy::probe;
use crate::tensor::Tensor;
use std::any::Any;

/// Names the wrong stage in `failure` when it is a violated identity of a composition, `case`
/// being the failing case.
pub(super) fn locate<B: Exact>(
    op: &dyn CheckableOver<B>,
    case: Option<&Case>,
    mut failure: Box<CheckFailure>,
) -> Box<CheckFailure> {
    if let (Some(case), Error::Violated(c)) = (case, &mut failure.error) {
        if c.stage.is_none() {
            c.stage = wrong_stage(op, case);
        }
    }
    failure
}

/// The first stage of `op` whose checks fail at the value it sees in `case`.
fn wrong_stage<B: Exact>(op: &dyn CheckableOver<B>, case: &Case) -> Option<WrongStage> {
    let stages = stages(op)?;
    let count = stages.len();
    let mut x = case.x.clone();
    for (k, stage) in stages.iter().enumerate() {
        let out = stage.output_shape(x.shape()).ok()?;
        let params = stage.param_count();
        let seen = Case {
            dx: probe(x.shape(), 1).ok()?,
            dx2: probe(x.shape(), 2).ok()?,
            dtheta: probe(&[params], 3).ok()?,
            dtheta2: probe(&[params], 4).ok()?,
            dy: probe(&out, 5).ok()?,
            dy2: probe(&out, 6).ok()?,
            a: case.a.clone(),
            b: case.b.clone(),
            x,
        };
        let subject = Subject {
            op: stage,
            looped: None,
        };
        match check_case(&subject, &seen) {
            Ok(()) => {}
            // A wrong rule: a violated identity, a rule refusing a point the stage accepts, a
            // rule's result of the wrong shape.
            Err(
                e @ (Error::Violated(_) | Error::RuleRefused { .. } | Error::ShapeMismatch { .. }),
            ) => {
                return Some(WrongStage {
                    position: k + 1,
                    stages: count,
                    op: stage.name(),
                    error: Box::new(e),
                })
            }
            // Anything else (a value outside the scalar, an undecided identity) judges no rule.
            Err(_) => return None,
        }
        let next = OpSpec::<B>::forward(stage, &seen.x.lift::<B>()).ok()?;
        x = as_q(next)?;
    }
    None
}

/// `t` as a tensor over `Q` when `B` is `Q` (the stages' values feed a [`Case`], which is over
/// `Q`).
fn as_q<B: Exact>(t: Tensor<B>) -> Option<Tensor<Q>> {
    (&t as &dyn Any).downcast_ref::<Tensor<Q>>().cloned()
}

/// The stages of `op` over the three scalars the checks evaluate a stage over; `None` unless
/// `op` is a composition of at least two stages.
fn stages<B: Exact>(op: &dyn CheckableOver<B>) -> Option<Vec<Stage<'_, B>>> {
    let base = OpSpec::<B>::stages(op);
    let dual = OpSpec::<Dual<B>>::stages(op);
    let jet = OpSpec::<Jet<B>>::stages(op);
    if base.len() < 2 || dual.len() != base.len() || jet.len() != base.len() {
        return None;
    }
    let mut shift = 0;
    let mut stages = Vec::with_capacity(base.len());
    for ((base, dual), jet) in base.into_iter().zip(dual).zip(jet) {
        stages.push(Stage {
            base,
            dual,
            jet,
            shift,
        });
        shift += base.depth();
    }
    Some(stages)
}

/// One stage, over `B` and the dual and jet scalars of its reference derivatives; its layers
/// (in parameter names) numbered as in the whole composition.
struct Stage<'a, B> {
    base: &'a dyn OpSpec<B>,
    dual: &'a dyn OpSpec<Dual<B>>,
    jet: &'a dyn OpSpec<Jet<B>>,
    /// How many layers come before the stage.
    shift: usize,
}

impl<B: Scalar> Op for Stage<'_, B> {
    fn name(&self) -> String {
        self.base.name()
    }
    fn output_shape(&self, input: &[usize]) -> crate::Result<Vec<usize>> {
        self.base.output_shape(input)
    }
    fn is_piecewise_linear(&self) -> bool {
        self.base.is_piecewise_linear()
    }
    fn depth(&self) -> usize {
        self.base.depth()
    }
    fn certified_guard_layers(&self) -> usize {
        self.base.certified_guard_layers()
    }
    fn params(&self) -> Vec<Param<'_>> {
        let shift = self.shift;
        self.base
            .params()
            .into_iter()
            .map(|p| p.shifted(shift))
            .collect()
    }
    fn param_count(&self) -> usize {
        self.base.param_count()
    }
}

/// `OpSpec<$scalar>` for [`Stage`] by its view `$view`.
macro_rules! stage_over {
    ($scalar:ty, $view:ident) => {
        impl<B: Scalar> OpSpec<$scalar> for Stage<'_, B> {
            fn forward(&self, x: &Tensor<$scalar>) -> crate::Result<Tensor<$scalar>> {
                self.$view.forward(x)
            }
            fn jvp(
                &self,
                x: &Tensor<$scalar>,
                dx: &Tensor<$scalar>,
            ) -> crate::Result<Tensor<$scalar>> {
                self.$view.jvp(x, dx)
            }
            fn vjp(
                &self,
                x: &Tensor<$scalar>,
                dy: &Tensor<$scalar>,
            ) -> crate::Result<Tensor<$scalar>> {
                self.$view.vjp(x, dy)
            }
            fn guards(&self, x: &Tensor<$scalar>) -> crate::Result<Vec<Guard<$scalar>>> {
                self.$view.guards(x)
            }
            fn forward_with_params(
                &self,
                params: &Tensor<$scalar>,
                x: &Tensor<$scalar>,
            ) -> crate::Result<Tensor<$scalar>> {
                self.$view.forward_with_params(params, x)
            }
            fn jvp_params(
                &self,
                x: &Tensor<$scalar>,
                dparams: &Tensor<$scalar>,
            ) -> crate::Result<Tensor<$scalar>> {
                self.$view.jvp_params(x, dparams)
            }
            fn vjp_params(
                &self,
                x: &Tensor<$scalar>,
                dy: &Tensor<$scalar>,
            ) -> crate::Result<Tensor<$scalar>> {
                self.$view.vjp_params(x, dy)
            }
        }
    };
}

stage_over!(B, base);
stage_over!(Dual<B>, dual);
stage_over!(Jet<B>, jet);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Compose, Identity, Relu, Then};

    /// Names the three scalars a composition's stages are looked up over.
    trait Over {
        const NAME: &'static str;
    }
    impl Over for Q {
        const NAME: &'static str = "Q";
    }
    impl Over for Dual<Q> {
        const NAME: &'static str = "Dual";
    }
    impl Over for Jet<Q> {
        const NAME: &'static str = "Jet";
    }

    /// ReLU then the identity, but one stage (itself) over the scalar named `self.0`.
    struct OneStageOver(&'static str, Then<Relu, Identity>);

    impl Op for OneStageOver {
        fn name(&self) -> String {
            format!("one stage over {}", self.0)
        }
        fn output_shape(&self, input: &[usize]) -> crate::Result<Vec<usize>> {
            self.1.output_shape(input)
        }
    }

    impl<S: Scalar + Over> OpSpec<S> for OneStageOver {
        fn forward(&self, x: &Tensor<S>) -> crate::Result<Tensor<S>> {
            self.1.forward(x)
        }
        fn jvp(&self, x: &Tensor<S>, dx: &Tensor<S>) -> crate::Result<Tensor<S>> {
            self.1.jvp(x, dx)
        }
        fn vjp(&self, x: &Tensor<S>, dy: &Tensor<S>) -> crate::Result<Tensor<S>> {
            self.1.vjp(x, dy)
        }
        fn stages(&self) -> Vec<&dyn OpSpec<S>> {
            if S::NAME == self.0 {
                vec![self]
            } else {
                self.1.stages()
            }
        }
    }

    /// A stage pairs the op's stages over `Q`, `Dual` and `Jet` one to one, so an op whose
    /// stages differ in number over any one of them is not split (no op of the crate does; a
    /// user's op that chose its stages by scalar would).
    #[test]
    fn a_composition_is_split_only_when_its_stages_agree_over_the_three_scalars() {
        let op = |over| OneStageOver(over, Relu.then(Identity));
        assert_eq!(stages::<Q>(&op("none")).map(|s| s.len()), Some(2));
        for over in ["Q", "Dual", "Jet"] {
            assert!(stages::<Q>(&op(over)).is_none(), "one stage over {over}");
        }
    }
}
