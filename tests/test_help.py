"""Help that tells the truth (issue 16): every option of every verb has a help line, the top-level
help lists every exit status, and what help promises is what the verb does."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from kg import cli
from kg.core import errors

PARSER = cli._parser()
VERBS = next(a for a in PARSER._actions if isinstance(a, argparse._SubParsersAction)).choices


def _help(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as done:
        PARSER.parse_args([*args, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_option_has_a_help_line(verb: str, capsys) -> None:
    text = _help(capsys, verb)
    for action in VERBS[verb]._actions:
        assert action.help and action.help != argparse.SUPPRESS, (verb, action.option_strings or action.dest)
        for option in action.option_strings:
            assert option in text, (verb, option)
    assert "example" in text  # each verb shows how it is used


def test_top_level_help_lists_every_exit_status(capsys) -> None:
    text = _help(capsys)
    statuses = {cli.EXIT_OK, cli.EXIT_NONCONFORMING, cli.EXIT_INTERNAL, 130}
    statuses |= {
        cls.exit_code for cls in vars(errors).values() if isinstance(cls, type) and hasattr(cls, "exit_code")
    }
    listed = text.split("exit status:")[1]
    for status in statuses:
        assert f"\n  {status} " in listed, status
    assert set(VERBS) <= set(text.split())  # and every verb


def test_plot_writes_where_its_help_says(tmp_path: Path, capsys) -> None:
    assert "default: KIND.png" in _help(capsys, "plot")
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert cli.main(["plot", "by-province"]) == 0
    finally:
        os.chdir(here)
    assert (tmp_path / "by-province.png").read_bytes().startswith(b"\x89PNG")
    assert capsys.readouterr().out == ""  # nothing on stdout


def test_output_option_writes_the_file_instead_of_stdout(tmp_path: Path, capsysbinary) -> None:
    target = tmp_path / "kg.ttl"
    assert cli.main(["export", "-o", str(target)]) == 0
    assert capsysbinary.readouterr().out == b"" and target.stat().st_size > 1000
