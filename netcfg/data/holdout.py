"""A validation part held out of the training part, for data that comes without one.

Epochs are chosen and training stops on validation data, never on the test part. When
the bound data has no validation part, a share of the training interactions is held out:
by default 10% of each user's interactions, drawn with a seed. Item-based models get the
same hold-out, expressed through their item rows: the interactions are held out by user
first and the parts transposed afterwards.
"""

from __future__ import annotations

from netcfg.data.splits import SplitSet, split_random

__all__ = ["hold_out_validation"]


def hold_out_validation(
    split: SplitSet, fraction: float, *, seed: int = 0, per_user: bool = True
) -> SplitSet:
    """``split`` with ``fraction`` of its training interactions moved to a validation part.

    Args:
        split: parts without ``validation``.
        fraction: share of the training interactions held out, in (0, 1).
        seed: seed of the draw.
        per_user: hold out this share of each user's interactions (rounded; a user
            keeps at least one training interaction); else draw entries independently.

    Returns:
        A new `SplitSet`: ``train`` reduced, ``validation`` added (entries of items the
        reduced train no longer has are kept apart in ``unseen``), the other parts as
        they were; ``meta["validation"]`` records how the part was made.
    """
    if "validation" in split.parts:
        raise ValueError("the split already has a validation part")
    train = split.train
    item_based = train.orientation == "item"
    by_user = train.transpose() if item_based else train
    carved = split_random(by_user, (1 - fraction, fraction, 0.0), seed=seed, per_user=per_user)
    held, remaining = carved.parts["validation"], carved.parts["train"]
    unseen = carved.unseen["validation"]
    if item_based:
        held, remaining, unseen = held.transpose(), remaining.transpose(), unseen.transpose()
    meta = {
        **split.meta,
        "validation": {
            "held_out_of": "train",
            "protocol": "per-user" if per_user else "random",
            "fraction": fraction,
            "seed": seed,
            "entries": held.nnz,
            "unseen": len(unseen),
        },
    }
    return SplitSet(
        {**split.parts, "train": remaining, "validation": held},
        meta,
        {**split.unseen, "validation": unseen},
    )
