//! Planted wrong rules: a correct op with exactly one rule replaced, to show that a check catches
//! a realistic bug (a mutation test written in one line beside the rule it breaks).

/// Defines a wrapper op that behaves exactly like a correct op except for one planted rule.
///
/// `planted!(Name(Inner), fn RULE(&op, x, t) { … })` defines `struct Name(Inner)` that implements
/// [`Op`](crate::Op) and [`OpSpec<S>`](crate::OpSpec) for every scalar `S` for which `Inner` does.
/// `RULE` is one of `jvp`, `vjp`, `jvp_params`, `vjp_params`; inside the body, `op` is the inner
/// op, `x` the input, `t` the rule's second argument (`dx`, `δ`, `dθ` or `δ`), `S` the scalar,
/// and the body returns `Result<Tensor<S>>`. Every other method — `forward`, the other rules,
/// `guards`, `forward_with_params`, `params`, `param_count`, `depth`,
/// `certified_guard_layers`, `is_piecewise_linear` — is the inner op's, so parameters and kinks
/// keep working. The name is `"planted "` followed by the inner op's name. Attributes (e.g. a doc
/// comment) and a visibility may precede `Name`.
///
/// ```
/// use exactgrad::check::{check_op, CheckConfig};
/// use exactgrad::ops::Relu;
/// use exactgrad::planted;
///
/// planted!(TimesInput(Relu), fn vjp(&_op, x, dy) {
///     // The value used where the derivative belongs: x ⊙ δ instead of relu′(x) ⊙ δ.
///     x.hadamard(dy)
/// });
///
/// let failure = check_op(&TimesInput(Relu), &[3], &CheckConfig::default().cases(16)).unwrap_err();
/// let c = failure.counterexample().expect("a violated identity");
/// assert_eq!(c.check, "jacobian: vjp(x, δ) = Jᵀ·δ");
/// // The correct op passes.
/// assert!(check_op(&Relu, &[3], &CheckConfig::default().cases(16)).is_ok());
/// ```
#[macro_export]
macro_rules! planted {
    (
        $(#[$meta:meta])*
        $vis:vis $name:ident($inner:ty),
        fn $rule:ident(&$this:ident, $x:ident, $t:ident) $body:block $(,)?
    ) => {
        $crate::planted!(@rule $rule);

        $(#[$meta])*
        $vis struct $name($vis $inner);

        impl $crate::ops::Op for $name {
            fn name(&self) -> String {
                format!("planted {}", $crate::ops::Op::name(&self.0))
            }
            fn output_shape(&self, input: &[usize]) -> $crate::Result<Vec<usize>> {
                $crate::ops::Op::output_shape(&self.0, input)
            }
            fn is_piecewise_linear(&self) -> bool {
                $crate::ops::Op::is_piecewise_linear(&self.0)
            }
            fn depth(&self) -> usize {
                $crate::ops::Op::depth(&self.0)
            }
            fn certified_guard_layers(&self) -> usize {
                $crate::ops::Op::certified_guard_layers(&self.0)
            }
            fn params(&self) -> Vec<$crate::ops::Param<'_>> {
                $crate::ops::Op::params(&self.0)
            }
            fn param_count(&self) -> usize {
                $crate::ops::Op::param_count(&self.0)
            }
        }

        impl<S: $crate::Scalar> $crate::ops::OpSpec<S> for $name
        where
            $inner: $crate::ops::OpSpec<S>,
        {
            fn forward(&self, x: &$crate::Tensor<S>) -> $crate::Result<$crate::Tensor<S>> {
                $crate::ops::OpSpec::<S>::forward(&self.0, x)
            }
            fn jvp(
                &self,
                x: &$crate::Tensor<S>,
                dx: &$crate::Tensor<S>,
            ) -> $crate::Result<$crate::Tensor<S>> {
                $crate::planted!(@pick jvp $rule, {
                    #[allow(unused_imports)]
                    use $crate::ops::OpSpec as _;
                    let ($this, $x, $t): (&$inner, &$crate::Tensor<S>, &$crate::Tensor<S>) =
                        (&self.0, x, dx);
                    $body
                }, $crate::ops::OpSpec::<S>::jvp(&self.0, x, dx))
            }
            fn vjp(
                &self,
                x: &$crate::Tensor<S>,
                dy: &$crate::Tensor<S>,
            ) -> $crate::Result<$crate::Tensor<S>> {
                $crate::planted!(@pick vjp $rule, {
                    #[allow(unused_imports)]
                    use $crate::ops::OpSpec as _;
                    let ($this, $x, $t): (&$inner, &$crate::Tensor<S>, &$crate::Tensor<S>) =
                        (&self.0, x, dy);
                    $body
                }, $crate::ops::OpSpec::<S>::vjp(&self.0, x, dy))
            }
            fn guards(
                &self,
                x: &$crate::Tensor<S>,
            ) -> $crate::Result<Vec<$crate::ops::Guard<S>>> {
                $crate::ops::OpSpec::<S>::guards(&self.0, x)
            }
            fn forward_with_params(
                &self,
                params: &$crate::Tensor<S>,
                x: &$crate::Tensor<S>,
            ) -> $crate::Result<$crate::Tensor<S>> {
                $crate::ops::OpSpec::<S>::forward_with_params(&self.0, params, x)
            }
            fn jvp_params(
                &self,
                x: &$crate::Tensor<S>,
                dparams: &$crate::Tensor<S>,
            ) -> $crate::Result<$crate::Tensor<S>> {
                $crate::planted!(@pick jvp_params $rule, {
                    #[allow(unused_imports)]
                    use $crate::ops::OpSpec as _;
                    let ($this, $x, $t): (&$inner, &$crate::Tensor<S>, &$crate::Tensor<S>) =
                        (&self.0, x, dparams);
                    $body
                }, $crate::ops::OpSpec::<S>::jvp_params(&self.0, x, dparams))
            }
            fn vjp_params(
                &self,
                x: &$crate::Tensor<S>,
                dy: &$crate::Tensor<S>,
            ) -> $crate::Result<$crate::Tensor<S>> {
                $crate::planted!(@pick vjp_params $rule, {
                    #[allow(unused_imports)]
                    use $crate::ops::OpSpec as _;
                    let ($this, $x, $t): (&$inner, &$crate::Tensor<S>, &$crate::Tensor<S>) =
                        (&self.0, x, dy);
                    $body
                }, $crate::ops::OpSpec::<S>::vjp_params(&self.0, x, dy))
            }
        }
    };
    // The planted body where the method is the planted rule, the inner op's rule elsewhere.
    (@pick jvp jvp, $body:block, $inner:expr) => { $body };
    (@pick vjp vjp, $body:block, $inner:expr) => { $body };
    (@pick jvp_params jvp_params, $body:block, $inner:expr) => { $body };
    (@pick vjp_params vjp_params, $body:block, $inner:expr) => { $body };
    (@pick $method:ident $rule:ident, $body:block, $inner:expr) => { $inner };
    (@rule jvp) => {};
    (@rule vjp) => {};
    (@rule jvp_params) => {};
    (@rule vjp_params) => {};
    (@rule $other:ident) => {
        compile_error!(concat!(
            "planted!: `", stringify!($other),
            "` is not a rule; plant one of jvp, vjp, jvp_params, vjp_params"
        ));
    };
}
