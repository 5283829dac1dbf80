"""Reseller Manager: the audit log (admin and reseller logins).

Every change made through the services is recorded by a hook (services/common/audit.py):
who, when, which operation, which object, the changed fields before and after (secrets
as "***"). The admin reads every event; a reseller the events of its subtree.

Faults: Client.AuthenticationFailed, Client.AccessDenied (customer logins),
Client.InvalidInput, Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from typing import Any

from spyne import ServiceBase, Unicode, rpc

from services.common.app import request
from services.common.wire import Auth, Limit, Offset, UtcDateTime, as_utc, page_bounds, utc
from services.reseller import audit_usecases as uc
from services.reseller import manager_models as m


class AuditService(ServiceBase):
    __in_header__ = Auth

    @rpc(
        Unicode(max_len=80),
        Unicode(max_len=40),
        Unicode(max_len=40),
        UtcDateTime,
        UtcDateTime,
        Offset,
        Limit,
        _returns=m.AuditPage,
    )
    def ListAuditEvents(
        ctx: Any,
        operation: str | None,
        object_type: str | None,
        object_id: str | None,
        since: Any,
        until: Any,
        offset: int | None,
        limit: int | None,
    ) -> m.AuditPage:
        """The audit events of your subtree, newest first, paged: each change made
        through the services (`operation` such as "Reseller.CreateAccount", `object_type`
        the table, `object_id` its key, `action` insert/update/delete, `changes` a JSON
        object {field: [before, after]}). Filters: operation, object_type, object_id, and
        the time range [since, until)."""
        req = request(ctx)
        first, count = page_bounds(offset, limit)
        where = uc.AuditFilter(
            operation or "", object_type or "", object_id or "", as_utc(since), as_utc(until)
        )
        rows, total = uc.list_audit_events(req.uow, req.caller, where, first, count)
        items = [
            m.AuditEventInfo(
                id=e.id,
                at=utc(e.at),
                operation=e.operation,
                login_id=e.login_id,
                username=e.username,
                actor_account_id=e.actor_account_id,
                object_type=e.object_type,
                object_id=e.object_id,
                action=e.action,
                changes=e.changes,
            )
            for e in rows
        ]
        return m.AuditPage(items=items, total=total, offset=first)
