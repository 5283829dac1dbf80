"""Queue a mail in the caller's transaction (the one that causes it): it is sent by
the outbox job (services/mail/sender.py) only if that transaction commits, and a
`key` already queued is not queued again."""

from __future__ import annotations

from sqlalchemy.orm import Session

from db.mail_schema import OutboxMail
from db.schema import utcnow
from db.upsert import insert_if_missing


def queue(
    session: Session,
    key: str,
    to_addr: str,
    subject: str,
    body: str,
    *,
    from_name: str = "",
    invoice_id: int | None = None,
) -> None:
    now = utcnow()
    insert_if_missing(
        session,
        OutboxMail,
        {
            "key": key[:128],
            "to_addr": to_addr,
            "from_name": from_name[:128],
            "subject": subject[:255],
            "body": body,
            "invoice_id": invoice_id,
            "status": "queued",
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": "",
            "created_at": now,
        },
    )
