"""Reseller Manager: accounts import and export as CSV or XLSX.

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.NotFound,
Client.AlreadyExists (a username, accountcode or SIP name taken, with its line),
Client.InvalidInput (a bad row names its line and column), Client.SchemaValidationError,
Server.
"""

from __future__ import annotations

from typing import Any

from spyne import ByteArray, Integer, ServiceBase, rpc

from services.common.app import request
from services.common.wire import Auth
from services.reseller import manager_models as m
from services.reseller import transfer_usecases as uc
from services.reseller.manager_models import file_data


def _bytes(data: Any) -> bytes:
    # spyne hands a ByteArray over as a sequence of chunks.
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    return b"".join(data or [])


class TransferService(ServiceBase):
    __in_header__ = Auth

    @rpc(
        Integer,
        m.FileFormat(min_occurs=1, nillable=False),
        ByteArray(min_occurs=1, nillable=False),
        _returns=m.ImportSummary,
    )
    def ImportAccounts(ctx: Any, parent_id: int | None, format: str, data: Any) -> m.ImportSummary:
        """Create accounts below you (or `parent_id`) from a CSV or XLSX file whose
        header names the columns: name (required), role, billing_type, credit_limit,
        initial_credit, rate_sheet_id, accountcode, kind, company_name,
        max_concurrent_calls, max_call_seconds, sip_username, username, password.
        All or nothing: a bad row answers a fault naming its line. Rows with username
        and password get a login (see docs/accounts.md on its hash)."""
        req = request(ctx)
        created = uc.import_accounts(req.uow, req.caller, parent_id, format, _bytes(data))
        return m.ImportSummary(parent_id=parent_id or req.caller.account_id, created=created)

    @rpc(Integer, m.FileFormat(min_occurs=1, nillable=False), _returns=m.FileData)
    def ExportAccounts(ctx: Any, parent_id: int | None, format: str) -> m.FileData:
        """Your subtree (or `parent_id`'s) as CSV or XLSX, by id, without passwords."""
        req = request(ctx)
        return file_data(uc.export_accounts(req.uow, req.caller, parent_id, format))
