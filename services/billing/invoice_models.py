"""Wire types of invoices, statements, credit notes and taxes (urn:siptar:billing)."""

from __future__ import annotations

from spyne import Boolean, ByteArray, ComplexModel, Integer, Unicode

from services.billing.models import TNS
from services.common.wire import Money, UtcDateTime


class InvoiceLine(ComplexModel):
    __namespace__ = TNS
    kind = Unicode
    description = Unicode
    calls = Integer
    seconds = Integer
    amount = Money


class InvoiceMovement(ComplexModel):
    __namespace__ = TNS
    at = UtcDateTime
    kind = Unicode
    reference = Unicode
    amount = Money


class InvoiceTax(ComplexModel):
    __namespace__ = TNS
    name = Unicode
    rate = Money
    base = Money
    amount = Money


class InvoiceInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    kind = Unicode
    number = Unicode
    title = Unicode
    issuer_id = Integer
    account_id = Integer
    period_start = UtcDateTime
    period_end = UtcDateTime
    issued_at = UtcDateTime
    due_at = UtcDateTime
    currency = Unicode
    net = Money
    tax = Money
    total = Money
    credits_invoice_id = Integer


class InvoiceDetails(ComplexModel):
    __namespace__ = TNS
    invoice = InvoiceInfo
    issuer_name = Unicode
    tax_inclusive = Boolean
    opening_balance = Money
    closing_balance = Money
    lines = InvoiceLine.customize(max_occurs="unbounded")
    movements = InvoiceMovement.customize(max_occurs="unbounded")
    taxes = InvoiceTax.customize(max_occurs="unbounded")
    calls = Integer


class InvoicePage(ComplexModel):
    __namespace__ = TNS
    items = InvoiceInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class InvoicePdf(ComplexModel):
    __namespace__ = TNS
    invoice_id = Integer
    number = Unicode
    filename = Unicode
    content_type = Unicode
    data = ByteArray


class TaxRate(ComplexModel):
    """One tax; `rate` 0.21 is 21 %. A compound tax is charged on the net plus the
    taxes before it in the list."""

    __namespace__ = TNS
    name = Unicode(min_occurs=1, nillable=False, min_len=1, max_len=64)
    rate = Money(min_occurs=1, nillable=False, ge=0, lt=1)
    compound = Boolean


class TaxSetup(ComplexModel):
    __namespace__ = TNS
    account_id = Integer
    tax_inclusive = Boolean
    tax_id = Unicode
    taxes = TaxRate.customize(max_occurs="unbounded")


class BillingProfile(ComplexModel):
    __namespace__ = TNS
    account_id = Integer
    address = Unicode
    email = Unicode
    billing_day = Integer
    payment_days = Integer
    cdr_detail = Boolean


class BalanceAlertInfo(ComplexModel):
    __namespace__ = TNS
    threshold = Money
    armed = Boolean
    crossings = Integer


class BalanceAlerts(ComplexModel):
    __namespace__ = TNS
    account_id = Integer
    alerts = BalanceAlertInfo.customize(max_occurs="unbounded")
