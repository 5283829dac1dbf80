"""FastAGI: `AGI(agi://host:4573/authorize,NUMBER[,ACCOUNT[,PIN]])` from the dialplan runs
the Authorize use case and sets channel variables for Dial (docs/dialplan.md):

    SIPTAR_ALLOWED      1 or 0
    SIPTAR_REASON       OK, or why not (the reason codes of Authorize; Error on ours)
    SIPTAR_MAX_SECONDS  the longest the call may last: Dial(...,L(${SIPTAR_MAX_SECONDS}000))
    SIPTAR_DIALSTR      the first trunk's dial string, the number filled in
    SIPTAR_TRUNK        the first trunk's name
    SIPTAR_TRUNKS       how many trunks; SIPTAR_DIALSTR_n / SIPTAR_TRUNK_n (n = 1..) each
    SIPTAR_RESERVATION  the reservation id
    SIPTAR_ONNET        1 for an on-net call: SIPTAR_DIALSTR(_1) is the callee's peer, no trunk

`AGI(agi://host:4573/inbound[,DID])` answers where a call to one of our DIDs goes
(services/dids/switch.py): SIPTAR_ALLOWED, SIPTAR_REASON (OK, DidNotAssigned,
DidInQuarantine, DidSuspended, UnknownDid, AccountBlocked, NoDestination, ...),
SIPTAR_DID, SIPTAR_DID_KIND (peer, extension, external), SIPTAR_DID_DESTINATION,
SIPTAR_DIALSTR (PJSIP/peer, or Local/number@siptar-did-external), and for an external
destination SIPTAR_DID_ACCOUNT / SIPTAR_ACCOUNTCODE (the owner, for the outbound leg's
Authorize and CDR). The DID is the first argument, else the extension.

The number is the first argument, else the extension. The account is the second
argument, else the channel's accountcode, else the SIP peer of the channel
(PJSIP/alice-00000001 is `alice`); the caller ID (ANI), the DNID (DNIS) and the
channel's uniqueid come from the AGI environment; a PIN is the third argument.

`AGI(agi://host:4573/voucher,CODE[,ACCOUNT[,PIN]])` (a calling-card IVR: the caller
keys in a voucher code) redeems a voucher on the account found as above, and sets

    SIPTAR_VOUCHER      OK, or why not (VoucherUnknown, VoucherUsed, VoucherExpired,
                        VoucherBlocked, VoucherNotValidHere, TooManyAttempts,
                        UnknownAccount, InvalidInput; Error on ours)
    SIPTAR_AMOUNT       the amount added (on OK)
    SIPTAR_BALANCE      the balance after it (on OK)

Wrong codes are counted per account and per caller ID (services/vouchers/throttle.py).

The protocol is written here on asyncio (a few lines), not taken from panoramisk: its
FastAGI server blocks the whole loop on a client that disconnects before sending its
headers (docs/stack.md, "panoramisk"). Here each connection is its own task with a
deadline and a size limit, so a dead or slow client costs only itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
from collections.abc import Callable, Iterable

from ami_listener.signals import STOP_SIGNALS, stop_on_signals
from rating.errors import BillingError
from services.credit.authorize import Authorization, AuthorizeRequest
from services.dids.switch import InboundRoute
from services.vouchers.agi import VoucherRequest, VoucherResult

logger = logging.getLogger(__name__)

HEADER_TIMEOUT = 10.0  # seconds for the whole AGI environment to arrive
REPLY_TIMEOUT = 10.0  # seconds for Asterisk to answer one command
MAX_HEADER_LINES = 200
SCRIPT = "authorize"
INBOUND_SCRIPT = "inbound"
VOUCHER_SCRIPT = "voucher"
_PEER = re.compile(r"^[A-Za-z0-9_]+/(?P<peer>.+?)-[0-9a-fA-F;.]+$")

Authorizer = Callable[[AuthorizeRequest], Authorization]
InboundLookup = Callable[[str], InboundRoute]
Redeemer = Callable[[VoucherRequest], VoucherResult]


class FastAgiServer:
    def __init__(
        self,
        authorizer: Authorizer,
        host: str = "127.0.0.1",
        port: int = 4573,
        inbound: InboundLookup | None = None,
        redeemer: Redeemer | None = None,
    ) -> None:
        self.authorizer = authorizer
        self.inbound = inbound
        self.redeemer = redeemer
        self.host, self.port = host, port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        sock = self._server.sockets[0].getsockname()
        self.port = int(sock[1])
        logger.info("FastAGI listening on %s:%d", self.host, self.port)

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    async def run_until_signalled(
        self, stop_signals: Iterable[signal.Signals] = STOP_SIGNALS
    ) -> None:
        """Serve until one of `stop_signals`, then close (`siptar agi`). Handled by the
        loop, as the AMI listener does (ami_listener/signals.py): SIGINT counts even when
        the shell that started it in the background ignores it."""
        try:
            with stop_on_signals("the FastAGI server", stop_signals) as stop:
                await self.start()
                await stop.wait()
        finally:
            await self.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(HEADER_TIMEOUT):
                env = await read_environment(reader)
            if env is None:
                return  # hung up before its headers: nothing to answer
            variables = await self._answer(env)
            for name, value in variables:
                writer.write(f'SET VARIABLE {name} "{_quoted(value)}"\n'.encode())
                await writer.drain()
                async with asyncio.timeout(REPLY_TIMEOUT):
                    reply = await reader.readline()
                if not reply:
                    return  # the channel hung up
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, ValueError) as e:
            logger.info("FastAGI client dropped: %s", e.__class__.__name__)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _answer(self, env: dict[str, str]) -> list[tuple[str, str]]:
        script = env.get("agi_network_script", "").strip("/").split("?")[0]
        if script == INBOUND_SCRIPT and self.inbound is not None:
            return await self._inbound(env)
        if script == VOUCHER_SCRIPT and self.redeemer is not None:
            return await self._redeem(env, self.redeemer)
        if script != SCRIPT:
            return [("SIPTAR_ALLOWED", "0"), ("SIPTAR_REASON", "UnknownScript")]
        try:
            result = await asyncio.to_thread(self.authorizer, request_from(env))
        except BillingError as e:
            return [("SIPTAR_ALLOWED", "0"), ("SIPTAR_REASON", e.code)]
        except Exception:
            logger.exception("FastAGI authorize failed for %s", env.get("agi_uniqueid"))
            return [("SIPTAR_ALLOWED", "0"), ("SIPTAR_REASON", "Error")]
        return variables_for(result)

    async def _inbound(self, env: dict[str, str]) -> list[tuple[str, str]]:
        assert self.inbound is not None
        number = env.get("agi_arg_1", "").strip() or env.get("agi_extension", "")
        try:
            route = await asyncio.to_thread(self.inbound, number)
        except Exception:
            logger.exception("FastAGI inbound failed for %s", env.get("agi_uniqueid"))
            return [("SIPTAR_ALLOWED", "0"), ("SIPTAR_REASON", "Error")]
        return inbound_variables(route)

    async def _redeem(self, env: dict[str, str], redeemer: Redeemer) -> list[tuple[str, str]]:
        # The code is in agi_arg_1: never logged (it is money until it is used).
        auth = request_from(env)
        req = VoucherRequest(
            code=env.get("agi_arg_1", "").strip(),
            account=auth.account,
            pin=auth.pin,
            callerid=auth.callerid,
        )
        try:
            done = await asyncio.to_thread(redeemer, req)
        except BillingError as e:
            return [("SIPTAR_VOUCHER", e.code)]
        except Exception:
            logger.exception("FastAGI voucher failed for %s", env.get("agi_uniqueid"))
            return [("SIPTAR_VOUCHER", "Error")]
        if done is None:
            return [("SIPTAR_VOUCHER", "UnknownAccount")]
        return [
            ("SIPTAR_VOUCHER", "OK"),
            ("SIPTAR_AMOUNT", format(done.amount, "f")),
            ("SIPTAR_BALANCE", format(done.balance, "f")),
        ]


async def read_environment(reader: asyncio.StreamReader) -> dict[str, str] | None:
    """The `agi_name: value` lines up to the blank line; None if the peer hung up first."""
    env: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        line = await reader.readline()
        if not line or not line.endswith(b"\n"):
            return None  # EOF before the blank line
        text = line.decode("utf-8", errors="replace").strip()
        if not text:
            return env
        name, _, value = text.partition(":")
        env[name.strip()] = value.strip()
    raise ValueError("too many AGI header lines")


def request_from(env: dict[str, str]) -> AuthorizeRequest:
    def arg(n: int) -> str:
        return env.get(f"agi_arg_{n}", "").strip()

    account = arg(2) or env.get("agi_accountcode", "").strip()
    if not account:
        match = _PEER.match(env.get("agi_channel", ""))
        account = match.group("peer") if match else ""
    return AuthorizeRequest(
        number=arg(1) or env.get("agi_extension", ""),
        account=account,
        callerid=_unknown_as_empty(env.get("agi_callerid", "")),
        pin=arg(3),
        dnis=_unknown_as_empty(env.get("agi_dnid", "")),
        uniqueid=env.get("agi_uniqueid", ""),
    )


def _unknown_as_empty(value: str) -> str:
    return "" if value.strip() in ("unknown", "") else value.strip()


def variables_for(a: Authorization) -> list[tuple[str, str]]:
    first = a.trunks[0] if a.trunks else None
    pairs = [
        ("SIPTAR_ALLOWED", "1" if a.allowed else "0"),
        ("SIPTAR_REASON", a.reason.value),
        ("SIPTAR_MAX_SECONDS", str(a.max_seconds)),
        ("SIPTAR_DIALSTR", first.dial_string if first else ""),
        ("SIPTAR_TRUNK", first.name if first else ""),
        ("SIPTAR_TRUNKS", str(len(a.trunks))),
        ("SIPTAR_RESERVATION", str(a.reservation_id or "")),
    ]
    for n, t in enumerate(a.trunks, start=1):
        pairs += [(f"SIPTAR_DIALSTR_{n}", t.dial_string), (f"SIPTAR_TRUNK_{n}", t.name)]
    if a.dial_string:  # on-net: the callee's peer is the one "trunk", with no trunk name
        pairs[3:6] = [
            ("SIPTAR_DIALSTR", a.dial_string),
            ("SIPTAR_TRUNK", ""),
            ("SIPTAR_TRUNKS", "1"),
        ]
        pairs += [("SIPTAR_DIALSTR_1", a.dial_string), ("SIPTAR_TRUNK_1", "")]
    return [*pairs, ("SIPTAR_ONNET", "1" if a.onnet_account_id is not None else "0")]


def inbound_variables(r: InboundRoute) -> list[tuple[str, str]]:
    return [
        ("SIPTAR_ALLOWED", "1" if r.allowed else "0"),
        ("SIPTAR_REASON", r.reason.value),
        ("SIPTAR_DID", r.number),
        ("SIPTAR_DID_KIND", r.kind),
        ("SIPTAR_DID_DESTINATION", r.destination),
        ("SIPTAR_DIALSTR", r.dial_string),
        ("SIPTAR_DID_ACCOUNT", r.account),
        ("SIPTAR_ACCOUNTCODE", r.accountcode),
    ]


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
