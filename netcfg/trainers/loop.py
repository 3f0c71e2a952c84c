"""The generic training loop. It knows nothing of layer types.

A model is called as ``model(inputs, targets, mode=...)`` with batches keyed by DataSet
name and returns its outputs and loss terms; ``mode`` lets outputs be computed only where
the loss reads them (`OutputMode`), with dense outputs kept for re-feeding. What else the
loop needs is stated by the model as data: which DataSets it reads and predicts
(``inputs``, ``outputs``) and an optional ``apply_constraints()`` to call after each update.

A model that is not trained by back-propagating its loss (an RBM: contrastive divergence)
says so by defining ``estimate_gradients(inputs, targets, *, epoch)``: called instead of
the forward pass and ``backward``, with the epochs done, it sets each parameter's ``.grad``
to the direction a gradient-descent optimizer follows and returns the outputs and loss
terms to report. The loop then clips, steps the optimizer and constrains as for any model.
"""

from __future__ import annotations

import math
import resource
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass

import torch
from torch import nn

from netcfg.data.loader import RowLoader
from netcfg.errors import NetcfgError
from netcfg.networks.network import OutputMode
from netcfg.trainers.checkpoint import WEIGHTS, LoopState, save_checkpoint, save_weights
from netcfg.trainers.distributed import SOLO, GradientReducer, World, weighted_terms
from netcfg.trainers.evaluation import Evaluator
from netcfg.trainers.reporting import Reporter
from netcfg.trainers.rundir import RunDir
from netcfg.trainers.schedules import learning_rate
from netcfg.trainers.sharding import RowSharding, held_bytes
from netcfg.trainers.spec import Precision, TrainingSpec
from netcfg.trainers.step import GRAD_NORM_INTERVAL, refeed_step, update

__all__ = ["Monitor", "TrainingDiverged", "TrainingLoop"]

WARMUP_STEPS = 100
"""Steps before the explosion check of the divergence guard starts."""


class TrainingDiverged(NetcfgError):
    """The loss became NaN or infinite, or exploded; the last good checkpoint is kept."""


@dataclass(frozen=True)
class Monitor:
    """The validation metric that picks the best epoch (and stops early)."""

    name: str
    higher_is_better: bool

    def improved(self, value: float, best: float | None, min_delta: float) -> bool:
        """Whether ``value`` beats ``best`` by more than ``min_delta``."""
        if best is None:
            return True
        gain = value - best if self.higher_is_better else best - value
        return gain > min_delta


class TrainingLoop:
    """Train a model epoch by epoch: updates, re-feeding, evaluation, checkpoints.

    Args:
        model: the network (see the module docstring for what it must provide).
        optimizer: its optimizer; the loop sets each group's ``lr`` every step.
        loader: minibatches of rows, keyed by DataSet name.
        training: the Training section (epochs, schedule, clipping, re-feeding...).
        decay: DSSTNE's per-batch ``Decay``.
        evaluator: computes validation metrics each epoch (None: no validation).
        monitor: the validation metric that selects the best epoch.
        run_dir: where checkpoints and the best weights go.
        reporter: progress bar, TensorBoard and metrics.jsonl.
        device: where batches go.
        on_epoch: called after each epoch with the number of epochs done and the epoch's
            record (``train_loss``, ``validation`` metrics...); a returned string stops the
            run there, for that reason (kept in ``stopped``).
        world: the data-parallel processes (`netcfg.trainers.distributed`): the loader
            gives this one's share of each global batch, the loss terms are weighed by the
            model's ``loss_counts`` and gradients averaged; each rank validates a share of
            the rows (rank 0 all of them when the tables are sharded); rank 0 alone writes
            checkpoints and reports, and tells the others what it decided.
        sharding: the model's item tables split across ``world`` (`RowSharding`): steps
            run through it, and rank 0 gathers the tables to evaluate and checkpoint.
        tables: the item tables ``Shard`` names: each epoch's record then holds
            ``memory``, what each rank holds for them (``tables``: bytes of their rows and
            optimizer state) and its peak resident set (``peak_rss``).
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        loader: RowLoader,
        *,
        training: TrainingSpec,
        decay: float,
        evaluator: Evaluator | None,
        monitor: Monitor | None,
        run_dir: RunDir,
        reporter: Reporter,
        device: torch.device,
        on_epoch: Callable[[int, dict], str | None] | None = None,
        world: World = SOLO,
        sharding: RowSharding | None = None,
        tables: Sequence[str] = (),
    ):
        self.model = model
        self.world = world
        self.reducer = GradientReducer(world).reduce if world.size > 1 else None
        self.sharding = sharding
        self.tables = list(tables)
        self.counts = getattr(model, "loss_counts", None)
        self.on_epoch = on_epoch
        self.stopped: str | None = None
        self.optimizer = optimizer
        self.loader = loader
        self.training = training
        self.decay = decay
        self.evaluator = evaluator
        self.monitor = monitor
        self.run_dir = run_dir
        self.reporter = reporter
        self.device = device
        self.autocast = {Precision.bf16: torch.bfloat16, Precision.fp16: torch.float16}.get(
            training.Precision
        )
        self.scaler = (
            torch.amp.GradScaler(device.type) if training.Precision is Precision.fp16 else None
        )
        self.inputs = sorted(set(model.inputs.values()))
        self.targets = sorted(set(model.outputs.values()))
        self.estimates = getattr(model, "estimate_gradients", None)
        self.refeed = None
        self.mode = OutputMode.Sparse
        if training.RefeedSteps:
            (input_name,) = self.inputs
            (output_name,) = model.outputs
            self.refeed = (input_name, output_name)
            self.mode = OutputMode.SparseLoss

    def fit(self, state: LoopState) -> LoopState:
        """Train from ``state`` to the configured number of epochs (or an early stop)."""
        while state.epoch < self.training.Epochs:
            record = self._epoch(state)
            if self.tables:
                record["memory"] = self._memory()
            with self.sharding.whole() if self.sharding else nullcontext():
                stop = self._close_epoch(state, record)
            if stop:
                break
        if self.sharding is not None:
            self.sharding.gather()  # rank 0 keeps the whole model, for what follows
        return state

    def _close_epoch(self, state: LoopState, record: dict) -> bool:
        """Validate, keep the best weights, report, checkpoint; whether to stop."""
        stopping = self.training.EarlyStopping
        validation = None
        split = self.sharding is None  # every rank holds the whole model: each scores a share
        if self.evaluator is not None and (self.world.main or split):
            world = self.world if split else SOLO
            validation = self.evaluator.evaluate(self.model, "validation", world)
        validation = self.world.broadcast(validation)
        if validation is not None:
            record["validation"] = validation
        self._track_best(state, record)
        state.epoch += 1
        state.history.append(record)
        best = self.monitor is not None and state.best_epoch == state.epoch
        self.reporter.epoch(record, state.global_step, self.model, best=best)
        last = state.epoch == self.training.Epochs
        stop = stopping is not None and state.stale_epochs >= stopping.Patience
        stopped = self.on_epoch(state.epoch, record) if self.on_epoch else None
        stop, self.stopped = self.world.broadcast((stop, stopped))  # rank 0 decides
        checkpoint = last or state.epoch % self.training.CheckpointInterval == 0
        if self.world.main and (stop or self.stopped or checkpoint):
            save_checkpoint(self.run_dir.checkpoint, self.model, self.optimizer, state)
        if self.stopped:
            self.reporter.message(f"stopped after epoch {state.epoch}: {self.stopped}")
            return True
        if stop:
            self.reporter.message(
                f"early stop after epoch {state.epoch}: no improvement of "
                f"{self.monitor.name} in {stopping.Patience} epochs"
            )
            return True
        return False

    def _memory(self) -> dict[str, list[int]]:
        """Per rank: bytes held for the item tables, and the peak resident set size."""
        if self.sharding is not None:
            held = self.sharding.resident_bytes()
        else:
            parameters = dict(self.model.named_parameters())
            held = held_bytes(self.optimizer, [parameters[n] for n in self.tables])
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak *= 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
        mine = torch.zeros(2, self.world.size, dtype=torch.int64)
        mine[:, self.world.rank] = torch.tensor([held, peak])
        tables, peaks = self.world.sum(mine).tolist()
        return {"tables": tables, "peak_rss": peaks}

    def _track_best(self, state: LoopState, record: dict) -> None:
        value = record.get("validation", {}).get(self.monitor.name) if self.monitor else None
        min_delta = self.training.EarlyStopping.MinDelta if self.training.EarlyStopping else 0.0
        if value is None or self.monitor.improved(value, state.best_value, min_delta):
            state.best_value, state.best_epoch, state.stale_epochs = value, state.epoch + 1, 0
            if self.world.main:
                save_weights(self.model, self.run_dir.best / WEIGHTS)
        else:
            state.stale_epochs += 1

    def _epoch(self, state: LoopState) -> dict:
        self.model.train()
        self.loader.set_epoch(state.epoch)
        steps = len(self.loader)
        start, examples, loss_sum = time.perf_counter(), 0, 0.0
        batches = self.reporter.batches(
            self.loader, epoch=state.epoch + 1, epochs=self.training.Epochs, total=steps
        )
        for number, batch in enumerate(batches):
            rate = learning_rate(
                self.training,
                epoch=state.epoch + number / steps,
                global_step=state.global_step,
                decay=self.decay,
            )
            for group in self.optimizer.param_groups:
                group["lr"] = rate
            batch = {name: part.to(self.device) for name, part in batch.items()}
            inputs = {n: batch[n] for n in self.inputs}
            targets = {n: batch[n] for n in self.targets}
            rows = next(iter(batch.values())).batch_size
            with self._precision():
                if self.estimates is not None:
                    self.optimizer.zero_grad(set_to_none=True)
                    result = self.estimates(inputs, targets, epoch=state.epoch)
                elif self.sharding is not None:
                    result = self.sharding.forward(inputs, targets, mode=self.mode)
                else:
                    result = self.model(inputs, targets, mode=self.mode)
            loss, value, total = self._objective(result.losses, targets, rows)
            value = self._guard(value, state, number)
            if self.estimates is not None and self.world.size > 1:
                self._weigh_estimates(0 if getattr(self.loader, "filler", False) else rows, total)
            rows = total
            grad_norm = self._update(
                None if self.estimates is not None else loss,
                measure=state.global_step % GRAD_NORM_INTERVAL == 0,
            )
            state.global_step += 1
            if self.refeed is not None:
                output = result.outputs[self.refeed[1]]
                for _ in range(self.training.RefeedSteps):
                    with self._precision():
                        refeed_loss, output = refeed_step(self.model, output, *self.refeed)
                    refeed_loss, refeed_value, _ = self._objective(
                        {"refeed": refeed_loss}, None, output.shape[0]
                    )
                    self._guard(refeed_value, state, number, refeed=True)
                    self._update(refeed_loss, measure=False)
            examples += rows
            loss_sum += value * rows
            self.reporter.step(
                state.global_step,
                loss=value,
                learning_rate=rate,
                grad_norm=grad_norm,
                examples_per_second=examples / (time.perf_counter() - start),
            )
        seconds = time.perf_counter() - start
        return {
            "epoch": state.epoch + 1,
            "step": state.global_step,
            "train_loss": loss_sum / max(examples, 1),
            "learning_rate": rate,
            "seconds": round(seconds, 3),
            "examples_per_second": examples / seconds,
        }

    def _precision(self):
        return torch.autocast(
            self.device.type,
            dtype=self.autocast or torch.float32,
            enabled=self.autocast is not None,
        )

    def _objective(
        self, losses: dict[str, torch.Tensor], targets: dict | None, rows: int
    ) -> tuple[torch.Tensor, float, int]:
        """What to back-propagate, the step's loss and the rows it covers: the summed loss
        terms of this batch, or, data-parallel, of the global batch (`weighted_terms`)."""
        if self.world.size == 1:
            loss = torch.stack(list(losses.values())).sum()
            return loss, float(loss.detach()), rows
        counts = dict(self.counts(targets)) if self.counts and targets is not None else {}
        counts = {name: counts.get(name, float(rows)) for name in losses}
        if getattr(self.loader, "filler", False):  # an empty share: a row counting for nothing
            counts, rows = dict.fromkeys(counts, 0.0), 0
        return weighted_terms(losses, counts, rows, self.world)

    def _weigh_estimates(self, rows: int, total: int) -> None:
        """Scale a model's own gradient estimates (means over this share's ``rows``) so that
        their average over the processes is the mean over the global batch's ``total``."""
        scale = self.world.size * rows / total
        for group in self.optimizer.param_groups:
            for parameter in group["params"]:
                if parameter.grad is not None:
                    parameter.grad.mul_(scale)

    def _update(self, loss: torch.Tensor | None, *, measure: bool) -> float:
        return update(
            self.model,
            self.optimizer,
            loss,
            clip_norm=self.training.GradientClipNorm or math.inf,
            measure=measure,
            scaler=self.scaler,
            reduce=self._reduce if self.sharding or self.reducer else None,
            norm=self.sharding.gradient_norm if self.sharding else None,
        )

    def _reduce(self, parameters: list[nn.Parameter]) -> None:
        if self.sharding is not None:
            parameters = self.sharding.reduce(parameters)
        if self.reducer is not None:
            self.reducer(parameters)

    def _guard(self, value: float, state: LoopState, number: int, *, refeed: bool = False) -> float:
        where = f"epoch {state.epoch + 1}, batch {number + 1}" + (" (re-feeding)" if refeed else "")
        kept = (
            f"the last good checkpoint (epoch {state.epoch}) is kept in {self.run_dir.checkpoint}"
            if state.epoch
            else "no checkpoint was written yet"
        )
        if not math.isfinite(value):
            raise TrainingDiverged(
                f"training diverged at {where}: the loss is {value}; {kept}. "
                "Lower the learning rate or clip gradients "
                "(Training.GradientClipNorm)"
            )
        factor = self.training.DivergenceFactor
        average = state.loss_average
        if (
            not refeed
            and factor
            and average is not None
            and state.global_step > WARMUP_STEPS
            and value > factor * max(average, 1e-12)
        ):
            raise TrainingDiverged(
                f"training diverged at {where}: the loss jumped to {value:.4g}, "
                f"over {factor:g} times its running average {average:.4g}; "
                f"{kept}"
            )
        if not refeed:
            state.loss_average = value if average is None else 0.9 * average + 0.1 * value
        return value
