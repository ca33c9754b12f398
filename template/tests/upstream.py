"""A real HTTP server on loopback that answers as a test scripts it (tests/test_http.py)."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# An outcome: close the connection without answering.
DROP = "drop"


@dataclass
class Upstream:
    url: str
    outcomes: list[int | str]
    delay: float
    methods: list[str] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_outcome(self, method: str) -> int | str:
        with self.lock:
            self.methods.append(method)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            return self.outcomes.pop(0) if self.outcomes else 200

    def done(self) -> None:
        with self.lock:
            self.in_flight -= 1


@contextmanager
def upstream(*outcomes: int | str, delay: float = 0.0) -> Iterator[Upstream]:
    """A server answering each request with the next outcome (then 200), after ``delay`` s."""
    state = Upstream("", list(outcomes), delay)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, so the client's pool reuses connections

        def do_GET(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            outcome = state.next_outcome(self.command)
            time.sleep(state.delay)
            # Done before answering: once the client has the answer it may send
            # the next request, which must not find this one still counted.
            state.done()
            if outcome == DROP:
                self.close_connection = True
                return
            self.send_response(int(outcome))
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_PUT = do_POST = do_DELETE = do_GET  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            """No access log on the test's output."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
