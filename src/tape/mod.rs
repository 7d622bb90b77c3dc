//! A tape over DAGs: nodes are ops applied to earlier nodes, so a value may feed several later
//! nodes (residual connections) and one op's parameters may be applied at several nodes (shared
//! weights). Reverse mode must then *accumulate*: the cotangent of a value is the sum of what
//! every use sends back, and the gradient of a shared parameter the sum over its uses.
//!
//! The graph is itself an op ([`crate::OpSpec`], with the parameters of all its ops), so the existing exact checks apply to backprop over the whole
//! graph: [`crate::check::jacobian`] compares it with the dual-number Jacobian of the graph's
//! forward pass, [`crate::check::fderiv`] with its exact increment when it is piecewise linear,
//! and [`crate::ops::WrtParams`] does the same for parameter gradients.
//!
//! How contributions combine is the [`Accumulate`] policy (the correct one is [`FanInSum`]), so
//! a test can swap in the classic bug — overwriting instead of adding — and watch the checks
//! reject it with an exact counterexample.
//!
//! ```
//! use exactgrad::ops::{Linear, Relu};
//! use exactgrad::tape::{Graph, Layer};
//! use exactgrad::{check, Tensor, Q};
//!
//! // y = relu(2x) + x: x is used twice, so its gradient is 2 + 1 = 3.
//! let mut g = Graph::new(vec![1]);
//! let x = g.input();
//! let w = g.op(Layer::Linear(Linear::new(Tensor::parse(vec![1, 1], &["2"])?, Tensor::parse(vec![1], &["0"])?)?));
//! let relu = g.op(Layer::Relu);
//! let h = g.apply(w, x)?;
//! let h = g.apply(relu, h)?;
//! let y = g.add(h, x)?;
//! g.set_output(y)?;
//! let proof = check::jacobian(&g, &Tensor::parse(vec![1], &["1"])?, &Tensor::parse(vec![1], &["1"])?, &Tensor::parse(vec![1], &["1"])?)?;
//! assert_eq!(proof.vjp, Tensor::parse(vec![1], &["3"])?);
//! # Ok::<(), exactgrad::Error>(())
//! ```

mod accumulate;
mod backprop;
mod graph;
mod layer;

pub use accumulate::{Accumulate, FanInSum};
pub use graph::{Graph, Node, NodeId, OpId};
pub use layer::Layer;
