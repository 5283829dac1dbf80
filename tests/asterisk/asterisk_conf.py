"""A reader of Asterisk's configuration syntax, strict enough to catch typos: sections
`[name]` or `[name](template)`, `key = value` / `key => value` lines, `;` comments,
`#include` / `#exec` directives. Sections may repeat (pjsip.conf: one name per type)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SECTION = re.compile(r"\[([^\]\s]+)\](\([^)]*\))?")
_LINE = re.compile(r"([A-Za-z0-9_.\-]+)\s*(=>|=)\s*(.*)")


@dataclass
class Section:
    name: str
    options: list[tuple[str, str]] = field(default_factory=list)

    def get(self, key: str) -> str | None:
        return next((v for k, v in self.options if k == key), None)

    def all(self, key: str) -> list[str]:
        return [v for k, v in self.options if k == key]


def parse(text: str) -> tuple[list[str], list[Section]]:
    """(the #include lines, the sections); ValueError names a line that is neither."""
    includes: list[str] = []
    sections: list[Section] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(";", 1)[0].strip() if not raw.lstrip().startswith("#") else raw
        line = line.strip()
        if not line:
            continue
        if line.startswith(("#include", "#tryinclude", "#exec")):
            includes.append(line)
            continue
        if match := _SECTION.fullmatch(line):
            sections.append(Section(match.group(1)))
            continue
        match = _LINE.fullmatch(line)
        if match is None or not sections:
            raise ValueError(f"line {number}: not Asterisk configuration: {raw!r}")
        sections[-1].options.append((match.group(1), match.group(3).strip()))
    return includes, sections
