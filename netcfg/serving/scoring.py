"""/score: the scores of given (user, item) pairs, as ``netcfg predict --pairs`` writes them.

The pairs go to `inference.pairs.score_pairs` with the rows and the clipping range that
``predict --pairs`` uses (`ServedModel.pair_rows`, `ServedModel.clip`): a pair's score is
its user row's output at its item, clipped to the training range unless ``"clip":
false``. A pair whose user or item the model does not know gets null and is counted, or,
with ``"strict": true``, the request is refused naming the first such pair.
"""

from __future__ import annotations

import math

from netcfg.inference.pairs import score_pairs
from netcfg.serving.errors import RequestError
from netcfg.serving.schemas import ScoreRequest
from netcfg.serving.served import ServedModel
from netcfg.spec_base import shown

__all__ = ["score"]


def score(served: ServedModel, request: ScoreRequest) -> dict:
    """The answer to a /score request: ``{"model", "scores", "unknown_users",
    "unknown_items"}``, scores in the order of the pairs, rounded to 6 decimals (null where
    unknown).

    Raises:
        RequestError: 404 with ``"strict": true`` and a pair the model cannot score.
    """
    users = [user for user, _ in request.pairs]
    items = [item for _, item in request.pairs]
    if request.strict:
        _check_known(served, users, items)
    found = score_pairs(
        served.model,
        served.pair_rows,
        _uniform(users),
        _uniform(items),
        clip=served.clip if request.clip else None,
    )
    return {
        "model": served.name,
        "scores": [None if math.isnan(s) else round(s, 6) for s in found.scores.tolist()],
        "unknown_users": found.unknown_users,
        "unknown_items": found.unknown_items,
    }


def _uniform(ids: list) -> list:
    """Ids of one type, as a file's column is: all integers, or all strings."""
    if all(isinstance(i, int) for i in ids):
        return ids
    return [str(i) for i in ids]


def _check_known(served: ServedModel, users: list, items: list) -> None:
    """RequestError naming the first pair whose user or item the model does not know."""
    rows, columns = served.pair_rows.rows, served.pair_rows.columns
    user_index, item_index = (rows, columns) if served.orientation == "user" else (columns, rows)
    known_users = user_index.positions(_uniform(users)) >= 0
    known_items = item_index.positions(_uniform(items)) >= 0
    for at, (user_known, item_known) in enumerate(zip(known_users, known_items, strict=True)):
        if not user_known:
            raise RequestError(
                404, f"pairs[{at}][0]", f"unknown user {shown(users[at])} of model '{served.name}'"
            )
        if not item_known:
            raise RequestError(
                404, f"pairs[{at}][1]", f"unknown item {shown(items[at])} of model '{served.name}'"
            )
