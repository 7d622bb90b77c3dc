//! Parameter gradients, checked like input gradients through `WrtParams` (the reference Jacobian
//! with respect to the parameters comes from dual numbers): the primitive ops' parameter rules in
//! [`primitives`], the training-style loss MLP + MSE and its closed forms in [`mse_loss`].

mod mse_loss;
mod primitives;
