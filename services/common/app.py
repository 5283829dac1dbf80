"""The application factory: one spyne Application per service, all built alike.

Every call runs in one unit of work: the Auth header is checked, the method runs, and
nothing is committed unless the use case commits. Domain errors become `Client.<Code>`
faults here and only here; anything else becomes a bare `Server` fault.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from spyne import Application, ServiceBase
from spyne.model.fault import Fault
from spyne.protocol.soap import Soap11
from sqlalchemy.exc import DataError, DBAPIError, StatementError
from sqlalchemy.orm import Session

from ami_listener.actions import AmiTarget
from db.schema import LoginAttempt
from db.session import UnitOfWork, is_dropped_connection
from rating.errors import BillingError, InvalidInput
from services.common import audit
from services.common.caller import Caller
from services.common.faults import server_fault, to_fault
from services.common.limits import check_inputs
from services.common.throttle import guarded_authenticate, record
from services.common.wire import AUTH_NS
from services.credit.policy import DEFAULT_POLICY, CreditPolicy

CLIENT_ADDRESS_KEY = "siptar.client_address"

logger = logging.getLogger(__name__)


@dataclass
class Request:
    """What a service method gets in `ctx.udc`."""

    uow: UnitOfWork
    caller: Caller


# PostgreSQL's SQLSTATE numeric_value_out_of_range.
NUMERIC_OUT_OF_RANGE = "22003"


class SiptarApplication(Application):
    session_factory: Callable[[], Session] | None = None
    # The slice and minimum call of Authorize (set from the settings by make_wsgi_app).
    credit_policy: CreditPolicy = DEFAULT_POLICY
    # Where ReloadAsterisk and GetSipRegistrations reach Asterisk (None: nowhere).
    ami_target: AmiTarget | None = None
    # The HMAC key of voucher codes (SIPTAR_VOUCHER_KEY, set by make_wsgi_app).
    voucher_key: bytes = b""

    def call_wrapper(self, ctx: Any) -> Any:
        try:
            return self._call_in_uow(ctx)
        except BillingError as e:
            raise to_fault(e) from e
        except StatementError as e:
            # A bind processor refused a value (db/types.Money: an amount out of range).
            if isinstance(e.orig, BillingError):
                raise to_fault(e.orig) from None
            if isinstance(e, DataError) and getattr(e.orig, "pgcode", None) == NUMERIC_OUT_OF_RANGE:
                # PostgreSQL refusing a computed value (`balance + :x` past Numeric(18, 6));
                # SQLite meets the same limit in db/types.Money. Any other DataError (a
                # string too long for its column...) is our bug, not the caller's: Server.
                raise to_fault(InvalidInput("a resulting amount is out of range")) from None
            logger.exception("unhandled error in %s", ctx.method_request_string)
            raise server_fault() from None
        except Fault:
            raise
        except Exception:
            logger.exception("unhandled error in %s", ctx.method_request_string)
            raise server_fault() from None

    def _call_in_uow(self, ctx: Any) -> Any:
        if self.session_factory is None:
            raise RuntimeError("the application has no database (built for WSDL only)")
        used: list[UnitOfWork] = []
        try:
            return self._call_once(ctx, self.session_factory, used)
        except DBAPIError as e:
            if not is_dropped_connection(e, used[-1] if used else None):
                raise
            # The pool was invalidated with the dropped connection: this gets a new one.
            logger.warning("the database connection was dropped; running the call again")
            return self._call_once(ctx, self.session_factory, used)

    def _call_once(
        self, ctx: Any, session_factory: Callable[[], Session], used: list[UnitOfWork]
    ) -> Any:
        attempts: list[LoginAttempt] = []
        try:
            with UnitOfWork(session_factory) as uow:
                used.append(uow)
                header = ctx.in_header
                if _auth_headers(ctx) > 1:
                    # spyne keeps the last one: which one the caller meant is anybody's guess.
                    raise InvalidInput("one Auth header per request")
                caller = guarded_authenticate(
                    uow.session,
                    getattr(header, "username", None),
                    getattr(header, "password", None),
                    client_address(ctx),
                    attempts,
                )
                ctx.udc = Request(uow=uow, caller=caller)
                audit.mark(uow.session, actor(self.name, ctx, caller))
                # Every number of every operation, in one range for both databases.
                check_inputs(ctx.descriptor.in_message._type_info, ctx.in_object or ())
                return super().call_wrapper(ctx)
        finally:
            record(session_factory, attempts)


def actor(service: str, ctx: Any, caller: Caller) -> audit.Actor:
    return audit.Actor(
        operation=f"{service}.{ctx.descriptor.name}",
        login_id=caller.login_id,
        username=caller.username,
        account_id=caller.account_id,
        path=caller.path,
    )


def client_address(ctx: Any) -> str:
    """The client's address as SoapGuard decided it (behind a trusted proxy: the one
    X-Forwarded-For names)."""
    env = getattr(ctx.transport, "req_env", None) or {}
    return str(env.get(CLIENT_ADDRESS_KEY) or env.get("REMOTE_ADDR") or "")


def _auth_headers(ctx: Any) -> int:
    tag = f"{{{AUTH_NS}}}Auth"
    return sum(1 for element in ctx.in_header_doc or () if element.tag == tag)


def make_application(
    services: Sequence[type[ServiceBase]], *, tns: str, name: str
) -> SiptarApplication:
    # validator='lxml' checks every body against the WSDL's schema before our code runs.
    # huge_tree: a million-row rate deck is one text node of ~40 MB, over lxml's 10 MB
    # limit; SoapGuard bounds the body (MAX_BODY) and refuses DTDs before parsing.
    return SiptarApplication(
        list(services),
        tns=tns,
        name=name,
        in_protocol=Soap11(validator="lxml", huge_tree=True),
        out_protocol=Soap11(),
    )


def ami_target(ctx: Any) -> AmiTarget | None:
    app = ctx.app
    return app.ami_target if isinstance(app, SiptarApplication) else None


def request(ctx: Any) -> Request:
    udc = ctx.udc
    assert isinstance(udc, Request)
    return udc
