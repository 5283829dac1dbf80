"""One-shot AMI actions for short-lived callers (a SOAP worker, the CLI): connect, log
in, send the actions, log off. The connection is the listener's own (CdrListener: the
login-result check, the incremental decoder, the close that cancels reconnects), with
every event switched off.

    replies = send_actions(AmiTarget(...), [{"Action": "Reload", "Module": "res_pjsip.so"}])

Raises AmiUnavailable when Asterisk can't be reached, refuses the login, or does not
answer an action within `timeout` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from ami_listener.listener import AmiLoginError, CdrListener

logger = logging.getLogger(__name__)


class AmiUnavailable(ConnectionError):
    """Asterisk could not be reached, refused the login, or did not answer."""


@dataclass(frozen=True)
class AmiTarget:
    host: str
    port: int
    username: str
    secret: str = ""
    timeout: float = 5.0

    def __repr__(self) -> str:  # never the secret, in a log or a traceback
        return f"AmiTarget({self.username}@{self.host}:{self.port})"


def send_actions(target: AmiTarget, actions: Sequence[Mapping[str, str]]) -> list[Any]:
    """Each action's reply, in order (a list of messages for an event-list action)."""
    return asyncio.run(_send(target, actions))


async def _send(target: AmiTarget, actions: Sequence[Mapping[str, str]]) -> list[Any]:
    connection = CdrListener(
        target.host,
        target.port,
        target.username,
        target.secret,
        UTC,
        lambda record: None,  # no Cdr events: the login asks for none
        events="off",
        login_timeout=target.timeout,
        ping_interval=3600,
        drain_timeout=0.1,
    )
    try:
        await connection.start()
    except AmiLoginError as e:
        raise AmiUnavailable(str(e)) from None
    try:
        return [await _one(connection, dict(action), target.timeout) for action in actions]
    finally:
        await connection.stop()


async def _one(connection: CdrListener, action: dict[str, str], timeout: float) -> Any:
    try:
        return await connection.send_action(action, timeout=timeout)
    except TimeoutError:
        raise AmiUnavailable(
            f"Asterisk did not answer {action.get('Action')} within {timeout} s"
        ) from None
    except ConnectionError as e:
        raise AmiUnavailable(f"AMI connection lost: {e}") from None
