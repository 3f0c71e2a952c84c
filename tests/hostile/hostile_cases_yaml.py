"""Hostile YAML config files: indentation, merge keys, aliases, tags that would construct
Python objects, keys that are not strings, YAML's implicit dates and floats."""

from __future__ import annotations

from hostile_cases_config import YAML_NETWORK, validate

LAUGHS = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x]"]
    + [
        f"{b}: &{b} [" + ", ".join([f"*{a}"] * 9) + "]"
        for a, b in zip("abcde", "bcdef", strict=True)
    ]
)
"""Six levels of nine aliases each: 9**6 values from a few lines (a billion laughs)."""


YAML_SYNTAX = [
    validate(
        "yaml-tab-indent",
        "Layers:\n\t- {Name: In}\n",
        2,
        "c.yaml:2:1: invalid YAML: found "
        "character '\\t' that cannot start any token (YAML does not allow tabs for "
        "indentation)",
        name="c.yaml",
    ),
    validate(
        "yaml-colon-in-value",
        "Name: a: b\n",
        2,
        "c.yaml:1:8: invalid YAML: mapping values "
        "are not allowed here (a value containing ': ' needs quotes)",
        name="c.yaml",
    ),
    validate(
        "yaml-key-twice",
        "Name: a\nName: b\n" + YAML_NETWORK,
        2,
        "c.yaml:2: Name: key 'Name' is given twice (first on line 1)",
        name="c.yaml",
    ),
    validate(
        "yaml-key-twice-by-case",
        YAML_NETWORK + "layers: []\n",
        2,
        "c.yaml:5: layers: 'layers' and 'Layers' are the same key (Layers); give it once",
        name="c.yaml",
    ),
    validate(
        "yaml-merge-scalar",
        "Training:\n  <<: 5\n",
        2,
        "c.yaml:2:7: invalid YAML: expected "
        "a mapping or list of mappings for merging, but found scalar",
        name="c.yaml",
    ),
    validate(
        "yaml-merge-list-of-scalars",
        "Training:\n  <<: [1, 2]\n",
        2,
        "c.yaml:2:8: invalid YAML: expected a mapping or list of mappings for merging",
        name="c.yaml",
    ),
    validate(
        "yaml-undefined-alias",
        "Training: *nope\n",
        2,
        "c.yaml:1:11: invalid YAML: found undefined alias 'nope'",
        name="c.yaml",
    ),
    validate(
        "yaml-alias-inside-itself",
        "Training: &t {Optimizer: *t}\n",
        2,
        "c.yaml:1:26: the alias *t is inside the node it names",
        name="c.yaml",
    ),
    validate(
        "yaml-laughs-render",
        LAUGHS + "\n",
        2,
        "c.yaml:6:8: the YAML expands to more than 100,000 values through its aliases",
        name="c.yaml",
        command="render",
    ),
    validate(
        "yaml-python-name-tag",
        "Name: !!python/name:os.system\n",
        2,
        "c.yaml:1:7: invalid YAML: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/name:os.system'",
        name="c.yaml",
    ),
    validate(
        "yaml-python-apply-tag",
        "Name: !!python/object/apply:os.system ['true']\n" + YAML_NETWORK,
        2,
        'c.yaml:1: Name: must be a valid string (got ["true"])',
        name="c.yaml",
    ),
    validate(
        "yaml-custom-tag",
        "Name: !secret x\n",
        2,
        "c.yaml:1:7: invalid YAML: could not determine a constructor for the tag '!secret'",
        name="c.yaml",
    ),
    validate(
        "yaml-binary-tag",
        "Name: !!binary aGVsbG8=\n" + YAML_NETWORK,
        2,
        "c.yaml:1: Name: must be a valid string (got b'hello')",
        name="c.yaml",
    ),
    validate(
        "yaml-two-documents",
        "Name: a\n---\nName: b\n",
        2,
        "c.yaml:2:1: invalid YAML: "
        "expected a single document in the stream, but found another document",
        name="c.yaml",
    ),
    validate(
        "yaml-list-key",
        "? [a, b]\n: 1\n",
        2,
        "c.yaml:1: keys must be strings (got ['a', 'b'])",
        name="c.yaml",
    ),
    validate(
        "yaml-null-key", "~: 5\n", 2, "c.yaml:1: keys must be strings (got None)", name="c.yaml"
    ),
    validate(
        "yaml-number-key",
        YAML_NETWORK + "1: x\n",
        2,
        "c.yaml:5: keys must be strings (got 1)",
        name="c.yaml",
    ),
    validate(
        "yaml-date-name",
        "Name: 2024-01-01\n" + YAML_NETWORK,
        2,
        "c.yaml:1: Name: must be a valid string (got datetime.date(2024, 1, 1))",
        name="c.yaml",
    ),
    validate(
        "yaml-impossible-date",
        "Name: 2024-13-45\n",
        2,
        "c.yaml:1:7: invalid YAML: cannot read this value: month must be in 1..12",
        name="c.yaml",
    ),
    validate(
        "yaml-5000-digits",
        YAML_NETWORK + "Training: {Epochs: " + "9" * 5000 + "}\n",
        2,
        "c.yaml:5:20: invalid YAML: cannot read this value: a number of 5,000 digits",
        name="c.yaml",
    ),
    validate(
        "yaml-nan",
        YAML_NETWORK + "Training: {Optimizer: {Type: Adam, LearningRate: .nan}}\n",
        2,
        "c.yaml:5: Training.Optimizer.LearningRate: must be a finite number (got NaN)",
        name="c.yaml",
    ),
    validate(
        "yaml-inf",
        YAML_NETWORK + "Training: {Epochs: .inf}\n",
        2,
        "c.yaml:5: Training.Epochs: must be a valid integer (got Infinity)",
        name="c.yaml",
    ),
    validate(
        "yaml-unclosed-flow",
        "Layers: [{Name: In\n",
        2,
        "c.yaml:2:1: invalid YAML: expected ',' or '}', but got '<stream end>'",
        name="c.yaml",
    ),
    validate(
        "yaml-unclosed-quote",
        "Name: 'abc\n",
        2,
        "c.yaml:2:1: invalid YAML: found unexpected end of stream",
        name="c.yaml",
    ),
    validate(
        "yaml-version-2",
        "%YAML 2.0\n---\nName: x\n",
        2,
        "c.yaml:1:1: invalid YAML: found incompatible YAML document (version 1.* is required)",
        name="c.yaml",
    ),
]


CASES = YAML_SYNTAX
