"""DSSTNE's text format: ``sample<TAB>feature[,value]:feature[,value]:...`` lines."""

from __future__ import annotations

from pathlib import Path

from netcfg.errors import DataError, Location

__all__ = ["dsstne_entry_lines", "read_dsstne"]


def read_dsstne(
    path: Path, skip_bad_lines: bool, value_range
) -> tuple[list[str], list[str], list[float] | None, int]:
    """DSSTNE's ``sample<TAB>feature[,value]:feature[,value]:...`` (first value kept).

    Returns:
        User ids, item ids, values (None when no feature has one) and skipped lines.

    Raises:
        DataError: at the first bad line (file, number, text) unless ``skip_bad_lines``.
    """
    users, items, values = [], [], []
    analog = False
    skipped = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = Location(str(path), number)
            try:
                text = raw.decode("utf-8").strip()
                if not text:
                    continue
                if "\x00" in text:
                    raise ValueError("a NUL byte in the line")
                sample, features = _dsstne_fields(text)
                parsed = [_dsstne_feature(f, value_range) for f in features]
            except (UnicodeDecodeError, ValueError) as err:
                if not skip_bad_lines:
                    raise DataError(_dsstne_message(err, raw), where) from None
                skipped += 1
                continue
            for name, value in parsed:
                users.append(sample)
                items.append(name)
                values.append(1.0 if value is None else value)
                analog |= value is not None
    return users, items, values if analog else None, skipped


def dsstne_entry_lines(path: Path, entries: list[int], value_range) -> dict[int, int]:
    """The line of each given entry (0-based, in `read_dsstne` order; bad lines skipped)."""
    wanted, found, entry = set(entries), {}, 0
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                text = line.decode("utf-8").strip()
                if "\x00" in text:
                    continue
                features = _dsstne_fields(text)[1] if text else []
                for feature in features:
                    _dsstne_feature(feature, value_range)
            except (UnicodeDecodeError, ValueError):
                continue
            for _ in features:
                if entry in wanted:
                    found[entry] = number
                entry += 1
    return found


def _dsstne_fields(text: str) -> tuple[str, list[str]]:
    sample, tab, rest = text.partition("\t")
    if not tab or not sample:
        raise ValueError("expected 'sample<TAB>feature[,value]:...'")
    features = rest.strip().split(":")
    if features and not features[-1]:  # "f1,5:f2,3:" ends with a separator
        features.pop()
    if not features:
        raise ValueError("no features after the tab")
    if not all(features):
        raise ValueError("empty feature (two ':' in a row)")
    return sample, features


def _dsstne_feature(text: str, value_range) -> tuple[str, float | None]:
    name, comma, rest = text.partition(",")
    if not name:
        raise ValueError(f"empty feature name in {text!r}")
    if not comma:
        return name, None
    first = rest.split(",", 1)[0]
    try:
        value = float(first)
    except ValueError:
        raise ValueError(f"value {first!r} of feature {name!r} is not a number") from None
    if value_range and not value_range[0] <= value <= value_range[1]:
        raise ValueError(f"value {first} of feature {name!r} is outside the declared range")
    return name, value


def _dsstne_message(err: Exception, raw: bytes) -> str:
    if isinstance(err, UnicodeDecodeError):
        return f"not UTF-8 text (byte {err.start} of the line)"
    return f"{err}: {raw.decode('utf-8', 'replace').strip()[:120]!r}"
