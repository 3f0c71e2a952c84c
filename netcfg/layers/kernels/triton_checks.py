"""Argument checks of the Triton launchers (`triton_kernels`): types, shapes, devices, ranges.

The launchers refuse bad arguments with a ``ValueError`` before any kernel runs, since a
kernel reading out of range would fail late (or silently, on a GPU).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "FLOAT_DTYPES",
    "INDEX_DTYPES",
    "check_device",
    "check_range",
    "check_tensor",
    "rows_ready",
    "should_check",
]

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
INDEX_DTYPES = (torch.int32, torch.int64)


def check_tensor(name: str, tensor: object, ndim: int, dtypes: tuple[torch.dtype, ...]) -> Tensor:
    """``tensor`` itself, once it is a torch tensor of ``ndim`` dimensions and one of ``dtypes``."""
    if not isinstance(tensor, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    if tensor.dim() != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {tuple(tensor.shape)}")
    if tensor.dtype not in dtypes:
        allowed = ", ".join(str(d).removeprefix("torch.") for d in dtypes)
        raise ValueError(f"{name} must have dtype in ({allowed}), got {tensor.dtype}")
    return tensor


def check_device(
    named: dict[str, Tensor],
    *,
    interpreted: bool,
    kernels_interpreted: bool,
    triton_interpreted: bool,
) -> torch.device:
    """The one device of the named tensors: CUDA, or CPU when the kernels are interpreted.

    Args:
        named: the launcher's tensors by argument name.
        interpreted: whether the kernels run in the Triton interpreter (CPU tensors allowed).
        kernels_interpreted: whether the kernels were built for the Triton interpreter.
        triton_interpreted: whether ``triton.language`` runs interpreted; both must agree.
    """
    devices = {name: t.device for name, t in named.items()}
    first_name, device = next(iter(devices.items()))
    for name, other in devices.items():
        if other != device:
            raise ValueError(
                f"all tensors must be on the same device: {first_name} is on {device} "
                f"but {name} is on {other}"
            )
    if kernels_interpreted != triton_interpreted:
        raise RuntimeError(
            "TRITON_INTERPRET changed between importing triton (interpreter "
            f"{'on' if triton_interpreted else 'off'}) and importing "
            f"netcfg.layers.kernels.triton_kernels (interpreter "
            f"{'on' if kernels_interpreted else 'off'}); set it before triton is first imported"
        )
    if device.type == "cpu":
        if not interpreted:
            raise ValueError(
                "the Triton kernels need CUDA tensors; got CPU tensors without the Triton "
                "interpreter. Use the plain-torch CPU path, or set TRITON_INTERPRET=1 in the "
                "environment before importing netcfg.layers.kernels.triton_kernels"
            )
    elif device.type != "cuda":
        raise ValueError(f"the Triton kernels run on CUDA (or CPU when interpreted), got {device}")
    return device


def rows_ready(tensor: Tensor) -> Tensor:
    """Returns ``tensor`` with unit stride along its last dimension (a copy only if needed)."""
    if tensor.dim() >= 1 and tensor.shape[-1] > 1 and tensor.stride(-1) != 1:
        return tensor.contiguous()
    return tensor


def check_range(name: str, indices: Tensor, upper: int, upper_name: str) -> None:
    """Refuse index values outside ``[0, upper)``."""
    if indices.numel() == 0:
        return
    low = int(indices.min())
    high = int(indices.max())
    if low < 0 or high >= upper:
        raise ValueError(
            f"{name} must lie in [0, {upper_name}={upper}), got values in [{low}, {high}]"
        )


def should_check(check_indices: bool | None, device: torch.device) -> bool:
    """Whether to check index values: by default on CPU only, where it is free (on CUDA,
    reading the indices back to the host synchronises)."""
    return device.type == "cpu" if check_indices is None else bool(check_indices)
