"""Tables of the Configuration Manager: version stamps of what every worker caches,
and the operator's runtime settings.

Kept apart from db/schema.py (which imports this module, so one `Base.metadata` holds
everything). See docs/settings.md and docs/credit_control.md ("Changing and retiring").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.schema import Base, utcnow
from db.types import UtcDateTime


class ConfigVersion(Base):
    """A counter per kind of configuration ("routing", "settings"), bumped in the
    transaction of every change: a worker that caches that configuration compares one
    integer per request instead of reloading, as sheets do with rate_sheets.version."""

    __tablename__ = "config_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class Setting(Base):
    """One runtime setting set by the admin; its type and bounds are in
    services/config/settings_registry.py. A setting without a row takes its
    environment variable, then its default."""

    __tablename__ = "settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
