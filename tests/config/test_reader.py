"""Reading JSON and YAML configs: values, line numbers, syntax errors, duplicates."""

from __future__ import annotations

import pytest

from netcfg.config.reader import parse_config_text, read_config_file
from netcfg.config.tree import LocDict, LocList, locate
from netcfg.errors import ConfigError

JSON = """{
  "Name": "x",
  "Layers": [
    {"N": 10,
     "Activation": "Relu"},
    {"N": [2, 3], "Sparse": true, "X": null, "F": -1.5e-3}
  ]
}"""

YAML = """Name: x
Layers:
  - N: 10
    Activation: Relu
  - {N: [2, 3], Sparse: true, X: null, F: -1.5e-3}
"""


@pytest.mark.parametrize("text, fmt", [(JSON, "json"), (YAML, "yaml")])
def test_values_and_lines(text, fmt):
    tree = parse_config_text(text, "f", fmt)
    assert tree == {
        "Name": "x",
        "Layers": [
            {"N": 10, "Activation": "Relu"},
            {"N": [2, 3], "Sparse": True, "X": None, "F": -0.0015},
        ],
    }
    assert isinstance(tree, LocDict) and isinstance(tree["Layers"], LocList)
    first_layer_line = 4 if fmt == "json" else 3
    assert locate(tree, ("Layers", 0, "Activation")).line == first_layer_line + 1
    assert locate(tree, ("Layers", 1, "Sparse")).line == first_layer_line + 2
    assert locate(tree, ("Name",)).line == (2 if fmt == "json" else 1)
    # a missing key is located at the object that lacks it
    assert locate(tree, ("Layers", 0, "Missing")).line == first_layer_line


def test_json_syntax_error_has_line_and_column():
    with pytest.raises(ConfigError) as err:
        parse_config_text('{\n  "a": 1,\n  "b": \n}', "m.json", "json")
    assert str(err.value) == "m.json:4:1: invalid JSON: Expecting value"


def test_yaml_syntax_error_has_line_and_column():
    with pytest.raises(ConfigError) as err:
        parse_config_text("a: 1\nb: [1, 2\nc: 3\n", "m.yaml", "yaml")
    (issue,) = err.value.issues
    assert issue.location.line == 3 and issue.location.column is not None
    assert issue.message.startswith("invalid YAML: ")


@pytest.mark.parametrize(
    "text, fmt, message",
    [
        ("  \n", "json", "m: empty config file"),
        ("# only a comment\n", "yaml", "m: empty config file"),
        ("[1, 2]", "json", "m:1: the config must be an object at the top level, not an array"),
        ("- 1\n", "yaml", "m:1: the config must be an object at the top level, not an array"),
        ("42", "json", "m:1: the config must be an object at the top level, not a number"),
        (
            '{"a": NaN}',
            "json",
            "m:1:7: invalid JSON: NaN is not valid JSON (write a finite number)",
        ),
    ],
)
def test_document_errors(text, fmt, message):
    with pytest.raises(ConfigError) as err:
        parse_config_text(text, "m", fmt)
    assert str(err.value) == message


@pytest.mark.parametrize("text, fmt", [('{"a": 1,\n "a": 2}', "json"), ("a: 1\na: 2\n", "yaml")])
def test_duplicate_keys_are_reported(text, fmt):
    with pytest.raises(ConfigError) as err:
        parse_config_text(text, "m", fmt)
    assert str(err.value) == "m:2: a: key 'a' is given twice (first on line 1)"


def test_duplicate_keys_name_their_path():
    with pytest.raises(ConfigError) as err:
        parse_config_text('{"L": [{"N": 1}, {"N": 2,\n "N": 3}]}', "m", "json")
    assert str(err.value) == "m:2: L[1].N: key 'N' is given twice (first on line 1)"


def test_yaml_reads_exponent_floats_and_merges():
    tree = parse_config_text("base: &b {x: 1}\nother:\n  <<: *b\n  y: 1e-3\n", "m", "yaml")
    assert tree["other"] == {"x": 1, "y": 0.001}


def test_files_by_extension_and_folders(tmp_path):
    (tmp_path / "model.yaml").write_text("Name: folder\n")
    assert read_config_file(tmp_path)["Name"] == "folder"
    (tmp_path / "a.json").write_text('{"Name": "json"}')
    assert read_config_file(tmp_path / "a.json")["Name"] == "json"


def test_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        read_config_file(tmp_path / "missing.json")
    with pytest.raises(ConfigError, match="holds no config file"):
        read_config_file(tmp_path)
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"Name": "caf\xe9"}')
    with pytest.raises(ConfigError, match=r"latin1.json: not UTF-8 text \(byte 13\)"):
        read_config_file(bad)
