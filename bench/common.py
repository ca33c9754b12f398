"""What every benchmark here shares: rendering, serving, wrk, and the markdown tables.

The pure functions (parse_wrk, ratio, markdown_table, median) are tested in
tests/test_bench.py; everything else drives real processes.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from copier import run_copy
from uv import find_uv_bin

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"

# Served beside the rendered service (as bench_app:app): the service as
# generated, or with BENCH_BARE=1 the same routes, lifespan and database with
# no middleware and no telemetry; both with a trivial route that logs.
BENCH_APP_MODULE = """
import os

from fastapi import FastAPI

from orders_api.api import api_router
from orders_api.health import router as health_router
from orders_api.lifespan import lifespan
from orders_api.main import create_app
from orders_api.settings import Settings


async def trivial() -> dict[str, bool]:
    return {"ok": True}


if os.environ.get("BENCH_BARE") == "1":
    # The baseline: the same routes, lifespan and database; no middleware, no
    # telemetry (no tracer provider is ever configured in this process).
    app = FastAPI(lifespan=lifespan)
    app.state.settings = Settings()
    app.include_router(health_router)
    app.include_router(api_router)
else:
    app = create_app()
app.get("/bench/trivial")(trivial)
"""


# The naive app the golden path must beat (issue #17): what a team writes by
# hand with FastAPI, the SQLAlchemy async ORM and asyncpg, in the default style:
# a session per request, pre-ping on, session.get, response_model, no
# middleware. The pool is sized as the service's (BENCH_POOL_SIZE, BENCH_MAX_OVERFLOW).
NAIVE_APP_MODULE = """
import os
from datetime import UTC, datetime

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict
from sqlalchemy import DateTime, String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(String(2000))
    # Set in Python, as the service does: no read-back after the INSERT.
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC)
    )


class ItemCreate(BaseModel):
    name: str
    description: str | None = None


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    description: str | None
    created_at: datetime


class ItemPage(BaseModel):
    items: list[ItemRead]
    next_after: int | None


engine = create_async_engine(
    os.environ["DATABASE_URL"],
    pool_size=int(os.environ["BENCH_POOL_SIZE"]),
    max_overflow=int(os.environ["BENCH_MAX_OVERFLOW"]),
    pool_pre_ping=True,
)
sessions = async_sessionmaker(engine, expire_on_commit=False)
app = FastAPI()


async def get_session():
    async with sessions() as session:
        yield session


@app.get("/livez")
async def livez():
    return {"status": "ok"}


@app.get("/api/v1/items/{item_id}", response_model=ItemRead)
async def get_item(item_id: int, session: AsyncSession = Depends(get_session)):
    item = await session.get(Item, item_id)
    if item is None:
        raise HTTPException(404, "not found")
    return item


@app.get("/api/v1/items", response_model=ItemPage)
async def list_items(
    limit: int = 20, after: int | None = None, session: AsyncSession = Depends(get_session)
):
    query = select(Item).order_by(Item.id).limit(limit + 1)
    if after is not None:
        query = query.where(Item.id > after)
    rows = (await session.scalars(query)).all()
    return {"items": rows[:limit], "next_after": rows[limit - 1].id if len(rows) > limit else None}


@app.post("/api/v1/items", response_model=ItemRead, status_code=201)
async def create_item(payload: ItemCreate, session: AsyncSession = Depends(get_session)):
    item = Item(name=payload.name, description=payload.description)
    session.add(item)
    await session.commit()
    return item
"""


# The practical ceiling: what the same four endpoints cost with nothing but
# Starlette, an asyncpg pool, and SQL written by hand.
RAW_APP_MODULE = """
import os
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

COLUMNS = "id, name, description, created_at"


@asynccontextmanager
async def lifespan(app):
    size = int(os.environ["RAW_POOL_SIZE"])
    app.state.pool = await asyncpg.create_pool(os.environ["RAW_DSN"], min_size=size, max_size=size)
    yield
    await app.state.pool.close()


def as_json(row):
    return {**dict(row), "created_at": row["created_at"].isoformat()}


async def livez(request):
    return JSONResponse({"status": "ok"})


async def get_item(request):
    row = await request.app.state.pool.fetchrow(
        f"SELECT {COLUMNS} FROM items WHERE id = $1", int(request.path_params["item_id"])
    )
    if row is None:
        return JSONResponse({"detail": "not found"}, status_code=404)
    return JSONResponse(as_json(row))


async def list_items(request):
    limit = int(request.query_params.get("limit", 20))
    after = int(request.query_params.get("after", 0))
    rows = await request.app.state.pool.fetch(
        f"SELECT {COLUMNS} FROM items WHERE id > $1 ORDER BY id LIMIT $2", after, limit + 1
    )
    items = [as_json(row) for row in rows[:limit]]
    return JSONResponse({"items": items, "next_after": items[-1]["id"] if len(rows) > limit else None})


async def create_item(request):
    body = await request.json()
    row = await request.app.state.pool.fetchrow(
        f"INSERT INTO items (name, description, created_at) VALUES ($1, $2, now()) RETURNING {COLUMNS}",
        body["name"],
        body.get("description"),
    )
    return JSONResponse(as_json(row), status_code=201)


app = Starlette(
    routes=[
        Route("/livez", livez),
        Route("/api/v1/items/{item_id:int}", get_item),
        Route("/api/v1/items", list_items),
        Route("/api/v1/items", create_item, methods=["POST"]),
    ],
    lifespan=lifespan,
)
"""


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
_DURATION = r"([\d.]+)(us|ms|s|m)\b"


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: throughput, latency percentiles (ms) and everything that was not a 2xx/3xx."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    timeouts: int

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def publish(name: str, report: str) -> None:
    """Write ``report`` to bench/results/``name`` and print it."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / name).write_text(report)
    sys.stdout.write(report)


def _milliseconds(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def parse_wrk(output: str) -> WrkResult:
    """Read wrk's report (run with --latency)."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    requests = re.search(r"(\d+) requests in", output)
    p50 = re.search(rf"^\s+50%\s+{_DURATION}", output, re.MULTILINE)
    p99 = re.search(rf"^\s+99%\s+{_DURATION}", output, re.MULTILINE)
    if not (rps and requests and p50 and p99):
        raise ValueError(f"not a wrk --latency report:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    counts = [int(group) for group in sockets.groups()] if sockets else [0, 0, 0, 0]
    return WrkResult(
        requests_per_second=float(rps.group(1)),
        p50_ms=_milliseconds(*p50.groups()),
        p99_ms=_milliseconds(*p99.groups()),
        requests=int(requests.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(counts),
        timeouts=counts[3],
    )


def ratio(measured: float, baseline: float) -> float | None:
    """measured / baseline; None where the baseline is missing or zero."""
    return measured / baseline if baseline else None


def format_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def verdict(
    values: Sequence[float], at_least: float | None = None, at_most: float | None = None
) -> str:
    """Whether every measured value meets its target: the worst case decides."""
    if not values:
        return "not measured"
    met = (at_least is None or min(values) >= at_least) and (
        at_most is None or max(values) <= at_most
    )
    return "met" if met else "**not met**"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table; every cell through str()."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"{len(row)} cells for {len(headers)} columns: {row!r}")
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    return "\n".join(lines)


def machine() -> str:
    """What the figures were measured on, including how busy it was."""
    load = load_average()
    cpu = platform.processor() or platform.machine()
    model = _cpu_model()
    return (
        f"{model or cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average before the run: {load}"
    )


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the machine was with others' work."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def _cpu_model() -> str | None:
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return None
    found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
    return found.group(1).strip() if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_wrk() -> str:
    """wrk from Debian's packages: one C process that can saturate a server on two cores."""
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return "wrk"


def run_wrk(
    url: str,
    seconds: int,
    connections: int,
    script: Path | None = None,
    script_args: Sequence[str] = (),
) -> WrkResult:
    """Drive ``url`` for ``seconds``; a request slower than 10 s counts as a timeout (hung)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(url)
    if script_args:
        command += ["--", *script_args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def uv_env(python: str = sys.executable) -> dict[str, str]:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_PYTHON": python}
    env.pop("VIRTUAL_ENV", None)
    return env


def render(
    destination: Path, answers: Mapping[str, Any] | None = None, *, sync: bool = True
) -> Path:
    """Render the working tree (uncommitted changes included) and sync its runtime dependencies."""
    run_copy(
        str(ROOT),
        destination,
        data={
            "project_name": "Orders API",
            "owner": "group:bench",
            # The Python running this script, so no other interpreter is needed.
            "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
            **(answers or {}),
        },
        defaults=True,
        unsafe=True,
        quiet=True,
        vcs_ref="HEAD",
    )
    if sync:
        subprocess.run(
            [find_uv_bin(), "sync", "--quiet", "--no-dev"],
            cwd=destination,
            env=uv_env(),
            check=True,
        )
    return destination


def wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Until ``url`` answers 200; fails early if the server exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
