"""panoramisk's Manager as the listener drives it (ami_listener/listener.py): it reports
each login's result, stays closed once closed, and carries where AmiProtocol hands each
Cdr event's fields (ami_listener/wire.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from panoramisk import Manager

from ami_listener.events import Fields


class ListenerManager(Manager):
    """panoramisk's Manager plus a login-result hook and a final `close()`."""

    def __init__(self, *, on_login_result: Callable[[bool, Any], None], **config: Any) -> None:
        super().__init__(**config)
        self.on_login_result = on_login_result
        self.closing = False
        self.connect_task: asyncio.Task[Any] | None = None
        # Where AmiProtocol hands each Cdr event's fields (ami_listener/wire.py).
        self.on_cdr_fields: Callable[[Fields], None] | None = None

    def login(self, future: asyncio.Future[Any]) -> bool:
        authenticated = bool(super().login(future))
        self.on_login_result(authenticated, future.result())
        return authenticated

    def connect(self, *args: Any, **kwargs: Any) -> asyncio.Task[Any] | None:
        # panoramisk schedules reconnects with call_later and keeps no handle to cancel.
        if self.closing:
            return None
        self.connect_task = super().connect(*args, **kwargs)
        return self.connect_task

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if not self.closing:
            super().connection_made(f)
        elif not f.cancelled() and f.exception() is None:
            f.result()[0].close()  # a connect still in flight when we closed

    def close(self) -> None:
        self.closing = True
        super().close()
        if self.connect_task is not None:
            self.connect_task.cancel()
