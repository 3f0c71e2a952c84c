"""GPU kernel benchmark: each Triton kernel's time and memory bandwidth, beside torch's own.

For each shape (a batch of CSR rows over a catalogue, a hidden width) every sparse kernel of
a training step is timed on the GPU, next to the plain-torch operator netcfg's CPU path uses
for the same result:

- ``csr_forward``: ``X @ W`` for the CSR batch and W [items, H] (Triton
  ``segment_rows_sum``; torch ``F.embedding_bag``);
- ``weight_grad_sorted``: the row-sparse ``X^T @ G`` summed per column over the entries
  sorted by column (Triton ``segment_rows_sum``, deterministic; torch ``index_add_``);
- ``weight_grad_atomic``: the same sums scattered with float atomics (Triton
  ``segment_rows_sum_atomic``; torch ``index_add_``);
- ``gather_dot``: the output layer at the batch's entries only, ``h[b] . V[c] + bias[c]``
  (Triton ``gather_dot``; torch ``torch.sparse.sampled_addmm``).

Each kernel's result is first checked against torch's. Each kernel is captured with
``--calls`` different random batches in one CUDA graph (so launch overhead is not timed and
the gathered rows are not all in L2 from the previous call); the graph is replayed
``--replays`` times and the median per call is kept. Where torch's operator cannot be
captured it is timed in a plain loop (``"torch_timing": "eager"``).

Bandwidth: ``bytes`` is the compulsory traffic of one call: every index and coefficient
read once, every distinct matrix row the call gathers read once, the output written once.
``gbps`` = bytes / time, and ``peak_fraction`` = gbps / the card's peak (``--peak-gbps``,
else the datasheet figure for H100 and H200 cards); the run also measures a
device-to-device copy (bytes read + written) as the bandwidth this card reaches in practice.

Usage: ``python bench/kernels.py [--calls 16] [--replays 20] [--peak-gbps N]``; needs a CUDA
GPU and Triton. Prints JSON lines: one for the copy, one per (shape, kernel).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from netcfg.layers.kernels.backends import TorchBackend
from netcfg.layers.kernels.sparse_ops import KeyGroups, row_ids

SHAPES = [
    {"name": "sweep-1M", "items": 1_000_000, "per_row": 100, "batch": 128, "hidden": 256},
    {"name": "sweep-1M-b1024", "items": 1_000_000, "per_row": 100, "batch": 1024, "hidden": 256},
    {"name": "netflix", "items": 17_768, "per_row": 200, "batch": 128, "hidden": 512},
]
DATASHEET_GBPS = {"H100 80GB HBM3": 3350.0, "H100": 3350.0, "H200": 4800.0}
"""Peak memory bandwidth (GB/s) of the cards this project is lent, by name fragment."""

F32, I64 = 4, 8


@dataclass
class Batch:
    """One random CSR batch with everything the kernels read."""

    offsets: Tensor
    columns: Tensor
    values: Tensor
    rows: Tensor
    groups: KeyGroups
    group_of_entries: Tensor


def make_batch(shape: dict, g: torch.Generator, device: torch.device) -> Batch:
    """``per_row`` distinct random columns per row (sorted), normal values."""
    batch, per_row, items = shape["batch"], shape["per_row"], shape["items"]
    scores = torch.rand(batch, items, generator=g) if items <= 50_000 else None
    if scores is not None:
        columns = scores.topk(per_row, dim=1).indices.sort(dim=1).values
    else:  # per_row << items: distinct draws out of a few more, a random subset of them
        columns = torch.stack([_distinct(items, per_row, g) for _ in range(batch)])
    columns = columns.flatten().to(device)
    offsets = torch.arange(0, batch * per_row + 1, per_row, device=device)
    values = torch.randn(columns.numel(), generator=g).to(device)
    groups = KeyGroups.of(columns)
    rows = row_ids(offsets, columns.numel())
    return Batch(offsets, columns, values, rows, groups, groups.group_of_entries())


def _distinct(items: int, count: int, g: torch.Generator) -> Tensor:
    chosen = torch.unique(torch.randint(0, items, (3 * count,), generator=g))
    return chosen[torch.randperm(chosen.numel(), generator=g)[:count]].sort().values


def graph_time(calls: list[Callable[[], object]], replays: int) -> tuple[float, str]:
    """Median milliseconds per call: the calls captured in one CUDA graph, replayed.

    Falls back to timing the calls in a loop when they cannot be captured.
    """
    for call in calls:  # warm up: compile the kernels, let the allocator settle
        call()
    torch.cuda.synchronize()
    try:
        graph = torch.cuda.CUDAGraph()
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for call in calls:
                call()
            with torch.cuda.graph(graph, stream=stream):
                for call in calls:
                    call()
        torch.cuda.current_stream().wait_stream(stream)
        run, timing = graph.replay, "graph"
    except RuntimeError:
        torch.cuda.synchronize()

        def run() -> None:
            for call in calls:
                call()

        timing = "eager"
    run()
    times = []
    for _ in range(replays):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        run()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / len(calls))
    return statistics.median(times), timing


def copy_gbps(device: torch.device, mib: int = 1024) -> float:
    """Bandwidth of a device-to-device copy, bytes read plus written, GB/s."""
    source = torch.empty(mib * 2**20 // F32, device=device)
    target = torch.empty_like(source)
    ms, _ = graph_time([lambda: target.copy_(source)], 20)
    return 2 * source.numel() * F32 / (ms * 1e-3) / 1e9


def kernel_cases(shape: dict, batches: list[Batch], device: torch.device) -> dict:
    """Per kernel: (triton calls, torch calls, compulsory bytes of one call)."""
    from netcfg.layers.kernels import triton_kernels as tk

    items, hidden, batch = shape["items"], shape["hidden"], shape["batch"]
    g = torch.Generator(device=device).manual_seed(1)
    weight = torch.randn(items, hidden, device=device, generator=g)
    bias = torch.randn(items, device=device, generator=g)
    grad_out = torch.randn(batch, hidden, device=device, generator=g)
    torch_ops = TorchBackend()
    entries = batches[0].columns.numel()
    distinct = statistics.mean(b.groups.unique.numel() for b in batches)
    index_bytes = entries * (I64 + F32)  # one index and one coefficient per entry

    def sorted_inputs(b: Batch) -> tuple[Tensor, Tensor, Tensor]:
        order = b.groups.order
        return b.groups.offsets, b.rows[order].contiguous(), b.values[order].contiguous()

    sorted_args = [sorted_inputs(b) for b in batches]
    return {
        "csr_forward": (
            [
                lambda b=b: tk.segment_rows_sum(b.offsets, b.columns, b.values, weight)
                for b in batches
            ],
            [
                lambda b=b: F.embedding_bag(
                    b.columns, weight, b.offsets[:-1], mode="sum", per_sample_weights=b.values
                )
                for b in batches
            ],
            index_bytes + distinct * hidden * F32 + batch * hidden * F32,
        ),
        "weight_grad_sorted": (
            [lambda a=a: tk.segment_rows_sum(a[0], a[1], a[2], grad_out) for a in sorted_args],
            [
                lambda b=b: torch_ops.scatter_sum(
                    b.group_of_entries, b.rows, b.values, grad_out, b.groups.unique.numel()
                )
                for b in batches
            ],
            index_bytes + batch * hidden * F32 + distinct * (I64 + hidden * F32),
        ),
        "weight_grad_atomic": (
            [
                lambda b=b: tk.segment_rows_sum_atomic(
                    b.group_of_entries, b.rows, b.values, grad_out, b.groups.unique.numel()
                )
                for b in batches
            ],
            [
                lambda b=b: torch_ops.scatter_sum(
                    b.group_of_entries, b.rows, b.values, grad_out, b.groups.unique.numel()
                )
                for b in batches
            ],
            entries * (2 * I64 + F32) + batch * hidden * F32 + distinct * hidden * F32,
        ),
        "gather_dot": (
            [lambda b=b: tk.gather_dot(b.rows, b.columns, grad_out, weight, bias) for b in batches],
            [
                lambda b=b: torch_ops.gather_dot(
                    b.rows, b.columns, grad_out, weight, bias, b.offsets
                )
                for b in batches
            ],
            entries * (2 * I64 + F32) + batch * hidden * F32 + distinct * (hidden + 1) * F32,
        ),
    }


def peak_gbps(device: torch.device, given: float | None) -> float | None:
    """The card's peak bandwidth: ``given``, else the datasheet figure for its name."""
    if given is not None:
        return given
    name = torch.cuda.get_device_name(device)
    for fragment, gbps in DATASHEET_GBPS.items():
        if fragment in name:
            return gbps
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=16, help="batches per timed graph")
    parser.add_argument("--replays", type=int, default=20, help="timed graph replays")
    parser.add_argument("--peak-gbps", type=float, help="the card's peak bandwidth, GB/s")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("bench/kernels.py needs a CUDA GPU (the kernels run on CPU only interpreted)")
    device = torch.device("cuda")
    peak = peak_gbps(device, args.peak_gbps)
    name = torch.cuda.get_device_name(device)
    print(json.dumps({"device": name, "peak_gbps": peak, "copy_gbps": round(copy_gbps(device))}))
    for shape in SHAPES:
        g = torch.Generator().manual_seed(0)
        batches = [make_batch(shape, g, device) for _ in range(args.calls)]
        for kernel, (ours, theirs, nbytes) in kernel_cases(shape, batches, device).items():
            torch.testing.assert_close(ours[0](), theirs[0](), rtol=1e-4, atol=1e-3)
            triton_ms, _ = graph_time(ours, args.replays)
            torch_ms, timing = graph_time(theirs, args.replays)
            gbps = nbytes / (triton_ms * 1e-3) / 1e9
            record = {
                **shape,
                "kernel": kernel,
                "entries": batches[0].columns.numel(),
                "triton_us": round(1000 * triton_ms, 2),
                "torch_us": round(1000 * torch_ms, 2),
                "torch_timing": timing,
                "speedup": round(torch_ms / triton_ms, 2),
                "mbytes": round(nbytes / 1e6, 2),
                "gbps": round(gbps, 1),
                "peak_fraction": None if peak is None else round(gbps / peak, 3),
            }
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
