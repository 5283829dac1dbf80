"""Reading the audit log (services/common/audit.py writes it): the admin reads all of
it, a reseller the events of its subtree (their `scope_path` under its own path)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from db.schema import AuditEvent
from db.session import UnitOfWork
from services.common.caller import Caller, require_role


@dataclass(frozen=True)
class AuditFilter:
    operation: str = ""
    object_type: str = ""
    object_id: str = ""
    since: datetime | None = None
    until: datetime | None = None


def list_audit_events(
    uow: UnitOfWork, caller: Caller, where: AuditFilter, offset: int, limit: int
) -> tuple[list[AuditEvent], int]:
    """The newest first."""
    require_role(caller, "admin", "reseller")
    conditions = [AuditEvent.scope_path.startswith(caller.path, autoescape=True)]
    if where.operation:
        conditions.append(AuditEvent.operation == where.operation)
    if where.object_type:
        conditions.append(AuditEvent.object_type == where.object_type)
    if where.object_id:
        conditions.append(AuditEvent.object_id == where.object_id)
    if where.since is not None:
        conditions.append(AuditEvent.at >= where.since)
    if where.until is not None:
        conditions.append(AuditEvent.at < where.until)
    session = uow.session
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions))
    rows = session.scalars(
        select(AuditEvent)
        .where(*conditions)
        .order_by(AuditEvent.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), int(total or 0)
