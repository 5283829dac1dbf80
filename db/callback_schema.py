"""The web callback's table (docs/onnet_callback.md, "Web callback"): one row per
RequestCallback, its two legs' reservations and the state the AMI events moved it to.

Kept apart from db/schema/__init__.py, which imports this module so that one `Base.metadata`
holds everything.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.schema import Base, utcnow
from db.types import UtcDateTime

# The reservations' ids are BIGINT on PostgreSQL (db/schema.Reservation.id).
_RESERVATION_ID = BigInteger().with_variant(Integer, "sqlite")


class Callback(Base):
    """calling (Originate sent) -> connected (leg A answered) -> completed (hung up);
    failed: A never answered, or Asterisk refused the Originate."""

    __tablename__ = "callbacks"
    __table_args__ = (
        CheckConstraint("status IN ('calling', 'connected', 'completed', 'failed')", name="status"),
        Index("ix_callbacks_account", "account_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    number_a: Mapped[str] = mapped_column(String(40))
    number_b: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="calling")
    reason: Mapped[str] = mapped_column(String(255), default="")
    # The UniqueID of the channel to A (Originate's ChannelId): how its events are found.
    channel_id: Mapped[str] = mapped_column(String(64), unique=True)
    dial_a: Mapped[str] = mapped_column(String(255), default="")  # what was dialled for A
    reservation_a: Mapped[int | None] = mapped_column(_RESERVATION_ID)
    reservation_b: Mapped[int | None] = mapped_column(_RESERVATION_ID)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
