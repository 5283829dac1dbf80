"""Version stamps of cached configuration (db/config_schema.py, ConfigVersion).

`bump` runs in the transaction of the change it announces, so a worker that reads the
new number also sees the change. The row is created on first use: a concurrent first
bump waits on the other's insert instead of failing (db/upsert.py).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from db.config_schema import ConfigVersion
from db.upsert import insert_if_missing

ROUTING = "routing"  # providers, trunks, routes and their trunks
SETTINGS = "settings"


def bump(session: Session, name: str) -> None:
    insert_if_missing(session, ConfigVersion, {"name": name, "version": 0})
    session.execute(
        update(ConfigVersion)
        .where(ConfigVersion.name == name)
        .values(version=ConfigVersion.version + 1)
    )


# Built once, run on the session's connection: the settings' stamp is read on every
# Authorize, and an ORM statement costs ~5x a Core one in client time (docs/stack.md).
# The stamps are only written by statements (`bump`), so there is nothing to autoflush.
_CURRENT = select(ConfigVersion.version).where(ConfigVersion.name == bindparam("name"))


def current(session: Session, name: str) -> int:
    """The stamp now (0 before the first change)."""
    found = session.connection().scalar(_CURRENT, {"name": name})
    return int(found or 0)
