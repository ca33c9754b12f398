"""A TCP proxy the tests control: a dependency that goes away, freezes, and comes back.

- stop(): refuse new connections and cut the open ones, like a server that died.
- black_hole(): accept connections and keep them open, but forward nothing either
  way, like a frozen server (SIGSTOP) or a network that drops packets.
- start() after stop(), or resume() after black_hole(): the dependency is back;
  what a black hole held is delivered then, as TCP retransmits it.
"""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0  # chosen by the OS at the first start, reused after
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def start(self) -> None:
        self._flowing.set()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    def black_hole(self) -> None:
        """Stop forwarding, without closing anything or refusing anyone."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    async def stop(self) -> None:
        """Refuse new connections and cut the open ones, like a database going down."""
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()
        for task in list(self._tasks):
            task.cancel()
        self._flowing.set()
        await self._server.wait_closed()
        self._server = None

    async def _handle(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(client)
        try:
            await self._flowing.wait()  # a frozen server accepts, then never answers
            try:
                upstream_reader, upstream = await asyncio.open_connection(*self.target)
            except OSError:
                client.close()
                return
            self._writers.add(upstream)
            await asyncio.gather(
                self._pipe(client_reader, upstream), self._pipe(upstream_reader, client)
            )
        except asyncio.CancelledError:
            client.close()
        finally:
            self._tasks.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        writer.close()
