"""A three-level tree written straight into the database, for the recurring tests:

    admin ── R1 (reseller) ── R2 (reseller) ── C (customer, prepaid)

`Tree.caller(name)` is the use cases' view of that account's login.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from db import ledger
from db.schema import Account, Provider
from db.session import UnitOfWork
from services.common.caller import Caller

D = Decimal


def at(text: str) -> datetime:
    """'2027-01-31 10:00' as aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Tree:
    uow: Callable[[], UnitOfWork]
    ids: dict[str, int] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    provider_id: int = 0

    def caller(self, name: str) -> Caller:
        role = {"admin": "admin", "C": "customer"}.get(name, "reseller")
        if name.startswith("C"):
            role = "customer"
        return Caller(0, name, self.ids[name], role, self.paths[name])

    def add(self, name: str, parent: str | None, role: str, **fields: object) -> int:
        with self.uow() as u:
            account = Account(role=role, name=name, path="", **fields)
            if parent is not None:
                account.parent_id = self.ids[parent]
            u.session.add(account)
            u.session.flush()
            account.path = f"{self.paths.get(parent, '/') if parent else '/'}{account.id}/"
            u.commit()
            self.ids[name], self.paths[name] = account.id, account.path
            return account.id

    def pay(self, name: str, amount: Decimal) -> None:
        with self.uow() as u:
            ledger.post(u.session, self.ids[name], "payment", amount, reference="test payment")
            u.commit()

    def balance(self, name: str) -> Decimal:
        with self.uow() as u:
            account = u.session.get(Account, self.ids[name])
            assert account is not None
            return account.balance

    def ledger_sum(self, name: str) -> Decimal:
        with self.uow() as u:
            return ledger.ledger_sum(u.session, self.ids[name])


@pytest.fixture
def tree(uow: Callable[[], UnitOfWork]) -> Tree:
    t = Tree(uow)
    t.add("admin", None, "admin")
    t.add("R1", "admin", "reseller", billing_type="postpaid", credit_limit=D(10_000))
    t.add("R2", "R1", "reseller", billing_type="postpaid", credit_limit=D(10_000))
    t.add("C", "R2", "customer", billing_type="prepaid")
    with uow() as u:
        provider = Provider(name="DID provider")
        u.session.add(provider)
        u.session.flush()
        t.provider_id = provider.id
        u.commit()
    return t
