"""Invoices and statements: issued by an account's parent. No spyne here.

docs/invoices.md is the reference. In short: an invoice is built from the account's
ledger for a period (services/billing/invoice_lines), taxed once per invoice
(rating/taxes), numbered gapless per issuer (db/invoice_numbers) and written with a
JSON snapshot of everything it prints, all in one transaction. It never changes
afterwards; a correction is a credit note.

Around it: the billing profile and taxes (services/billing/invoice_profiles.py), what a
document prints (services/billing/invoice_snapshot.py), credit notes
(services/billing/credit_notes.py).
"""

from __future__ import annotations

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
from db.invoice_schema import Invoice
from db.schema import Account
from db.session import UnitOfWork
from rating.errors import InvalidInput, NotFound
from services.billing import invoice_pdf
from services.billing.invoice_profiles import profile_of
from services.billing.invoice_snapshot import money_text, number_format, snapshot
from services.common.caller import Caller, managed_account, visible_account
from services.common.paging import newest_first
from services.common.periods import check_period
from settings import Settings

logger = logging.getLogger(__name__)


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
    snap, st, taxed, p = snapshot(session, account, issuer, start, end)
    number = next_number(session, issuer.id, now.year, number_format(session))
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
        "net": money_text(inv.net),
        "tax": money_text(inv.tax),
        "total": money_text(inv.total),
    }
    if inv.kind == "invoice":
        charges = json.loads(inv.snapshot)["charges"]
        charged = sum((Decimal(c["amount"]) for c in charges), Decimal(0))
        extra.update(
            opening=money_text(inv.opening_balance),
            closing=money_text(inv.closing_balance),
            charged=money_text(charged),
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
