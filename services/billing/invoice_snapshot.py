"""What an invoice prints, frozen at issue: the issuer's brand, the customer, the charges,
movements, taxes and (if asked) the calls, as the JSON snapshot the PDF is drawn from.
A later change of branding, profile or taxes never changes a document already issued."""

from __future__ import annotations

import base64
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from db.invoice_schema import AccountProfile
from db.schema import Account
from rating.taxes import Taxed, apply_taxes
from services.billing import invoice_lines
from services.billing.invoice_profiles import profile_of, taxes_of
from services.common import runtime_settings

# Calls printed one per line in the PDF when the account asks for the detail; more
# than this are summarised (the per-destination lines still carry every call).
MAX_DETAIL_CALLS = 100_000


def number_format(session: Session) -> str:
    return runtime_settings.text(session, "invoice.number_format")


def brand(session: Session, issuer: Account) -> dict[str, Any]:
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


def customer(account: Account, p: AccountProfile) -> dict[str, Any]:
    return {
        "account_id": account.id,
        "name": account.company_name or account.name,
        "address": p.address,
        "tax_id": p.tax_id,
        "billing_type": account.billing_type,
    }


def money_text(x: Decimal) -> str:
    return str(x)


def taxes_json(taxed: Taxed, inclusive: bool) -> dict[str, Any]:
    return {
        "inclusive": inclusive,
        "lines": [
            {
                "name": t.name,
                "rate": money_text(t.rate),
                "base": money_text(t.base),
                "amount": money_text(t.amount),
            }
            for t in taxed.taxes
        ],
    }


def snapshot(
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
                    "amount": money_text(c.amount),
                }
            )
    snap = {
        "issuer": brand(session, issuer),
        "customer": customer(account, p),
        "charges": [
            {
                "kind": c.kind,
                "description": c.description,
                "calls": c.calls,
                "seconds": c.seconds,
                "amount": money_text(c.amount),
            }
            for c in st.charges
        ],
        "movements": [
            {
                "at": m.at.isoformat(),
                "kind": m.kind,
                "reference": m.reference,
                "amount": money_text(m.amount),
            }
            for m in st.movements
        ],
        "taxes": taxes_json(taxed, p.tax_inclusive),
        "calls": calls,
    }
    return snap, st, taxed, p
