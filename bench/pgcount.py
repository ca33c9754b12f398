"""A loopback TCP proxy in front of PostgreSQL that counts what clients ask of it.

Every round trip of PostgreSQL's protocol ends in a message that makes the
server answer: a simple query ('Q', e.g. BEGIN, ROLLBACK, a ping) or the Sync
('S') closing an extended query (Parse/Bind/Execute). Counting those is
counting round trips, whatever the driver; the simple queries' texts say which
statements they were. The parser is pure (``ClientStream``) and tested in
tests/test_bench.py; the proxy runs its own event loop in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Self

SSL_REQUEST = 80877103
CANCEL_REQUEST = 80877102


@dataclass
class ClientStream:
    """What one client connection sent, parsed as it arrives (messages may split anywhere)."""

    round_trips: int = 0
    queries: Counter[str] = field(default_factory=Counter)
    _buffer: bytearray = field(default_factory=bytearray)
    _started: bool = False

    def feed(self, data: bytes) -> None:
        self._buffer += data
        while True:
            if not self._started:  # untyped: SSLRequest, CancelRequest, StartupMessage
                if len(self._buffer) < 8:
                    return
                length, code = struct.unpack("!ii", self._buffer[:8])
                if len(self._buffer) < length:
                    return
                del self._buffer[:length]
                self._started = code not in (SSL_REQUEST, CANCEL_REQUEST)
                continue
            if len(self._buffer) < 5:
                return
            kind = self._buffer[0:1]
            (length,) = struct.unpack("!i", self._buffer[1:5])
            if len(self._buffer) < 1 + length:
                return
            body = bytes(self._buffer[5 : 1 + length])
            del self._buffer[: 1 + length]
            if kind == b"Q":
                self.round_trips += 1
                self.queries[_statement(body.rstrip(b"\0"))] += 1
            elif kind == b"S":
                self.round_trips += 1
            elif kind == b"P":  # Parse: name\0 query\0 ...; counted at its Sync
                query = body.split(b"\0", 2)[1]
                self.queries[f"prepare: {_statement(query)}"] += 1


def _statement(query: bytes) -> str:
    """The statement's first words: enough to tell BEGIN from a SELECT, without its values."""
    words = query.decode(errors="replace").split()
    return " ".join(words[:4])


class CountingProxy:
    """Forwards 127.0.0.1:<port> to PostgreSQL; ``snapshot()`` sums every connection so far."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._streams: list[ClientStream] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        self._ready.wait()
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()

    def snapshot(self) -> tuple[int, Counter[str]]:
        """Round trips and statements of every connection, open or closed, so far."""
        total, queries = 0, Counter[str]()
        for stream in list(self._streams):
            total += stream.round_trips
            queries.update(stream.queries)
        return total, queries

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stream = ClientStream()
        self._streams.append(stream)
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)

        async def pump(
            source: asyncio.StreamReader, sink: asyncio.StreamWriter, parse: bool
        ) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await source.read(65536):
                    if parse:
                        stream.feed(data)
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(
            pump(reader, upstream_writer, True), pump(upstream_reader, writer, False)
        )
