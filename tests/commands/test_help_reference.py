"""README's command reference names exactly the options that each command's --help lists."""

from __future__ import annotations

import argparse
import re

from helpers import REPO

from netcfg.cli import build_parser

_SHARED = {"--help", "--debug"}  # every command has them; README says so once


def _commands(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()):
    """(command words, long options) of every leaf subcommand."""
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subcommands:
        options = {
            option
            for action in parser._actions
            for option in action.option_strings
            if option.startswith("--")
        }
        yield " ".join(words), options - _SHARED
        return
    for name, child in subcommands[0].choices.items():
        if name in subcommands[0]._name_parser_map and child.prog.endswith(name):
            yield from _commands(child, (*words, name))


def _readme_reference() -> dict[str, set[str]]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = re.search(r"\n## Command reference\n(.*?)(\n## |\Z)", text, re.S)
    assert section, "README.md has no '## Command reference' section"
    table: dict[str, set[str]] = {}
    for row in re.findall(r"^\| `netcfg ([^`]*)` \|(.*)\|\s*$", section.group(1), re.M):
        command = " ".join(w for w in row[0].split() if re.fullmatch(r"[a-z-]+", w))
        table[command] = set(re.findall(r"`(--[a-z0-9-]+)", row[1]))
    return table


def test_readme_reference_matches_every_help():
    helped = dict(_commands(build_parser()))
    documented = _readme_reference()
    assert sorted(documented) == sorted(helped), "commands in README vs --help"
    for command, options in helped.items():
        assert documented[command] == options, (
            f"netcfg {command}: only in --help {sorted(options - documented[command])}, "
            f"only in README {sorted(documented[command] - options)}"
        )


def test_every_option_has_help_text():
    undocumented = []
    parser = build_parser()

    def walk(p: argparse.ArgumentParser, prefix: str) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, f"{prefix} {name}")
            elif not action.help and action.dest != "help":
                undocumented.append(f"{prefix}: {action.option_strings or action.dest}")

    walk(parser, "netcfg")
    assert undocumented == []
