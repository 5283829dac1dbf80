"""Where calls go: providers, their trunks, routes by prefix and the trunks of a route."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.schema.base import Base, utcnow
from db.types import UtcDateTime

# Configuration that CDRs and charges point at is never deleted: it is disabled (out
# of routing, may come back) or retired (out for good).
CONFIG_STATUSES = "status IN ('active', 'disabled', 'retired')"


class Provider(Base):
    """A termination provider; what it charges us is its buy sheet."""

    __tablename__ = "providers"
    __table_args__ = (CheckConstraint(CONFIG_STATUSES, name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    buy_sheet_id: Mapped[int | None] = mapped_column(ForeignKey("rate_sheets.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Trunk(Base):
    __tablename__ = "trunks"
    __table_args__ = (CheckConstraint(CONFIG_STATUSES, name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    # Asterisk dial string with ${NUMBER} where the number goes, e.g. PJSIP/${NUMBER}@carrier1
    dial_string: Mapped[str] = mapped_column(String(255))
    channel_limit: Mapped[int | None] = mapped_column(Integer)
    # Open calls offered this trunk first (open customer-level reservations with its
    # id), kept by every writer of reservations (services/credit/holds.py).
    open_calls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16), default="active")
    # The provider's SIP host (name or IP, port 5060): with one, the trunk is provisioned
    # to Asterisk as a PJSIP endpoint named like the trunk (db/asterisk_views.py).
    sip_host: Mapped[str] = mapped_column(String(255), default="", server_default="")

    provider: Mapped[Provider] = relationship()


class Route(Base):
    __tablename__ = "routes"
    __table_args__ = (
        CheckConstraint("strategy IN ('lcr', 'priority', 'balance', 'quality')", name="strategy"),
        CheckConstraint(CONFIG_STATUSES, name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    strategy: Mapped[str] = mapped_column(String(16), default="lcr")
    allow_loss: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")


class RouteTrunk(Base):
    __tablename__ = "route_trunks"

    route_id: Mapped[int] = mapped_column(
        ForeignKey("routes.id", ondelete="CASCADE"), primary_key=True
    )
    trunk_id: Mapped[int] = mapped_column(ForeignKey("trunks.id"), primary_key=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    weight: Mapped[int] = mapped_column(Integer, default=1)
