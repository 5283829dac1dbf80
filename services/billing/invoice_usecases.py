"""Invoices, statements and credit notes: issued by an account's parent. No spyne here.

docs/invoices.md is the reference. In short: an invoice is built from the account's
ledger for a period (services/billing/invoice_lines), taxed once per invoice
(rating/taxes), numbered gapless per issuer (db/invoice_numbers) and written with a
JSON snapshot of everything it prints, all in one transaction. It never changes
afterwards; a correction is a credit note.
"""

from __future__ import annotations

import base64
import json
import logging
from calendar import monthrange
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db import ledger, outbox
from db.invoice_numbers import next_number
from db.invoice_schema import AccountProfile, AccountTax, Invoice
from db.schema import Account
from db.session import UnitOfWork
from db.upsert import insert_if_missing
from rating.errors import InvalidInput, NotFound
from rating.money import to_money
from rating.taxes import Tax, Taxed, apply_taxes
from services.billing import invoice_lines, invoice_pdf
from services.common import runtime_settings
from services.common.caller import Caller, managed_account, visible_account
from services.common.paging import newest_first
from services.common.periods import check_period
from settings import Settings

logger = logging.getLogger(__name__)

PROFILE_DEFAULTS: dict[str, Any] = {
    "address": "",
    "tax_id": "",
    "email": "",
    "logo_type": "",
    "invoice_footer": "",
    "tax_inclusive": False,
    "cdr_detail": False,
    "billing_day": 1,
    "payment_days": 15,
}
# Calls printed one per line in the PDF when the account asks for the detail; more
# than this are summarised (the per-destination lines still carry every call).
MAX_DETAIL_CALLS = 100_000


def profile_of(session: Session, account_id: int) -> AccountProfile:
    """The account's profile row, created (with the defaults) on first use; two
    transactions creating it at once do not fail each other."""
    profile = session.get(AccountProfile, account_id)
    if profile is None:
        insert_if_missing(session, AccountProfile, {"account_id": account_id, **PROFILE_DEFAULTS})
        profile = session.get(AccountProfile, account_id)
        assert profile is not None
    return profile


def taxes_of(session: Session, account_id: int) -> tuple[Tax, ...]:
    rows = session.scalars(
        select(AccountTax).where(AccountTax.account_id == account_id).order_by(AccountTax.position)
    ).all()
    return tuple(Tax(t.name, t.rate, t.compound) for t in rows)


def last_period(billing_day: int, now: datetime) -> tuple[datetime, datetime]:
    """The last monthly period that has ended by `now`: from the billing day of one
    month (00:00 UTC) to the billing day of the next."""
    end = now.astimezone(UTC).replace(day=billing_day, hour=0, minute=0, second=0, microsecond=0)
    if end > now:
        end = _months_before(end, 1)
    return _months_before(end, 1), end


def _months_before(moment: datetime, months: int) -> datetime:
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    day = min(moment.day, monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _check_period(start: datetime, end: datetime, now: datetime) -> None:
    check_period(start, end)
    if end > now:
        # The peers' bug: a run before the month ends invoiced half a month.
        raise InvalidInput("period_end: the period has not ended yet")


def _number_format(session: Session) -> str:
    return runtime_settings.text(session, "invoice.number_format")


def _brand(session: Session, issuer: Account) -> dict[str, Any]:
    """The issuer's own brand, never one above it: a customer of R2 sees only R2. The
    operator's own gaps are filled by its company settings (a reseller's never are:
    its customers must not see the operator's name)."""
    p = profile_of(session, issuer.id)
    operator = issuer.role == "admin"
    company = runtime_settings.text(session, "company.name") if operator else ""
    address = runtime_settings.text(session, "company.address") if operator else ""
    return {
        "account_id": issuer.id,
        "company_name": issuer.company_name or company or issuer.name,
        "address": p.address or address,
        "tax_id": p.tax_id,
        "footer": p.invoice_footer,
        # The logo itself, so that a later SetBranding does not change this document.
        "logo": base64.b64encode(p.logo).decode() if p.logo else "",
    }


def _customer(account: Account, p: AccountProfile) -> dict[str, Any]:
    return {
        "account_id": account.id,
        "name": account.company_name or account.name,
        "address": p.address,
        "tax_id": p.tax_id,
        "billing_type": account.billing_type,
    }


def _money(x: Decimal) -> str:
    return str(x)


def _taxes_json(taxed: Taxed, inclusive: bool) -> dict[str, Any]:
    return {
        "inclusive": inclusive,
        "lines": [
            {
                "name": t.name,
                "rate": _money(t.rate),
                "base": _money(t.base),
                "amount": _money(t.amount),
            }
            for t in taxed.taxes
        ],
    }


def _snapshot(
    session: Session,
    account: Account,
    issuer: Account,
    start: datetime,
    end: datetime,
) -> tuple[dict[str, Any], invoice_lines.Statement, Taxed, AccountProfile]:
    p = profile_of(session, account.id)
    st = invoice_lines.statement(session, account.id, start, end)
    taxed = apply_taxes(st.charged, taxes_of(session, account.id), inclusive=p.tax_inclusive)
    calls: list[dict[str, Any]] = []
    if p.cdr_detail:
        for c in invoice_lines.call_details(session, account.id, start, end):
            if len(calls) >= MAX_DETAIL_CALLS:
                break
            calls.append(
                {
                    "start": c.start.isoformat(),
                    "number": c.number,
                    "destination": c.destination,
                    "seconds": c.seconds,
                    "amount": _money(c.amount),
                }
            )
    snap = {
        "issuer": _brand(session, issuer),
        "customer": _customer(account, p),
        "charges": [
            {
                "kind": c.kind,
                "description": c.description,
                "calls": c.calls,
                "seconds": c.seconds,
                "amount": _money(c.amount),
            }
            for c in st.charges
        ],
        "movements": [
            {
                "at": m.at.isoformat(),
                "kind": m.kind,
                "reference": m.reference,
                "amount": _money(m.amount),
            }
            for m in st.movements
        ],
        "taxes": _taxes_json(taxed, p.tax_inclusive),
        "calls": calls,
    }
    return snap, st, taxed, p


def issue(
    session: Session, account: Account, start: datetime, end: datetime, now: datetime
) -> Invoice:
    """The invoice of `account` for [start, end): the one already issued, or a new one.
    The caller commits."""
    if account.parent_id is None:
        raise InvalidInput("account_id: the operator is not invoiced")
    # Serialise issuing per account (SQLite's BEGIN IMMEDIATE already does).
    session.execute(select(Account.id).where(Account.id == account.id).with_for_update())
    key = f"{start.isoformat()}/{end.isoformat()}"
    existing = session.scalars(
        select(Invoice).where(Invoice.account_id == account.id, Invoice.period_key == key)
    ).first()
    if existing is not None:
        return existing
    overlap = session.execute(
        select(func.count()).where(
            Invoice.account_id == account.id,
            Invoice.kind == "invoice",
            Invoice.period_start < end,
            Invoice.period_end > start,
        )
    ).scalar_one()
    if overlap:
        raise InvalidInput("period_start: overlaps a period already invoiced for this account")
    issuer = session.get(Account, account.parent_id)
    assert issuer is not None
    snap, st, taxed, p = _snapshot(session, account, issuer, start, end)
    number = next_number(session, issuer.id, now.year, _number_format(session))
    title = "Statement" if account.billing_type == "prepaid" else "Invoice"
    snap.update(number=number, title=title, currency=account.currency)
    invoice = Invoice(
        kind="invoice",
        issuer_id=issuer.id,
        account_id=account.id,
        number=number,
        title=title,
        period_key=key,
        period_start=start,
        period_end=end,
        issued_at=now,
        due_at=now + timedelta(days=p.payment_days),
        currency=account.currency,
        net=taxed.net,
        tax=taxed.tax,
        total=taxed.total,
        opening_balance=st.opening,
        closing_balance=st.closing,
        snapshot=json.dumps(snap),
    )
    session.add(invoice)
    if not p.tax_inclusive and taxed.tax:
        # Exclusive prices: the balance was charged the net; the tax is owed on issue.
        ledger.post(session, account.id, "tax", -taxed.tax, reference=f"taxes of invoice {number}")
    session.flush()
    if p.email:
        # Queued in this transaction: sent only if the invoice is issued.
        _queue_mail(session, invoice, snap, p.email)
    return invoice


def create_invoice(
    uow: UnitOfWork,
    caller: Caller,
    account_id: int,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> Invoice:
    """CreateInvoice: idempotent for a period (a second call returns the same invoice).
    Without a period: the last monthly period ended by now, on the billing day."""
    account = managed_account(uow.session, caller, account_id)
    if (start is None) != (end is None):
        raise InvalidInput("period_start: give both ends of the period, or neither")
    if start is None or end is None:
        start, end = last_period(profile_of(uow.session, account.id).billing_day, now)
    _check_period(start, end, now)
    invoice = issue(uow.session, account, start, end, now)
    uow.commit()
    return invoice


def visible_invoice(session: Session, caller: Caller, invoice_id: int) -> Invoice:
    invoice = session.get(Invoice, invoice_id)
    if invoice is not None:
        account = session.get(Account, invoice.account_id)
        if account is not None and caller.owns(account):
            return invoice
    raise NotFound(f"invoice {invoice_id} not found")


def list_invoices(
    uow: UnitOfWork, caller: Caller, account_id: int | None, offset: int, limit: int
) -> tuple[list[Invoice], int]:
    """Invoices and credit notes of an account (your own by default), newest first."""
    account = visible_account(uow.session, caller, account_id)
    where = [Invoice.account_id == account.id]
    return newest_first(uow.session, Invoice, Invoice.id, where, offset, limit)


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
    number = next_number(session, original.issuer_id, now.year, _number_format(session))
    issuer = session.get(Account, original.issuer_id)
    assert issuer is not None
    note_snap = {
        "number": number,
        "title": "Credit note",
        "currency": original.currency,
        "issuer": _brand(session, issuer),
        "customer": snap["customer"],
        "credits": original.number,
        "reason": reason.strip(),
        "charges": [
            {
                "kind": "credit",
                "description": f"Credit on invoice {original.number}: {reason.strip()}",
                "calls": 0,
                "seconds": 0,
                "amount": _money(taxed.net + (taxed.tax if snap["taxes"]["inclusive"] else 0)),
            }
        ],
        "movements": [],
        "taxes": _taxes_json(taxed, snap["taxes"]["inclusive"]),
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


def set_taxes(
    uow: UnitOfWork,
    caller: Caller,
    account_id: int,
    taxes: list[Tax],
    inclusive: bool,
    tax_id: str | None,
) -> tuple[tuple[Tax, ...], AccountProfile]:
    """Replace the taxes of an account below you (applied in the order given)."""
    account = managed_account(uow.session, caller, account_id)
    if len(taxes) > 5:
        raise InvalidInput("taxes: at most 5")
    for i, t in enumerate(taxes):
        if not t.name.strip() or len(t.name) > 64:
            raise InvalidInput(f"taxes[{i}].name: 1 to 64 characters")
        if not Decimal(0) <= t.rate < 1:
            raise InvalidInput(f"taxes[{i}].rate: from 0 to below 1 (0.21 is 21 %)")
    if tax_id is not None and len(tax_id.strip()) > 64:
        raise InvalidInput("tax_id: up to 64 characters")
    session = uow.session
    for old in session.scalars(select(AccountTax).where(AccountTax.account_id == account.id)):
        session.delete(old)
    session.flush()
    for i, t in enumerate(taxes):
        session.add(
            AccountTax(
                account_id=account.id,
                position=i,
                name=t.name.strip(),
                rate=t.rate,
                compound=t.compound,
            )
        )
    p = profile_of(session, account.id)
    p.tax_inclusive = inclusive
    if tax_id is not None:
        p.tax_id = tax_id.strip()
    uow.commit()
    return taxes_of(session, account.id), p


def run_issue_invoices(
    session_factory: sessionmaker[Session], now: datetime, settings: Settings
) -> str:
    """The periodic job: every account below the operator gets the invoice of its last
    ended monthly period, once (a rerun finds them issued). One transaction per
    account, so one failure does not hold back the others."""
    with session_factory() as s:
        ids = list(
            s.scalars(
                select(Account.id)
                .where(Account.parent_id.is_not(None), Account.status != "closed")
                .order_by(Account.id)
            )
        )
    issued = existing = failed = 0
    for account_id in ids:
        with UnitOfWork(session_factory) as uow:
            try:
                account = uow.session.get(Account, account_id)
                assert account is not None
                start, end = last_period(profile_of(uow.session, account_id).billing_day, now)
                if account.created_at >= end:
                    continue
                before = uow.session.execute(
                    select(func.count()).where(Invoice.account_id == account_id)
                ).scalar_one()
                issue(uow.session, account, start, end, now)
                uow.commit()
                after = uow.session.execute(
                    select(func.count()).where(Invoice.account_id == account_id)
                ).scalar_one()
                issued, existing = (
                    (issued + 1, existing) if after > before else (issued, existing + 1)
                )
            except Exception:
                logger.exception("invoice of account %s not issued", account_id)
                failed += 1
    return f"invoices: {issued} issued, {existing} already issued, {failed} failed"


def _render(inv: Invoice) -> bytes:
    """The PDF, drawn from the snapshot and the invoice's own columns only."""
    extra: dict[str, Any] = {
        "issued": f"{inv.issued_at:%Y-%m-%d}",
        "due": f"{inv.due_at:%Y-%m-%d}",
        "period": invoice_pdf.dates(inv.period_start, inv.period_end),
        "net": _money(inv.net),
        "tax": _money(inv.tax),
        "total": _money(inv.total),
    }
    if inv.kind == "invoice":
        charges = json.loads(inv.snapshot)["charges"]
        charged = sum((Decimal(c["amount"]) for c in charges), Decimal(0))
        extra.update(
            opening=_money(inv.opening_balance),
            closing=_money(inv.closing_balance),
            charged=_money(charged),
        )
    return invoice_pdf.render(inv.snapshot, extra)


def pdf_of(uow: UnitOfWork, caller: Caller, invoice_id: int) -> tuple[Invoice, bytes]:
    """GetInvoicePdf."""
    inv = visible_invoice(uow.session, caller, invoice_id)
    return inv, _render(inv)


def invoice_pdf_bytes(session: Session, invoice_id: int) -> tuple[str, bytes]:
    """The number and PDF of an invoice, for the mail that carries it."""
    inv = session.get(Invoice, invoice_id)
    if inv is None:
        raise NotFound(f"invoice {invoice_id} not found")
    return inv.number, _render(inv)


def _queue_mail(session: Session, invoice: Invoice, snap: dict[str, Any], email: str) -> None:
    brand = snap["issuer"]["company_name"]
    outbox.queue(
        session,
        f"invoice:{invoice.id}",
        email,
        f"{invoice.title} {invoice.number} from {brand}",
        f"Dear {snap['customer']['name']},\n\nattached is your {invoice.title.lower()} "
        f"{invoice.number} for {invoice_pdf.dates(invoice.period_start, invoice.period_end)}: "
        f"{invoice.total} {invoice.currency}, due {invoice.due_at:%Y-%m-%d}.\n\n{brand}\n",
        from_name=brand,
        invoice_id=invoice.id,
    )


def set_billing_profile(
    uow: UnitOfWork,
    caller: Caller,
    account_id: int,
    address: str | None,
    email: str | None,
    billing_day: int | None,
    payment_days: int | None,
    cdr_detail: bool | None,
) -> AccountProfile:
    """How an account below you is invoiced; every field left out is kept."""
    account = managed_account(uow.session, caller, account_id)
    p = profile_of(uow.session, account.id)
    if billing_day is not None and not 1 <= billing_day <= 28:
        raise InvalidInput("billing_day: 1 to 28 (every month has it)")
    if payment_days is not None and not 0 <= payment_days <= 365:
        raise InvalidInput("payment_days: 0 to 365")
    if email is not None and email.strip() and "@" not in email:
        raise InvalidInput("email: an e-mail address")
    for name, value in (("address", address), ("email", email)):
        if value is not None and len(value) > (255 if name == "email" else 1000):
            raise InvalidInput(f"{name}: too long")
    if address is not None:
        p.address = address.strip()
    if email is not None:
        p.email = email.strip()
    if billing_day is not None:
        p.billing_day = billing_day
    if payment_days is not None:
        p.payment_days = payment_days
    if cdr_detail is not None:
        p.cdr_detail = cdr_detail
    uow.commit()
    return p
