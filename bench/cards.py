"""Writing measured results into a zoo entry's ``CARD.md``.

The front matter's ``measured:`` and ``train_seconds:`` lines are replaced (every other
line is kept as written), and the markdown between the lines ``<!-- results -->`` and
``<!-- /results -->`` of the body, when the card has them, is replaced by a results table.
"""

from __future__ import annotations

import re
from pathlib import Path

RESULTS_BEGIN = "<!-- results -->"
RESULTS_END = "<!-- /results -->"


def headline(metric: str, measured: dict[str, float]) -> str:
    """Which measured metric a card's ``metric`` names (``RMSE``, ``Recall@20``, ...).

    Raises:
        KeyError: it names none of them.
    """
    if metric in measured:
        return metric
    for name in measured:
        if re.search(rf"(?<![\w@]){re.escape(name)}(?![\w@])", metric, re.IGNORECASE):
            return name
    raise KeyError(f"the card's metric '{metric}' is none of {', '.join(measured)}")


def results_table(rows: list[tuple[str, dict[str, str]]]) -> str:
    """A markdown table with a row per (protocol, {metric: text}) and a column per metric."""
    metrics = list(dict.fromkeys(metric for _, values in rows for metric in values))
    lines = ["| " + " | ".join(["protocol", *metrics]) + " |", "|---" * (len(metrics) + 1) + "|"]
    for protocol, values in rows:
        lines.append("| " + " | ".join([protocol, *(values.get(m, "") for m in metrics)]) + " |")
    return "\n".join(lines)


def update_card(path: Path, measured: float, train_seconds: float, table: str) -> None:
    """Write ``measured`` and ``train_seconds`` into the front matter and ``table`` between
    the results markers.

    Raises:
        ValueError: the card has no front matter, or it lacks one of the two keys.
    """
    lines = path.read_text(encoding="utf-8").split("\n")
    closing = [n for n in range(1, len(lines)) if lines[n].rstrip() == "---"]
    if lines[0].rstrip() != "---" or not closing:
        raise ValueError(f"{path}: no front matter")
    end = closing[0]
    values = {"measured": f"{measured:.4f}", "train_seconds": f"{round(train_seconds)}"}
    for key, value in values.items():
        found = [n for n in range(1, end) if re.match(rf"{key}\s*:", lines[n])]
        if not found:
            raise ValueError(f"{path}: the front matter has no '{key}:' line")
        lines[found[0]] = f"{key}: {value}"
    stripped = [line.strip() for line in lines]
    if RESULTS_BEGIN in stripped[end:] and RESULTS_END in stripped[end:]:
        begin = stripped.index(RESULTS_BEGIN, end)
        close = stripped.index(RESULTS_END, begin)
        lines[begin + 1 : close] = table.split("\n")
    path.write_text("\n".join(lines), encoding="utf-8")
