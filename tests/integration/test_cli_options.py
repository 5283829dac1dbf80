"""The settings flags (`--database-url`, ...) work at every level of every command:
before the subcommand, between it and its sub-subcommand, and after the latter."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

import pytest

from cli import _parser, main, subcommand_parsers
from settings import Settings

MASTER_CSV = Path(__file__).parents[1] / "fixtures" / "ami" / "Master.csv"


def _every_parser(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for child in subcommand_parsers(parser):
        found += _every_parser(child)
    return found


def test_every_parser_of_the_tree_has_every_settings_flag() -> None:
    """By construction: a command added later (by any module) is walked too."""
    parsers = _every_parser(_parser())
    assert len(parsers) > 15  # the walk reaches the sub-subcommands
    for p in parsers:
        for f in fields(Settings):
            action = p._option_string_actions.get(f"--{f.name.replace('_', '-')}")
            assert action is not None, f"{p.prog} lacks --{f.name}"
            # A None default in a subparser would erase the value given before it.
            assert action.default is argparse.SUPPRESS, f"{p.prog} --{f.name}"


@pytest.mark.parametrize(
    "argv",
    [
        ["--database-url", "X", "cdr", "import-csv", "F.csv"],
        ["cdr", "--database-url", "X", "import-csv", "F.csv"],
        ["cdr", "import-csv", "--database-url", "X", "F.csv"],
        ["cdr", "import-csv", "F.csv", "--database-url", "X"],
    ],
)
def test_a_flag_is_read_wherever_it_stands(argv: list[str]) -> None:
    args = _parser().parse_args(argv)
    assert (args.database_url, args.cdr_command, args.file) == ("X", "import-csv", Path("F.csv"))


@pytest.mark.parametrize(
    "argv",
    [
        ["db", "--ami-port", "7", "upgrade"],
        ["db", "upgrade", "--ami-port", "7"],
        ["reservations", "expire", "--ami-port", "7"],
        ["cdr", "replay-failed", "--ami-port", "7"],
        ["serve", "--ami-port", "7", "--bind", "127.0.0.1:1"],
    ],
)
def test_an_int_flag_is_an_int_at_every_level(argv: list[str]) -> None:
    assert _parser().parse_args(argv).ami_port == 7


def test_a_flag_not_given_leaves_the_environment_in_charge() -> None:
    args = _parser().parse_args(["cdr", "import-csv", "F.csv"])
    assert not hasattr(args, "database_url")


@pytest.mark.parametrize("before", [True, False], ids=["before", "after"])
def test_import_csv_uses_the_database_named_after_or_before_the_sub_subcommand(
    before: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    flag = ["--database-url", url]
    main(["db", "upgrade", *flag] if not before else ["db", *flag, "upgrade"])
    main(["demo", *flag])
    if before:
        main(["cdr", *flag, "import-csv", str(MASTER_CSV)])
    else:
        main(["cdr", "import-csv", *flag, str(MASTER_CSV)])
    out = capsys.readouterr().out
    assert f"{MASTER_CSV}: 57 rows:" in out
    assert (tmp_path / "cli.db").stat().st_size > 0
    assert not (tmp_path / "siptar.db").exists()
