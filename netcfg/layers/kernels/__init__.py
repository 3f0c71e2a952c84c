"""Sparse kernels: products whose cost follows a batch's nonzeros, on CPU and GPU.

`sparse_matmul` (a sparse input times a weight) and `sampled_matmul` (an output layer
evaluated at chosen entries only) are differentiable and give row-sparse weight gradients.
Each runs on one of two backends (`backends`): torch operators (the CPU path) or the
Triton kernels of `triton_kernels` (CUDA tensors; CPU tensors under ``TRITON_INTERPRET=1``).
"""

from netcfg.layers.kernels.backends import TRITON_SETTING, backend_for
from netcfg.layers.kernels.sparse_ops import row_ids, sampled_matmul, sparse_matmul

__all__ = ["TRITON_SETTING", "backend_for", "row_ids", "sampled_matmul", "sparse_matmul"]
