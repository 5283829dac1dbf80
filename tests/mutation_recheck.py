"""Run again, under mutmut's CPU limit alone, the mutants mutmut recorded as timeouts.

    python -m tests.mutation_recheck [mutants/] [GLOB]

mutmut 3 stops a mutant's tests at a CPU limit of 2 x timeout_multiplier x (their
usual time + timeout_constant) seconds, and also at a wall-clock time of half that
(mutmut/workers/isolation.py). Its workers run under `nice -n 19` on a machine shared
with other jobs, so they can get so little of a core that the wall clock is reached
first by a mutant a test kills, or by one no test kills: both count as a timeout, which
the score counts as killed. This runs each such mutant's tests again, one mutant at a
time, with the CPU limit only (RLIMIT_CPU, as mutmut sets it) and no wall clock, and
keeps each verdict in MUTANTS/recheck.json; tests.mutation_score reads it in place of
the timeout. A run resumes where the last one stopped (the verdicts kept are skipped).
"""

from __future__ import annotations

import configparser
import fnmatch
import json
import math
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from tests.mutation_score import RECHECK, results

# pytest's exit codes as mutmut reads them (mutmut/stats.py): 1 failed, 3 internal error.
KILLED_CODES = {1, 3}
TIMEOUT_CODES = {-signal.SIGXCPU, 128 + signal.SIGXCPU, -signal.SIGKILL}
# CPU seconds added to mutmut's limit: its tests run in a child forked from a pytest that
# has imported everything, where a new pytest spends 2-5 s importing before a test runs.
STARTUP_CPU = 10


def cpu_limit(estimate: float, multiplier: float, constant: float) -> int:
    """mutmut's CPU limit for tests whose usual time is `estimate` seconds."""
    return math.ceil((estimate + constant) * multiplier * 2)


def verdict(returncode: int) -> str:
    if returncode == 0:
        return "survived"
    if returncode in KILLED_CODES:
        return "killed"
    return "timeout" if returncode in TIMEOUT_CODES else f"other ({returncode})"


def _settings(root: Path) -> tuple[list[str], float, float]:
    """The pytest options and timeouts of the run, from the setup.cfg mutmut copied."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(root / "setup.cfg")
    section = parser["mutmut"]
    options = section.get("pytest_add_cli_args", "").split()
    # mutmut's own defaults where the section has none.
    multiplier = section.getfloat("timeout_multiplier", fallback=15.0)
    return options, multiplier, section.getfloat("timeout_constant", fallback=1.0)


def _run(
    root: Path, name: str, tests: list[str], options: list[str], limit: int, niceness: int
) -> str:
    def capped() -> None:
        os.nice(niceness)
        resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 1))

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", *options, *tests],
        cwd=root,
        env=dict(os.environ, MUTANT_UNDER_TEST=name),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=capped,
        check=False,
    )
    return verdict(done.returncode)


def main(argv: list[str], startup_cpu: int = STARTUP_CPU, niceness: int = 19) -> int:
    root = Path(argv[0] if argv else "mutants")
    pattern = argv[1] if len(argv) > 1 else "*"
    stats = json.loads((root / "mutmut-stats.json").read_text())
    options, multiplier, constant = _settings(root)
    kept_path = root / RECHECK
    kept: dict[str, str] = json.loads(kept_path.read_text()) if kept_path.exists() else {}
    # results() already applies the verdicts kept: the timeouts left are the ones to run.
    todo = [
        name
        for mutants in results(root).values()
        for name, state in sorted(mutants.items())
        if state == "timeout" and name not in kept and fnmatch.fnmatchcase(name, pattern)
    ]
    print(f"{len(todo)} timeouts to run again", flush=True)
    for name in todo:
        tests = sorted(set(stats["tests_by_mangled_function_name"][name.partition("__mutmut_")[0]]))
        estimate = sum(stats["duration_by_test"].get(test, 0.0) for test in tests)
        limit = cpu_limit(estimate, multiplier, constant) + startup_cpu
        kept[name] = _run(root, name, tests, options, limit, niceness)
        kept_path.write_text(json.dumps(kept, indent=1, ensure_ascii=False))
        print(f"{kept[name]:12} {name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
