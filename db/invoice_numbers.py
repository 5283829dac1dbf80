"""Gapless invoice numbers per issuer and year (`2026-000123`, or the format set as
`invoice.number_format`: docs/settings.md).

The counter row is created if missing (an insert that ignores a conflict) and then
incremented by one UPDATE ... RETURNING, which holds the row's lock until the issuing
transaction ends: concurrent issuers queue on it, and a transaction that rolls back
gives its number back with it. So numbers are increasing and without gaps, as long as
the caller issues in the same transaction (it does: services/billing/invoice_usecases).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from db.invoice_schema import InvoiceCounter
from db.upsert import insert_if_missing

# The operator may set another (services/common/text_settings.number_format checks it).
DEFAULT_FORMAT = "{year}-{number:06d}"


def next_number(session: Session, issuer_id: int, year: int, fmt: str = DEFAULT_FORMAT) -> str:
    insert_if_missing(
        session, InvoiceCounter, {"issuer_id": issuer_id, "year": year, "last_number": 0}
    )
    number = session.execute(
        update(InvoiceCounter)
        .where(InvoiceCounter.issuer_id == issuer_id, InvoiceCounter.year == year)
        .values(last_number=InvoiceCounter.last_number + 1)
        .returning(InvoiceCounter.last_number)
    ).scalar_one()
    return fmt.format(year=year, number=number)
