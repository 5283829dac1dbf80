"""GetBundleUsage: what each bundle of an account has consumed, holds for calls in
progress, and has left in the period holding a day. Spyne-free."""

from __future__ import annotations

from datetime import date

from db.session import UnitOfWork
from services.bundles.counters import Counter, counters
from services.common.caller import Caller, visible_account


def bundle_usage(
    uow: UnitOfWork, caller: Caller, account_id: int | None, day: date
) -> list[Counter]:
    """The account's bundles in force on `day` (the caller's own, or an account of its
    subtree), in their consumption order. A period looked at for the first time gets
    its counter, full (committed: the counter is the same row the calls will use)."""
    account = visible_account(uow.session, caller, account_id)
    found = counters(uow.session, [account.id], day).get(account.id, [])
    uow.commit()
    return found
