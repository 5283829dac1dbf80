"""The mutation score per module, from the results mutmut leaves in mutants/.

    python -m tests.mutation_score [mutants/] [--survivors]

Score = (killed + timeouts) / all mutants, as docs/mutation.md defines it: a mutant no
test runs ("no tests") and one not yet checked count against the score. Reads mutmut's
own `*.meta` files (JSON: exit code by mutant name) so it needs no mutmut import and
works on a copy of the directory; the exit codes are those of mutmut 3
(mutmut/stats.py: 1 and 3 killed, 0 survived, 33 and 5 no tests, 36 and 24/-24/152/255
timeout, None not checked). A timeout that tests.mutation_recheck ran again under the
CPU limit alone (ROOT/recheck.json) counts as that run's verdict: mutmut's wall clock
stops mutants on a loaded machine that a test kills or that survive.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

KILLED = {1, 3}
TIMEOUT = {36, 24, -24, 152, 255}
SURVIVED = {0}
NO_TESTS = {5, 33}
RECHECK = "recheck.json"


def status(code: int | None) -> str:
    if code in KILLED:
        return "killed"
    if code in TIMEOUT:
        return "timeout"
    if code in SURVIVED:
        return "survived"
    if code in NO_TESTS:
        return "no tests"
    return "not checked" if code is None else f"other ({code})"


def results(root: Path) -> dict[str, dict[str, str]]:
    """{module: {mutant name: status}} for every mutated module under `root`."""
    rechecked_path = root / RECHECK
    rechecked = json.loads(rechecked_path.read_text()) if rechecked_path.exists() else {}
    by_module: dict[str, dict[str, str]] = defaultdict(dict)
    for meta in sorted(root.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        for name, code in codes.items():
            module = name.split(".x_", 1)[0].split(".xǁ", 1)[0]
            state = status(code)
            by_module[module][name] = rechecked.get(name, state) if state == "timeout" else state
    return by_module


def score(counts: Counter[str]) -> float:
    total = sum(counts.values())
    return 100.0 * (counts["killed"] + counts["timeout"]) / total if total else 100.0


def main(argv: list[str]) -> int:
    root = Path(next((a for a in argv if not a.startswith("--")), "mutants"))
    by_module = results(root)
    if not by_module:
        print(f"no mutmut results under {root}/: run `make mutation` first")
        return 1
    packages: dict[str, Counter[str]] = defaultdict(Counter)
    heading = ("module", "mutants", "killed", "timeout", "survived", "other")
    print("{:40} {:>7} {:>6} {:>7} {:>8} {:>5}  score".format(*heading))
    for module, mutants in sorted(by_module.items()):
        counts = Counter(mutants.values())
        packages[module.rsplit(".", 1)[0]].update(counts)
        other = len(mutants) - counts["killed"] - counts["timeout"] - counts["survived"]
        print(
            f"{module:40} {len(mutants):7} {counts['killed']:6} {counts['timeout']:7}"
            f" {counts['survived']:8} {other:5}  {score(counts):5.1f} %"
        )
    for package, counts in sorted(packages.items()):
        print(f"{package + '/ (all)':40} {sum(counts.values()):7}  score {score(counts):5.1f} %")
    if "--survivors" in argv:
        for mutants in by_module.values():
            for name, state in sorted(mutants.items()):
                if state not in ("killed", "timeout"):
                    print(f"{state:12} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
