"""Tables of the Configuration Manager: version stamps of what every worker caches,
the operator's runtime settings, and the rule versions of rate sheets.

Kept apart from db/schema/__init__.py (which imports this module, so one `Base.metadata` holds
everything). See docs/settings.md and docs/credit_control.md ("Changing and retiring").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
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


class SheetRuleVersion(Base):
    """The sheet-wide rules of a rate sheet from `effective_from` on (decimals, rounding,
    block mode, time zone): calls that start at or after it are rated by them, earlier
    ones by the version before (the sheet's own columns before the first). Rows are only
    added, never changed, so a re-rating of an older call finds the rule it was rated by
    (docs/rates.md, "Rule versions")."""

    __tablename__ = "rate_sheet_rules"
    __table_args__ = (
        UniqueConstraint("sheet_id", "effective_from", name="uq_rate_sheet_rules_sheet_from"),
        CheckConstraint("rounding IN ('half_up', 'up', 'down')", name="rounding"),
        CheckConstraint("block_mode IN ('first_block', 'whole_call')", name="block_mode"),
        CheckConstraint("decimals BETWEEN 0 AND 6", name="decimals"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("rate_sheets.id"))
    effective_from: Mapped[datetime] = mapped_column(UtcDateTime)
    decimals: Mapped[int] = mapped_column(Integer)
    rounding: Mapped[str] = mapped_column(String(16))
    block_mode: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
