"""A small asyncio AMI server that replays a captured Asterisk session, for tests.

No Asterisk runs on the test machines: this plays its part with the sessions captured in
tests/fixtures/ami/*_raw.txt. Each client gets the banner, must log in, and then receives
every `Event:` message of the file (the file's own banner and `Response:` blocks are
skipped), byte for byte, with CRLF framing. Every successful login gets the whole file
again, so a reconnecting client sees the same events twice, as it would if Asterisk
re-sent them; `replay_again()` does the same without a reconnect.

    server = AmiReplayServer(path, only=("Cdr",), chunk_size=7)
    port = await server.start()
    ...
    await server.wait_sent()   # every replay started so far is written to its socket
    await server.stop()

Live channels: `CoreShowChannels` is answered as Asterisk does (a `Response: Success`
with `EventList: start`, one `CoreShowChannel` event per channel, then
`CoreShowChannelsComplete`), listing the channels the events have created (Newchannel)
and not ended (Hangup), less those hung up since; or `channels` when a test sets it.
`Hangup` of a listed channel succeeds and is followed by its `Event: Hangup` to every
client; of an unknown channel it gets `No such channel`. `hangup_failures` makes the
next Hangups fail first ("error": `Response: Error`, "silence": no answer at all);
`hang_up(uniqueid)` ends a channel as its caller would.

Provisioning: `Reload` of `res_pjsip.so` answers `Module Reloaded` (any other module `No
such module`); `PJSIPShowEndpoint` answers as Asterisk 22 does for the endpoints in
`endpoints` (name -> its contacts, as ContactStatusDetail fields): `EventList: start`,
EndpointDetail, AorDetail, AuthDetail, one ContactStatusDetail per contact, then
EndpointDetailComplete; an unknown one gets `Unable to retrieve endpoint NAME`.

`chunk_size` cuts the outgoing byte stream into writes of that many bytes, wherever the
cut falls (inside a header, inside the CRLF CRLF between messages), and yields to the
event loop after each, so a client in the same loop reads them one by one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
EOM = b"\r\n\r\n"
_CLOSE = object()  # outbox sentinel: flush and close the connection


def load_events(path: str | Path, only: Iterable[str] | None = None) -> list[bytes]:
    """The `Event:` messages of a captured AMI session, verbatim, each ending in CRLF CRLF."""
    wanted = None if only is None else {name.lower() for name in only}
    events = []
    for block in Path(path).read_bytes().split(EOM):
        lines = block.split(b"\r\n")
        if lines[0].startswith(b"Asterisk Call Manager/"):
            lines = lines[1:]  # the capture's banner is glued to its first block
        if not lines or not lines[0].startswith(b"Event: "):
            continue
        name = lines[0][len(b"Event: ") :].decode("ascii").strip().lower()
        if wanted is None or name in wanted:
            events.append(b"\r\n".join(lines) + EOM)
    return events


def parse_action(raw: bytes) -> dict[str, str]:
    """`Key: value` lines -> dict with lower-cased keys (AMI keys are case-insensitive)."""
    action: dict[str, str] = {}
    for line in raw.decode("utf-8", "replace").split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            action.setdefault(key.strip().lower(), value.strip())
    return action


def response(status: str, action_id: str | None, **headers: str) -> bytes:
    lines = [f"Response: {status}"]
    if action_id is not None:
        lines.append(f"ActionID: {action_id}")
    lines += [f"{key}: {value}" for key, value in headers.items()]
    return ("\r\n".join(lines)).encode() + EOM


@dataclass(eq=False)
class _Session:
    writer: asyncio.StreamWriter
    outbox: asyncio.Queue[object] = field(default_factory=asyncio.Queue)
    logged_in: bool = False


class AmiReplayServer:
    def __init__(
        self,
        raw_file_path: str | Path,
        *,
        username: str = "billing",
        secret: str = "billing",
        only: Iterable[str] | None = None,
        chunk_size: int | None = None,
        answer_pings: bool = True,
    ) -> None:
        if chunk_size is not None and chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        self.events = load_events(raw_file_path, only)
        self.username, self.secret = username, secret
        self.chunk_size = chunk_size
        self.answer_pings = answer_pings
        self.logins = 0  # accepted
        self.failed_logins = 0
        self.connections = 0
        self.actions: list[dict[str, str]] = []  # every action received, in order
        # Live channels: None = derived from the events (see the module docstring).
        self.channels: list[dict[str, str]] | None = None
        self.hangup_failures: list[str] = []  # "error" | "silence", one per Hangup action
        self.refused: set[str] = set()  # action names (lower case) answered Permission denied
        # PJSIP endpoints Asterisk knows: name -> its contacts (ContactStatusDetail fields).
        self.endpoints: dict[str, list[dict[str, str]]] = {}
        self._ended: set[str] = set()  # Uniqueids hung up by an action or hang_up()
        self.events_sent = 0
        self._replays: list[asyncio.Future[None]] = []
        self._sessions: set[_Session] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        """Listen on 127.0.0.1, on a free port, and return the port."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        await self.disconnect_clients()
        if server is not None:
            await server.wait_closed()  # on 3.12+ this waits for the clients to be gone

    async def disconnect_clients(self) -> None:
        """Close every client connection, as an Asterisk restart would."""
        for session in list(self._sessions):
            session.writer.close()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def wait_sent(self, timeout: float = 10.0) -> None:
        """Wait until every replay started so far was written out (or its client left)."""
        await asyncio.wait_for(asyncio.gather(*self._replays), timeout)

    def replay_again(self) -> None:
        """Send the events once more to every logged-in client."""
        for session in self._sessions:
            if session.logged_in:
                self._replay(session)

    def live_channels(self) -> list[dict[str, str]]:
        """The channels up now, as CoreShowChannels lists them."""
        if self.channels is not None:
            up = list(self.channels)
        else:
            by_id: dict[str, dict[str, str]] = {}
            for event in self.events:
                fields = _headers(event)
                name = fields.get("Event", "")
                if name == "Newchannel":
                    by_id[fields.get("Uniqueid", "")] = fields
                elif name == "Hangup":
                    by_id.pop(fields.get("Uniqueid", ""), None)
            up = list(by_id.values())
        return [c for c in up if c.get("Uniqueid") not in self._ended]

    def hang_up(self, uniqueid: str) -> None:
        """End a listed channel: it leaves the list and every client gets its Hangup."""
        for channel in self.live_channels():
            if channel.get("Uniqueid") == uniqueid:
                self._end(channel)

    def _end(self, channel: dict[str, str]) -> None:
        self._ended.add(channel.get("Uniqueid", ""))
        event = _message(
            "Event: Hangup",
            Privilege="call,all",
            Channel=channel.get("Channel", ""),
            Uniqueid=channel.get("Uniqueid", ""),
            Linkedid=channel.get("Linkedid", ""),
            Cause="16",
            **{"Cause-txt": "Normal Clearing"},
        )
        for session in self._sessions:
            if session.logged_in:
                session.outbox.put_nowait(event)

    def _show_channels(self, session: _Session, action_id: str | None) -> None:
        channels = self.live_channels()
        session.outbox.put_nowait(
            response("Success", action_id, EventList="start", Message="Channels will follow")
        )
        keys = ("Channel", "ChannelState", "ChannelStateDesc", "AccountCode", "Context")
        keys += ("Exten", "Priority", "Uniqueid", "Linkedid")
        items = []
        for channel in channels:
            fields = {key: channel.get(key, "") for key in keys}
            fields |= {"BridgeId": "", "Application": "Dial", "Duration": "00:00:05"}
            items.append(("CoreShowChannel", fields))
        _list_events(session, action_id, items, "CoreShowChannelsComplete")

    def _hangup(self, session: _Session, action: dict[str, str]) -> None:
        action_id = action.get("actionid")
        failure = self.hangup_failures.pop(0) if self.hangup_failures else None
        if failure == "silence":
            return
        if failure is not None:
            session.outbox.put_nowait(response("Error", action_id, Message="Permission denied"))
            return
        name = action.get("channel", "")
        matching = [c for c in self.live_channels() if c.get("Channel") == name]
        if not matching:
            session.outbox.put_nowait(response("Error", action_id, Message="No such channel"))
            return
        session.outbox.put_nowait(response("Success", action_id, Message="Channel Hungup"))
        for channel in matching:
            self._end(channel)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        session = _Session(writer)
        self._sessions.add(session)
        sender = asyncio.create_task(self._send_loop(session))
        session.outbox.put_nowait(BANNER)
        try:
            await self._read_actions(reader, session)
        finally:
            session.outbox.put_nowait(_CLOSE)
            await sender
            self._sessions.discard(session)
            self._handlers.discard(task)

    async def _read_actions(self, reader: asyncio.StreamReader, session: _Session) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while not session.writer.is_closing():
                action = parse_action(await reader.readuntil(EOM))
                self.actions.append(action)
                self._answer(session, action)

    def _answer(self, session: _Session, action: dict[str, str]) -> None:
        name, action_id = action.get("action", "").lower(), action.get("actionid")
        if name == "login":
            self._login(session, action)
        elif name == "logoff":
            session.outbox.put_nowait(
                response("Goodbye", action_id, Message="Thanks for all the fish.")
            )
            session.outbox.put_nowait(_CLOSE)
        elif not session.logged_in:
            session.outbox.put_nowait(response("Error", action_id, Message="Permission denied"))
        elif name == "ping":
            if self.answer_pings:
                stamp = f"{time.time():.6f}"
                session.outbox.put_nowait(
                    response("Success", action_id, Ping="Pong", Timestamp=stamp)
                )
        elif name in self.refused:
            session.outbox.put_nowait(response("Error", action_id, Message="Permission denied"))
        elif name == "coreshowchannels":
            self._show_channels(session, action_id)
        elif name == "hangup":
            self._hangup(session, action)
        elif name == "reload":
            self._reload(session, action)
        elif name == "pjsipshowendpoint":
            self._show_endpoint(session, action)
        else:
            session.outbox.put_nowait(response("Success", action_id))

    def _reload(self, session: _Session, action: dict[str, str]) -> None:
        action_id = action.get("actionid")
        if action.get("module", "") == "res_pjsip.so":
            reply = response("Success", action_id, Message="Module Reloaded")
        else:
            reply = response("Error", action_id, Message="No such module")
        session.outbox.put_nowait(reply)

    def _show_endpoint(self, session: _Session, action: dict[str, str]) -> None:
        action_id, name = action.get("actionid"), action.get("endpoint", "")
        if name not in self.endpoints:
            message = f"Unable to retrieve endpoint {name}"
            session.outbox.put_nowait(response("Error", action_id, Message=message))
            return
        session.outbox.put_nowait(
            response(
                "Success",
                action_id,
                EventList="start",
                Message="Following are Events for each object associated with the Endpoint",
            )
        )
        details = [
            ("EndpointDetail", {"ObjectType": "endpoint", "ObjectName": name, "Aors": name}),
            ("AorDetail", {"ObjectType": "aor", "ObjectName": name, "MaxContacts": "1"}),
            ("AuthDetail", {"ObjectType": "auth", "ObjectName": name, "AuthType": "md5"}),
        ]
        for contact in self.endpoints[name]:
            fields = {"AOR": name, "EndpointName": name} | contact
            details.append(("ContactStatusDetail", fields))
        _list_events(session, action_id, details, "EndpointDetailComplete")

    def _login(self, session: _Session, action: dict[str, str]) -> None:
        action_id = action.get("actionid")
        if (action.get("username"), action.get("secret")) != (self.username, self.secret):
            self.failed_logins += 1
            # Asterisk answers like this and then hangs up.
            reply = response("Error", action_id, Message="Authentication failed")
            session.outbox.put_nowait(reply)
            session.outbox.put_nowait(_CLOSE)
            return
        self.logins += 1
        session.logged_in = True
        reply = response("Success", action_id, Message="Authentication accepted")
        session.outbox.put_nowait(reply)
        self._replay(session)

    def _replay(self, session: _Session) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._replays.append(done)
        for event in self.events:
            session.outbox.put_nowait(event)
        session.outbox.put_nowait(done)

    async def _send_loop(self, session: _Session) -> None:
        """Write the outbox in order; resolve replay futures once written; close on _CLOSE."""
        buffer = b""
        try:
            while True:
                item = await session.outbox.get()
                if isinstance(item, bytes):
                    buffer = await self._write(session, buffer + item)
                    self.events_sent += item.startswith(b"Event: ")
                    continue
                buffer = await self._write(session, buffer, flush=True)
                if item is _CLOSE:
                    break
                _resolve(item)
        except ConnectionError:
            pass
        finally:
            session.writer.close()
            while not session.outbox.empty():  # a client that left still ends its replays
                _resolve(session.outbox.get_nowait())

    async def _write(self, session: _Session, data: bytes, *, flush: bool = False) -> bytes:
        """Write `data` in chunks; keep back a short tail unless flushing or idle."""
        step = self.chunk_size or len(data) or 1
        while len(data) >= step or (data and (flush or session.outbox.empty())):
            piece, data = data[:step], data[step:]
            session.writer.write(piece)
            await session.writer.drain()
            if self.chunk_size is not None:
                # Let a client in this event loop read this piece on its own: its read
                # callback is queued behind our first wake-up, so it runs before the second.
                await asyncio.sleep(0)
                await asyncio.sleep(0)
        return data


def _list_events(
    session: _Session,
    action_id: str | None,
    items: list[tuple[str, dict[str, str]]],
    complete: str,
) -> None:
    """The events of an event-list action, then its `...Complete` event."""
    for event, fields in items:
        session.outbox.put_nowait(_message(f"Event: {event}", ActionID=action_id or "", **fields))
    session.outbox.put_nowait(
        _message(
            f"Event: {complete}",
            ActionID=action_id or "",
            EventList="Complete",
            ListItems=str(len(items)),
        )
    )


def _headers(event: bytes) -> dict[str, str]:
    fields = {}
    for line in event.removesuffix(EOM).decode("utf-8", "replace").split("\r\n"):
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def _message(first_line: str, **headers: str) -> bytes:
    lines = [first_line, *(f"{key}: {value}" for key, value in headers.items())]
    return "\r\n".join(lines).encode() + EOM


def _resolve(item: object) -> None:
    if isinstance(item, asyncio.Future) and not item.done():
        item.set_result(None)
