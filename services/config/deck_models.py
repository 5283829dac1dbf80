"""Wire types of rate-deck export and .xlsx import (urn:siptar:config)."""

from __future__ import annotations

from spyne import ComplexModel, Integer, Unicode

from services.config.models import TNS

DeckFormat = Unicode(values=["csv", "xlsx"], type_name="DeckFormat", __namespace__=TNS)


class RateDeck(ComplexModel):
    """A sheet's rates as a deck: CSV text, or the base64 of an .xlsx workbook."""

    __namespace__ = TNS
    sheet_id = Integer
    format = DeckFormat
    content = Unicode
    rate_count = Integer
    version = Integer
