"""Statistics of a dataset: what ``netcfg data info`` prints."""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np

from netcfg.data.interactions import Interactions
from netcfg.tables import table_text

__all__ = ["dataset_info", "format_info"]

QUANTILES = (0.0, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0)
MAX_DISTINCT = 20
"""Up to this many distinct values, the histogram counts each value."""


def _quantiles(counts: np.ndarray) -> dict[str, float]:
    if not len(counts):
        return {}
    values = np.quantile(counts, QUANTILES)
    stats = {f"p{round(q * 100)}": float(v) for q, v in zip(QUANTILES, values, strict=True)}
    stats["mean"] = float(counts.mean())
    return stats


def _histogram(values: np.ndarray) -> dict[str, int]:
    """Counts of each value, or of value bins when there are more than `MAX_DISTINCT`.

    Bins are log-spaced (edges 1, 2, 5, 10, 20, ...) for positive values spanning two
    decades or more, such as play counts; otherwise linear with a round step. Integer
    values get inclusive labels (``"10..19"``), others half-open ones (``"[0.5, 1)"``).
    """
    values = values[np.isfinite(values)]
    distinct, counts = np.unique(values, return_counts=True)
    if len(distinct) <= MAX_DISTINCT:
        return {f"{v:g}": int(c) for v, c in zip(distinct, counts, strict=True)}
    lo, hi = float(distinct[0]), float(distinct[-1])
    edges = _log_edges(lo, hi) if lo > 0 and hi >= 100 * lo else _linear_edges(lo, hi)
    counts = np.histogram(values, bins=edges)[0]
    integral = bool(np.all(distinct == np.round(distinct)) and np.all(edges == np.round(edges)))
    return {
        _bin_label(a, b, integral): int(c)
        for a, b, c in zip(edges[:-1], edges[1:], counts, strict=True)
    }


def _log_edges(lo: float, hi: float) -> np.ndarray:
    """Edges 1, 2, 5 x 10^k from the last one <= ``lo`` to the first one > ``hi``
    (decades only when that would make more than 30 bins)."""
    first, last = int(np.floor(np.log10(lo))), int(np.floor(np.log10(hi))) + 1
    steps = (1, 2, 5) if 3 * (last - first) <= 30 else (1,)
    series = np.array([m * 10.0**k for k in range(first, last + 1) for m in steps])
    start = np.flatnonzero(series <= lo)[-1]
    stop = np.flatnonzero(series > hi)[0]
    return series[start : stop + 1]


def _linear_edges(lo: float, hi: float, bins: int = 10) -> np.ndarray:
    """At most ``bins + 1`` bins of a round width (1, 2 or 5 x 10^k) from below ``lo`` to
    above ``hi``."""
    raw = (hi - lo) / bins
    power = 10.0 ** np.floor(np.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = np.floor(lo / step) * step
    count = int(np.floor((hi - start) / step)) + 2
    return start + step * np.arange(count)


def _bin_label(lo: float, hi: float, integral: bool) -> str:
    if not integral:
        return f"[{lo:g}, {hi:g})"
    return f"{lo:g}" if hi - lo == 1 else f"{lo:g}..{hi - 1:g}"


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
    """The statistics as a table of two columns: what, and its value."""
    rows = [
        ("users", f"{info['users']:,}"),
        ("items", f"{info['items']:,}"),
        ("interactions", f"{info['interactions']:,}"),
        ("density", f"{info['density']:.4%}"),
        ("values", info["values"]),
    ]
    if "histogram" in info:
        rows.append(("histogram", ", ".join(f"{k}: {v:,}" for k, v in info["histogram"].items())))
    for key, title in (("per_user", "per user"), ("per_item", "per item")):
        stats = info[key]
        if stats:
            cells = ", ".join(
                f"{k} {v:,.1f}" if k == "mean" else f"{k} {v:,.0f}" for k, v in stats.items()
            )
            rows.append((title, cells))
    if "time_span" in info:
        rows.append(("time span", f"{info['time_span'][0]} .. {info['time_span'][1]}"))
    if "duplicates" in info:
        dup = info["duplicates"]
        rows.append(("duplicates", f"{dup['dropped']:,} dropped (policy: {dup['policy']})"))
    if info.get("lines_skipped"):
        rows.append(("bad lines", f"{info['lines_skipped']:,} skipped"))
    if "source" in info:
        rows.append(("source", _source(info["source"])))
    return table_text(None, rows)


def _source(source: dict[str, Any]) -> str:
    if "synthetic" not in source:
        return f"{source.get('path')} ({source.get('format')})"
    params = source["synthetic"]
    keys = ("users", "items", "density", "implicit", "seed")
    return "synthetic (" + ", ".join(f"{k} {params[k]}" for k in keys if k in params) + ")"
