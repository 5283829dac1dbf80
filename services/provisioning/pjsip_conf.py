"""`siptar asterisk export-pjsip`: the PJSIP realtime rows as a pjsip.conf include, for
installs without PostgreSQL (SQLite) or without realtime.

The rows are those of db/asterisk_views.py (the same selects the PostgreSQL views are
made of), so the file and the views never disagree. Asterisk reads the file on
`module reload res_pjsip.so` (or ReloadAsterisk): export, then reload, after each change.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from db.asterisk_views import VIEWS
from db.provisioning_schema import ProvisioningState


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
    """Changes whenever what Asterisk should see may have changed: the counter that
    database triggers bump in the same transaction as any such change
    (db/provisioning_triggers.py). One primary-key read, however many accounts."""
    version = session.scalar(select(ProvisioningState.version).where(ProvisioningState.id == 1))
    return str(version or 0)


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
