//! Named networks ([`super::Mlp`], [`super::DeepMlp`], [`super::MlpMse`]) are compositions of
//! the primitive ops; this macro makes such a type an op by handing every method of the
//! contract to its composition, so no rule is written twice.

/// `delegate_to_composition!(Type, |this| composition, name = |this| name)` implements
/// [`super::Op`] and [`super::OpSpec`] for `Type` by calling `composition` (an expression in
/// `this: &Type` that evaluates to a reference to the composed op, which the type owns) for everything but the name.
macro_rules! delegate_to_composition {
    ($ty:ty, |$this:ident| $net:expr, name = |$that:ident| $name:expr) => {
        impl $crate::ops::Op for $ty {
            fn name(&self) -> String {
                let $that = self;
                $name
            }
            fn output_shape(&self, input: &[usize]) -> $crate::Result<Vec<usize>> {
                let $this = self;
                $crate::ops::Op::output_shape($net, input)
            }
            fn is_piecewise_linear(&self) -> bool {
                let $this = self;
                $crate::ops::Op::is_piecewise_linear($net)
            }
            fn depth(&self) -> usize {
                let $this = self;
                $crate::ops::Op::depth($net)
            }
            fn certified_guard_layers(&self) -> usize {
                let $this = self;
                $crate::ops::Op::certified_guard_layers($net)
            }
            fn params(&self) -> Vec<$crate::ops::Param<'_>> {
                let $this = self;
                $crate::ops::Op::params($net)
            }
            fn param_count(&self) -> usize {
                let $this = self;
                $crate::ops::Op::param_count($net)
            }
        }

        impl<S: $crate::Scalar> $crate::ops::OpSpec<S> for $ty {
            fn forward(&self, x: &$crate::Tensor<S>) -> $crate::Result<$crate::Tensor<S>> {
                let $this = self;
                $net.forward(x)
            }
            fn jvp(
                &self,
                x: &$crate::Tensor<S>,
                dx: &$crate::Tensor<S>,
            ) -> $crate::Result<$crate::Tensor<S>> {
                let $this = self;
                $net.jvp(x, dx)
            }
            fn vjp(
                &self,
                x: &$crate::Tensor<S>,
                dy: &$crate::Tensor<S>,
            ) -> $crate::Result<$crate::Tensor<S>> {
                let $this = self;
                $net.vjp(x, dy)
            }
            fn stages(&self) -> Vec<&dyn $crate::ops::OpSpec<S>> {
                let $this = self;
                $crate::ops::contract::stages_of($net)
            }
            fn guards(&self, x: &$crate::Tensor<S>) -> $crate::Result<Vec<$crate::ops::Guard<S>>> {
                let $this = self;
                $net.guards(x)
            }
            fn forward_with_params(
                &self,
                params: &$crate::Tensor<S>,
                x: &$crate::Tensor<S>,
            ) -> $crate::Result<$crate::Tensor<S>> {
                let $this = self;
                $net.forward_with_params(params, x)
            }
            fn jvp_params(
                &self,
                x: &$crate::Tensor<S>,
                dparams: &$crate::Tensor<S>,
            ) -> $crate::Result<$crate::Tensor<S>> {
                let $this = self;
                $net.jvp_params(x, dparams)
            }
            fn vjp_params(
                &self,
                x: &$crate::Tensor<S>,
                dy: &$crate::Tensor<S>,
            ) -> $crate::Result<$crate::Tensor<S>> {
                let $this = self;
                $net.vjp_params(x, dy)
            }
        }
    };
}
