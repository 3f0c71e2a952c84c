"""``netcfg schema`` passes ``check-jsonschema`` (ECMA regex rules, as editors apply them),
and so does every shipped config checked against it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from contextlib import redirect_stdout
from io import StringIO

import pytest
from helpers import REPO

from netcfg.cli import main

SHIPPED = sorted(
    path
    for pattern in ("examples/**/*.json", "examples/**/*.yaml", "zoo/*/model.json")
    for path in REPO.glob(pattern)
)

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("check_jsonschema") is None, reason="check-jsonschema not installed"
)


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory):
    """The printed schema, as a file."""
    path = tmp_path_factory.mktemp("schema") / "netcfg.schema.json"
    out = StringIO()
    with redirect_stdout(out):
        assert main(["schema"]) == 0
    path.write_text(out.getvalue())
    return path


def _check_jsonschema(*args) -> subprocess.CompletedProcess:
    """Run check-jsonschema with its default (ECMA-262) regex variant."""
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_shipped_configs_include_networks_and_an_ensemble():
    kinds = {json.loads(p.read_text()).get("Kind") for p in SHIPPED if p.suffix == ".json"}
    assert "Ensemble" in kinds and len(SHIPPED) >= 10


@pytest.mark.slow
def test_schema_passes_the_metaschema_with_ecma_patterns(schema_file):
    done = _check_jsonschema("--check-metaschema", schema_file)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "\\-" not in schema_file.read_text()


@pytest.mark.slow
def test_every_shipped_config_passes_check_jsonschema(schema_file):
    done = _check_jsonschema("--schemafile", schema_file, *SHIPPED)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_check_jsonschema_reports_a_typo_in_a_shipped_config(schema_file, tmp_path):
    config = json.loads((REPO / "zoo" / "quickstart" / "model.json").read_text())
    config["Trainingg"] = config.pop("Training", {})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(config))
    done = _check_jsonschema("--schemafile", schema_file, bad)
    assert done.returncode == 1 and "Trainingg" in done.stdout
