"""Write recommendations as TSV, JSON lines or DSSTNE's ``user<TAB>item,score:...`` lines."""

from __future__ import annotations

import json
from typing import TextIO

from netcfg.inference.recommend import Recommendations

__all__ = ["FORMATS", "write_recommendations"]

FORMATS = ("tsv", "jsonl", "dsstne")


def write_recommendations(recommendations: Recommendations, out: TextIO, fmt: str = "tsv") -> int:
    """Write every user's list; returns the number of lines written.

    - ``tsv``: ``user<TAB>item<TAB>score<TAB>rank`` per recommendation (rank from 1).
    - ``jsonl``: ``{"user": ..., "items": [...], "scores": [...]}`` per user.
    - ``dsstne``: ``user<TAB>item,score:item,score:...:`` per user, as DSSTNE's predict.
    """
    lines = 0
    for user, ranked in recommendations.lists():
        if fmt == "tsv":
            for rank, (item, score) in enumerate(ranked, start=1):
                out.write(f"{user}\t{item}\t{score:.6g}\t{rank}\n")
                lines += 1
            continue
        if fmt == "jsonl":
            out.write(
                json.dumps(
                    {
                        "user": user,
                        "items": [i for i, _ in ranked],
                        "scores": [round(s, 6) for _, s in ranked],
                    }
                )
                + "\n"
            )
        else:
            out.write(
                f"{user}\t" + "".join(f"{item},{score:.6g}:" for item, score in ranked) + "\n"
            )
        lines += 1
    return lines
