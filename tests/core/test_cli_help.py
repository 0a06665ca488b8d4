"""Every option of every command line says what it does and its default (issue #18)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from app.headless import build_parser as cli_parser  # brats-seg: the core's commands and report
from app.main import build_parser as viewer_parser

REPO = Path(__file__).resolve().parents[2]


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found = {parser.prog: parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found.update(_subcommands(child))
    return found


PARSERS = {**_subcommands(cli_parser()), **_subcommands(viewer_parser())}


def _expanded_help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    return parser._get_formatter()._expand_help(action)


def test_every_command_is_found() -> None:
    """The walk reaches every subcommand (new ones are checked by the test below without editing this)."""
    assert {
        "brats-seg",
        "brats-seg crossval",
        "brats-seg evaluate",
        "brats-seg info",
        "brats-seg predict",
        "brats-seg report",
        "brats-seg train",
        "brats-viewer",
    } <= set(PARSERS)


@pytest.mark.parametrize("prog", sorted(PARSERS))
def test_every_option_says_what_it_does_and_its_default(prog: str) -> None:
    parser = PARSERS[prog]
    assert parser.description, f"{prog} has no description"
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._VersionAction | argparse._SubParsersAction):
            continue
        name = "/".join(action.option_strings) or action.dest
        assert action.help and len(action.help) > 10, f"{prog} {name}: no help text"
        if not action.option_strings:
            continue  # positional arguments have no default
        text = _expanded_help(parser, action)
        assert "default" in text or action.required, f"{prog} {name}: help does not say its default"
        takes_value = action.nargs != 0  # flags (store_true/store_const) only say what happens without them
        if takes_value and action.default not in (None, False, [], argparse.SUPPRESS) and not action.required:
            shown = (
                " ".join(map(str, action.default))
                if isinstance(action.default, list | tuple)
                else str(action.default)
            )
            assert f"default: {shown}" in text, f"{prog} {name}: help hides its default {shown!r}: {text!r}"


def test_predict_help_shows_the_overlap_default() -> None:
    parser = PARSERS["brats-seg predict"]
    assert "(default: 0.5)" in parser.format_help().replace("\n", " ").replace("  ", " ")


def test_train_help_in_a_terminal_lists_defaults() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "segmentation_core.training", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Train a 3D U-Net on labelled cases" in out
    for line in (
        "number of epochs (default: 50 with --preset cpu; 300 with --preset gpu)",
        "training patch size in voxels (default: 48 48 48 with --preset cpu; 128 128 128 with --preset gpu)",
        "resample cases to this voxel spacing in mm (default: 2.0 2.0 2.0 with --preset cpu; 1.0 1.0 1.0 with --preset gpu)",
        "initial learning rate, polynomial decay (default: 0.003 with --preset cpu; 0.001 with --preset gpu)",
        "model version written into the bundle (default: 1)",
    ):
        assert line in out, line
