"""The marked code blocks of README.md and docs/**/*.md, and how one is run.

A block is marked by an HTML comment on the line before its opening fence (Markdown
renders nothing for it):

    <!-- snippet -->            run this block (```sh, ```bash or ```python)
    <!-- snippet: server -->    the command that starts the server (README.md, once)
    <!-- output -->             (after a snippet) lines its output must show, in order

An output block (any fence language, usually ```text) belongs to the snippet just above
it, with only blank lines or prose between; each of its non-blank lines, with runs of
spaces taken as one, must appear in the snippet's standard output, in that order (pick
lines that do not change from run to run).

A shell block runs in bash with `-e -o pipefail` from the repository's root; a Python
block runs with the repository's `.venv/bin/python` from the root. Both see `BIND`
(HOST:PORT of the server) and the server's `SIPTAR_DATABASE_URL` in the environment,
and a PATH without `.venv/bin` (as a newcomer's shell: say `.venv/bin/siptar`). Blocks
run in order (README.md first, then docs/ sorted by path) against one server and one
database, so a block must not depend on absolute balances that an earlier one changed:
compare before and after instead. docs/CONTRIBUTING.md says the same for writers.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).parents[2]
MARKER = re.compile(r"^<!--\s*snippet(?::\s*(?P<kind>[a-z-]+))?\s*-->\s*$")
OUTPUT = re.compile(r"^<!--\s*output\s*-->\s*$")
FENCE = re.compile(r"^(?P<fence>```+)(?P<lang>[A-Za-z0-9_+-]*)\s*$")
LANGUAGES = {"sh": "shell", "bash": "shell", "shell": "shell", "python": "python"}
KINDS = {None, "server"}


class SnippetError(ValueError):
    """A marker the collector can't use: no block after it, or an unknown language."""


@dataclass(frozen=True)
class Snippet:
    path: Path  # relative to ROOT
    line: int  # of the opening fence, 1-based
    language: str  # "shell" or "python"
    kind: str | None
    text: str
    expected: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def documents(root: Path = ROOT) -> list[Path]:
    """README.md first, then every Markdown file under docs/, sorted."""
    found = [root / "README.md"] if (root / "README.md").exists() else []
    return found + sorted((root / "docs").rglob("*.md"))


def parse(path: Path, text: str) -> list[Snippet]:
    lines = text.splitlines()
    found: list[Snippet] = []
    i = 0
    while i < len(lines):
        line, where = lines[i].strip(), f"{path}:{i + 1}"
        unmarked = FENCE.match(line)
        if unmarked:  # a block shown, not run: a marker inside it is only text
            i = _closing(lines, i, unmarked.group("fence"), where) + 1
            continue
        if OUTPUT.match(line):
            if not found or found[-1].expected:
                raise SnippetError(f"{where}: an output block must follow a snippet")
            _, body, i = _block(lines, i, where)
            found[-1] = replace(found[-1], expected=tuple(_squeezed(body)))
            continue
        marker = MARKER.match(line)
        if not marker:
            i += 1
            continue
        kind = marker.group("kind")
        if kind not in KINDS:
            raise SnippetError(f"{where}: unknown snippet kind {kind!r}")
        lang, body, after = _block(lines, i, where)
        language = LANGUAGES.get(lang)
        if language is None:
            raise SnippetError(f"{where}: can't run a ```{lang} block")
        found.append(Snippet(path, i + 2, language, kind, "\n".join(body) + "\n"))
        i = after
    return found


def _block(lines: list[str], marker: int, where: str) -> tuple[str, list[str], int]:
    """The language and lines of the fenced block right after line `marker`, and the
    index of the line after its closing fence."""
    opening = FENCE.match(lines[marker + 1].strip()) if marker + 1 < len(lines) else None
    if opening is None:
        raise SnippetError(f"{where}: a marker must stand right before ```")
    end = _closing(lines, marker + 1, opening.group("fence"), where)
    return opening.group("lang"), lines[marker + 2 : end], end + 1


def _closing(lines: list[str], opening: int, fence: str, where: str) -> int:
    for at in range(opening + 1, len(lines)):
        if lines[at].strip() == fence:
            return at
    raise SnippetError(f"{where}: the block is never closed")


def _squeezed(lines: list[str]) -> list[str]:
    return [" ".join(line.split()) for line in lines if line.strip()]


def collect(root: Path = ROOT) -> list[Snippet]:
    return [s for doc in documents(root) for s in parse(doc.relative_to(root), doc.read_text())]


def command(snippet: Snippet, python: Path) -> list[str]:
    if snippet.language == "shell":
        return ["bash", "-e", "-o", "pipefail", "-c", snippet.text]
    return [str(python), "-c", snippet.text]


def run(
    snippet: Snippet, env: dict[str, str], python: Path, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(snippet, python),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def failure(snippet: Snippet, done: subprocess.CompletedProcess[str]) -> str | None:
    """The report of a snippet that failed, None when it ran clean and showed its
    expected output."""
    if done.returncode != 0:
        what = f"exited {done.returncode}"
    else:
        missing = _missing(snippet.expected, _squeezed(done.stdout.splitlines()))
        if missing is None:
            return None
        what = f"ran, but its output lacks (in order) {missing!r}"
    return (
        f"the {snippet.language} snippet at {snippet.where} {what}\n"
        f"--- snippet\n{snippet.text}--- stdout\n{done.stdout}--- stderr\n{done.stderr}"
    )


def _missing(expected: tuple[str, ...], output: list[str]) -> str | None:
    """The first expected line not found in `output` after the previous one's line."""
    at = 0
    for want in expected:
        while at < len(output) and want not in output[at]:
            at += 1
        if at == len(output):
            return want
        at += 1
    return None
