"""The interface of output-layer losses: activations and targets in, a scalar out."""

from __future__ import annotations

from torch import Tensor, nn

from netcfg.data.batch import SparseBatch

__all__ = ["OutputLoss"]


class OutputLoss(nn.Module):
    """Base class of the losses of an output layer.

    ``forward`` checks and flattens its arguments, then hands them to ``compute``, which
    subclasses implement. Activations of shape [B, ...] are flattened to [B, N]: every
    non-batch position is a unit (so a SoftMax output normalizes over all of them).

    A loss that reads the activations only at the stored entries of a sparse target
    (``observed_only``) can also be computed from those entries alone (`entry_loss`), so
    that the output layer computes nothing else.

    Normalization follows DSSTNE's gradients: DSSTNE sums the loss over units and examples
    and divides the weight gradient by the batch size, so a loss here is its sum over units
    and rows divided by B (``MaskedMSE`` is the exception: a mean over observed entries).
    """

    def forward(
        self,
        a: Tensor,
        target: Tensor | SparseBatch,
        *,
        z: Tensor | None = None,
        weight: Tensor | None = None,
    ) -> Tensor:
        """The loss of a minibatch.

        Args:
            a: the output layer's activations, shape [B, N] (or [B, ...], flattened).
            target: a dense tensor of ``a``'s shape, or a `SparseBatch` of B rows and N
                columns (stored value at stored positions, 1 for indicator data, 0 elsewhere).
            z: the output layer's pre-activations, of ``a``'s shape, when available; losses
                that take logs of Sigmoid or SoftMax outputs use it for numerical stability.
            weight: per-example data weights, shape [B]; None means all ones.

        Returns:
            A scalar tensor.
        """
        if a.dim() < 2:
            raise ValueError(f"activations must be [batch, units], got shape {tuple(a.shape)}")
        batch = a.shape[0]
        if isinstance(target, SparseBatch):
            width = a[0].numel()
            if target.batch_size != batch or target.num_columns != width:
                raise ValueError(
                    f"sparse target is {target.batch_size} x {target.num_columns}, "
                    f"activations are {batch} x {width}"
                )
        elif target.shape != a.shape:
            raise ValueError(
                f"target shape {tuple(target.shape)} differs from activations {tuple(a.shape)}"
            )
        else:
            target = target.flatten(1).to(a.dtype)
        if z is not None:
            if z.shape != a.shape:
                raise ValueError(
                    f"pre-activation shape {tuple(z.shape)} differs from activations "
                    f"{tuple(a.shape)}"
                )
            z = z.flatten(1)
        if weight is None:
            weight = a.new_ones(batch)
        elif weight.shape != (batch,):
            raise ValueError(f"data weights must have shape ({batch},), got {tuple(weight.shape)}")
        return self.compute(a.flatten(1), target, z, weight.to(a.dtype))

    def count(self, target: Tensor | SparseBatch) -> float:
        """What the loss of ``target``'s batch divides its sum by: the batch's rows.

        Data-parallel training weighs each process's loss by it
        (`netcfg.trainers.distributed`)."""
        return float(target.batch_size if isinstance(target, SparseBatch) else target.shape[0])

    @property
    def observed_only(self) -> bool:
        """Whether the loss of a sparse target reads the activations at its stored entries
        only (then `entry_loss` computes it from them)."""
        return False

    def entry_loss(
        self,
        a: Tensor,
        target: SparseBatch,
        *,
        z: Tensor | None = None,
        weight: Tensor | None = None,
    ) -> Tensor:
        """The loss from the activations at the target's stored entries only.

        Equal to ``forward`` on the full activations when ``observed_only``.

        Args:
            a: activations at the stored entries, [nnz] in the target's entry order.
            target: the sparse target.
            z: pre-activations at the same entries, or None.
            weight: per-example data weights, [B]; None means all ones.

        Returns:
            A scalar tensor.

        Raises:
            NotImplementedError: the loss is not ``observed_only``.
        """
        if not self.observed_only:
            raise NotImplementedError(f"{type(self).__name__} needs every output, not entries")
        if a.shape != (target.nnz,) or (z is not None and z.shape != a.shape):
            raise ValueError(
                f"entry activations must have shape ({target.nnz},), got {tuple(a.shape)}"
            )
        batch = target.batch_size
        if weight is None:
            weight = a.new_ones(batch)
        elif weight.shape != (batch,):
            raise ValueError(f"data weights must have shape ({batch},), got {tuple(weight.shape)}")
        return self.compute_entries(a, target, z, weight.to(a.dtype))

    def compute_entries(
        self, a: Tensor, target: SparseBatch, z: Tensor | None, weight: Tensor
    ) -> Tensor:
        """`entry_loss` from checked arguments (losses that are ``observed_only``)."""
        raise NotImplementedError

    def compute(
        self, a: Tensor, target: Tensor | SparseBatch, z: Tensor | None, weight: Tensor
    ) -> Tensor:
        """The loss, from checked arguments.

        Args:
            a: activations, [B, N].
            target: a dense [B, N] tensor of ``a``'s dtype, or a matching `SparseBatch`.
            z: pre-activations [B, N], or None.
            weight: data weights [B], of ``a``'s dtype.

        Returns:
            A scalar tensor.
        """
        raise NotImplementedError
