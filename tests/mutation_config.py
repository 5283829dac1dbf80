"""Swap the [mutmut] section of a setup.cfg for another one (make mutation-credit).

    python -m tests.mutation_config SETUP_CFG SECTION_FILE [MODULE]

mutmut reads its settings from the setup.cfg of the directory it runs in, and one
directory holds one set of results: the credit run works in a copy of the tree whose
setup.cfg gets the section of tests/mutation_credit.cfg instead of the rating one.

With MODULE (make mutation-credit MODULE=authorize) only services/credit/MODULE.py is
mutated, and its mutants run the test files that the section file's [modules] table
names for it instead of the whole credit selection (the options of that selection,
`--ignore` and `-k`, are kept).
"""

from __future__ import annotations

import configparser
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


def for_module(section: str, module: str) -> str:
    """The [mutmut] section of `section` narrowed to services/credit/`module`.py and the
    test files its [modules] table lists for it."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(section)
    modules = parser["modules"] if parser.has_section("modules") else {}
    if module not in modules:
        known = ", ".join(sorted(modules)) or "none"
        raise ValueError(f"no test files for module {module!r} in [modules] (known: {known})")
    settings = dict(parser["mutmut"])
    # The selection is the test paths, then the options: keep the options as they are.
    selection = settings["pytest_add_cli_args_test_selection"].strip().splitlines()
    options = next((i for i, arg in enumerate(selection) if arg.startswith("-")), len(selection))
    settings["pytest_add_cli_args_test_selection"] = "\n".join(
        modules[module].split() + selection[options:]
    )
    settings["only_mutate"] = f"services/credit/{module}.py"
    lines = ["[mutmut]"]
    for key, value in settings.items():
        values = value.strip().splitlines()
        if "\n" in value.strip() or key in ("source_paths", "only_mutate"):
            lines.append(f"{key} =")
            lines.extend(f"    {v}" for v in values)
        else:
            lines.append(f"{key} = {value.strip()}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    target, source = Path(argv[0]), Path(argv[1])
    section = source.read_text()
    if len(argv) > 2 and argv[2]:
        section = for_module(section, argv[2])
    target.write_text(swap(target.read_text(), section))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
