"""bench/'s pure parts: wrk's report, ratios and tables. The benchmarks themselves
are run by hand (README) and never timed in tests."""

from __future__ import annotations

import asyncio
import struct
import time
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

import pytest

from bench.common import WrkResult, format_ratio, markdown_table, parse_wrk, ratio
from bench.inprocess import overhead, paired, stack_report
from bench.inprocess_driver import StackClock
from bench.pgcount import SSL_REQUEST, ClientStream
from bench.service import NAIVE, Key, targets_report

WRK_REPORT = """\
Running 3s test @ http://127.0.0.1:8000/api/v1/items/1
  2 threads and 256 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    52.10ms   10.00ms 420.00ms   90.00%
    Req/Sec     2.40k   200.00     2.90k    70.00%
  Latency Distribution
     50%  850.00us
     75%   60.00ms
     90%   70.00ms
     99%    1.20s
  14400 requests in 3.00s, 4.10MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   4800.50
Transfer/sec:      1.37MB
"""


def test_parses_wrk_latency_report() -> None:
    result = parse_wrk(WRK_REPORT)
    assert result.requests_per_second == 4800.50
    assert result.requests == 14400
    assert result.p50_ms == pytest.approx(0.85)
    assert result.p99_ms == pytest.approx(1200.0)
    assert (result.non_2xx, result.socket_errors, result.timeouts) == (7, 5, 2)
    assert result.errors == 12


def test_clean_wrk_report_has_no_errors() -> None:
    clean = "\n".join(
        line for line in WRK_REPORT.splitlines() if "errors" not in line and "Non-2xx" not in line
    )
    assert parse_wrk(clean).errors == 0


def test_rejects_a_report_without_latency_distribution() -> None:
    with pytest.raises(ValueError, match="--latency"):
        parse_wrk("Requests/sec: 10\n")


def test_ratios() -> None:
    assert ratio(40.0, 100.0) == 0.4
    assert ratio(40.0, 0.0) is None
    assert format_ratio(0.4) == "0.40x"
    assert format_ratio(None) == "n/a"


def test_markdown_table() -> None:
    table = markdown_table(["a", "b"], [[1, "x"], [2.5, None]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| 1 | x |", "| 2.5 | None |"]
    with pytest.raises(ValueError, match="3 cells for 2 columns"):
        markdown_table(["a", "b"], [[1, 2, 3]])


def wrk_result(rps: float) -> WrkResult:
    return WrkResult(rps, 1.0, 2.0, int(rps), 0, 0, 0)


def test_targets_read_off_the_worst_case() -> None:
    best: dict[Key, WrkResult] = {}
    for connections in (64, 256):
        best[("raw Starlette + asyncpg", 1, "read one item", connections)] = wrk_result(1000)
        best[("bare FastAPI", 1, "read one item", connections)] = wrk_result(500)
        best[("bare FastAPI", 1, "/livez", connections)] = wrk_result(2000)
        best[(NAIVE, 1, "read one item", connections)] = wrk_result(400)
        best[("kubernetes target", 1, "/livez", connections)] = wrk_result(1800)
    best[("kubernetes target", 1, "read one item", 64)] = wrk_result(450)
    best[("kubernetes target", 1, "read one item", 256)] = wrk_result(400)
    errors = dict.fromkeys(best, 0) | {
        ("kubernetes target", 1, "read one item", 256): 3,
        ("raw Starlette + asyncpg", 1, "read one item", 256): 5,  # a baseline's: not counted
    }
    table = targets_report(best, errors)[0]
    assert "| read one item vs the naive app | >= 1.00x | 1.00x to 1.12x |" in table
    assert "| list a page vs the naive app | >= 1.00x | n/a |" in table
    assert "| read path vs raw ceiling | >= 0.40x | 0.40x to 0.45x |" in table
    assert "| stack cost, trivial route (/livez) | <= 15% | 10% |" in table
    assert "| stack cost, database route | <= 5% | 10% to 20% |" in table
    assert "| errors or timeouts at 256 connections (G and K) | 0 | 3 |" in table


def message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def test_pg_round_trips_counted_from_a_split_stream() -> None:
    ssl_request = struct.pack("!ii", 8, SSL_REQUEST)
    startup = struct.pack("!ii", 12, 196608) + b"u\0\0\0"
    stream = (
        ssl_request
        + startup
        + message(b"Q", b"BEGIN;\0")
        + message(b"P", b"s1\0SELECT items.id FROM items WHERE id = $1\0\0\0")
        + message(b"B", b"\0s1\0\0\0\0\0\0\0")
        + message(b"E", b"\0\0\0\0\0")
        + message(b"S", b"")
        + message(b"Q", b"ROLLBACK\0")
    )
    parsed = ClientStream()
    for offset in range(0, len(stream), 3):  # messages split anywhere
        parsed.feed(stream[offset : offset + 3])
    assert parsed.round_trips == 3
    assert parsed.queries == {
        "BEGIN;": 1,
        "ROLLBACK": 1,
        "prepare: SELECT items.id FROM items": 1,
    }


def test_inprocess_ratios_are_medians_of_paired_batches() -> None:
    samples = {"G": [1.0, 2.0, 4.0], "N": [1.0, 3.0, 2.0]}
    assert paired(samples, "G", "N") == 1.0  # N/G per batch: 1.0, 1.5, 0.5
    assert overhead(samples, "G", "N") == 0.0  # G/N - 1: 0.0, -0.33, 1.0
    assert paired(samples, "G", "R") is None


def test_the_stack_timed_in_place_is_priced_against_the_request_it_wraps() -> None:
    # bare's read 1000 µs less the driver's 200: the stack's 40 µs is 5%, 48 µs is 6%.
    samples = {
        "read": {"bare": [1e-3, 1e-3], "null": [2e-4, 2e-4]},
        "livez": {"bare": [3e-4], "null": [2e-4]},
    }
    stack = {"read": {"G": [48.0, 47.0, 49.0], "K": [40.0]}, "livez": {"G": [10.0], "K": [20.0]}}
    lines = stack_report(samples, stack)
    text = "\n".join(lines)
    assert "| read one item | G | 48.0 | 800 | +6% |" in text
    assert "| read one item | K | 40.0 | 800 | +5% |" in text
    assert "| /livez | K | 20.0 | 100 | +20% |" in text
    assert lines[-2] == (
        "Stack cost timed in place: /livez (<= 15%): **not met**; "
        "read one item (<= 5%): **not met**."
    )
    assert stack_report({"read": {}}, {}) == []


def test_the_stack_clock_times_the_middleware_s_own_code_not_the_app_s() -> None:
    now = 0

    def tick(by: int) -> None:
        nonlocal now
        now += by

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        tick(1_000)  # the app's own work, inside the middleware
        await asyncio.sleep(0)

    class RequestContextMiddleware:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            tick(30)  # the middleware's own work, around the app
            await self.app(scope, receive, send)
            tick(20)

    service = SimpleNamespace(user_middleware=[SimpleNamespace(cls=RequestContextMiddleware)])
    clock = StackClock()
    assert clock.install(service)
    assert not StackClock().install(SimpleNamespace(user_middleware=[]))
    middleware = service.user_middleware[0].cls(app)

    async def serve() -> None:
        await asyncio.gather(*(middleware({"type": "http"}, None, None) for _ in range(3)))
        await middleware({"type": "lifespan"}, None, None)

    with patch.object(time, "perf_counter_ns", lambda: now):
        asyncio.run(serve())
    assert clock.requests == 3
    assert clock.own_ns == 3 * 50  # the lifespan is not a request, and lasts as long as the process
