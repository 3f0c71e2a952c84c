"""Restricted Boltzmann Machines for collaborative filtering (Salakhutdinov, Mnih and
Hinton, ICML 2007).

Each row (a user) is its own RBM: one softmax visible unit over the K rating levels per
column it rated, F binary hidden units, and weights shared by every row through the
columns. With ``W`` [columns * K, F], visible biases ``b`` [columns * K] and hidden biases
``c`` [F]:

- p(h_j = 1 | v) = sigmoid(c_j + sum_i W[i, r_i, j]), over the columns i the row rated;
- p(v_i = k | h) = softmax_k(b[i, k] + sum_j W[i, k, j] h_j), for any column i;
- the prediction of column i is its expected rating sum_k level_k p(v_i = k | h), with h
  the probabilities p(h | v) of the row's ratings (the paper's mean-field prediction);
- training follows contrastive divergence CD-T: T steps of Gibbs sampling from the data,
  on the rated columns only; the negative gradient estimate is (data statistics - model
  statistics) / rows, which the trainer's optimizer applies (`RBMNetwork`).

`RatingRBM` is the plain torch model on entries (row, column, level); `RBMNetwork` is what
netcfg compiles from ``Kind: "RBM"`` (`netcfg.networks.rbm_spec`): batches keyed by DataSet
in, predicted ratings and loss terms out, and ``estimate_gradients`` for the trainer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from netcfg.data.batch import SparseBatch
from netcfg.errors import CompileError, DataError, Issue
from netcfg.layers.init import init_weight_
from netcfg.networks.network import Network, NetworkOutput, OutputMode
from netcfg.networks.rbm_spec import ContrastiveDivergenceSpec, RBMSpec, cd_steps
from netcfg.networks.sizes import size_problem

__all__ = ["RBMNetwork", "RatingRBM", "Uniform", "build_rbm"]

Uniform = Callable[[tuple[int, ...]], Tensor]
"""Draws uniform [0, 1) numbers of a shape: the randomness of Gibbs sampling."""


class RatingRBM(nn.Module):
    """A softmax-visible, binary-hidden RBM over ``columns`` items rated on ``levels``.

    A batch of rows is given in CSR form: ``offsets`` (int64 [batch + 1], row starts from
    0, ending at nnz), and per entry ``items`` (its column) and ``levels`` (the index of
    its rating in ``levels``), int64 [nnz].

    Args:
        columns: the number of items.
        levels: the rating values, increasing (K of them).
        hidden: the number of hidden units F.

    Example:
        >>> rbm = RatingRBM(10, [1.0, 2.0, 3.0], hidden=4)
        >>> offsets, items = torch.tensor([0, 2]), torch.tensor([2, 5])
        >>> rbm.expected_ratings(rbm.hidden_probabilities(offsets, items, items % 3)).shape
        torch.Size([1, 10])
    """

    def __init__(self, columns: int, levels: Sequence[float], hidden: int):
        super().__init__()
        self.columns, self.k, self.hidden = columns, len(levels), hidden
        self.weight = nn.Parameter(torch.empty(columns * self.k, hidden).normal_(0.0, 0.01))
        self.visible_bias = nn.Parameter(torch.zeros(columns * self.k))
        self.hidden_bias = nn.Parameter(torch.zeros(hidden))
        self.register_buffer("levels", torch.tensor(list(levels)), persistent=False)

    def _units(self, items: Tensor, levels: Tensor) -> Tensor:
        return items * self.k + levels

    def _hidden_input(self, offsets: Tensor, items: Tensor, levels: Tensor) -> Tensor:
        """c + sum over each row's entries of W[i, r_i], [batch, F]."""
        units = self._units(items, levels)
        total = F.embedding_bag(units, self.weight, offsets, mode="sum", include_last_offset=True)
        return total + self.hidden_bias

    def hidden_probabilities(self, offsets: Tensor, items: Tensor, levels: Tensor) -> Tensor:
        """p(h = 1 | v) of each row, [batch, F]."""
        return torch.sigmoid(self._hidden_input(offsets, items, levels))

    def dense_hidden_probabilities(self, ratings: Tensor) -> Tensor:
        """p(h = 1 | v) of dense rows [batch, columns] (0: not rated; other values are
        read as their nearest level), [batch, F]."""
        nearest = (ratings.unsqueeze(-1) - self.levels.to(ratings.dtype)).abs().argmin(dim=-1)
        visible = F.one_hot(nearest, self.k).to(self.weight.dtype)
        visible = visible * (ratings != 0).unsqueeze(-1).to(visible.dtype)
        return torch.sigmoid(torch.addmm(self.hidden_bias, visible.flatten(1), self.weight))

    def visible_probabilities(self, hidden: Tensor, rows: Tensor, items: Tensor) -> Tensor:
        """p(v_i = k | h) at each entry's column (row ``rows[e]``, column ``items[e]``),
        [nnz, K]."""
        weight = self.weight.view(self.columns, self.k, self.hidden)[items]
        bias = self.visible_bias.view(self.columns, self.k)[items]
        return torch.softmax(torch.einsum("ekf,ef->ek", weight, hidden[rows]) + bias, dim=-1)

    def expected_ratings(self, hidden: Tensor) -> Tensor:
        """The expected rating of every column under p(v | h), [batch, columns]."""
        logits = torch.addmm(self.visible_bias, hidden, self.weight.t())
        probabilities = torch.softmax(logits.view(-1, self.columns, self.k), dim=-1)
        return probabilities @ self.levels.to(probabilities.dtype)

    def free_energy(self, offsets: Tensor, items: Tensor, levels: Tensor) -> Tensor:
        """F(v) = -sum_i b[i, r_i] - sum_j softplus(c_j + sum_i W[i, r_i, j]), per row."""
        bias = self.visible_bias.unsqueeze(1)
        units = self._units(items, levels)
        visible = F.embedding_bag(units, bias, offsets, mode="sum", include_last_offset=True)
        return -visible.squeeze(1) - F.softplus(self._hidden_input(offsets, items, levels)).sum(1)

    @torch.no_grad()
    def cd_gradients(
        self,
        offsets: Tensor,
        items: Tensor,
        levels: Tensor,
        steps: int,
        uniform: Uniform | None = None,
    ) -> tuple[dict[str, Tensor], Tensor]:
        """The CD-``steps`` estimate of the gradient of the negative log-likelihood.

        From the data v0 (h0 = p(h | v0)), each Gibbs step samples h from the last hidden
        probabilities (draws [batch, F]: h = draw < p), then a level at every rated column
        from p(v | h) (draws [nnz]: the first level whose cumulative probability reaches
        the draw), then computes p(h | v). The model statistics use the last sample v_T
        and h_T = p(h | v_T). Each gradient is -(data - model statistics) / batch.

        Args:
            offsets, items, levels: the batch (see the class).
            steps: T, the Gibbs steps.
            uniform: the source of draws (default ``torch.rand`` on the weights' device).

        Returns:
            The gradient of each parameter, by name, and p(v_1 | h) at the entries,
            [nnz, K]: the first reconstruction, for the training loss.
        """
        if uniform is None:
            device = self.weight.device

            def uniform(shape):
                return torch.rand(shape, device=device)

        batch = offsets.numel() - 1
        rows = torch.repeat_interleave(torch.arange(batch, device=offsets.device), offsets.diff())
        h0 = self.hidden_probabilities(offsets, items, levels)
        probabilities, sample, reconstruction = h0, levels, None
        for _ in range(steps):
            hidden = (uniform(tuple(probabilities.shape)) < probabilities).to(h0.dtype)
            visible = self.visible_probabilities(hidden, rows, items)
            reconstruction = visible if reconstruction is None else reconstruction
            below = (visible.cumsum(dim=-1) < uniform((len(items),)).unsqueeze(1)).sum(dim=-1)
            sample = below.clamp(max=self.k - 1)
            probabilities = self.hidden_probabilities(offsets, items, sample)
        data, model = self._units(items, levels), self._units(items, sample)
        weight = torch.zeros_like(self.weight).index_add_(0, data, h0[rows])
        weight.index_add_(0, model, probabilities[rows], alpha=-1.0)
        ones = torch.ones_like(data, dtype=h0.dtype)
        visible_bias = torch.zeros_like(self.visible_bias).index_add_(0, data, ones)
        visible_bias.index_add_(0, model, ones, alpha=-1.0)
        hidden_bias = h0.sum(dim=0) - probabilities.sum(dim=0)
        scale = -1.0 / max(batch, 1)
        gradients = {
            "weight": weight * scale,
            "visible_bias": visible_bias * scale,
            "hidden_bias": hidden_bias * scale,
        }
        return gradients, reconstruction


class RBMNetwork(nn.Module):
    """A `RatingRBM` as netcfg runs a network: batches keyed by DataSet, Output ratings.

    ``forward`` returns the expected rating of every column (dense [batch, columns], the
    output of rating autoencoders) and, with targets, their squared error at the target
    entries (the Output's loss term). Training does not back-propagate that loss: the
    trainer calls `estimate_gradients`, which sets each parameter's ``.grad`` to its CD-T
    estimate, and its optimizer applies them.

    Args:
        rbm: the model.
        names: the Input, Hidden and Output layer names.
        dataset: the DataSet the Input reads and the Output predicts.
        schedule: the CD steps and the epochs where they change.
    """

    baseline = None
    """No rating baseline (what the trainer asks of every network)."""

    def __init__(
        self,
        rbm: RatingRBM,
        names: tuple[str, str, str],
        dataset: str,
        schedule: ContrastiveDivergenceSpec,
    ):
        super().__init__()
        self.rbm = rbm
        visible, hidden, output = names
        self.inputs, self.outputs = {visible: dataset}, {output: dataset}
        self.output, self.dataset, self.schedule = output, dataset, schedule
        self.shapes = {visible: (rbm.columns,), hidden: (rbm.hidden,), output: (rbm.columns,)}
        self._modules_by_layer = {visible: nn.Module(), hidden: rbm, output: nn.Module()}

    @property
    def layers(self) -> Mapping[str, nn.Module]:
        """The module of each layer (the Hidden layer holds every parameter)."""
        return self._modules_by_layer

    def data_shape(self, input_layer: str) -> tuple[int, ...]:
        """The dimensions of the data the Input layer reads."""
        return self.shapes[input_layer]

    def forward(
        self,
        inputs: Mapping[str, Tensor | SparseBatch] | Tensor | SparseBatch,
        targets: Mapping[str, Tensor | SparseBatch] | Tensor | SparseBatch | None = None,
        weights: Mapping[str, Tensor] | None = None,
        *,
        mode: OutputMode | str = OutputMode.Dense,
    ) -> NetworkOutput:
        """Expected ratings of every column, and their squared error at ``targets``.

        Ratings are read as their nearest level. ``weights`` and ``mode`` are accepted for
        the trainer's sake; per-example weights are not supported, and the output is dense.
        """
        if weights:
            raise ValueError("an RBM does not take per-example weights")
        batch = Network._keyed(inputs, self.inputs, "inputs")[self.dataset]
        if isinstance(batch, Tensor):
            hidden = self.rbm.dense_hidden_probabilities(batch)
        else:
            levels = self._levels(batch, exact=False)
            hidden = self.rbm.hidden_probabilities(batch.offsets, batch.indices, levels)
        predicted = self.rbm.expected_ratings(hidden)
        result = NetworkOutput(outputs={self.output: predicted})
        if targets is not None:
            target = _sparse(Network._keyed(targets, self.outputs, "targets")[self.dataset])
            at = predicted[target.row_ids(), target.indices]
            result.losses[self.output] = F.mse_loss(at, target.values_or_ones(at.dtype))
        return result

    def estimate_gradients(
        self,
        inputs: Mapping[str, Tensor | SparseBatch],
        targets: Mapping[str, Tensor | SparseBatch] | None = None,
        *,
        epoch: int,
        uniform: Uniform | None = None,
    ) -> NetworkOutput:
        """Set each parameter's ``.grad`` to its CD-T estimate on a batch (T by ``epoch``,
        the epochs done); return the reconstruction's squared error as the loss term.

        ``targets`` are not read: an RBM reconstructs its input. The Output is the
        expected rating of the first reconstruction at the batch's entries.

        Raises:
            DataError: a rating that is none of the levels, or data without ratings.
        """
        batch = _sparse(Network._keyed(inputs, self.inputs, "inputs")[self.dataset])
        levels = self._levels(batch, exact=True)
        steps = cd_steps(self.schedule, epoch)
        gradients, reconstruction = self.rbm.cd_gradients(
            batch.offsets, batch.indices, levels, steps, uniform
        )
        for name, parameter in self.rbm.named_parameters():
            parameter.grad = gradients[name]
        predicted = reconstruction @ self.rbm.levels.to(reconstruction.dtype)
        loss = F.mse_loss(predicted, batch.values.to(predicted.dtype))
        return NetworkOutput({self.output: batch.with_values(predicted)}, {self.output: loss})

    def _levels(self, batch: SparseBatch, *, exact: bool) -> Tensor:
        """The level index of each entry's rating (the nearest level unless ``exact``)."""
        if batch.values is None:
            raise DataError(
                f"DataSet '{self.dataset}' has no rating values; an RBM models explicit "
                "ratings (its visible units are softmaxes over RBM.Levels)"
            )
        levels = self.rbm.levels.to(batch.values.dtype)
        index = (batch.values.unsqueeze(1) - levels).abs().argmin(dim=1)
        if exact:
            off = (levels[index] - batch.values).abs() > 1e-6 * levels.abs().max()
            if bool(off.any()):
                raise DataError(
                    f"DataSet '{self.dataset}' has the rating {float(batch.values[off][0]):g}, "
                    f"which is none of the RBM's Levels {self.rbm.levels.tolist()}; set "
                    "RBM.Levels to the rating values of the data"
                )
        return index


def _sparse(batch: Tensor | SparseBatch) -> SparseBatch:
    return batch if isinstance(batch, SparseBatch) else SparseBatch.from_dense(batch)


def build_rbm(spec, dims: Mapping[str, tuple[int, ...] | None]) -> RBMNetwork:
    """The `RBMNetwork` of a validated ``Kind: "RBM"`` spec, with its layers' resolved
    dimensions (`netcfg.networks.compile.resolve_widths`).

    The weights are initialized by the Hidden layer's ``WeightInit`` (fan in: columns x
    levels; fan out: hidden units), its hidden biases to the WeightInit's ``Bias``, the
    visible biases to 0.

    Raises:
        CompileError: the Input and Output widths differ, a width is not one number, or
            the weight matrix is too big.
    """
    visible, hidden, output = spec.Layers
    issues = []
    for index, layer in enumerate(spec.Layers):
        if len(dims[layer.Name]) != 1:
            issues.append(Issue(("Layers", index, "N"), "an RBM's layers are one-dimensional"))
    if not issues and dims[output.Name] != dims[visible.Name]:
        issues.append(
            Issue(
                ("Layers", 2, "N"),
                f"the Output's width {dims[output.Name][0]} is not the Input's "
                f"{dims[visible.Name][0]}",
            )
        )
    section = spec.RBM if spec.RBM is not None else RBMSpec()
    levels = section.Levels
    if not issues:
        fan_in = dims[visible.Name][0] * len(levels)
        problem = size_problem(hidden.Name, dims[hidden.Name], {visible.Name: fan_in}, True)
        if problem:
            issues.append(Issue(("Layers", 1, "N"), problem))
    if issues:
        raise CompileError(issues)
    rbm = RatingRBM(dims[visible.Name][0], levels, dims[hidden.Name][0])
    init_weight_(rbm.weight, hidden.WeightInit.Scheme, hidden.WeightInit.Scale)
    if not rbm.hidden_bias.is_meta:
        nn.init.constant_(rbm.hidden_bias, hidden.WeightInit.Bias)
    names = (visible.Name, hidden.Name, output.Name)
    return RBMNetwork(rbm, names, visible.DataSet, section.CD)
