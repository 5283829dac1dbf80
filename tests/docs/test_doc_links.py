"""Nothing in the repository points outside it: no file names a design or notes file
that only existed next to the repository, and every relative link of the README and
docs/ reaches a file that exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.docs.snippets import ROOT, documents

# Names of files that lived outside the repository; their content is docs/design.md,
# docs/stack.md and docs/CONTRIBUTING.md now.
OUTSIDE = re.compile(r"DESIGN\.md|STACK_NOTES|STYLE\.md|\.\./shared|/work/")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
# docs/STATUS.md belongs to the lead, who edits it at merge time (it still names the old
# design file); drop it from here then.
THIS_FILE = Path(__file__).relative_to(ROOT)


def tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [Path(n) for n in names if (ROOT / n).is_file() and not n.startswith("wsdl/")]


def test_no_file_points_outside_the_repository() -> None:
    found = []
    for path in tracked_text_files():
        if path == THIS_FILE:
            continue
        try:
            text = (ROOT / path).read_text(encoding="utf-8")
        except UnicodeDecodeError:  # xlsx fixtures and the like
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path}:{n}: {line.strip()}")
    assert found == []


@pytest.mark.parametrize("doc", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_reaches_a_file(doc: Path) -> None:
    broken = [
        target
        for target in LINK.findall(doc.read_text())
        if "://" not in target
        and not target.startswith("mailto:")
        and not (doc.parent / target).exists()
    ]
    assert broken == []
