"""Data-parallel training on torch.distributed: the process group, and gradients reduced so
that N processes train the model one process trains with the same global batch.

``torchrun`` (or ``netcfg train --nproc N``) starts the processes and sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous; `joined_world` joins them into a process
group (gloo on CPUs, NCCL on GPUs). Every rank holds the whole model; each global batch of
``BatchSize`` rows is cut into one share per rank (`netcfg.data.loader.RowLoader`).

A loss term is a sum divided by a count: the batch's rows for most, its observed entries for
``MaskedMSE`` (the model states them: ``loss_counts(targets)``). With the counts of every
rank summed, rank r weighs its term by ``N * count_r / total``, so that the mean of the
ranks' gradients is the gradient of the global batch's loss. `GradientReducer` then
averages the gradients: dense ones in one all-reduce of a flat buffer; row-sparse ones
(sparse inputs, sparse outputs) by gathering every rank's rows and values, so that a step
costs in proportion to the nonzeros here too, or, when the ranks' rows cover much of the
table, in that same all-reduce as a table and a mask of its rows. What depends on the
whole batch at once (BatchNormalization's statistics, the sparseness penalty's mean
activation, dropout masks, ``Compute: Auto``'s choice between a layer's sparse and dense
path) is decided per share, as in any data-parallel trainer; a lazy optimizer then updates
every row where a share's gradient was dense. Rank 0 binds the data first, so that what
the cache lacks is fetched or generated once.
"""

from __future__ import annotations

import atexit
import dataclasses
import datetime
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from netcfg.trainers.checkpoint import LoopState
from netcfg.trainers.sparse_updates import coalesced

__all__ = [
    "SOLO",
    "GradientReducer",
    "World",
    "data_parallel_note",
    "joined_world",
    "share_state",
    "weighted_terms",
]

TIMEOUT = datetime.timedelta(minutes=30)
"""How long a collective waits for a rank that is slow (evaluating, checkpointing)."""


@dataclass(frozen=True)
class World:
    """This process's place among the processes of a run.

    Attributes:
        rank: this process's number (0 writes the run directory and prints).
        size: the number of processes.
        local_rank: its number on this machine (its GPU, on a GPU machine).
        backend: ``gloo`` or ``nccl``; empty for a single process without a group.
    """

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    backend: str = ""

    @property
    def main(self) -> bool:
        """Whether this process writes the run directory, metrics and progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """Whether a process group is in use (``torchrun``, even with one process)."""
        return bool(self.backend)

    def broadcast(self, value):
        """Rank 0's ``value`` (any picklable object), on every rank."""
        if not self.distributed:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    @property
    def device(self) -> torch.device:
        """Where the backend's collectives take tensors: this rank's GPU for NCCL."""
        if self.backend == "nccl":
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("cpu")

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """The element-wise sum of ``values`` over the ranks (a new tensor, on the device of
        ``values``)."""
        if not self.distributed:
            return values.clone()
        total = values.to(self.device, copy=True)
        dist.all_reduce(total)
        return total.to(values.device)


SOLO = World()
"""A single process outside torchrun."""


@contextmanager
def joined_world(device_type: str) -> Iterator[World]:
    """The processes ``torchrun`` describes in the environment, joined into a process group
    (gloo on a CPU, NCCL on CUDA, where a rank uses the GPU ``LOCAL_RANK``); ``SOLO``
    outside torchrun. The group is made once per process and kept until it exits, so that
    several runs in one process (an ensemble's members) share it."""
    if "WORLD_SIZE" not in os.environ or "RANK" not in os.environ:
        yield SOLO
        return
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if device_type == "cuda":
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo", timeout=TIMEOUT)
        atexit.register(_leave)
    yield World(dist.get_rank(), dist.get_world_size(), local_rank, dist.get_backend())


def _leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def share_state(
    world: World,
    network: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    state: LoopState,
    continuing: bool,
) -> LoopState:
    """Make every rank start where rank 0 does: its parameters (and, resuming, its
    optimizer state and loop state, which rank 0 read from the checkpoint)."""
    if world.size == 1:
        return state
    if continuing:
        saved = world.broadcast(
            (optimizer.state_dict(), dataclasses.asdict(state)) if world.main else None
        )
        if not world.main:
            optimizer.load_state_dict(saved[0])
            state = LoopState(**saved[1])
    with torch.no_grad():
        for tensor in [*network.parameters(), *network.buffers()]:
            dist.broadcast(tensor, src=0)
    return state


def data_parallel_note(world: World, batch_size: int) -> str:
    """The line that says how a data-parallel run shares its batches."""
    share = batch_size // world.size
    rows = f"{share}" if batch_size % world.size == 0 else f"{share} or {share + 1}"
    return (
        f"data-parallel: {world.size} processes ({world.backend}), global batch {batch_size}, "
        f"{rows} rows per process"
    )


def weighted_terms(
    losses: Mapping[str, torch.Tensor], counts: Mapping[str, float], rows: int, world: World
) -> tuple[torch.Tensor, float, int]:
    """The objective this rank back-propagates, the global batch's loss and its rows.

    Args:
        losses: this rank's loss terms, each a sum over its share divided by its count.
        counts: each term's count on this rank (0 where the rank's share is empty).
        rows: the rows of this rank's share.
        world: the processes.

    Returns:
        ``sum_t N * count_t / total_t * loss_t`` (averaged over the ranks, its gradient is
        the global batch's); ``sum_t sum_r(count * loss) / total_t``, the loss one process
        computes on the global batch; and the global batch's rows.
    """
    names = sorted(losses)
    local = torch.tensor(
        [float(rows)]
        + [counts[n] for n in names]
        + [counts[n] * float(losses[n].detach()) for n in names],
        dtype=torch.float64,
    )
    summed = world.sum(local).tolist()
    totals, sums = summed[1 : 1 + len(names)], summed[1 + len(names) :]
    objective = sum(
        (losses[n] * (world.size * counts[n] / totals[i]) if totals[i] else losses[n] * 0.0)
        for i, n in enumerate(names)
    )
    global_loss = sum(sums[i] / totals[i] for i in range(len(names)) if totals[i])
    return objective, global_loss, int(summed[0])


class GradientReducer:
    """Average the gradients of parameters over the ranks, in place.

    Every rank calls `reduce` after its backward pass, with the same parameters in the same
    order. A parameter none of the ranks has a gradient for keeps ``None`` (an optimizer
    then skips it, as it would in one process); one that some ranks lack gets the others'
    mean. Row-sparse gradients stay row-sparse, holding the union of the ranks' rows.
    """

    def __init__(self, world: World):
        self.world = world

    def reduce(self, parameters: Iterable[torch.nn.Parameter]) -> None:
        """Replace each parameter's ``.grad`` by the mean over the ranks of their ``.grad``.

        Three collectives for most steps: the gradients' layouts and sizes are gathered;
        dense gradients, and row-sparse ones that cover much of their table (with a mask of
        their rows), are summed in one flat all-reduce; the other row-sparse gradients are
        gathered, rows and values, and summed where their rows meet.
        """
        parameters = list(parameters)
        if self.world.size == 1:
            return
        for parameter in parameters:
            if parameter.grad is not None and parameter.grad.is_sparse:
                parameter.grad = coalesced(parameter.grad)
        # per rank and parameter: its layout (0 no gradient, 1 dense, 2 row-sparse) and its
        # rows. A layer that chooses its computation by the batch's density may give a
        # dense gradient on one rank and a sparse one on another: the mean is then dense.
        local = [_kind(p.grad) for p in parameters] + [_rows(p.grad) for p in parameters]
        gathered = _all_gather_equal(torch.tensor(local, dtype=torch.int64), self.world)
        kinds, rows = gathered[:, : len(parameters)], gathered[:, len(parameters) :]
        dense, tables, gathers = [], [], []
        for index, parameter in enumerate(parameters):
            if not (kinds[:, index] > 0).any():
                continue  # no rank has a gradient: None stays, as in one process
            if (kinds[:, index] == 1).any():
                if parameter.grad is not None and parameter.grad.is_sparse:
                    parameter.grad = parameter.grad.to_dense()
                dense.append(parameter)
            elif self.world.size * int(rows[:, index].max()) >= parameter.shape[0]:
                tables.append(parameter)  # gathering its rows would move more than the table
            else:
                gathers.append((parameter, rows[:, index].tolist()))
        self._all_reduce(dense, tables)
        for parameter, counts in gathers:
            parameter.grad = self._gather_rows(parameter, counts)

    def _all_reduce(self, dense: list[nn.Parameter], tables: list[nn.Parameter]) -> None:
        """Average dense gradients, and row-sparse ones as whole tables plus row masks, in
        one all-reduce of a flat buffer."""
        if not dense and not tables:
            return
        pieces = [
            (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in dense
        ]
        for parameter in tables:
            table, mask = parameter.new_zeros(parameter.shape), parameter.new_zeros(len(parameter))
            if parameter.grad is not None:
                table[parameter.grad._indices()[0]] = parameter.grad._values()
                mask[parameter.grad._indices()[0]] = 1.0
            pieces += [table.reshape(-1), mask]
        flat = torch.cat(pieces)
        dist.all_reduce(flat)
        flat /= self.world.size
        offset = 0
        for parameter in dense:
            size = parameter.numel()
            parameter.grad = flat[offset : offset + size].view_as(parameter).clone()
            offset += size
        for parameter in tables:
            size, length = parameter.numel(), len(parameter)
            table = flat[offset : offset + size].view_as(parameter)
            union = flat[offset + size : offset + size + length].nonzero().squeeze(1)
            offset += size + length
            parameter.grad = torch.sparse_coo_tensor(
                union.unsqueeze(0),
                table[union],
                parameter.shape,
                is_coalesced=True,
                check_invariants=False,
            )

    def _gather_rows(self, parameter: nn.Parameter, counts: list[int]) -> torch.Tensor:
        """The mean of row-sparse gradients with ``counts`` rows on the ranks: every rank's
        rows and values gathered, then summed where rows meet."""
        grad, width, longest = parameter.grad, parameter.shape[1:], max(counts)
        padded_rows = torch.zeros(longest, dtype=torch.int64, device=parameter.device)
        padded_values = parameter.new_zeros((longest, *width))
        if grad is not None:
            padded_rows[: _rows(grad)] = grad._indices()[0]
            padded_values[: _rows(grad)] = grad._values()
        all_rows = _all_gather_equal(padded_rows, self.world)
        all_values = _all_gather_equal(padded_values, self.world)
        merged = torch.sparse_coo_tensor(
            torch.cat([all_rows[r, :n] for r, n in enumerate(counts)]).unsqueeze(0),
            torch.cat([all_values[r, :n] for r, n in enumerate(counts)]) / self.world.size,
            parameter.shape,
            check_invariants=False,
        )
        return merged.coalesce()


def _rows(grad: torch.Tensor | None) -> int:
    """The rows a (coalesced) row-sparse gradient holds; 0 for another."""
    return grad._nnz() if grad is not None and grad.is_sparse else 0


def _kind(grad: torch.Tensor | None) -> int:
    if grad is None:
        return 0
    return 2 if grad.is_sparse else 1


def _all_gather_equal(tensor: torch.Tensor, world: World) -> torch.Tensor:
    """Every rank's ``tensor`` (all of one shape), stacked: ``[world.size, *shape]``."""
    moved = tensor.to(world.device).contiguous()
    out = [torch.empty_like(moved) for _ in range(world.size)]
    dist.all_gather(out, moved)
    return torch.stack(out).to(tensor.device)
