"""The README's serving example: its commands parse, and its requests are answered as the
README shows (here by the test server's user-based model, whose ids they also fit)."""

from __future__ import annotations

import json
import re
import shlex

from helpers import REPO, readme_block

from netcfg.cli import build_parser


def test_the_readme_serving_example_works(client):
    lines = readme_block("readme-serve")
    assert [shlex.split(line)[0] for line in lines] == [
        "netcfg",
        "netcfg",
        "curl",
        "curl",
        "curl",
        "kill",
    ]
    for line in lines[:2]:  # the netcfg commands parse
        build_parser().parse_args(shlex.split(line.removesuffix("&"))[1:])
    text = (REPO / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"<!-- readme-serve -->.*?```\n\n.*?```\n(.*?)```", text, re.S).group(1)
    shown = [json.loads(line) for line in shown.splitlines()]
    for line, expected in zip(lines[2:5], shown, strict=True):
        words = shlex.split(line)
        path = words[words.index("-s") + 1].removeprefix("localhost:8080")
        body = json.loads(words[words.index("-d") + 1])
        answer = client.post(path, json=body)
        assert answer.status_code == 200, answer.text
        found = answer.json()
        assert set(found) == set(expected)
        assert {k: v for k, v in found.items() if k in ("user", "warnings", "unknown_users")} == {
            k: v for k, v in expected.items() if k in ("user", "warnings", "unknown_users")
        }
        for key in ("items", "scores"):
            if key in expected:
                assert len(found[key]) == len(expected[key])
