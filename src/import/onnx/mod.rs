//! ONNX models, as `torch.onnx.export` writes them, imported into an exact graph.
