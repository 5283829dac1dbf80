"""Tables of Asterisk provisioning beyond the accounts' and trunks' own columns: the
source addresses that identify IP-authenticated customers, the outbound registration of
trunks to providers that need one, and the change counter the AMI listener polls.

Kept apart from db/schema/__init__.py (which imports this module, so one `Base.metadata` holds
everything). See docs/asterisk/README.md.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.schema import Base, utcnow
from db.types import UtcDateTime


class AccountSourceIp(Base):
    """A network (an address is a /32 or /128) whose calls are the account's, without a
    digest: Asterisk's `identify` (ps_endpoint_id_ips). Unique, and checked against
    overlaps when set: one address must name one account."""

    __tablename__ = "account_source_ips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    # The normalised CIDR text ("192.0.2.0/24", "2001:db8::/48"); fits `match` (80).
    network: Mapped[str] = mapped_column(String(43), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TrunkRegistration(Base):
    """The outbound REGISTER of a trunk to its provider (ps_registrations, and the
    trunk's outbound auth in ps_auths). The secret is write-only: only Asterisk's
    `md5_cred` is kept, md5(username:realm:secret), for the realm the provider's
    challenge names, which Asterisk answers without the plain secret."""

    __tablename__ = "trunk_registrations"

    trunk_id: Mapped[int] = mapped_column(
        ForeignKey("trunks.id", ondelete="CASCADE"), primary_key=True
    )
    server_uri: Mapped[str] = mapped_column(String(255))
    username: Mapped[str] = mapped_column(String(40))
    realm: Mapped[str] = mapped_column(String(255))
    md5_cred: Mapped[str] = mapped_column(String(40))
    # The user part of the contact the provider sends its calls to (default: username).
    contact_user: Mapped[str] = mapped_column(String(40), default="")
    expiration: Mapped[int] = mapped_column(Integer, default=3600)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ProvisioningState(Base):
    """One row: `version` goes up in the same transaction as any change of what Asterisk
    is provisioned with (database triggers, db/provisioning_triggers.py), so the AMI
    listener's poll reads one row instead of every provisioned one."""

    __tablename__ = "provisioning_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
