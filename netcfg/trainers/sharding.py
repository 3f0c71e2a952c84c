"""Item tables split by rows across data-parallel processes (``Training.Distributed.Shard``).

A model states its item tables as data (``row_tables()``: parameters stored one row per
column of a DataSet, read in training only at the rows of the batch's columns). Rank r of
N keeps rows ``[r * c, (r + 1) * c)`` of each sharded table, ``c = ceil(rows / N)`` (the
split of ``torch.chunk`` and of DTensor's ``Shard(0)``), with their optimizer state; nobody
holds the whole table while training. A step then runs on the batch's columns only:

1. each rank renumbers the columns of its share of the batch, per DataSet, to the sorted
   distinct columns it holds (``ids``), and asks each table's owners for those rows
   (``all_to_all`` of the ids, then of the rows): the compact table ``[len(ids), width]``;
2. the model runs on the renumbered batch with the compact tables in place of its own
   (``torch.func.functional_call``): the same arithmetic as on the whole tables, since
   nothing else reads them;
3. after backward each compact gradient goes back to the rows' owners (``all_to_all``),
   which sum what the ranks sent and divide by N: the mean over the ranks that the other
   parameters get from `netcfg.trainers.distributed.GradientReducer`. A gradient stays
   row-sparse when it was (lazy optimizers see the same rows as in one process).

Tables that are not sharded are sliced to the same rows and their gradients returned to
the whole table, which the reducer averages. Rank 0 alone evaluates and writes
checkpoints: `RowSharding.whole` gathers the tables and their optimizer state to it for
that time, so checkpoints and run directories are those of one process (and resume with
any number of processes).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from netcfg.data.batch import SparseBatch
from netcfg.errors import ConfigError, Issue, NetcfgError
from netcfg.trainers.distributed import World
from netcfg.trainers.sparse_updates import coalesced, gradient_norm
from netcfg.trainers.spec import DistributedSpec

SPLITTABLE = (
    "the projection of a sparse Input, and the weights of an Output computed at its sparse "
    "target's entries only"
)
"""What `tables_to_shard` says can be split."""

__all__ = ["RowSharding", "held_bytes", "row_bounds", "sharding_note", "tables_to_shard"]


def row_bounds(rows: int, size: int) -> list[int]:
    """Where each rank's rows start, and the end: ``torch.chunk``'s split of ``rows``."""
    chunk = math.ceil(rows / size)
    return [min(rank * chunk, rows) for rank in range(size + 1)]


def tables_to_shard(spec: DistributedSpec, model: nn.Module) -> list[str]:
    """The parameters ``Shard`` splits: the item tables (``model.row_tables()``) that are
    weights (two or more dimensions) of the named layers, or of every layer for ``Auto``.

    Raises:
        ConfigError: the model has no item tables, or a named layer has none.
    """
    if not spec.Shard:
        return []
    where = ("Training", "Distributed", "Shard")
    tables = getattr(model, "row_tables", None)
    parameters = dict(model.named_parameters())
    weights = [n for n in (tables() if tables else {}) if parameters[n].dim() >= 2]
    layers = spec.sharded_layers()
    if layers is None:
        if not weights:
            raise ConfigError(
                [Issue(where, f"this network has no weight to split; splittable are {SPLITTABLE}")]
            )
        return weights
    chosen, issues = [], []
    for index, layer in enumerate(layers):
        own = [n for n in weights if n.startswith(f"layers.{layer}.")]
        if not own:
            issues.append(
                Issue(
                    (*where, index),
                    f"layer '{layer}' has no weight stored one row per item that training "
                    f"reads only at a batch's columns; splittable are {SPLITTABLE}",
                )
            )
        chosen += own
    if issues:
        raise ConfigError(issues)
    return list(dict.fromkeys(chosen))


def held_bytes(optimizer: torch.optim.Optimizer, parameters) -> int:
    """Bytes of ``parameters`` and of their optimizer state."""
    total = 0
    for parameter in parameters:
        state = optimizer.state.get(parameter, {})
        tensors = [parameter, *(v for v in state.values() if isinstance(v, torch.Tensor))]
        total += sum(t.numel() * t.element_size() for t in tensors)
    return total


def sharding_note(sharding: RowSharding) -> str:
    """The line that says which tables are split, and how."""
    parts = [
        f"{name} ({sharding.rows[name]:,} rows, {bounds[1] - bounds[0]:,} per process)"
        for name, bounds in sharding.bounds.items()
    ]
    return f"sharded across {sharding.world.size} processes: " + ", ".join(parts)


@dataclass
class _Columns:
    """One DataSet's columns in this step: which this rank holds and who owns them."""

    ids: torch.Tensor  # the distinct columns of this rank's batch, increasing
    send: list[int]  # how many of them each rank owns
    receive: list[int]  # how many columns each rank asks this one for
    asked: torch.Tensor  # those columns, in rank order


class RowSharding:
    """Split a model's item tables by rows across the processes of ``world``.

    Args:
        model: the model; its sharded parameters are replaced by this rank's rows.
        optimizer: its optimizer, whose parameters and state are replaced likewise.
        tables: the model's item tables, parameter name -> DataSet (``row_tables()``).
        sharded: the names of the tables to split (the others are sliced per step only).
        world: the processes.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        tables: Mapping[str, str],
        sharded: Sequence[str],
        world: World,
    ):
        self.model, self.optimizer, self.world = model, optimizer, world
        self.tables = dict(tables)
        self.sharded = [name for name in self.tables if name in set(sharded)]
        parameters = dict(model.named_parameters())
        self.rows = {name: parameters[name].shape[0] for name in self.tables}
        self.widths = {dataset: self.rows[name] for name, dataset in self.tables.items()}
        self.bounds = {name: row_bounds(self.rows[name], world.size) for name in self.sharded}
        self.replicated = {n: parameters[n] for n in self.tables if n not in self.sharded}
        self.shards: dict[str, nn.Parameter] = {}
        for name in self.sharded:
            start, end = self._own(name)
            shard = nn.Parameter(parameters[name].detach()[start:end].clone())
            self._swap(name, parameters[name], shard)
            self.shards[name] = shard
        self._step: tuple[dict[str, _Columns], dict[str, torch.Tensor]] | None = None

    def _own(self, name: str) -> tuple[int, int]:
        bounds = self.bounds[name]
        return bounds[self.world.rank], bounds[self.world.rank + 1]

    def owns(self, parameter: torch.Tensor) -> bool:
        """Whether ``parameter`` is a shard (its gradient is reduced here, not elsewhere)."""
        return any(parameter is shard for shard in self.shards.values())

    def resident_bytes(self) -> int:
        """Bytes this rank holds for the sharded tables: their rows and optimizer state."""
        return held_bytes(self.optimizer, self.shards.values())

    # -- a training step ------------------------------------------------------------------

    def forward(self, inputs: Mapping, targets: Mapping, **kwargs):
        """The model on this rank's batch, computed from the rows of its columns only."""
        columns: dict[str, _Columns] = {}
        renumbered: dict[int, SparseBatch] = {}
        for dataset in sorted(set(self.tables.values())):
            batches = [b[dataset] for b in (inputs, targets) if dataset in b]
            if not all(isinstance(b, SparseBatch) for b in batches):
                raise NetcfgError(
                    f"DataSet '{dataset}' does not come in sparse batches: its tables cannot "
                    "be split (Training.Distributed.Shard)"
                )
            ids = torch.unique(torch.cat([b.indices for b in batches]))
            for batch in batches:
                renumbered[id(batch)] = batch.renumbered(ids)
            columns[dataset] = self._exchange_ids(ids, self.widths[dataset])
        compact = {}
        for name, dataset in self.tables.items():
            if name in self.shards:
                rows = self._fetch(name, columns[dataset])
            else:
                rows = self.replicated[name].detach()[columns[dataset].ids]
            compact[name] = rows.requires_grad_(True)
        self._step = (columns, compact)
        inputs = {k: renumbered.get(id(v), v) for k, v in inputs.items()}
        targets = {k: renumbered.get(id(v), v) for k, v in targets.items()}
        return torch.func.functional_call(self.model, compact, (inputs, targets), kwargs)

    def _exchange_ids(self, ids: torch.Tensor, rows: int) -> _Columns:
        bounds = torch.tensor(row_bounds(rows, self.world.size), device=ids.device)
        owners = torch.bucketize(ids, bounds[1:], right=True)
        send = torch.bincount(owners, minlength=self.world.size)
        receive = torch.empty_like(send)
        dist.all_to_all_single(receive, send)
        send_list, receive_list = send.tolist(), receive.tolist()
        asked = ids.new_empty(sum(receive_list))
        dist.all_to_all_single(asked, ids, receive_list, send_list)
        return _Columns(ids, send_list, receive_list, asked)

    def _fetch(self, name: str, columns: _Columns) -> torch.Tensor:
        """This rank's compact table: the rows of its columns, from their owners."""
        shard = self.shards[name]
        start, _ = self._own(name)
        answer = shard.detach()[columns.asked - start].reshape(len(columns.asked), -1)
        rows = shard.new_empty((len(columns.ids), answer.shape[1]))
        dist.all_to_all_single(rows, answer.contiguous(), columns.send, columns.receive)
        return rows.view(len(columns.ids), *shard.shape[1:])

    def reduce(self, parameters: Sequence[nn.Parameter]) -> list[nn.Parameter]:
        """Give the tables the gradients of this step's compact tables: the shards their
        mean over the ranks, the other tables their rows (to be averaged with the rest).

        Returns:
            The parameters whose gradients the data-parallel reducer still averages.
        """
        columns, compact = self._step
        self._step = None
        present = [
            [
                compact[n].grad is not None,
                compact[n].grad is not None and not compact[n].grad.is_sparse,
            ]
            for n in self.sharded
        ]
        flags = self.world.sum(torch.tensor(present or [[0, 0]], dtype=torch.int64))
        for name, table in self.replicated.items():
            ids = columns[self.tables[name]].ids
            table.grad = _spread(compact[name].grad, ids, table)
        for index, name in enumerate(self.sharded):
            any_grad, any_dense = flags[index].tolist()
            self.shards[name].grad = (
                self._return(name, compact[name].grad, columns[self.tables[name]], any_dense > 0)
                if any_grad
                else None
            )
        return [p for p in parameters if not self.owns(p)]

    def _return(
        self, name: str, grad: torch.Tensor | None, columns: _Columns, dense: bool
    ) -> torch.Tensor:
        """A shard's gradient: the rows the ranks sent for it, summed, divided by N."""
        shard = self.shards[name]
        count, width = len(columns.ids), shard[0].numel() if shard.dim() > 1 else 1
        values, sent = shard.new_zeros((count, width)), shard.new_zeros((count, 1))
        if grad is not None:
            grad = coalesced(grad) if grad.is_sparse else grad
            rows = grad.indices()[0] if grad.is_sparse else torch.arange(count, device=shard.device)
            values[rows] = (grad.values() if grad.is_sparse else grad).reshape(len(rows), width)
            sent[rows] = 1.0
        received = shard.new_empty((len(columns.asked), width + 1))
        payload = torch.cat([values, sent], dim=1)
        dist.all_to_all_single(received, payload, columns.receive, columns.send)
        start, _ = self._own(name)
        kept = received[:, width] > 0
        rows = columns.asked[kept] - start
        values = received[kept, :width].reshape(len(rows), *shard.shape[1:]) / self.world.size
        if dense:
            return torch.zeros_like(shard).index_add_(0, rows, values)
        summed = torch.sparse_coo_tensor(rows.unsqueeze(0), values, shard.shape)
        return summed.coalesce()

    def gradient_norm(self, parameters: Sequence[nn.Parameter]) -> torch.Tensor:
        """The L2 norm of the gradients of every rank's parameters: the shards' squares
        summed over the ranks, the others' (equal on every rank after reduction) once."""
        shards = [p for p in parameters if self.owns(p)]
        others = [p for p in parameters if not self.owns(p)]
        squares = self.world.sum(gradient_norm(shards).double().reshape(1) ** 2)
        return torch.sqrt(squares[0] + gradient_norm(others).double() ** 2).float()

    # -- the whole tables, on rank 0 --------------------------------------------------------

    @contextmanager
    def whole(self) -> Iterator[None]:
        """Rank 0 holds the whole tables and their optimizer state within the block (to
        evaluate, checkpoint, write weights); every rank must enter it together."""
        gathered = {name: self._gather(name) for name in self.sharded}
        if not self.world.main:
            yield
            return
        kept = {name: self.optimizer.state.get(self.shards[name], {}) for name in gathered}
        for name, (table, state) in gathered.items():
            self._swap(name, self.shards[name], table, state)
        try:
            yield
        finally:
            for name, (table, _) in gathered.items():
                self._swap(name, table, self.shards[name], kept[name])

    def gather(self) -> None:
        """Leave the whole tables with rank 0 for good (after training: its final
        evaluation and weights); the other ranks keep their rows."""
        for name in self.sharded:
            table, state = self._gather(name)
            if self.world.main:
                self._swap(name, self.shards[name], table, state)
        self.shards.clear()

    def _gather(self, name: str) -> tuple[nn.Parameter | None, dict]:
        """The whole table ``name`` and its optimizer state on rank 0 (None elsewhere)."""
        shard = self.shards[name]
        state = self.optimizer.state.get(shard, {})
        keys = sorted(k for k, v in state.items() if _rowwise(v, shard))
        pieces = [self._gather_rows(name, t) for t in (shard.detach(), *(state[k] for k in keys))]
        if not self.world.main:
            return None, {}
        table = nn.Parameter(pieces[0])
        return table, {**state, **dict(zip(keys, pieces[1:], strict=True))}

    def _gather_rows(self, name: str, rows: torch.Tensor) -> torch.Tensor | None:
        bounds = self.bounds[name]
        chunk = bounds[1] - bounds[0]
        padded = rows.new_zeros((chunk, *rows.shape[1:]))
        padded[: len(rows)] = rows
        parts = (
            [torch.empty_like(padded) for _ in range(self.world.size)] if self.world.main else None
        )
        dist.gather(padded, parts, dst=0)
        if not self.world.main:
            return None
        return torch.cat(parts)[: self.rows[name]].clone()

    def _swap(
        self, name: str, old: nn.Parameter, new: nn.Parameter, state: dict | None = None
    ) -> None:
        """Put ``new`` where ``old`` is: in the model, the optimizer's groups and state."""
        owner, _, attribute = name.rpartition(".")
        setattr(self.model.get_submodule(owner), attribute, new)
        for group in self.optimizer.param_groups:
            group["params"] = [new if p is old else p for p in group["params"]]
        saved = self.optimizer.state.pop(old, None)
        if state is None and saved is not None:
            start, end = self._own(name)
            state = {k: v[start:end].clone() if _rowwise(v, old) else v for k, v in saved.items()}
        if state:
            self.optimizer.state[new] = state


def _rowwise(value, table: torch.Tensor) -> bool:
    """Whether an optimizer state entry holds one row per row of ``table``."""
    return isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape[0] == len(table)


def _spread(grad: torch.Tensor | None, ids: torch.Tensor, table: nn.Parameter):
    """A compact table's gradient as the gradient of the whole ``table`` (rows ``ids``)."""
    if grad is None:
        return None
    if not grad.is_sparse:
        return torch.zeros_like(table).index_copy_(0, ids, grad)
    grad = coalesced(grad)
    return torch.sparse_coo_tensor(
        ids[grad.indices()[0]].unsqueeze(0),
        grad.values(),
        table.shape,
        is_coalesced=True,
        check_invariants=False,
    )
