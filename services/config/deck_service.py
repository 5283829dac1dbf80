"""Rate decks in and out of the Configuration Manager (admin logins only): ExportRates
(CSV or .xlsx) and ImportRatesXlsx.

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.NotFound,
Client.InvalidInput (a bad rate row names its line and column),
Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from typing import Any

from spyne import Boolean, Integer, ServiceBase, Unicode, rpc

from services.common.app import request
from services.common.wire import Auth
from services.config import deck_usecases, models
from services.config.deck_models import DeckFormat, RateDeck

SheetId = Integer(min_occurs=1, nillable=False)
Base64Text = Unicode(min_occurs=1, nillable=False)


class RateDeckService(ServiceBase):
    __in_header__ = Auth

    @rpc(SheetId, DeckFormat, _returns=RateDeck)
    def ExportRates(ctx: Any, sheet_id: int, format: str | None) -> RateDeck:
        """The sheet's rates as a deck with every column, by prefix: `format` csv (the
        default) or xlsx (every cell a text cell); `data` is the file's bytes in both
        cases (UTF-8 for CSV). Cells a spreadsheet would run as a formula start with
        `'`. Importing it with `replace` gives back the identical sheet."""
        req = request(ctx)
        deck = deck_usecases.export_rates(req.uow, req.caller, sheet_id, format or "csv")
        return RateDeck(
            sheet_id=deck.sheet_id,
            format=deck.format,
            filename=deck.file.filename,
            content_type=deck.file.content_type,
            data=deck.file.data,
            rate_count=deck.rate_count,
            version=deck.version,
        )

    @rpc(SheetId, Base64Text, Boolean, _returns=models.ImportResult)
    def ImportRatesXlsx(ctx: Any, sheet_id: int, xlsx: str, replace: bool | None) -> Any:
        """Load an .xlsx rate deck given as base64: the first worksheet, row 1 naming the
        columns as ImportRates does. Number cells are read exactly (docs/rates.md): a
        price is never rounded. All or nothing: a bad row answers Client.InvalidInput
        naming its row number and column. `replace` as in ImportRates."""
        req = request(ctx)
        r = deck_usecases.import_rates_xlsx(req.uow, req.caller, sheet_id, xlsx, bool(replace))
        return models.ImportResult(
            sheet_id=r.sheet_id, imported=r.imported, removed=r.removed, version=r.version
        )
