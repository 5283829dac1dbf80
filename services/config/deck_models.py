"""Wire types of rate-deck export and .xlsx import (urn:siptar:config)."""

from __future__ import annotations

from spyne import ByteArray, ComplexModel, Integer, Unicode

from services.config.models import TNS

DeckFormat = Unicode(values=["csv", "xlsx"], type_name="DeckFormat", __namespace__=TNS)


class RateDeck(ComplexModel):
    """A sheet's rates as a deck: `data` holds the file's bytes, CSV (UTF-8) or .xlsx,
    as every export does (docs/security.md, "Exports")."""

    __namespace__ = TNS
    sheet_id = Integer
    format = DeckFormat
    filename = Unicode
    content_type = Unicode
    data = ByteArray
    rate_count = Integer
    version = Integer
