"""Model cards of the shipped zoo entries, their config files and smoke-test overrides.

Each entry ``zoo/<name>/`` holds ``CARD.md``, which begins with a YAML front matter block::

    ---
    title: I-AutoRec
    task: rating prediction          # or: top-N ranking
    dataset: MovieLens 100K, u1.base/u1.test
    metric: RMSE                     # the headline metric
    measured: 0.8874                 # or null when not measured here
    published: 0.831 on ML-1M (Sedhain et al. 2015)   # or null
    train_seconds: 14                # or null
    ---

and ``smoke.json``, a JSON list of ``--set`` strings that make a run of seconds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from netcfg.config.reader import resolve_config_path
from netcfg.errors import ConfigError, Issue, Location
from netcfg.zoo import ZOO_PREFIX, zoo_entry, zoo_names

__all__ = ["TASKS", "ZooCard", "parse_card", "zoo_card", "zoo_cards", "zoo_config", "zoo_smoke"]

TASKS = ("rating prediction", "top-N ranking")
"""The values of a card's ``task``."""

_TEXT = ("title", "task", "dataset", "metric")
_NUMBERS = ("measured", "train_seconds")


@dataclass(frozen=True)
class ZooCard:
    """The front matter of a zoo entry's ``CARD.md``, and the markdown after it.

    Attributes:
        name: the entry's name (its folder), as in ``zoo:NAME``.
        title: the model's name, e.g. ``I-AutoRec``.
        task: ``rating prediction`` or ``top-N ranking``.
        dataset: the data and split it is trained and tested on.
        metric: the headline metric.
        measured: the metric measured by netcfg, or None when not measured here.
        published: the published result it compares with, or None.
        train_seconds: the training time measured here, or None.
        body: the markdown after the front matter.
    """

    name: str
    title: str
    task: str
    dataset: str
    metric: str
    measured: float | None
    published: str | None
    train_seconds: float | None
    body: str


def _front_matter(path: Path, text: str) -> tuple[str, str]:
    """The front matter's YAML and the body after it."""
    lines = text.splitlines(keepends=True)
    if lines and lines[0].rstrip() == "---":
        for number, line in enumerate(lines[1:], start=1):
            if line.rstrip() == "---":
                return "".join(lines[1:number]), "".join(lines[number + 1 :])
    message = "a zoo card must begin with a front matter block: a '---' line, the keys "
    message += ", ".join([*_TEXT, "measured", "published", "train_seconds"])
    raise ConfigError([Issue((), message + ", and a closing '---' line", Location(str(path), 1))])


def _check(key: str, value: object) -> str | None:
    """What is wrong with the value of a front matter key, or None."""
    if key in _TEXT:
        if not isinstance(value, str) or not value.strip():
            return "expected a non-empty text"
        if key == "task" and value not in TASKS:
            return f"expected {' or '.join(repr(t) for t in TASKS)} (got {value!r})"
    elif key in _NUMBERS:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            return f"expected a number or null (got {value!r})"
    elif value is not None and not isinstance(value, str | int | float):
        return f"expected a text or null (got {value!r})"
    return None


def parse_card(path: str | Path, name: str | None = None) -> ZooCard:
    """Read a ``CARD.md`` file.

    Args:
        path: the card file.
        name: the entry's name (default: the card's folder name).

    Raises:
        ConfigError: no front matter, or keys missing, unknown or of the wrong type; each
            problem names the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError([Issue((), "the zoo entry has no CARD.md", Location(str(path)))])
    header, body = _front_matter(path, path.read_text(encoding="utf-8"))
    try:
        fields = yaml.safe_load(header)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(
            [Issue((), f"front matter: {problem}", Location(str(path), line))]
        ) from None
    if not isinstance(fields, dict):
        raise ConfigError(
            [Issue((), "front matter: expected keys and values", Location(str(path), 2))]
        )
    lines = {
        match.group(1): number
        for number, line in enumerate(header.splitlines(), start=2)
        if (match := re.match(r"(\w+)\s*:", line))
    }
    known = (*_TEXT, *_NUMBERS, "published")
    issues = [
        Issue(
            (key,), f"unknown key (keys: {', '.join(known)})", Location(str(path), lines.get(key))
        )
        for key in fields
        if key not in known
    ]
    for key in known:
        if key not in fields:
            issues.append(Issue((key,), "missing (write null if unknown)", Location(str(path), 1)))
        elif problem := _check(key, fields[key]):
            issues.append(Issue((key,), problem, Location(str(path), lines.get(key))))
    if issues:
        raise ConfigError(issues)
    number = {key: None if fields[key] is None else float(fields[key]) for key in _NUMBERS}
    published = None if fields["published"] is None else str(fields["published"])
    return ZooCard(
        name=name or path.parent.name,
        **{key: fields[key] for key in _TEXT},
        **number,
        published=published,
        body=body,
    )


def _entry(name: str) -> Path:
    """The folder of a shipped entry; unknown names raise a ConfigError with a close match."""
    try:
        return zoo_entry(name)
    except KeyError as err:
        reference = name if name.startswith(ZOO_PREFIX) else ZOO_PREFIX + name
        raise ConfigError([Issue((), err.args[0], Location(reference))]) from None


def zoo_card(name: str) -> ZooCard:
    """The card of the shipped entry ``NAME`` (or ``zoo:NAME``)."""
    folder = _entry(name)
    return parse_card(folder / "CARD.md", folder.name)


def zoo_cards() -> list[ZooCard]:
    """The cards of every shipped entry, sorted by name."""
    return [zoo_card(name) for name in zoo_names()]


def zoo_config(name: str) -> Path:
    """The config file of the shipped entry ``NAME`` (``model.json`` or ``model.yaml``)."""
    return resolve_config_path(_entry(name))


def zoo_smoke(name: str) -> list[str]:
    """The ``--set`` overrides of the entry's ``smoke.json``: a short run on tiny data."""
    path = _entry(name) / "smoke.json"
    if not path.is_file():
        raise ConfigError([Issue((), "the zoo entry has no smoke.json", Location(str(path)))])
    try:
        overrides = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ConfigError(
            [Issue((), err.msg, Location(str(path), err.lineno, err.colno))]
        ) from None
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        message = 'expected a JSON list of "KEY=VALUE" strings'
        raise ConfigError([Issue((), message, Location(str(path), 1))])
    return overrides
