"""Configuration Manager: changing a rate sheet (admin logins only). See docs/rates.md,
"Rule versions".

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.NotFound,
Client.AlreadyExists (the name), Client.InvalidInput (a bad value, an effective moment
in the past or not after the latest version), Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from spyne import Integer, ServiceBase, rpc

from services.common.app import request
from services.common.wire import Auth, as_utc, utc
from services.config import models
from services.config import sheet_rules as uc
from services.config.service import sheet_info

SheetId = Integer(min_occurs=1, nillable=False)


def _rules_info(found: uc.SheetRules) -> models.SheetRules:
    return models.SheetRules(
        sheet=sheet_info(found.sheet, found.rate_count),
        rules=[
            models.SheetRuleInfo(
                effective_from=utc(r.effective_from),
                decimals=r.decimals,
                rounding=r.rounding,
                block_mode=r.block_mode,
                timezone=r.timezone,
            )
            for r in found.rules
        ],
    )


class SheetRulesService(ServiceBase):
    __in_header__ = Auth

    @rpc(
        SheetId,
        models.SheetChanges.customize(min_occurs=1, nillable=False),
        _returns=models.SheetRules,
    )
    def UpdateRateSheet(ctx: Any, sheet_id: int, changes: models.SheetChanges) -> Any:
        """Change a rate sheet. A new name applies at once. A change of decimals,
        rounding, block_mode or timezone is a new rule version from `effective_from`
        (default now; never in the past, and after the latest version): calls that start
        before it keep the rule they had (RerateCdrs gives them the same price), calls
        that start at or after it are rated by the new one, in every worker. Answers the
        sheet with all its rules, oldest first (the first has no effective_from); send
        no change to read them."""
        req = request(ctx)
        cmd = uc.SheetChanges(
            name=changes.name,
            decimals=changes.decimals,
            rounding=changes.rounding,
            block_mode=changes.block_mode,
            timezone=changes.timezone,
            effective_from=as_utc(changes.effective_from),
        )
        found = uc.update_rate_sheet(req.uow, req.caller, sheet_id, cmd, datetime.now(UTC))
        return _rules_info(found)
