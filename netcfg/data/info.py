"""Statistics of a dataset: what ``netcfg data info`` prints."""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np

from netcfg.data.interactions import Interactions

__all__ = ["dataset_info", "format_info"]

QUANTILES = (0.0, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0)


def _quantiles(counts: np.ndarray) -> dict[str, float]:
    if not len(counts):
        return {}
    values = np.quantile(counts, QUANTILES)
    stats = {f"p{round(q * 100)}": float(v) for q, v in zip(QUANTILES, values, strict=True)}
    stats["mean"] = float(counts.mean())
    return stats


def _histogram(values: np.ndarray) -> dict[str, int]:
    distinct, counts = np.unique(values, return_counts=True)
    if len(distinct) <= 20:
        return {f"{v:g}": int(c) for v, c in zip(distinct, counts, strict=True)}
    counts, edges = np.histogram(values, bins=10)
    return {f"[{lo:g}, {hi:g})": int(c) for lo, hi, c in zip(edges, edges[1:], counts, strict=True)}


def _date(seconds: int) -> str:
    return datetime.datetime.fromtimestamp(int(seconds), datetime.timezone.utc).strftime("%Y-%m-%d")


def dataset_info(matrix: Interactions) -> dict[str, Any]:
    """Counts, density, value histogram, per-row and per-column quantiles, time span.

    Example:
        >>> dataset_info(load_dataset("data/ml-100k"))["users"]
        943
    """
    users, items = ("rows", "columns") if matrix.orientation == "user" else ("columns", "rows")
    user_counts = matrix.row_counts() if users == "rows" else matrix.column_counts()
    item_counts = matrix.column_counts() if users == "rows" else matrix.row_counts()
    info: dict[str, Any] = {
        "users": len(getattr(matrix, users)),
        "items": len(getattr(matrix, items)),
        "interactions": matrix.nnz,
        "density": matrix.density,
        "values": "explicit" if matrix.values is not None else "implicit",
        "per_user": _quantiles(user_counts),
        "per_item": _quantiles(item_counts),
    }
    if matrix.values is not None and matrix.nnz:
        info["histogram"] = _histogram(np.asarray(matrix.values))
    if matrix.times is not None and matrix.nnz:
        info["time_span"] = [_date(matrix.times.min()), _date(matrix.times.max())]
    for key in ("duplicates", "lines_skipped", "source"):
        if key in matrix.meta:
            info[key] = matrix.meta[key]
    return info


def format_info(info: dict[str, Any]) -> str:
    """The statistics as aligned text."""
    lines = [
        f"users         {info['users']:,}",
        f"items         {info['items']:,}",
        f"interactions  {info['interactions']:,}",
        f"density       {info['density']:.4%}",
        f"values        {info['values']}",
    ]
    if "histogram" in info:
        cells = ", ".join(f"{k}: {v:,}" for k, v in info["histogram"].items())
        lines.append(f"histogram     {cells}")
    for key, title in (("per_user", "per user"), ("per_item", "per item")):
        stats = info[key]
        if stats:
            cells = ", ".join(
                f"{k} {v:,.1f}" if k == "mean" else f"{k} {v:,.0f}" for k, v in stats.items()
            )
            lines.append(f"{title:<14}{cells}")
    if "time_span" in info:
        lines.append(f"time span     {info['time_span'][0]} .. {info['time_span'][1]}")
    if "duplicates" in info:
        dup = info["duplicates"]
        lines.append(f"duplicates    {dup['dropped']:,} dropped (policy: {dup['policy']})")
    if info.get("lines_skipped"):
        lines.append(f"bad lines     {info['lines_skipped']:,} skipped")
    if "source" in info:
        source = info["source"]
        if "synthetic" in source:
            params = source["synthetic"]
            text = (
                "synthetic ("
                + ", ".join(
                    f"{k} {params[k]}"
                    for k in ("users", "items", "density", "implicit", "seed")
                    if k in params
                )
                + ")"
            )
        else:
            text = f"{source.get('path')} ({source.get('format')})"
        lines.append(f"source        {text}")
    return "\n".join(lines)
