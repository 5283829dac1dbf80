"""A bare `make` lists every documented target of the Makefile (`name: ... ## what`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
def test_a_bare_make_lists_every_target_that_has_a_help_text() -> None:
    makefile = (ROOT / "Makefile").read_text()
    documented = re.findall(r"^([^\s:#=$]+):[^=\n]*## ", makefile, re.MULTILINE)
    assert "test-e2e" in documented and "help" in documented
    out = subprocess.run(
        ["make", "--no-print-directory"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    listed = re.findall(r"^  make (\S+)", out, re.MULTILINE)
    assert listed == documented
