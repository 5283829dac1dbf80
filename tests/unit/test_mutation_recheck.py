"""tests.mutation_recheck: a mutant mutmut recorded as a timeout is run again under the
CPU limit alone, and the score counts the verdict of that run (docs/mutation.md)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from tests.mutation_recheck import cpu_limit, main, verdict
from tests.mutation_score import results

# A mutant's tests: the first mutant fails it, the second does not, the third never ends.
TEST = """
import os

def test_f():
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    while mutant.endswith("_3"):
        pass
    assert not mutant.endswith("_1")
"""


def _tree(root: Path, codes: dict[str, int | None]) -> None:
    (root / "rating").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "tests" / "test_m.py").write_text(TEST)
    (root / "rating" / "m.py.meta").write_text(json.dumps({"exit_code_by_key": codes}))
    # A CPU limit of ceil((0 + 0.1) x 1 x 2) = 1 s, and 4 s for pytest to start (main's
    # startup_cpu below): the endless mutant is stopped soon.
    (root / "setup.cfg").write_text(
        "[mutmut]\npytest_add_cli_args =\n    -q\n    -p\n    no:cacheprovider\n"
        "timeout_multiplier = 1.0\ntimeout_constant = 0.1\n"
    )
    stats = {
        "tests_by_mangled_function_name": {"rating.m.x_f": ["tests/test_m.py::test_f"]},
        "duration_by_test": {"tests/test_m.py::test_f": 0.0},
    }
    (root / "mutmut-stats.json").write_text(json.dumps(stats))


def test_each_timeout_is_run_again_and_scored_by_that_run(tmp_path: Path) -> None:
    names = [f"rating.m.x_f__mutmut_{n}" for n in range(1, 6)]
    # Three timeouts, one survivor and one not checked: only the timeouts run again.
    _tree(tmp_path, dict(zip(names, [-24, -24, 152, 0, None], strict=True)))
    assert main([str(tmp_path)], startup_cpu=4, niceness=0) == 0
    kept = json.loads((tmp_path / "recheck.json").read_text())
    assert kept == {names[0]: "killed", names[1]: "survived", names[2]: "timeout"}
    states = results(tmp_path)["rating.m"]
    assert [states[name] for name in names] == [
        "killed",
        "survived",
        "timeout",
        "survived",
        "not checked",
    ]
    # A second run finds nothing left to run: every timeout has its verdict.
    (tmp_path / "tests" / "test_m.py").write_text("def test_f():\n    raise AssertionError\n")
    assert main([str(tmp_path)], startup_cpu=4, niceness=0) == 0
    assert json.loads((tmp_path / "recheck.json").read_text()) == kept


def test_a_verdict_only_replaces_a_timeout(tmp_path: Path) -> None:
    _tree(tmp_path, {"rating.m.x_f__mutmut_1": 0, "rating.m.x_f__mutmut_2": 1})
    (tmp_path / "recheck.json").write_text(
        json.dumps({"rating.m.x_f__mutmut_1": "killed", "rating.m.x_f__mutmut_2": "survived"})
    )
    assert results(tmp_path)["rating.m"] == {
        "rating.m.x_f__mutmut_1": "survived",
        "rating.m.x_f__mutmut_2": "killed",
    }


def test_the_cpu_limit_and_the_exit_codes_are_read_as_mutmut_reads_them() -> None:
    assert cpu_limit(0.5, 4.0, 2.0) == 20
    assert cpu_limit(0.01, 4.0, 2.0) == 17
    assert [verdict(code) for code in (0, 1, 3, -signal.SIGXCPU, 128 + signal.SIGXCPU)] == [
        "survived",
        "killed",
        "killed",
        "timeout",
        "timeout",
    ]
    assert verdict(5) == "other (5)"
