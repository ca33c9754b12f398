"""The generated service under load, cold start and generator cost, against baselines of the same run.

    uv run python -m bench.service [--seconds 3] [--rounds 1] [--processes 2]
                                   [--connections 64 256] [--parts load coldstart generator]

load       renders the PostgreSQL service for the gunicorn target (--processes
           workers) and the kubernetes target (one uvicorn process, as a pod
           runs it), migrates and seeds a database of its own on the
           PostgreSQL server (--postgres), starts each under its production
           command and drives it with wrk on loopback: /livez, one item by id,
           a page of 20 items, a new item; at every --connections. Baselines,
           served the same way with the same process count and database:
             bare FastAPI   the service's own routes, lifespan and pool with no
                            middleware and no telemetry (the stack's cost)
             naive FastAPI  FastAPI + the SQLAlchemy async ORM + asyncpg as a team
                            writes it by hand (bench/common.py): what the
                            golden path must beat
             raw Starlette  Starlette + asyncpg, hand-written SQL and JSON (the
                            practical ceiling)
           Servers are interleaved within each round; the best round counts.
coldstart  import time of the Lambda handler module and of the gunicorn app,
           in fresh interpreters, against a bare FastAPI + Mangum app and a
           naive FastAPI + SQLAlchemy async + Mangum app (median of --imports).
generator  `copier copy` wall time for each answer set in ANSWER_SETS.

Prints markdown and writes it to bench/results/service.md. Nothing here
asserts timings; SPEC section 4's targets are shown beside the figures.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.common import (
    BENCH_APP_MODULE,
    NAIVE_APP_MODULE,
    RAW_APP_MODULE,
    ROOT,
    WrkResult,
    ensure_wrk,
    format_ratio,
    free_port,
    load_average,
    machine,
    markdown_table,
    median,
    publish,
    ratio,
    render,
    run_wrk,
    stop,
    verdict,
    wait_for,
)

TARGETS: dict[str, dict[str, Any]] = {
    "gunicorn": {"database": "postgresql", "deploy_target": "gunicorn"},
    "kubernetes": {"database": "postgresql", "deploy_target": "kubernetes"},
}
LAMBDA: dict[str, Any] = {"database": "postgresql", "deploy_target": "lambda"}

# `copier copy` is timed for each; add answers here as options land (a queue
# and broker, once copier.yml accepts them).
ANSWER_SETS: dict[str, dict[str, Any]] = {
    "default": {},
    "full": {
        "database": "postgresql",
        "db_pooler": "pgbouncer",
        "deploy_target": "kubernetes",
        "max_replicas": 8,
        "metrics": True,
        "tracing": True,
        "cors_origins": ["https://app.example.com"],
        "ci": "github",
        "catalog": True,
    },
}

SEEDED_ITEMS = 10_000
WRK_SCRIPTS = ROOT / "bench" / "wrk"
# name: (path, wrk script or None, whether the script takes the seeded count)
WORKLOADS: dict[str, tuple[str, str | None]] = {
    "/livez": ("/livez", None),
    "read one item": ("/api/v1/items/1", "read_one.lua"),
    "list a page": ("/api/v1/items", "list_page.lua"),
    "create an item": ("/api/v1/items", "create.lua"),
}

# Runs SQL on the bench's database server with the rendered project's asyncpg.
SQL_RUNNER = """
import asyncio, sys
import asyncpg

async def main(dsn, statement):
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""

# Timed in a fresh interpreter each: {package} is the rendered package.
BARE_MANGUM_APP = """
from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()
app.get("/livez")(lambda: {{"status": "ok"}})
handler = Mangum(app)
"""
# The SPEC's naive app: FastAPI, the SQLAlchemy async ORM and asyncpg, default style.
NAIVE_APP = """
from fastapi import FastAPI
from mangum import Mangum
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class ItemRead(BaseModel):
    id: int
    name: str


engine = create_async_engine("postgresql+asyncpg://app@localhost/app")
sessions = async_sessionmaker(engine)
app = FastAPI()


@app.get("/items/{{item_id}}")
async def get_item(item_id: int) -> ItemRead:
    async with sessions() as session:
        item = await session.get(Item, item_id)
        return ItemRead.model_validate(item, from_attributes=True)


handler = Mangum(app)
"""
COLD_STARTS: dict[str, tuple[str, str]] = {
    "Lambda handler module (import)": ("lambda", "import {package}.lambda_handler"),
    "Lambda handler + app built (first invocation, no I/O)": (
        "lambda",
        "import {package}.lambda_handler\nfrom {package}.main import create_app\ncreate_app()",
    ),
    "gunicorn worker's app (import + create_app())": (
        "gunicorn",
        "from {package}.main import create_app\ncreate_app()",
    ),
    "bare FastAPI + Mangum": ("lambda", BARE_MANGUM_APP),
    "naive FastAPI + SQLAlchemy async + Mangum": ("lambda", NAIVE_APP),
}
COLD_START_BASELINES = ("bare FastAPI + Mangum", "naive FastAPI + SQLAlchemy async + Mangum")
TIMED = (
    "import time\n_started = time.perf_counter()\n{code}\nprint(time.perf_counter() - _started)\n"
)


@dataclass(frozen=True)
class Server:
    name: str
    processes: int
    project: Path
    command: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    baseline: bool = False


def venv(project: Path, name: str) -> str:
    return str(project / ".venv" / "bin" / name)


def run_sql(project: Path, dsn: str, statement: str) -> None:
    subprocess.run([venv(project, "python"), "-c", SQL_RUNNER, dsn, statement], check=True)


def migrate_and_seed(project: Path, dsn: str, env: Mapping[str, str]) -> None:
    """The service's migrations, then SEEDED_ITEMS rows for the reads to find."""
    subprocess.run(
        [venv(project, "python"), "-m", "orders_api.migrate"],
        cwd=project,
        env={**os.environ, **env},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    run_sql(
        project,
        dsn,
        "INSERT INTO items (name, description, created_at) SELECT 'seed-' || n, "  # noqa: S608 - a constant
        f"'seeded', now() FROM generate_series(1, {SEEDED_ITEMS}) AS n",
    )


@contextmanager
def bench_database(project: Path, server_dsn: str) -> Iterator[str]:
    """A database of its own on the server; dropped at the end."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    run_sql(project, server_dsn, f"CREATE DATABASE {name}")
    try:
        yield server_dsn.rsplit("/", 1)[0] + f"/{name}"
    finally:
        run_sql(project, server_dsn, f"DROP DATABASE {name} WITH (FORCE)")


def pool_size(project: Path) -> int:
    """Connections one service process may hold: the raw app gets as many."""
    code = "from orders_api.settings import Settings as S; s = S(); print(s.db_pool_size + s.db_max_overflow)"
    output = subprocess.run(
        [venv(project, "python"), "-c", code],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(output.stdout.split()[-1])


def baseline_command(project: Path, app: str, processes: int, port: int) -> tuple[str, ...]:
    """Served as the targets are: one uvicorn process, or the target's own gunicorn config."""
    if processes == 1:
        return (
            venv(project, "uvicorn"), app, "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log", "--log-level", "warning",
        )  # fmt: skip
    # gunicorn.conf.py (workers from WEB_CONCURRENCY, keepalive, max_requests) with
    # another app: the server is the same, only the app differs.
    return (venv(project, "gunicorn"), "-c", "gunicorn.conf.py", app)


def servers(projects: Mapping[str, Path], processes: int, port: int) -> list[Server]:
    gunicorn, kubernetes = projects["gunicorn"], projects["kubernetes"]
    found = [
        Server(
            "gunicorn target",
            processes,
            gunicorn,
            (venv(gunicorn, "gunicorn"), "-c", "gunicorn.conf.py"),
        ),
        Server(
            "kubernetes target",
            1,
            kubernetes,
            (venv(kubernetes, "python"), "-m", "orders_api.serve"),
        ),
    ]
    for count in sorted({server.processes for server in found}):
        found += [
            Server(
                "bare FastAPI",
                count,
                gunicorn,
                baseline_command(gunicorn, "bench_app:app", count, port),
                {"BENCH_BARE": "1"},
                baseline=True,
            ),
            Server(
                NAIVE,
                count,
                gunicorn,
                baseline_command(gunicorn, "naive_app:app", count, port),
                baseline=True,
            ),
            Server(
                "raw Starlette + asyncpg",
                count,
                gunicorn,
                baseline_command(gunicorn, "raw_app:app", count, port),
                baseline=True,
            ),
        ]
    return found


Key = tuple[str, int, str, int]  # server, processes, workload, connections
NAIVE = "naive FastAPI + SQLAlchemy"


def measure_load(
    args: argparse.Namespace, scratch: Path
) -> tuple[dict[Key, WrkResult], dict[Key, int]]:
    ensure_wrk()
    projects = {name: render(scratch / name, answers) for name, answers in TARGETS.items()}
    gunicorn = projects["gunicorn"]
    (gunicorn / "bench_app.py").write_text(BENCH_APP_MODULE)
    (gunicorn / "raw_app.py").write_text(RAW_APP_MODULE)
    (gunicorn / "naive_app.py").write_text(NAIVE_APP_MODULE)
    best: dict[Key, WrkResult] = {}
    errors: dict[Key, int] = {}
    with bench_database(gunicorn, args.postgres) as dsn:
        env = {
            "DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
            "RAW_DSN": dsn,
            "RAW_POOL_SIZE": str(pool_size(gunicorn)),
            # The naive app's pool holds as many connections as the service's.
            "BENCH_POOL_SIZE": str(pool_size(gunicorn) // 2),
            "BENCH_MAX_OVERFLOW": str(pool_size(gunicorn) - pool_size(gunicorn) // 2),
            "HOST": "127.0.0.1",
            "LOG_LEVEL": "INFO",
            # The middleware and metrics stack; tracing's cost is in middleware_overhead.py.
            "OTEL_SDK_DISABLED": "true",
            "PROMETHEUS_MULTIPROC_DIR": str(scratch / "prometheus"),
            **dict(item.split("=", 1) for item in args.env),
        }
        migrate_and_seed(gunicorn, dsn, env)
        for round_number in range(args.rounds):
            port = free_port()
            # Interleaved: drift on a shared machine hits every server alike.
            for server in servers(projects, args.processes, port):
                run_server(
                    server, {**env, "PORT": str(port)}, port, args, round_number, best, errors
                )
    return best, errors


def run_server(
    server: Server,
    env: Mapping[str, str],
    port: int,
    args: argparse.Namespace,
    round_number: int,
    best: dict[Key, WrkResult],
    errors: dict[Key, int],
) -> None:
    (server.project.parent / "prometheus").mkdir(exist_ok=True)
    process = subprocess.Popen(
        server.command,
        cwd=server.project,
        env={**os.environ, **env, "WEB_CONCURRENCY": str(server.processes), **server.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/livez", process)
        # Every process up, pools warm: a second of reads, not counted.
        run_wrk(f"{base}/api/v1/items/1", 1, 64, WRK_SCRIPTS / "read_one.lua", [str(SEEDED_ITEMS)])
        for (workload, (path, script)), connections in itertools.product(
            WORKLOADS.items(), args.connections
        ):
            script_args = [str(SEEDED_ITEMS)]
            if script == "create.lua":
                script_args = [f"{uuid.uuid4().hex[:8]}-r{round_number}"]
            result = run_wrk(
                base + path,
                args.seconds,
                connections,
                WRK_SCRIPTS / script if script else None,
                script_args if script else (),
            )
            key = (server.name, server.processes, workload, connections)
            errors[key] = errors.get(key, 0) + result.errors
            if key not in best or result.requests_per_second > best[key].requests_per_second:
                best[key] = result
            print(
                f"  {server.name} x{server.processes} {workload} c{connections}: "
                f"{result.requests_per_second:.0f} req/s, {result.errors} errors",
                file=sys.stderr,
            )
    finally:
        stop(process)


def load_report(best: Mapping[Key, WrkResult], errors: Mapping[Key, int]) -> list[str]:
    rows = []
    for (name, processes, workload, connections), result in best.items():
        bare = best.get(("bare FastAPI", processes, workload, connections))
        naive = best.get((NAIVE, processes, workload, connections))
        raw = best.get(("raw Starlette + asyncpg", processes, workload, connections))
        rps = result.requests_per_second
        rows.append(
            [
                workload,
                connections,
                name,
                processes,
                f"{rps:.0f}",
                f"{result.p50_ms:.1f}",
                f"{result.p99_ms:.1f}",
                errors[(name, processes, workload, connections)],
                result.timeouts,
                format_ratio(ratio(rps, bare.requests_per_second) if bare else None),
                format_ratio(ratio(rps, naive.requests_per_second) if naive else None),
                format_ratio(ratio(rps, raw.requests_per_second) if raw else None),
            ]
        )
    rows.sort(key=lambda row: (list(WORKLOADS).index(str(row[0])), row[1], str(row[2]), row[3]))
    headers = [
        "workload",
        "connections",
        "server",
        "processes",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "timeouts",
        "vs bare FastAPI",
        "vs naive",
        "vs raw Starlette",
    ]
    return [markdown_table(headers, rows), "", *targets_report(best, errors)]


def targets_report(best: Mapping[Key, WrkResult], errors: Mapping[Key, int]) -> list[str]:
    """SPEC section 4's targets, read off the table: the worst case over targets and connections."""

    def ratios(workload: str, baseline: str) -> list[float]:
        found = []
        for (name, processes, measured, connections), result in best.items():
            base = best.get((baseline, processes, measured, connections))
            if measured == workload and name.endswith("target") and base:
                found.append(result.requests_per_second / base.requests_per_second)
        return found

    # (label, workload, baseline, bound, at least or at most): a ratio of
    # throughputs, or for the stack the share of the bare app's it loses.
    ratio_targets = (
        ("read one item vs the naive app", "read one item", NAIVE, 1.0, True),
        ("list a page vs the naive app", "list a page", NAIVE, 1.0, True),
        ("create an item vs the naive app", "create an item", NAIVE, 1.0, True),
        ("read path vs raw ceiling", "read one item", "raw Starlette + asyncpg", 0.40, True),
        ("stack cost, trivial route (/livez)", "/livez", "bare FastAPI", 0.15, False),
        ("stack cost, database route", "read one item", "bare FastAPI", 0.05, False),
    )
    rows = []
    for label, workload, baseline, bound, at_least in ratio_targets:
        found = ratios(workload, baseline)
        if at_least:
            shown = [f">= {bound:.2f}x", _span(found, "{:.2f}x"), verdict(found, at_least=bound)]
        else:
            found = [1 - value for value in found]
            shown = [f"<= {bound:.0%}", _span(found, "{:.0%}"), verdict(found, at_most=bound)]
        rows.append([label, *shown])
    most = max(connections for *_, connections in best)
    # The services' own: a baseline's errors say nothing about the golden path.
    failures = sum(
        count for key, count in errors.items() if key[3] == most and key[0].endswith("target")
    )
    rows.append(
        [
            f"errors or timeouts at {most} connections (G and K)",
            "0",
            str(failures),
            verdict([failures], at_most=0),
        ]
    )
    return [
        markdown_table(
            [
                "target (SPEC section 4, issue #17)",
                "target",
                "measured (range over targets)",
                "worst case",
            ],
            rows,
        )
    ]


def _span(values: list[float], template: str) -> str:
    if not values:
        return "n/a"
    low, high = min(values), max(values)
    return (
        template.format(low)
        if low == high
        else f"{template.format(low)} to {template.format(high)}"
    )


def measure_cold_start(args: argparse.Namespace, scratch: Path) -> list[str]:
    projects = {
        "lambda": render(scratch / "lambda", LAMBDA),
        "gunicorn": scratch / "gunicorn"
        if (scratch / "gunicorn" / ".venv").exists()
        else render(scratch / "gunicorn", TARGETS["gunicorn"]),
    }
    timings: dict[str, list[float]] = {name: [] for name in COLD_STARTS}
    env = {**os.environ, "OTEL_SDK_DISABLED": "false", "LOG_LEVEL": "WARNING"}
    for _ in range(args.imports):
        for name, (project, code) in COLD_STARTS.items():  # interleaved
            timed = TIMED.format(code=code.format(package="orders_api"))
            output = subprocess.run(
                [venv(projects[project], "python"), "-c", timed],
                cwd=projects[project],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            timings[name].append(float(output.split()[-1]))
    medians = {name: median(values) for name, values in timings.items()}
    rows = [
        [name, f"{seconds * 1000:.0f}"]
        + [format_ratio(ratio(seconds, medians[base])) for base in COLD_START_BASELINES]
        for name, seconds in medians.items()
    ]
    headers = ["module", "median ms", *(f"vs {base}" for base in COLD_START_BASELINES)]
    return [markdown_table(headers, rows)]


def measure_generator(args: argparse.Namespace, scratch: Path) -> list[str]:
    copier = str(Path(sys.executable).parent / "copier")
    timings: dict[str, list[float]] = {name: [] for name in ANSWER_SETS}
    for attempt in range(args.copies):
        for name, answers in ANSWER_SETS.items():
            data = scratch / f"{name}.yml"
            data.write_text(
                yaml.safe_dump({"project_name": "Orders API", "owner": "group:bench", **answers})
            )
            started = time.perf_counter()
            subprocess.run(
                [
                    copier,
                    "copy",
                    "--trust",
                    "--defaults",
                    "--quiet",
                    "--vcs-ref",
                    "HEAD",
                    "--data-file",
                    str(data),
                    str(ROOT),
                    str(scratch / f"copy-{name}-{attempt}"),
                ],
                check=True,
            )
            timings[name].append(time.perf_counter() - started)
    rows = [
        [
            name,
            ", ".join(f"{k}={v}" for k, v in ANSWER_SETS[name].items()) or "(defaults)",
            f"{median(values):.2f}",
        ]
        for name, values in timings.items()
    ]
    return [markdown_table(["answer set", "answers", "copier copy, median s"], rows)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3, help="per workload and connection count")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds; best counts")
    parser.add_argument("--processes", type=int, default=2, help="gunicorn and baseline workers")
    parser.add_argument("--connections", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--imports", type=int, default=7, help="fresh interpreters per module")
    parser.add_argument("--copies", type=int, default=3, help="copier copy runs per answer set")
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a server the bench may create and drop a database on (loopback only)",
    )
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for every server")
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=["load", "coldstart", "generator"],
        default=["load", "coldstart", "generator"],
    )
    args = parser.parse_args()

    lines = ["# Service benchmarks", "", f"Machine: {machine()}.", ""]
    with tempfile.TemporaryDirectory() as directory:
        scratch = Path(directory)
        if "load" in args.parts:
            best, errors = measure_load(args, scratch)
            lines += [
                "## Under load",
                "",
                (
                    f"wrk -t2 -d{args.seconds}s --latency on loopback, best of {args.rounds} "
                    f"interleaved rounds; {SEEDED_ITEMS} items seeded; tracing off "
                    "(OTEL_SDK_DISABLED), access line at INFO to /dev/null."
                ),
                "",
                *load_report(best, errors),
                "",
            ]
        if "coldstart" in args.parts:
            lines += ["## Cold start", "", *measure_cold_start(args, scratch), ""]
        if "generator" in args.parts:
            lines += ["## Generator", "", *measure_generator(args, scratch), ""]
    lines += [f"Load average after the run: {load_average()}.", ""]
    report = "\n".join(lines)
    publish("service.md", report)


if __name__ == "__main__":
    main()
