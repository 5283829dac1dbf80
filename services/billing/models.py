"""Wire types of the Billing Engine (the WSDL contract, urn:siptar:billing)."""

from __future__ import annotations

from spyne import ComplexModel, Integer, Unicode

from services.common.wire import Money, UtcDateTime

TNS = "urn:siptar:billing"


class Balance(ComplexModel):
    __namespace__ = TNS
    account_id = Integer
    name = Unicode
    currency = Unicode
    billing_type = Unicode
    balance = Money
    credit_limit = Money
    reserved = Money
    available = Money


class LedgerEntry(ComplexModel):
    __namespace__ = TNS
    id = Integer
    account_id = Integer
    kind = Unicode
    amount = Money
    balance_after = Money
    reference = Unicode
    created_at = UtcDateTime


class QuotePart(ComplexModel):
    __namespace__ = TNS
    start_second = Integer
    seconds = Integer
    billed_seconds = Integer
    price = Money
    exact_cost = Money
    band = Unicode


class CallQuote(ComplexModel):
    __namespace__ = TNS
    sheet_id = Integer
    currency = Unicode
    prefix = Unicode
    destination = Unicode
    billed_seconds = Integer
    cost = Money
    exact_cost = Money
    parts = QuotePart.customize(max_occurs="unbounded")
    # Quoted by account: its currency and what it would pay in it (docs/currencies.md).
    account_currency = Unicode
    account_cost = Money
    # Quoted by account: the seconds its bundles would cover; `cost` is the paid rest.
    bundle_seconds = Integer


class PasswordChanged(ComplexModel):
    __namespace__ = TNS
    login_id = Integer
    username = Unicode
    account_id = Integer
