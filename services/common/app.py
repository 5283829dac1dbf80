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
from sqlalchemy.orm import Session

from ami_listener.actions import AmiTarget
from db.session import UnitOfWork
from rating.errors import BillingError
from services.common.caller import Caller, authenticate
from services.common.faults import server_fault, to_fault

logger = logging.getLogger(__name__)


@dataclass
class Request:
    """What a service method gets in `ctx.udc`."""

    uow: UnitOfWork
    caller: Caller


class SiptarApplication(Application):
    session_factory: Callable[[], Session] | None = None
    # Where ReloadAsterisk and GetSipRegistrations reach Asterisk (None: nowhere).
    ami_target: AmiTarget | None = None

    def call_wrapper(self, ctx: Any) -> Any:
        try:
            return self._call_in_uow(ctx)
        except BillingError as e:
            raise to_fault(e) from e
        except Fault:
            raise
        except Exception:
            logger.exception("unhandled error in %s", ctx.method_request_string)
            raise server_fault() from None

    def _call_in_uow(self, ctx: Any) -> Any:
        if self.session_factory is None:
            raise RuntimeError("the application has no database (built for WSDL only)")
        with UnitOfWork(self.session_factory) as uow:
            header = ctx.in_header
            ctx.udc = Request(
                uow=uow,
                caller=authenticate(
                    uow.session,
                    getattr(header, "username", None),
                    getattr(header, "password", None),
                ),
            )
            return super().call_wrapper(ctx)


def make_application(
    services: Sequence[type[ServiceBase]], *, tns: str, name: str
) -> SiptarApplication:
    # validator='lxml' checks every body against the WSDL's schema before our code runs.
    return SiptarApplication(
        list(services),
        tns=tns,
        name=name,
        in_protocol=Soap11(validator="lxml"),
        out_protocol=Soap11(),
    )


def ami_target(ctx: Any) -> AmiTarget | None:
    app = ctx.app
    return app.ami_target if isinstance(app, SiptarApplication) else None


def request(ctx: Any) -> Request:
    udc = ctx.udc
    assert isinstance(udc, Request)
    return udc
