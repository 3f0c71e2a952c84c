"""Training-step benchmark: netcfg's sparse paths against a DeepRecommender-style dense step.

Each case times one full training step (forward, backward, optimizer update, and the
re-feeding step when asked) of two implementations of the same autoencoder on the same
random CSR batches, each in its own subprocess (so peak memory is its own):

- ``dense``: the step of NVIDIA/DeepRecommender, written in plain PyTorch: the sparse
  minibatch is made dense (``to_dense()``), ``F.linear`` layers with weights
  [out, in], SELU, dropout on the code layer, a linear last layer, the masked MSE
  ``sum(((y * mask) - x)^2) / count(x != 0)``, and its dense re-feeding step
  (``y = f(x)`` is fed back with every entry as a target);
- ``netcfg``: the network compiled from the same description, trained as ``netcfg train``
  trains it (`netcfg.trainers.step.update`: the gradient norm measured every tenth step):
  sparse input (CSR x W), the output computed only at the observed ratings (gather-dot),
  row-sparse gradients and updates.

Both use the same optimizer (SGD, learning rate 0.005, unless ``--optimizer`` says
otherwise). Cases:

- ``netflix``: 17,768 items, batch 128, 200 ratings per row, DeepRec's full network
  (n, 512, 512, 1024, 512, 512, n), with 0 and 1 re-feeding steps;
- ``sweep``: n, 256, n with 100 ratings per row and batch 128, for 20k, 100k, 400k and 1M
  items.

Printed as JSON lines, one per case: the median step time of each implementation (ms),
``speedup`` (dense / netcfg), and memory in MiB: ``model_memory`` (resident after building
the model, optimizer and data, before the first step), ``peak_memory`` (the process's peak
resident memory during the steps, counted from there: Linux's VmHWM, reset after the
set-up) and ``step_memory`` (``peak_memory - model_memory``: what the steps add to the
model).

``ops_per_step`` counts the operators one step calls (PyTorch's profiler, on one step
after the timed ones: every ``aten::`` call not made inside another, backward included),
the host-side work a step costs whatever its size.

Each implementation runs in ``--repeats`` processes (alternating with the other's, so that
a slow spell of the machine hits both); the medians over the processes are printed.

With ``--device cuda`` both run on the GPU: each step starts from the CPU batch (moved to
the GPU inside the step, as a training loop does) and ends with a synchronisation; memory
is then CUDA memory (``model`` = allocated after the set-up, ``peak`` = the allocator's
peak during the steps), and a third implementation, ``netcfg_torch``, runs netcfg with
its plain-torch kernels (``NETCFG_TRITON=0``) so that the Triton kernels are measured
against torch's own operators (``triton_speedup`` = netcfg_torch / netcfg).

Usage: ``python bench/sparse.py [--cases netflix,sweep] [--steps 10] [--repeats 3]
[--optimizer SGD] [--device cpu|cuda]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from netcfg import compile_network, validate_config
from netcfg.data.batch import SparseBatch
from netcfg.layers.kernels.backends import TRITON_SETTING
from netcfg.networks.network import OutputMode
from netcfg.trainers.optimizers import create_optimizer
from netcfg.trainers.step import GRAD_NORM_INTERVAL, refeed_step, update

LEARNING_RATE = 0.005
NETFLIX = {"items": 17_768, "per_row": 200, "hidden": [512, 512, 1024, 512, 512], "code": 2}
SWEEP = {"per_row": 100, "hidden": [256], "code": None}
SWEEP_ITEMS = [20_000, 100_000, 400_000, 1_000_000]
BATCH = 128
CODE_DROPOUT = {"pDropout": 0.8, "DropoutType": "Standard"}  # DeepRec: nn.Dropout(0.8)


def make_batches(items: int, per_row: int, count: int, seed: int = 0) -> list[SparseBatch]:
    """Random rating rows: ``per_row`` distinct items per user (sorted), ratings 1 to 5."""
    g = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(count):
        columns = torch.stack([_distinct(items, per_row, g) for _ in range(BATCH)])
        values = torch.randint(1, 6, (BATCH * per_row,), generator=g).float()
        offsets = torch.arange(0, BATCH * per_row + 1, per_row)
        batches.append(SparseBatch(offsets, columns.flatten(), values, items))
    return batches


def _distinct(items: int, count: int, g: torch.Generator) -> Tensor:
    """``count`` distinct items, uniformly at random, sorted (no [items] temporary)."""
    chosen = torch.unique(torch.randint(0, items, (2 * count,), generator=g))
    while chosen.numel() < count:
        more = torch.randint(0, items, (count,), generator=g)
        chosen = torch.unique(torch.cat([chosen, more]))
    keep = torch.randperm(chosen.numel(), generator=g)[:count]
    return chosen[keep].sort().values


# -------------------------------------------------------------------------- dense step


class DenseAutoEncoder(nn.Module):
    """DeepRecommender's AutoEncoder (not constrained), as its ``reco_encoder`` defines it."""

    def __init__(self, items: int, hidden: list[int], code: int | None, dropout: float):
        super().__init__()
        sizes = [items, *hidden, items]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.empty(out, n)) for n, out in zip(sizes, sizes[1:], strict=False)
        )
        self.biases = nn.ParameterList(nn.Parameter(torch.zeros(out)) for out in sizes[1:])
        for w in self.weights:
            nn.init.xavier_uniform_(w)
        self.code, self.dropout = code, nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = F.linear(x, w, b)
            if i < last:
                x = F.selu(x)
            if i == self.code:
                x = self.dropout(x)
        return x


def masked_mse(outputs: Tensor, targets: Tensor) -> Tensor:
    """DeepRecommender's ``MSEloss`` divided by the number of ratings."""
    mask = targets != 0
    loss = F.mse_loss(outputs * mask.float(), targets, reduction="sum")
    return loss / mask.sum().clamp(min=1)


def dense_step(model, optimizer, batch: SparseBatch, refeed: int, device: torch.device) -> None:
    """One step of DeepRecommender's ``run.py`` training loop (``mb.cuda().to_dense()``)."""
    inputs = batch.to(device).to_dense()
    optimizer.zero_grad()
    outputs = model(inputs)
    masked_mse(outputs, inputs).backward()
    optimizer.step()
    for _ in range(refeed):
        inputs = outputs.detach()
        optimizer.zero_grad()
        outputs = model(inputs)
        masked_mse(outputs, inputs).backward()
        optimizer.step()


def dense_setup(case: dict, device: torch.device):
    torch.manual_seed(0)
    model = DenseAutoEncoder(case["items"], case["hidden"], case["code"], 0.8).to(device)
    if case["optimizer"] == "Momentum":
        optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=0.9)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    return lambda batch: dense_step(model, optimizer, batch, case["refeed"], device)


# -------------------------------------------------------------------------- netcfg step


def netcfg_config(case: dict) -> dict:
    """The same autoencoder in netcfg's config language."""
    hidden = [
        {"N": n, "Activation": "Selu", **(CODE_DROPOUT if i == case["code"] else {})}
        for i, n in enumerate(case["hidden"])
    ]
    return {
        "Kind": "AutoEncoder",
        "ErrorFunction": "MaskedMSE",
        "Layers": [
            {"Kind": "Input", "N": "auto", "DataSet": "ratings", "Sparse": True},
            *({"Kind": "Hidden", **layer} for layer in hidden),
            {
                "Kind": "Output",
                "N": "auto",
                "DataSet": "ratings",
                "Sparse": True,
                "Activation": "Linear",
            },
        ],
        "Training": {
            "Optimizer": {"Type": case["optimizer"], "LearningRate": LEARNING_RATE},
            "Epochs": 1,
            "BatchSize": BATCH,
            "RefeedSteps": case["refeed"],
        },
    }


def netcfg_setup(case: dict, device: torch.device):
    spec = validate_config(netcfg_config(case))
    torch.manual_seed(0)
    model = compile_network(spec, {"ratings": case["items"]}).to(device).train()
    optimizer = create_optimizer(spec.Training.Optimizer, model.named_parameters())
    mode = OutputMode.SparseLoss if case["refeed"] else OutputMode.Sparse
    (output_name,) = model.outputs
    steps = iter(range(1 << 30))

    def step(batch: SparseBatch) -> None:
        batch = batch.to(device)
        result = model({"ratings": batch}, {"ratings": batch}, mode=mode)
        update(model, optimizer, result.loss, measure=next(steps) % GRAD_NORM_INTERVAL == 0)
        output = result.outputs[output_name]
        for _ in range(case["refeed"]):
            loss, output = refeed_step(model, output, "ratings", output_name)
            update(model, optimizer, loss, measure=False)

    return step


# -------------------------------------------------------------------------- harness


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _reset_peak() -> None:
    """Restart the peak resident memory count (Linux: ``clear_refs`` 5 resets VmHWM)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def _peak_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Memory:
    """Memory readings in MiB: resident memory on the CPU, the allocator's on a GPU."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"

    def current(self) -> float:
        return torch.cuda.memory_allocated() / 2**20 if self.cuda else _rss_mib()

    def reset_peak(self) -> None:
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()
        else:
            _reset_peak()

    def peak(self) -> float:
        return torch.cuda.max_memory_allocated() / 2**20 if self.cuda else _peak_mib()


def worker(case: dict) -> dict:
    """Time ``case['steps']`` steps (after 2 warm-up steps) of one implementation."""
    device = torch.device(case["device"])
    batches = make_batches(case["items"], case["per_row"], 2 + case["steps"])
    setup = dense_setup if case["impl"] == "dense" else netcfg_setup
    step = setup(case, device)
    memory = _Memory(device)
    model_memory = memory.current()
    memory.reset_peak()
    times = []
    for number, batch in enumerate(batches):
        start = time.perf_counter()
        step(batch)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if number >= 2:
            times.append(time.perf_counter() - start)
    peak = memory.peak()
    return {
        "step_ms": 1000 * statistics.median(times),
        "ops_per_step": operators_per_step(step, batches[-1]),
        "peak_memory": peak,
        "model_memory": model_memory,
        "step_memory": peak - model_memory,
    }


def operators_per_step(step, batch: SparseBatch) -> int:
    """The operators one step calls: ``aten::`` events of the profiler whose caller is not
    an ``aten::`` operator itself (so ``linear`` counts once, not with its ``addmm``)."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
        step(batch)
    events = profile.events()

    def top_level(event) -> bool:
        parent = event.cpu_parent
        return parent is None or not parent.name.startswith("aten::")

    return sum(1 for e in events if e.name.startswith("aten::") and top_level(e))


IMPLEMENTATIONS = {"dense": {}, "netcfg": {}, "netcfg_torch": {TRITON_SETTING: "0"}}
"""Each implementation and the environment it runs in."""


def _run_worker(case: dict, impl: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps({**case, "impl": impl})],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, **IMPLEMENTATIONS[impl]},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_case(case: dict, repeats: int) -> dict:
    """Both implementations of a case, each in fresh subprocesses, alternating ``repeats``
    times (the median of the processes' figures is kept); one JSON record."""
    keys = ("name", "items", "per_row", "refeed", "optimizer", "device")
    record = {k: case[k] for k in keys}
    record["batch"] = BATCH
    record["layers"] = [case["items"], *case["hidden"], case["items"]]
    runs = {"dense": [], "netcfg": []}
    if case["device"] == "cuda":
        runs["netcfg_torch"] = []
    for _ in range(repeats):
        for impl in runs:
            runs[impl].append(_run_worker(case, impl))
    for impl, results in runs.items():
        for key in results[0]:
            record[f"{impl}_{key}"] = round(statistics.median(r[key] for r in results), 2)
    record["speedup"] = round(record["dense_step_ms"] / record["netcfg_step_ms"], 2)
    record["peak_memory_ratio"] = round(
        record["netcfg_peak_memory"] / record["dense_peak_memory"], 3
    )
    record["step_memory_ratio"] = round(
        record["netcfg_step_memory"] / max(record["dense_step_memory"], 1.0), 3
    )
    if "netcfg_torch" in runs:
        record["triton_speedup"] = round(
            record["netcfg_torch_step_ms"] / record["netcfg_step_ms"], 2
        )
    return record


def cases(names: list[str], steps: int, optimizer: str, device: str = "cpu") -> list[dict]:
    """The cases to run, in order."""
    found = []
    if "netflix" in names:
        for refeed in (0, 1):
            found.append({"name": "netflix", **NETFLIX, "refeed": refeed})
    if "sweep" in names:
        for items in SWEEP_ITEMS:
            found.append({"name": "sweep", **SWEEP, "items": items, "refeed": 0})
    return [{**c, "steps": steps, "optimizer": optimizer, "device": device} for c in found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="netflix,sweep", help="netflix, sweep or both")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per case")
    parser.add_argument("--optimizer", default="SGD", choices=["SGD", "Momentum"])
    parser.add_argument(
        "--repeats", type=int, default=3, help="processes per implementation and case"
    )
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.exit(2, "bench/sparse.py: --device cuda but no CUDA device is available\n")
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    for case in cases(args.cases.split(","), args.steps, args.optimizer, args.device):
        print(json.dumps(run_case(case, args.repeats)), flush=True)


if __name__ == "__main__":
    main()
