"""Hostile config files given to ``netcfg validate``, ``render`` and ``train``: encodings,
JSON and YAML syntax, YAML tags and aliases, numbers JSON cannot hold, files that are not
configs. `config` and `validate` build the cases of the other config case lists too."""

from __future__ import annotations

import copy
import json

from hostile_corpus import Case, case

NETWORK = {
    "ErrorFunction": "MaskedMSE",
    "Layers": [
        {"Name": "In", "Kind": "Input", "N": 10, "DataSet": "r", "Sparse": True},
        {"Name": "H", "N": 4},
        {"Name": "Out", "Kind": "Output", "N": 10, "DataSet": "r"},
    ],
    "Training": {"Epochs": 1, "Threads": 1},
}
"""A valid network of fixed widths: ``netcfg validate`` compiles it without data."""

YAML_NETWORK = (
    "Layers:\n"
    "  - {Name: In, Kind: Input, N: 10, DataSet: r, Sparse: true}\n"
    "  - {Name: H, N: 4}\n"
    "  - {Name: Out, Kind: Output, N: 10, DataSet: r}\n"
)
VALID = "valid (3 layers); compiled"


def config(changes: dict | None = None, *, auto: bool = False, **options) -> str:
    """`NETWORK` as one line of JSON, each dotted path of ``changes`` set to its value
    (``{"Layers.1.N": 0}``; a missing object is created); ``auto``: input and output widths
    from the data. ``options`` go to `json.dumps`."""
    data = copy.deepcopy(NETWORK)
    widths = {"Layers.0.N": "auto", "Layers.2.N": "auto"} if auto else {}
    for path, value in {**widths, **(changes or {})}.items():
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        node[int(last) if isinstance(node, list) else last] = value
    return json.dumps(data, **options)


def validate(id: str, text: str | bytes, code: int, message: str, **options) -> Case:
    """``netcfg validate`` of one config file, ``c.json`` unless ``name`` says otherwise."""
    name = options.pop("name", "c.json")
    files = {name: text, **options.pop("files", {})}
    return case(id, f"{options.pop('command', 'validate')} {name}", code, message, files=files)


BOM = b"\xef\xbb\xbf"
CONTROL = "invalid YAML: unacceptable character #x0000: control characters are not allowed"
DEEP = "lists and objects nest deeper than the limit of 100 levels here"

FILES = [
    validate("config-json-bom", BOM + config().encode(), 0, f"c.json: {VALID}"),
    validate("config-yaml-bom", BOM + YAML_NETWORK.encode(), 0, VALID, name="c.yaml"),
    validate("config-utf16", config().encode("utf-16"), 2, "c.json: not UTF-8 text (byte 0)"),
    validate(
        "config-latin1",
        config({"Name": "caf\xe9"}, ensure_ascii=False).encode("latin-1"),
        2,
        "c.json: not UTF-8 text (byte 253)",
    ),
    validate(
        "config-json-nul", config()[:10] + "\x00" + config()[10:], 2, "c.json:1:11: invalid JSON"
    ),
    validate("config-yaml-nul", "Name: a\x00b\n", 2, f"c.yaml:1:8: {CONTROL}", name="c.yaml"),
    validate(  # libyaml counts bytes: the column is still in characters
        "config-yaml-nul-after-utf8",
        "Name: \xe9\nb: a\x00b\n",
        2,
        f"c.yaml:2:5: {CONTROL}",
        name="c.yaml",
    ),
    validate(
        "config-yaml-comments-only",
        "# nothing\n# here\n",
        2,
        "c.yaml: empty config file",
        name="c.yaml",
    ),
    validate(
        "config-json-null",
        "null",
        2,
        "c.json:1: the config must be an object at the top level, not null",
    ),
    validate("config-yaml-null", "~\n", 2, "not null", name="c.yaml"),
    validate("config-json-string", '"hello"', 2, "top level, not a string"),
    validate("config-json-number", "42", 2, "top level, not a number"),
    validate("config-yaml-boolean", "true\n", 2, "top level, not a boolean", name="c.yaml"),
    case(
        "config-folder-without-model",
        "validate adir",
        2,
        "adir: directory holds no config file (model.json, model.yaml, model.yml, config.json)",
        files={"adir/x.txt": ""},
    ),
    case(
        "config-folder-model-broken",
        "validate adir",
        2,
        "adir/model.json:1:2: invalid JSON",
        files={"adir/model.json": "{"},
    ),
    case("config-missing", "render nope.json", 2, "nope.json: no such config file"),
    case("config-dev-null", "validate /dev/null", 2, "/dev/null: not a regular file"),
    case("config-name-too-long", "validate " + "y" * 300 + ".json", 2, "give a shorter path"),
    case(
        "config-etc-passwd",
        "train /etc/passwd --out run",
        2,
        "/etc/passwd:1:1: invalid JSON: Expecting value",
        absent=("root:",),
    ),
]

NUMBERS = [
    validate(
        "json-nan",
        config().replace('"Epochs": 1', '"Epochs": NaN'),
        2,
        "c.json:1:224: invalid JSON: NaN is not valid JSON (write a finite number)",
    ),
    validate(
        "json-infinity",
        config().replace('"Threads": 1', '"Threads": Infinity'),
        2,
        "c.json:1:238: invalid JSON: Infinity is not valid JSON",
    ),
    validate(
        "json-minus-infinity",
        config().replace("4", "-Infinity"),
        2,
        "c.json:1:136: invalid JSON: -Infinity is not valid JSON",
    ),
    validate(
        "json-1e400",
        config({"Training.Optimizer": {"Type": "Adam"}}).replace(
            '"Adam"', '"Adam", "LearningRate": 1e400'
        ),
        2,
        "c.json:1: Training.Optimizer.LearningRate: must be a finite number (got Infinity)",
    ),
    validate(
        "json-5000-digits",
        config().replace('"Epochs": 1', '"Epochs": ' + "9" * 5000),
        2,
        "c.json:1:224: invalid JSON: a number of 5,000 digits; the limit is 4,300 digits",
    ),
    validate(
        "n-float",
        config({"Layers.1.N": 1e10}),
        2,
        "c.json:1: Layers[1].N: must be a "
        'positive integer, a list of 1 to 4 positive integers, or "auto" (got 10000000000.0)',
    ),
    validate(
        "n-10-to-30",
        config({"Layers.1.N": 10**30}),
        2,
        "layer 'H': N is 1000000000000000000000000000000 = 1,000,000,000,000,000,000,000,000,"
        "000,000 units",
    ),
    validate(
        "n-2-to-40-weights",
        config({"Layers.1.N": 2**40}),
        2,
        "c.json:1: Layers[2].N: "
        "layer 'Out': its weights from 'H' (1,099,511,627,776 x 10 values) need",
    ),
    validate(
        "n-true",
        config({"Layers.1.N": True}),
        2,
        "Layers[1].N: must be a positive "
        'integer, a list of 1 to 4 positive integers, or "auto" (got true)',
    ),
    validate("n-five-dimensions", config({"Layers.1.N": [2] * 5}), 2, "(got [2, 2, 2, 2, 2])"),
    validate(
        "n-empty-list",
        config({"Layers.1.N": []}),
        2,
        "Layers[1].N: must be a positive "
        'integer, a list of 1 to 4 positive integers, or "auto" (got [])',
    ),
    validate(
        "seed-2-to-70",
        config({"Training.Seed": 2**70}),
        2,
        "Training.Seed: must be less "
        "than or equal to 18446744073709551615 (got 1180591620717411303424)",
    ),
    validate(
        "threads-a-million",
        config({"Training.Threads": 10**6}),
        2,
        "Training.Threads: must be less than or equal to 1024 (got 1000000)",
    ),
]

JSON_SYNTAX = [
    validate(
        "json-key-twice",
        config()[:-1] + ', "Training": {"Epochs": 2}}',
        2,
        "c.json:1: Training: key 'Training' is given twice (first on line 1)",
    ),
    validate(
        "json-comment",
        '{ // a comment\n "Layers": []}',
        2,
        "c.json:1:3: invalid JSON: Expecting property name enclosed in double quotes",
    ),
    validate(
        "json-single-quotes",
        "{'Layers': []}",
        2,
        "c.json:1:2: invalid JSON: Expecting property name enclosed in double quotes",
    ),
    validate("json-unclosed", '{"Layers": [', 2, "c.json:1:13: invalid JSON: Expecting value"),
    validate("json-two-documents", "{}\n{}", 2, "c.json:2:1: invalid JSON: Extra data"),
    validate(
        "json-deep-render",
        '{"a":' + "[" * 150 + "]" * 150 + "}",
        2,
        f"c.json:1:105: {DEEP}",
        command="render",
    ),
]

CASES = [*FILES, *NUMBERS, *JSON_SYNTAX]
