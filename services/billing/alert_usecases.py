"""SetBalanceAlerts: the low-balance thresholds of an account. No spyne here.

The mails themselves are queued by db/alerts in the transaction that moves the
balance; this only sets the thresholds. An alert starts armed when the balance is at
or above its threshold (a balance already below sends nothing until it has been back
above).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, select

from db.mail_schema import BalanceAlert
from db.session import UnitOfWork
from rating.errors import InvalidInput
from rating.money import to_money
from services.common import runtime_settings
from services.common.caller import Caller, visible_account

MAX_ALERTS = 5


def set_alerts(
    uow: UnitOfWork, caller: Caller, account_id: int | None, thresholds: list[object]
) -> list[BalanceAlert]:
    """Replace the thresholds of your own account or one below you."""
    account = visible_account(uow.session, caller, account_id)
    values = sorted({to_money(t, "thresholds") for t in thresholds}, reverse=True)
    if len(values) > MAX_ALERTS:
        raise InvalidInput(f"thresholds: at most {MAX_ALERTS}")
    session = uow.session
    session.execute(delete(BalanceAlert).where(BalanceAlert.account_id == account.id))
    balance: Decimal = account.balance
    for value in values:
        session.add(
            BalanceAlert(
                account_id=account.id, threshold=value, armed=balance >= value, crossings=0
            )
        )
    uow.commit()
    return list_alerts(uow, account.id)


def arm_default_alerts(uow: UnitOfWork, account_id: int, balance: Decimal) -> None:
    """A new account's thresholds: the `alerts.default_thresholds` setting in force."""
    text = runtime_settings.text(uow.session, "alerts.default_thresholds")
    for value in (Decimal(t) for t in text.split(",") if t):
        uow.session.add(
            BalanceAlert(
                account_id=account_id, threshold=value, armed=balance >= value, crossings=0
            )
        )


def list_alerts(uow: UnitOfWork, account_id: int) -> list[BalanceAlert]:
    return list(
        uow.session.scalars(
            select(BalanceAlert)
            .where(BalanceAlert.account_id == account_id)
            .order_by(BalanceAlert.threshold.desc())
        )
    )
