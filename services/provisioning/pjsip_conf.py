"""`siptar asterisk export-pjsip`: the PJSIP realtime rows as a pjsip.conf include, for
installs without PostgreSQL (SQLite) or without realtime.

The rows are those of db/asterisk_views.py (the same selects the PostgreSQL views are
made of), so the file and the views never disagree. Asterisk reads the file on
`module reload res_pjsip.so` (or ReloadAsterisk): export, then reload, after each change.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from db.asterisk_views import VIEWS


def pjsip_sections(session: Session) -> Iterator[str]:
    """Sorted by name within each type: the same data always gives the same text."""
    for view in VIEWS:
        for row in session.execute(view.select(False).order_by(text("id"))).mappings():
            lines = [f"[{row['id']}]", f"type = {view.section_type}"]
            lines += [f"{key} = {value}" for key, value in row.items() if _shown(key, value)]
            yield "\n".join(lines) + "\n"


def _shown(key: str, value: object) -> bool:
    return key != "id" and value is not None and value != ""


def render(session: Session, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S UTC")
    head = (
        f"; PJSIP endpoints, auths, AORs and identifies of SipTar, written {stamp}\n"
        "; by `siptar asterisk export-pjsip`: do not edit, export again. Include it from\n"
        "; pjsip.conf with #include, after the transports.\n"
    )
    return "\n".join([head, *pjsip_sections(session)])


def fingerprint(session: Session) -> str:
    """Changes whenever what Asterisk should see changes (and only then). On
    PostgreSQL the views are digested by the server (the listener's CPU is for CDRs);
    on SQLite (small installs) here."""
    digest = hashlib.sha256()
    if session.get_bind().dialect.name == "postgresql":
        for view in VIEWS:
            row_digest = session.execute(
                text(
                    f"SELECT md5(coalesce(string_agg(v::text, E'\\n' ORDER BY v.id), '')) "
                    f"FROM {view.name} AS v"
                )
            ).scalar_one()
            digest.update(str(row_digest).encode())
        return digest.hexdigest()
    for section in pjsip_sections(session):
        digest.update(section.encode())
    return digest.hexdigest()


def write_atomically(path: Path, text: str) -> None:
    """Asterisk may reload at any moment: it must see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        # Asterisk runs as its own user: it must be able to read the include.
        os.chmod(tmp, 0o640)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
