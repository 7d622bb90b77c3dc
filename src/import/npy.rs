//! NumPy `.npy` and `.npz` files read exactly into tensors, and written.
