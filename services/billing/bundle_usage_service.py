"""Billing Engine: the bundles of an account and what is left of them. See
docs/bundles.md.

Faults: Client.AuthenticationFailed, Client.NotFound (also for an account outside your
subtree), Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from spyne import ComplexModel, Date, Integer, ServiceBase, Unicode, rpc

from services.billing.models import TNS
from services.bundles.counters import Counter
from services.bundles.usage import bundle_usage
from services.common.app import request
from services.common.wire import Auth


class BundleCounterInfo(ComplexModel):
    __namespace__ = TNS
    account_bundle_id = Integer
    bundle_id = Integer
    name = Unicode
    unit = Unicode  # seconds or calls
    period_start = Date
    period_end = Date  # excluded
    quantity = Integer  # this period's, with what carried over
    consumed = Integer  # by settled calls
    reserved = Integer  # held by calls in progress
    remaining = Integer


class BundleUsage(ComplexModel):
    __namespace__ = TNS
    account_id = Integer
    day = Date
    # One per bundle in force that day (an account holds a handful): not paged.
    items = BundleCounterInfo.customize(max_occurs="unbounded")


def _info(c: Counter) -> BundleCounterInfo:
    return BundleCounterInfo(
        account_bundle_id=c.account_bundle_id,
        bundle_id=c.bundle_id,
        name=c.name,
        unit=c.unit,
        period_start=c.period_start,
        period_end=c.period_end,
        quantity=c.quantity,
        consumed=c.consumed,
        reserved=c.reserved,
        remaining=c.remaining,
    )


class BundleUsageService(ServiceBase):
    __in_header__ = Auth

    @rpc(Integer, Date, _returns=BundleUsage)
    def GetBundleUsage(ctx: Any, account_id: int | None, day: date | None) -> BundleUsage:
        """Your account's bundles (or those of an account of your subtree) in the period
        holding `day` (default: today, UTC): quantity, consumed, reserved by calls in
        progress, and remaining, in the order they are consumed."""
        req = request(ctx)
        when = day or datetime.now(UTC).date()
        found = bundle_usage(req.uow, req.caller, account_id, when)
        target = account_id if account_id is not None else req.caller.account_id
        return BundleUsage(account_id=target, day=when, items=[_info(c) for c in found])
