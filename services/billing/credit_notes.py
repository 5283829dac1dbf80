"""Credit notes: the one way to correct an invoice, which never changes once issued.
Numbered in the issuer's series and credited to the account's balance in one
transaction; the notes of an invoice never credit more than its total. No spyne here."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from db import ledger
from db.invoice_numbers import next_number
from db.invoice_schema import Invoice
from db.schema import Account
from db.session import UnitOfWork
from rating.errors import InvalidInput
from rating.money import to_money
from rating.taxes import Tax, apply_taxes
from services.billing.invoice_snapshot import brand, money_text, number_format, taxes_json
from services.billing.invoice_usecases import visible_invoice
from services.common.caller import Caller, managed_account


def create_credit_note(
    uow: UnitOfWork, caller: Caller, invoice_id: int, amount: object, reason: str, now: datetime
) -> Invoice:
    """A credit note of `amount` (taxes included) against an invoice: numbered in the
    issuer's series, credited to the account's balance in the same transaction."""
    session = uow.session
    original = visible_invoice(session, caller, invoice_id)
    account = managed_account(session, caller, original.account_id)
    if original.kind != "invoice":
        raise InvalidInput("invoice_id: a credit note is not credited again")
    value = to_money(amount, "amount")
    if value <= 0:
        raise InvalidInput("amount: a credit note is positive")
    if not reason.strip():
        raise InvalidInput("reason: say why")
    session.execute(select(Account.id).where(Account.id == account.id).with_for_update())
    credited = session.execute(
        select(func.coalesce(func.sum(Invoice.total), 0)).where(
            Invoice.credits_invoice_id == original.id
        )
    ).scalar_one()
    left = original.total - Decimal(credited)
    if value > left:
        raise InvalidInput(f"amount: at most {left} of invoice {original.number} is left to credit")
    snap = json.loads(original.snapshot)
    taxes = tuple(Tax(t["name"], Decimal(t["rate"])) for t in snap["taxes"]["lines"])
    taxed = apply_taxes(value, taxes, inclusive=True)
    number = next_number(session, original.issuer_id, now.year, number_format(session))
    issuer = session.get(Account, original.issuer_id)
    assert issuer is not None
    note_snap = {
        "number": number,
        "title": "Credit note",
        "currency": original.currency,
        "issuer": brand(session, issuer),
        "customer": snap["customer"],
        "credits": original.number,
        "reason": reason.strip(),
        "charges": [
            {
                "kind": "credit",
                "description": f"Credit on invoice {original.number}: {reason.strip()}",
                "calls": 0,
                "seconds": 0,
                "amount": money_text(taxed.net + (taxed.tax if snap["taxes"]["inclusive"] else 0)),
            }
        ],
        "movements": [],
        "taxes": taxes_json(taxed, snap["taxes"]["inclusive"]),
        "calls": [],
    }
    note = Invoice(
        kind="credit_note",
        issuer_id=original.issuer_id,
        account_id=account.id,
        number=number,
        title="Credit note",
        period_key=None,
        period_start=original.period_start,
        period_end=original.period_end,
        issued_at=now,
        due_at=now,
        currency=original.currency,
        net=taxed.net,
        tax=taxed.tax,
        total=taxed.total,
        opening_balance=original.opening_balance,
        closing_balance=original.closing_balance,
        credits_invoice_id=original.id,
        snapshot=json.dumps(note_snap),
    )
    session.add(note)
    ledger.post(
        session,
        account.id,
        "adjustment",
        value,
        reference=f"credit note {number} on invoice {original.number}",
        login_id=caller.login_id,
    )
    uow.commit()
    return note
