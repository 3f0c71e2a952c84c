"""Hostile options of ``netcfg tune``: trials, jobs, timeout, storage URLs, seeds, study
directories and search spaces. Each is refused before any trial runs."""

from __future__ import annotations

import json

from hostile_cases_cli import AUTO
from hostile_cases_config import config
from hostile_corpus import Case, case

SEARCHED = {"c.json": config({"Search": {"Layers.H.N": [2, 4]}}, auto=True)}
TUNE = "tune c.json --data {train} --out st --trials 1"


def tune(id: str, options: str, message: str, files: dict | None = None) -> Case:
    """``netcfg tune`` of a searched network on the world's ratings, with ``options``."""
    return case(id, f"{TUNE} {options}", 2, message, files=files or SEARCHED)


TUNE_OPTIONS = [
    tune(
        "tune-set-unknown-layer",
        "--set Layers.Nope.N=1",
        "--set Layers.Nope.N=1: Layers: no layer named 'Nope'; layers are In, H, Out",
    ),
    tune("tune-trials-zero", "--trials 0", "--trials and --jobs must be at least 1"),
    tune("tune-jobs-negative", "--jobs -1", "--trials and --jobs must be at least 1"),
    tune(
        "tune-timeout-negative",
        "--timeout -5",
        "--timeout must be a positive number of seconds, not -5.0",
    ),
    tune("tune-timeout-nan", "--timeout nan", "--timeout must be a positive number"),
    tune("tune-seed-negative", "--seed -1", "--seed must be between 0 and 4,294,967,295, not -1"),
    tune("tune-seed-2-to-32", "--seed 4294967296", "--seed must be between 0 and 4,294,967,295"),
    tune(
        "tune-storage-unknown-kind",
        "--storage bogus://x",
        "--storage bogus://x: unknown kind of database 'bogus'",
    ),
    tune("tune-storage-not-a-url", "--storage study.db", "--storage study.db: not a database URL"),
    tune(
        "tune-storage-no-folder",
        "--storage sqlite:////nonexistent/dir/x.db",
        "--storage sqlite:////nonexistent/dir/x.db: the folder /nonexistent/dir does not exist",
    ),
    tune(
        "tune-storage-password-hidden",
        "--storage bogus://me:secret@host/db",
        "--storage bogus://me:***@host/db: unknown kind of database 'bogus'",
    ),
    tune("tune-sampler-grid", "--sampler grid", "argument --sampler: invalid choice: 'grid'"),
    tune(
        "tune-out-is-a-file",
        "--out f.txt",
        "/f.txt: cannot create the study directory: a file of that name is in the way",
        files={**SEARCHED, "f.txt": "x"},
    ),
    tune("tune-save-as-dotdot", "--save-as ../x", "invalid model name '../x'"),
    tune("tune-space-missing", "--space nope.yaml", "nope.yaml: no such config file"),
    tune(
        "tune-nothing-to-search",
        "",
        "Search: nothing to tune: the config has no Search section",
        files=AUTO,
    ),
    tune(
        "tune-empty-space-file",
        "--space s.yaml",
        "Search: nothing to tune",
        files={**SEARCHED, "s.yaml": "{}\n"},
    ),
    tune(
        "tune-bad-choice",
        "",
        'c.json:1: Search.Layers.H.N: choice "x" is not a valid value',
        files={"c.json": config({"Search": {"Layers.H.N": [2, "x"]}}, auto=True)},
    ),
    tune(
        "tune-ensemble-one-member",
        "",
        "c.json:1: Members: must hold at least 2 items (got 1)",
        files={"c.json": json.dumps({"Kind": "Ensemble", "Members": [{"Network": "e.json"}]})},
    ),
]

CASES = TUNE_OPTIONS
