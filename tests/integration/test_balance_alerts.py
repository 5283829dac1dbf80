"""Low-balance alerts in db/ledger's set-based paths: a change of 2,500 accounts at
once (a PIN lot's refill, `post_where`) checks them in chunks and queues one mail."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import insert, select

from db import ledger
from db.invoice_schema import AccountProfile
from db.mail_schema import BalanceAlert, OutboxMail
from db.schema import Account
from db.session import UnitOfWork

D = Decimal


def test_a_set_based_change_of_many_accounts_crosses_one_alert(
    uow: Callable[[], UnitOfWork],
) -> None:
    with uow() as u:
        s = u.session
        parent = Account(role="reseller", name="R", path="/1/", company_name="R Phones")
        s.add(parent)
        s.flush()
        s.execute(
            insert(Account),
            [
                {"role": "customer", "name": f"card {i}", "path": f"/1/x{i}/", "balance": D(20)}
                | {"parent_id": parent.id, "accountcode": f"card{i}"}
                for i in range(2500)
            ],
        )
        last = s.scalars(select(Account.id).order_by(Account.id.desc()).limit(1)).one()
        s.add(AccountProfile(account_id=last, email="last@cards.example"))
        s.add(BalanceAlert(account_id=last, threshold=D(10), armed=True, crossings=0))
        u.commit()
    with uow() as u:
        moved = ledger.post_where(u.session, Account.role == "customer", "adjustment", D(-15))
        u.commit()
    assert moved == 2500
    with uow() as u:
        mails = u.session.execute(select(OutboxMail.key, OutboxMail.to_addr)).all()
        armed = u.session.scalars(select(BalanceAlert.armed)).one()
    assert mails == [("alert:1:1", "last@cards.example")] and armed is False
