"""The per-module selection of the credit mutation run (make mutation-credit MODULE=...):
the settings it writes for mutmut, read back the way mutmut reads them."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

import services.credit
from tests.mutation_config import for_module, swap

ROOT = Path(__file__).resolve().parents[2]
CREDIT_CFG = ROOT / "tests" / "mutation_credit.cfg"
# Where the credit modules are imported from, not ROOT/services: `make mutation` runs
# these tests in mutants/, a copy of rating/ and tests/ only, where services/ is the
# installed tree's.
CREDIT_DIR = Path(services.credit.__file__).resolve().parent


def _mutmut_settings(text: str) -> dict[str, list[str]]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return {k: v.strip().splitlines() for k, v in parser["mutmut"].items()}


def _modules() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(CREDIT_CFG.read_text())
    return parser["modules"]


def test_a_module_mutates_its_own_file_with_its_own_tests_and_the_same_options() -> None:
    whole = _mutmut_settings(CREDIT_CFG.read_text())
    narrowed = _mutmut_settings(for_module(CREDIT_CFG.read_text(), "authorize"))

    assert narrowed["only_mutate"] == ["services/credit/authorize.py"]
    selection = narrowed["pytest_add_cli_args_test_selection"]
    tests = _modules()["authorize"].split()
    assert selection[: len(tests)] == tests
    # The options after the paths (the ignored file, the -k expression) are kept whole.
    options = [a for a in whole["pytest_add_cli_args_test_selection"] if not a.startswith("tests/")]
    assert selection[len(tests) :] == options
    assert "tests/credit/" not in selection
    for key in ("source_paths", "pytest_add_cli_args", "timeout_multiplier", "timeout_constant"):
        assert narrowed[key] == whole[key]


def test_the_narrowed_section_replaces_the_one_of_setup_cfg() -> None:
    setup_cfg = "[metadata]\nname = x\n\n[mutmut]\nonly_mutate =\n    rating/*\n\n[tool:x]\na = 1\n"
    text = swap(setup_cfg, for_module(CREDIT_CFG.read_text(), "expiry"))
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    assert parser["mutmut"]["only_mutate"].strip() == "services/credit/expiry.py"
    assert parser["metadata"]["name"] == "x" and parser["tool:x"]["a"] == "1"


def test_an_unknown_module_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"no test files for module 'nope'.*authorize"):
        for_module(CREDIT_CFG.read_text(), "nope")


@pytest.mark.parametrize("module", sorted(_modules()))
def test_every_module_names_an_existing_module_and_existing_test_files(module: str) -> None:
    assert (CREDIT_DIR / f"{module}.py").is_file()
    for path in _modules()[module].split():
        assert (ROOT / path).is_file(), path
