"""Wire types of the Reseller Manager (urn:siptar:reseller)."""

from __future__ import annotations

from spyne import ComplexModel, Integer, Unicode

from services.common.wire import Money, UtcDateTime

TNS = "urn:siptar:reseller"


class AccountInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    parent_id = Integer
    role = Unicode
    name = Unicode
    username = Unicode
    billing_type = Unicode
    balance = Money
    credit_limit = Money
    currency = Unicode
    rate_sheet_id = Integer
    status = Unicode
    accountcode = Unicode
    kind = Unicode
    company_name = Unicode
    created_at = UtcDateTime


class NewAccount(ComplexModel):
    __namespace__ = TNS
    parent_id = Integer
    role = Unicode(values=["customer", "reseller"])
    name = Unicode(min_occurs=1, nillable=False, min_len=1, max_len=128)
    username = Unicode(min_occurs=1, nillable=False, min_len=1, max_len=80)
    password = Unicode(min_occurs=1, nillable=False, min_len=1, max_len=256)
    billing_type = Unicode(values=["prepaid", "postpaid"])
    credit_limit = Money
    initial_credit = Money
    rate_sheet_id = Integer
    accountcode = Unicode(max_len=80)
    kind = Unicode(values=["sip", "callshop", "card", "wholesale"])
    company_name = Unicode(max_len=128)
    # The balance's currency (ISO 4217, in ListCurrencies); default the sheet's, else
    # the parent's. Another than the sheet's: each call is converted (docs/currencies.md).
    currency = Unicode(min_len=3, max_len=3, pattern="[A-Za-z]{3}")


class AccountPage(ComplexModel):
    __namespace__ = TNS
    items = AccountInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class PasswordSet(ComplexModel):
    __namespace__ = TNS
    login_id = Integer
    username = Unicode
    account_id = Integer
