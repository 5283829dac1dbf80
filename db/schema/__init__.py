"""The one schema of the product, shared by the four services and the AMI listener.

This package is its index: each module holds the tables of one part, and importing any
of them (or anything from `db.schema`) registers every table on one `Base.metadata`,
in the order below, which is the order the tables have always been created in.

Money columns use `Money` (exact on SQLite too), times use `UtcDateTime` (aware UTC).
Every change here comes with an alembic revision in db/migrations/versions; a test
checks that the migrated schema equals these models.
"""

from __future__ import annotations

# isort: off
# The order of these imports is the order the tables are registered in (the order of
# Base.metadata.tables, as it was when all of them were in one module).
from db.schema.base import NAMING, ZERO, Base, utcnow
from db.schema.accounts import (
    Account,
    AccountCallerId,
    Login,
    PinLot,
    fold_username,
    username_key,
)
from db.schema.rates import Rate, RateSheet
from db.schema.routing import CONFIG_STATUSES, Provider, Route, RouteTrunk, Trunk
from db.schema.cdrs import Cdr, Charge
from db.schema.ledger import LedgerEntry
from db.schema.calls import (
    LIVE_CALL_STALE_AFTER_S,
    CallIntervention,
    LiveCall,
    Reservation,
)

# The parts that import `Base` from here: the security record, the operator's month
# (catalogue, subscriptions, DIDs, jobs), invoicing and the rest. Importing them at the
# end registers their tables on Base.metadata wherever the schema is used (alembic,
# tests, create_all).
from db.audit_schema import AuditEvent, LoginAttempt
from db import bundle_schema as _bundle_schema  # noqa: F401
from db import callback_schema as _callback_schema  # noqa: F401
from db import callshop_schema as _callshop_schema  # noqa: F401
from db import config_schema as _config_schema  # noqa: F401
from db import currency_schema as _currency_schema  # noqa: F401
from db import invoice_schema as _invoice_schema  # noqa: F401
from db import mail_schema as _mail_schema  # noqa: F401
from db import price_schema as _price_schema  # noqa: F401
from db import provisioning_schema as _provisioning_schema  # noqa: F401
from db import recurring_schema
# isort: on

__all__ = [
    "CONFIG_STATUSES",
    "LIVE_CALL_STALE_AFTER_S",
    "NAMING",
    "ZERO",
    "Account",
    "AccountCallerId",
    "AuditEvent",
    "Base",
    "CallIntervention",
    "Cdr",
    "Charge",
    "LedgerEntry",
    "LiveCall",
    "Login",
    "LoginAttempt",
    "PinLot",
    "Provider",
    "Rate",
    "RateSheet",
    "Reservation",
    "Route",
    "RouteTrunk",
    "Trunk",
    "fold_username",
    "recurring_schema",
    "username_key",
    "utcnow",
]
