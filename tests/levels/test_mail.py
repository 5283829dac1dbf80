"""E-mail through a real SMTP server on loopback (aiosmtpd, with STARTTLS and a login):
low-balance alerts once per crossing, invoices with their PDF, and an SMTP server
that is down for a while loses no mail and doubles none."""

from __future__ import annotations

import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.mail_schema import OutboxMail
from db.schema import utcnow
from services.mail.sender import LEASE, run_send_outbox
from settings import Settings
from tests.e2e.test_ami_to_services import replay
from tests.levels.conftest import Tree

pytestmark = pytest.mark.e2e
D = Decimal
USER, PASSWORD = "billing", "smtp-secret"


@dataclass
class Inbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            message_from_bytes(envelope.original_content, policy=policy.default)  # type: ignore[arg-type]
        )
        return "250 OK"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class Smtp:
    port: int
    cert: Path
    inbox: Inbox
    controller: Controller | None = None

    def start(self) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.cert.with_name("key.pem"))
        self.controller = Controller(
            self.inbox,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=context,
            require_starttls=True,
            authenticator=_authenticate,
            auth_required=True,
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def settings(self) -> Settings:
        return Settings(
            smtp_url=f"smtp+starttls://{USER}:{PASSWORD}@127.0.0.1:{self.port}",
            smtp_from="billing@r2.example",
            smtp_ca_file=str(self.cert),
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[Smtp]:
    cert = tmp_path / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(tmp_path / "key.pem"), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    server = Smtp(_free_port(), cert, Inbox())
    server.start()
    yield server
    server.stop()


def outbox(session_factory: Callable[[], Session]) -> list[tuple[str, str]]:
    with session_factory() as s:
        return [(m.key, m.status) for m in s.scalars(select(OutboxMail).order_by(OutboxMail.id))]


class TestLowBalanceAlerts:
    def test_two_thresholds_down_and_back_give_exactly_the_expected_mails(
        self, tree: Tree, session_factory: Callable[[], Session], smtp_server: Smtp
    ) -> None:
        r2, c1 = tree.api("R2"), tree.ids["C1"]  # C1: prepaid, 10.00
        r2.reseller.SetBranding(company_name="R2 Telecom Ltd")
        r2.billing.SetBillingProfile(account_id=c1, email="c1@shop.example")
        alerts = r2.billing.SetBalanceAlerts(account_id=c1, thresholds=[D("8"), D("5")])
        assert [(a.threshold, a.armed) for a in alerts.alerts] == [(8, True), (5, True)]

        def move(amount: str) -> None:
            if D(amount) > 0:
                r2.billing.AddPayment(account_id=c1, amount=D(amount))
            else:
                r2.billing.AddAdjustment(account_id=c1, amount=D(amount), reference="usage")

        for amount in ("-3", "-1", "-2", "-0.5", "10", "-7", "-0.1"):
            move(amount)  # 7 (below 8), 6, 4 (below 5), 3.5, 13.5 (re-armed), 6.5 (below 8), 6.4
        # Alert 1 is the 8.00 threshold, alert 2 the 5.00 one; keys count the crossings.
        assert [k for k, _ in outbox(session_factory)] == ["alert:1:1", "alert:2:1", "alert:1:2"]
        summary = run_send_outbox(session_factory, utcnow(), smtp_server.settings())
        assert summary == "outbox: 3 sent, 0 deferred"
        got = smtp_server.inbox.messages
        assert [m["Subject"] for m in got] == [
            "Low balance: C1 is below 8.000000 USD",
            "Low balance: C1 is below 5.000000 USD",
            "Low balance: C1 is below 8.000000 USD",
        ]
        assert {m["From"] for m in got} == {"R2 Telecom Ltd <billing@r2.example>"}
        assert {m["To"] for m in got} == {"c1@shop.example"}
        assert "balance is 7.000000 USD" in got[0].get_content()
        assert run_send_outbox(session_factory, utcnow(), smtp_server.settings()).startswith(
            "outbox: nothing due"
        )


class TestOutbox:
    def test_smtp_down_for_a_while_loses_none_and_doubles_none(
        self, tree: Tree, session_factory: Callable[[], Session], smtp_server: Smtp
    ) -> None:
        r2, ids = tree.api("R2"), tree.ids
        r2.reseller.SetBranding(company_name="R2 Telecom Ltd")
        for name in ("C1", "C2"):
            r2.billing.SetBillingProfile(account_id=ids[name], email=f"{name.lower()}@shop.example")
        r2.billing.SetBalanceAlerts(account_id=ids["C1"], thresholds=[D("9")])
        r2.billing.AddAdjustment(account_id=ids["C1"], amount=D("-2"), reference="usage")
        start = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        for name in ("C1", "C2"):
            r2.billing.CreateInvoice(account_id=ids[name], period_start=start, period_end=utcnow())
        assert len(outbox(session_factory)) == 3
        # Not configured: everything waits.
        assert run_send_outbox(session_factory, utcnow(), Settings()) == (
            "outbox: 3 waiting, no SMTP configured"
        )
        smtp_server.stop()
        now = utcnow()
        assert run_send_outbox(session_factory, now, smtp_server.settings()) == (
            "outbox: 0 sent, 3 deferred (SMTP unreachable)"
        )
        # Backoff: nothing is due a few seconds later; the second try fails too.
        assert run_send_outbox(
            session_factory, now + timedelta(seconds=5), smtp_server.settings()
        ).startswith("outbox: nothing due")
        assert run_send_outbox(
            session_factory, now + timedelta(minutes=1), smtp_server.settings()
        ).endswith("3 deferred (SMTP unreachable)")
        assert {s for _, s in outbox(session_factory)} == {"queued"}
        smtp_server.start()
        later = now + timedelta(minutes=4)
        assert run_send_outbox(session_factory, later, smtp_server.settings()) == (
            "outbox: 3 sent, 0 deferred"
        )
        assert run_send_outbox(
            session_factory, later + timedelta(hours=1), smtp_server.settings()
        ).startswith("outbox: nothing due")
        got = smtp_server.inbox.messages
        assert len(got) == 3 and len({m["Message-ID"] for m in got}) == 3
        invoices = [m for m in got if m["Subject"].startswith(("Invoice", "Statement"))]
        assert sorted(m["To"] for m in invoices) == ["c1@shop.example", "c2@shop.example"]
        for m in invoices:
            (attachment,) = list(m.iter_attachments())
            assert attachment.get_content_type() == "application/pdf"
            assert attachment.get_content().startswith(b"%PDF")
            assert "R2 Telecom Ltd" in m["From"]
        assert {s for _, s in outbox(session_factory)} == {"sent"}


class TestAlertsOnTheAmiPath:
    async def test_a_call_that_takes_the_balance_below_a_threshold_queues_one_mail(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        r2, c1 = tree.api("R2"), tree.ids["C1"]
        r2.billing.SetBillingProfile(account_id=c1, email="c1@shop.example")
        # C1 has 10.00; its two Spain calls of the captured session cost a few cents.
        r2.billing.SetBalanceAlerts(account_id=c1, thresholds=[D("9.99"), D("1")])
        await replay(session_factory)
        assert outbox(session_factory) == [("alert:1:1", "queued")]


class TestCrashAfterAcceptance:
    def test_a_mail_resent_after_a_crash_is_recognisably_the_same_message(
        self, tree: Tree, session_factory: Callable[[], Session], smtp_server: Smtp
    ) -> None:
        """The one duplicate the outbox allows: the SMTP server accepted the mail, then
        the worker died before marking it sent. The claim expires (LEASE) and it is
        sent again, with the same Message-ID, derived from the outbox row."""
        r2, c1 = tree.api("R2"), tree.ids["C1"]
        r2.billing.SetBillingProfile(account_id=c1, email="c1@shop.example")
        r2.billing.SetBalanceAlerts(account_id=c1, thresholds=[D("8")])
        r2.billing.AddAdjustment(account_id=c1, amount=D("-3"), reference="usage")
        now = utcnow()
        assert run_send_outbox(session_factory, now, smtp_server.settings()) == (
            "outbox: 1 sent, 0 deferred"
        )
        # What a crash between the server's "250 OK" and the `sent` mark leaves behind.
        with session_factory() as s:
            mail = s.scalars(select(OutboxMail)).one()
            mail_id = mail.id
            mail.status, mail.sent_at, mail.claimed_at = "sending", None, now
            s.commit()
        # Within the lease nobody touches it; after it, it goes out once more.
        assert run_send_outbox(
            session_factory, now + LEASE - timedelta(seconds=1), smtp_server.settings()
        ).startswith("outbox: nothing due")
        assert run_send_outbox(
            session_factory, now + LEASE + timedelta(seconds=1), smtp_server.settings()
        ) == ("outbox: 1 sent, 0 deferred")
        first, again = smtp_server.inbox.messages
        assert first["Message-ID"] == again["Message-ID"]
        assert first["Message-ID"].startswith(f"<outbox-{mail_id}-")
        assert first["Message-ID"].endswith("@r2.example>")
        assert outbox(session_factory) == [("alert:1:1", "sent")]
