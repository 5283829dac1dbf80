"""The invoice part of a brand (SetBranding): address, tax id, footer and logo of the
account that issues invoices. Stored in the account's profile (db/invoice_schema);
an issued invoice keeps a copy in its snapshot. No spyne here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from rating.errors import InvalidInput
from services.billing.invoice_profiles import profile_of

MAX_LOGO = 256 * 1024
# The formats ReportLab draws without any extra library, known by their first bytes.
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


@dataclass(frozen=True)
class InvoiceBrand:
    """What SetBranding may also set for the invoices an account issues (None: keep)."""

    address: str | None = None
    tax_id: str | None = None
    footer: str | None = None
    logo: bytes | None = None  # PNG or JPEG; b"" removes it


def logo_type(data: bytes) -> str:
    if len(data) > MAX_LOGO:
        raise InvalidInput("logo: at most 256 KB")
    for magic, kind in LOGO_TYPES.items():
        if data.startswith(magic):
            return kind
    raise InvalidInput("logo: a PNG or JPEG image")


def apply(session: Session, account_id: int, brand: InvoiceBrand) -> None:
    for name, value, most in (
        ("address", brand.address, 1000),
        ("tax_id", brand.tax_id, 64),
        ("invoice_footer", brand.footer, 500),
    ):
        if value is not None and len(value.strip()) > most:
            raise InvalidInput(f"{name}: up to {most} characters")
    p = profile_of(session, account_id)
    if brand.address is not None:
        p.address = brand.address.strip()
    if brand.tax_id is not None:
        p.tax_id = brand.tax_id.strip()
    if brand.footer is not None:
        p.invoice_footer = brand.footer.strip()
    if brand.logo is not None:
        p.logo_type = logo_type(brand.logo) if brand.logo else ""
        p.logo = brand.logo or None
