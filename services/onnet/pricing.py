"""The CDR of an on-net call: priced at every level of the caller's chain at its sheet's
on-net price (rating/onnet.py), no provider cost, flagged with the account it rang
(`cdrs.onnet_account_id`). docs/onnet_callback.md.

A CDR is on-net when neither its channel nor its destination channel is a trunk, the
caller is an account of this server, and its number is on-net by the same rule as
Authorize's (services/onnet/callee.py). A CDR that went out over a trunk is never
looked at further: the trunk is found once per batch (trunk_match.find_trunk, shared with
the buy cost), so the listener's common path pays one dictionary lookup.
"""

from __future__ import annotations

from db.schema import Account
from db.session import UnitOfWork
from rating import normalise_number
from rating.errors import BillingError
from rating.model import CallToRate
from rating.onnet import on_net_cost
from services.cdr import pricing
from services.cdr.commands import CdrRecord
from services.credit import cdr_batch, settlement, trunk_match
from services.onnet.callee import Callee, find_callee
from services.onnet.plans import on_net_plan_for


def price_onnet(uow: UnitOfWork, record: CdrRecord) -> pricing.Priced | None:
    """The on-net call's price at every level, or None (not an on-net call)."""
    session = uow.session
    if not record.dstchannel or trunk_match.find_trunk(session, record) is not None:
        return None
    if trunk_match.trunk_of_channel(session, record.channel) is not None:
        return None  # a carrier's call in (to a DID): inbound, not on-net
    try:
        number = normalise_number(record.dst)
    except BillingError:
        return None
    callee = cdr_batch.remembered(
        session, ("onnet callee", number), lambda: find_callee(session, number)
    )
    if callee is None:
        return None
    caller = _caller(uow, record)
    if caller is None:
        return None
    return _priced(uow, record, caller, callee, number)


def _priced(
    uow: UnitOfWork, record: CdrRecord, caller: Account, callee: Callee, number: str
) -> pricing.Priced:
    if not record.answered or record.billsec <= 0:
        return pricing.Priced(caller.id, [], callee.account_id)
    call = CallToRate(number, record.answer or record.start, record.billsec, True)
    levels = []
    for level, account in pricing.chain_of(uow, caller):
        if account.rate_sheet_id is None:
            raise pricing.Unratable(
                f"account {account.id} ({account.name}) has no rate sheet", caller.id
            )
        plan = on_net_plan_for(pricing.plan_of(uow, account.rate_sheet_id))
        try:
            cost = on_net_cost(plan, call)
        except BillingError as e:
            why = f"account {account.id} ({account.name}): on-net: {e.message}"
            raise pricing.Unratable(why, caller.id) from None
        levels.append(pricing.LevelCharge(account, level, account.rate_sheet_id, cost))
    return pricing.Priced(caller.id, levels, callee.account_id)


def _caller(uow: UnitOfWork, record: CdrRecord) -> Account | None:
    if record.accountcode:
        found = pricing.account_by_code(uow, record.accountcode)
        if found is not None:
            return found
    return settlement.find_account(uow.session, record)
