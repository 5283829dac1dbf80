"""Swap the [mutmut] section of a setup.cfg for another one (make mutation-credit).

    python -m tests.mutation_config SETUP_CFG SECTION_FILE

mutmut reads its settings from the setup.cfg of the directory it runs in, and one
directory holds one set of results: the credit run works in a copy of the tree whose
setup.cfg gets the section of tests/mutation_credit.cfg instead of the rating one.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# The section runs from its header to the next section header or the end of the file.
_SECTION = re.compile(r"^\[mutmut\]\n(?:(?!\[).*\n?)*", re.MULTILINE)


def swap(setup_cfg: str, section: str) -> str:
    """`setup_cfg` with its [mutmut] section replaced by the one in `section` (whose
    leading comment lines are dropped), or with it appended if it has none."""
    found = _SECTION.search(section)
    if found is None:
        raise ValueError("no [mutmut] section to put in")
    body = found.group(0)
    if not _SECTION.search(setup_cfg):
        return setup_cfg.rstrip("\n") + "\n\n" + body
    return _SECTION.sub(lambda _: body, setup_cfg, count=1)


def main(argv: list[str]) -> int:
    target, source = map(Path, argv)
    target.write_text(swap(target.read_text(), source.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
