"""The outbox job: send the queued mails through SMTP, with backoff while it is down.

What it guarantees (docs/invoices.md, "E-mail"):
- a mail is queued only if the transaction that caused it commits (db/outbox);
- a mail is sent until the SMTP server accepts it: a refused connection, a timeout or
  a temporary error puts it back with a growing delay (1 min, 2, 4 ... 6 h at most),
  none is lost; after MAX_ATTEMPTS it is `failed` (kept, with the last error);
- each mail is claimed (`sending`) and committed before it is handed to SMTP, and
  marked `sent` right after: two workers never send one mail. A crash between the
  server's "250 OK" and that mark leaves it `sending`; after LEASE it is sent again.
  A connection lost after the data but before the server's answer is retried too.
  Those are the duplicates possible (at-least-once, as SMTP itself is), and each
  copy carries the same Message-ID, made from the outbox row, so mail clients show
  it once.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from db.mail_schema import OutboxMail
from db.session import UnitOfWork
from services.billing.invoice_usecases import invoice_pdf_bytes
from services.mail import smtp
from settings import Settings

logger = logging.getLogger(__name__)

BATCH = 50
LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 30
MAX_DELAY = timedelta(hours=6)


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=1) * 2 ** max(attempts - 1, 0), MAX_DELAY)


def _claim(session_factory: sessionmaker[Session], now: datetime) -> list[int]:
    with UnitOfWork(session_factory) as uow:
        due = or_(
            (OutboxMail.status == "queued") & (OutboxMail.next_attempt_at <= now),
            (OutboxMail.status == "sending") & (OutboxMail.claimed_at < now - LEASE),
        )
        ids = list(
            uow.session.scalars(
                select(OutboxMail.id)
                .where(due)
                .order_by(OutboxMail.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            uow.session.execute(
                update(OutboxMail)
                .where(OutboxMail.id.in_(ids))
                .values(status="sending", claimed_at=now)
            )
        uow.commit()
        return ids


def _message(session: Session, mail: OutboxMail, settings: Settings) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((mail.from_name, settings.smtp_from))
    msg["To"] = mail.to_addr
    msg["Subject"] = mail.subject
    domain = settings.smtp_from.rpartition("@")[2] or "localhost"
    # Stable per mail: a resend after a crash is recognisably the same message.
    msg["Message-ID"] = f"<outbox-{mail.id}-{mail.created_at:%Y%m%d%H%M%S}@{domain}>"
    msg.set_content(mail.body)
    if mail.invoice_id is not None:
        number, pdf = invoice_pdf_bytes(session, mail.invoice_id)
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{number}.pdf")
    return msg


def _finish(
    session_factory: sessionmaker[Session], mail_id: int, now: datetime, error: str | None
) -> None:
    with UnitOfWork(session_factory) as uow:
        mail = uow.session.get(OutboxMail, mail_id)
        assert mail is not None
        if error is None:
            mail.status, mail.sent_at, mail.last_error = "sent", now, ""
        else:
            mail.attempts += 1
            mail.last_error = error[:255]
            mail.status = "failed" if mail.attempts >= MAX_ATTEMPTS else "queued"
            mail.next_attempt_at = now + backoff(mail.attempts)
        uow.commit()


def _waiting(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as s:
        return int(
            s.execute(
                select(func.count()).where(OutboxMail.status.in_(("queued", "sending")))
            ).scalar_one()
        )


def run_send_outbox(
    session_factory: sessionmaker[Session], now: datetime, settings: Settings
) -> str:
    """Send what is due at `now`; returns a one-line summary."""
    if not settings.smtp_url:
        return f"outbox: {_waiting(session_factory)} waiting, no SMTP configured"
    ids = _claim(session_factory, now)
    if not ids:
        return f"outbox: nothing due, {_waiting(session_factory)} waiting"
    target = smtp.parse(settings.smtp_url)
    sent = failed = 0
    try:
        conn = smtp.connect(target, settings.smtp_ca_file)
    except (OSError, smtplib.SMTPException) as e:
        logger.warning("SMTP %r unreachable: %s", target, type(e).__name__)
        for mail_id in ids:
            _finish(session_factory, mail_id, now, f"connect: {type(e).__name__}")
        return f"outbox: 0 sent, {len(ids)} deferred (SMTP unreachable)"
    try:
        for mail_id in ids:
            with session_factory() as s:
                mail = s.get(OutboxMail, mail_id)
                assert mail is not None
                msg = _message(s, mail, settings)
            try:
                conn.send_message(msg)
            except (OSError, smtplib.SMTPException) as e:
                logger.warning("mail %s not sent: %s", mail_id, type(e).__name__)
                _finish(session_factory, mail_id, now, f"{type(e).__name__}: {e}")
                failed += 1
                continue
            _finish(session_factory, mail_id, now, None)
            sent += 1
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            conn.quit()
    return f"outbox: {sent} sent, {failed} deferred"
