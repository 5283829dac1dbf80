"""Billing Engine: invoices, statements (prepaid accounts), credit notes and taxes.

An invoice is issued by the account's parent, in the parent's own name, from the
account's ledger for a period; docs/invoices.md has the rules (numbering, taxes and
their rounding, what never changes).

Faults: Client.AuthenticationFailed, Client.AccessDenied (invoicing yourself),
Client.NotFound (also outside your subtree), Client.InvalidInput,
Client.SchemaValidationError, Server.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from spyne import Boolean, Integer, ServiceBase, Unicode, rpc

from db.invoice_schema import Invoice
from rating.taxes import Tax
from services.billing import alert_usecases, credit_notes, invoice_profiles
from services.billing import invoice_models as m
from services.billing import invoice_usecases as uc
from services.common.app import request
from services.common.wire import (
    Auth,
    Limit,
    Money,
    Offset,
    UtcDateTime,
    answer_page,
    as_utc,
    money,
    utc,
)

AccountId = Integer(min_occurs=1, nillable=False)
InvoiceId = Integer(min_occurs=1, nillable=False)


def invoice_info(i: Invoice) -> m.InvoiceInfo:
    return m.InvoiceInfo(
        id=i.id,
        kind=i.kind,
        number=i.number,
        title=i.title,
        issuer_id=i.issuer_id,
        account_id=i.account_id,
        period_start=utc(i.period_start),
        period_end=utc(i.period_end),
        issued_at=utc(i.issued_at),
        due_at=utc(i.due_at),
        currency=i.currency,
        net=money(i.net),
        tax=money(i.tax),
        total=money(i.total),
        credits_invoice_id=i.credits_invoice_id,
    )


def _dec(text: str) -> Decimal | None:
    return money(Decimal(text))


def invoice_details(i: Invoice) -> m.InvoiceDetails:
    s = json.loads(i.snapshot)
    return m.InvoiceDetails(
        invoice=invoice_info(i),
        issuer_name=s["issuer"]["company_name"],
        tax_inclusive=s["taxes"]["inclusive"],
        opening_balance=money(i.opening_balance),
        closing_balance=money(i.closing_balance),
        lines=[
            m.InvoiceLine(
                kind=c["kind"],
                description=c["description"],
                calls=c["calls"],
                seconds=c["seconds"],
                amount=_dec(c["amount"]),
            )
            for c in s["charges"]
        ],
        movements=[
            m.InvoiceMovement(
                at=datetime.fromisoformat(x["at"]).astimezone(UTC),
                kind=x["kind"],
                reference=x["reference"],
                amount=_dec(x["amount"]),
            )
            for x in s["movements"]
        ],
        taxes=[
            m.InvoiceTax(
                name=t["name"], rate=_dec(t["rate"]), base=_dec(t["base"]), amount=_dec(t["amount"])
            )
            for t in s["taxes"]["lines"]
        ],
        calls=len(s["calls"]),
    )


def _now() -> datetime:
    return datetime.now(UTC)


class InvoiceService(ServiceBase):
    __in_header__ = Auth

    @rpc(AccountId, UtcDateTime, UtcDateTime, _returns=m.InvoiceDetails)
    def CreateInvoice(
        ctx: Any, account_id: int, period_start: Any, period_end: Any
    ) -> m.InvoiceDetails:
        """Issue the invoice (postpaid) or statement (prepaid) of an account below you
        for [period_start, period_end), in the name of the account's parent. Without a
        period: the last monthly period ended, from the account's billing day. The
        period must have ended. Idempotent: a second call for the same period returns
        the same invoice; a period overlapping an invoiced one is refused."""
        req = request(ctx)
        invoice = uc.create_invoice(
            req.uow, req.caller, account_id, as_utc(period_start), as_utc(period_end), _now()
        )
        return invoice_details(invoice)

    @rpc(Integer, Offset, Limit, _returns=m.InvoicePage)
    def ListInvoices(ctx: Any, account_id: int | None, offset: Any, limit: Any) -> m.InvoicePage:
        """Invoices and credit notes of an account (your own when empty), newest
        first, a page at a time."""
        req = request(ctx)

        def fetch(first: int, count: int) -> tuple[list[Invoice], int]:
            return uc.list_invoices(req.uow, req.caller, account_id, first, count)

        return answer_page(m.InvoicePage, invoice_info, fetch, offset, limit)

    @rpc(InvoiceId, _returns=m.InvoiceDetails)
    def GetInvoice(ctx: Any, invoice_id: int) -> m.InvoiceDetails:
        """An invoice or credit note with its lines, movements and taxes, exactly as
        issued."""
        req = request(ctx)
        return invoice_details(uc.visible_invoice(req.uow.session, req.caller, invoice_id))

    @rpc(InvoiceId, _returns=m.InvoicePdf)
    def GetInvoicePdf(ctx: Any, invoice_id: int) -> m.InvoicePdf:
        """The PDF of an invoice or credit note (base64 in the SOAP body)."""
        req = request(ctx)
        invoice, pdf = uc.pdf_of(req.uow, req.caller, invoice_id)
        return m.InvoicePdf(
            invoice_id=invoice.id,
            number=invoice.number,
            filename=f"{invoice.number}.pdf",
            content_type="application/pdf",
            data=pdf,
        )

    @rpc(
        InvoiceId,
        Money(min_occurs=1, nillable=False),
        Unicode(min_occurs=1, nillable=False, min_len=1, max_len=200),
        _returns=m.InvoiceDetails,
    )
    def CreateCreditNote(ctx: Any, invoice_id: int, amount: Any, reason: str) -> m.InvoiceDetails:
        """Correct an issued invoice of an account below you: a credit note of
        `amount` (taxes included), numbered in the issuer's series and credited to the
        account's balance. The credit notes of an invoice add up to its total at most."""
        req = request(ctx)
        note = credit_notes.create_credit_note(
            req.uow, req.caller, invoice_id, amount, reason, _now()
        )
        return invoice_details(note)

    @rpc(
        AccountId,
        m.TaxRate.customize(max_occurs=5),
        Boolean,
        Unicode(max_len=64),
        _returns=m.TaxSetup,
    )
    def SetTaxes(
        ctx: Any, account_id: int, taxes: Any, tax_inclusive: bool | None, tax_id: str | None
    ) -> m.TaxSetup:
        """Replace the taxes of an account below you, applied in the order given (a
        compound tax on the net plus the taxes before it). `tax_inclusive`: its prices
        include the taxes (the invoice takes them out) or not (the invoice adds them,
        and they are charged to the balance when the invoice is issued)."""
        req = request(ctx)
        given = [Tax(t.name, t.rate, bool(t.compound)) for t in taxes or []]
        saved, profile = invoice_profiles.set_taxes(
            req.uow, req.caller, account_id, given, bool(tax_inclusive), tax_id
        )
        return m.TaxSetup(
            account_id=account_id,
            tax_inclusive=profile.tax_inclusive,
            tax_id=profile.tax_id,
            taxes=[m.TaxRate(name=t.name, rate=money(t.rate), compound=t.compound) for t in saved],
        )

    @rpc(
        AccountId,
        Unicode(max_len=1000),
        Unicode(max_len=255),
        Integer(ge=1, le=28),
        Integer(ge=0, le=365),
        Boolean,
        _returns=m.BillingProfile,
    )
    def SetBillingProfile(
        ctx: Any,
        account_id: int,
        address: str | None,
        email: str | None,
        billing_day: int | None,
        payment_days: int | None,
        cdr_detail: bool | None,
    ) -> m.BillingProfile:
        """How an account below you is invoiced: its postal address and e-mail, the
        day of the month its periods start (1-28), the days to pay, and whether the
        PDF lists every call. Fields left out are kept."""
        req = request(ctx)
        p = invoice_profiles.set_billing_profile(
            req.uow, req.caller, account_id, address, email, billing_day, payment_days, cdr_detail
        )
        return m.BillingProfile(
            account_id=p.account_id,
            address=p.address,
            email=p.email,
            billing_day=p.billing_day,
            payment_days=p.payment_days,
            cdr_detail=p.cdr_detail,
        )

    @rpc(Integer, Money.customize(max_occurs=5), _returns=m.BalanceAlerts)
    def SetBalanceAlerts(ctx: Any, account_id: int | None, thresholds: Any) -> m.BalanceAlerts:
        """Low-balance alerts of your account (empty account_id) or of one below you:
        up to five thresholds, replacing the old ones. One e-mail (to the address of
        SetBillingProfile, under the parent's brand) each time the balance goes below
        one; none while it stays below; a balance back at or above it re-arms it."""
        req = request(ctx)
        alerts = alert_usecases.set_alerts(req.uow, req.caller, account_id, list(thresholds or []))
        return m.BalanceAlerts(
            account_id=account_id or req.caller.account_id,
            alerts=[
                m.BalanceAlertInfo(
                    threshold=money(a.threshold), armed=a.armed, crossings=a.crossings
                )
                for a in alerts
            ],
        )
