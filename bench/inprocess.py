"""CPU time per request, driven in-process: the generated service against the naive and raw apps.

    uv run python -m bench.inprocess [--processes 3] [--batches 8] [--requests 200]
                                     [--concurrency 4] [--project DIR] [--postgres DSN]

wrk on two shared cores measures the machine's load as much as the server: here
each app runs in a process of its own, is called through httpx's ASGI
transport (no sockets, no HTTP parsing: the same for every app), and reports
time.process_time() per request over each batch. The processes take turns,
batch by batch, so drift on a busy machine hits them alike; the ratios are the
medians of the per-batch ratios, pooled over --processes sets of fresh
processes (a process's memory layout biases it by several percent for life).
The apps, on one PostgreSQL database seeded with 10,000 items:

  G      the rendered PostgreSQL service as a gunicorn worker runs it
         (production settings, INFO access lines to a file, metrics in
         prometheus_client's multiprocess mode, tracing off)
  K      the same as one uvicorn process runs it (metrics in memory)
  bare   the service's routes, lifespan and pool with no middleware and no
         telemetry: G / bare is what the stack costs
  N      the naive FastAPI + SQLAlchemy async ORM app (bench/common.py)
  R      Starlette + raw asyncpg (bench/common.py): the practical ceiling
  null   an ASGI app that answers {} at once: the driver's own cost per request

Then each app serves 100 requests per workload through a proxy that counts
PostgreSQL round trips (bench/pgcount.py). Prints markdown and writes it to
bench/results/inprocess.md. Nothing here asserts timings.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from bench.common import (
    BENCH_APP_MODULE,
    NAIVE_APP_MODULE,
    RAW_APP_MODULE,
    ROOT,
    format_ratio,
    load_average,
    machine,
    markdown_table,
    median,
    publish,
    render,
    verdict,
)
from bench.pgcount import CountingProxy
from bench.service import (
    SEEDED_ITEMS,
    TARGETS,
    bench_database,
    migrate_and_seed,
    pool_size,
    venv,
)

DRIVER = ROOT / "bench" / "inprocess_driver.py"
NULL_APP_MODULE = """
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})
"""
WORKLOADS = {
    "livez": "/livez",
    "read": "read one item",
    "list": "list a page of 20",
    "create": "create an item",
}
DATABASE_WORKLOADS = ("read", "list", "create")


@dataclass(frozen=True)
class App:
    name: str
    spec: str
    env: Mapping[str, str] = field(default_factory=dict)


def apps(scratch: Path) -> list[App]:
    return [
        App(
            "G",
            "orders_api.main:create_app()",
            {"PROMETHEUS_MULTIPROC_DIR": str(scratch / "prometheus")},
        ),
        App("K", "orders_api.main:create_app()"),
        App("bare", "bench_app:app", {"BENCH_BARE": "1"}),
        App("N", "naive_app:app"),
        App("R", "raw_app:app"),
        App("null", "null_app:app"),
    ]


class Driver:
    """One app's process (bench/inprocess_driver.py), commanded a batch at a time."""

    def __init__(self, project: Path, app: App, env: Mapping[str, str], log: Path) -> None:
        self.app = app
        self.process = subprocess.Popen(
            [venv(project, "python"), str(DRIVER), app.spec, str(log)],
            cwd=project,
            env={**os.environ, **env, **app.env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self._answer().get("ready") is not True:
            raise RuntimeError(f"{app.name} did not start")

    def _answer(self) -> dict[str, Any]:
        stdout: IO[str] | None = self.process.stdout
        if stdout is None:
            raise RuntimeError("no pipe")
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"{self.app.name} exited with {self.process.wait()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def run(self, workload: str, requests: int, concurrency: int) -> dict[str, Any]:
        stdin: IO[str] | None = self.process.stdin
        if stdin is None:
            raise RuntimeError("no pipe")
        command = {"workload": workload, "requests": requests, "concurrency": concurrency}
        stdin.write(json.dumps(command) + "\n")
        stdin.flush()
        return self._answer()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.write("\n")
            self.process.stdin.close()
        self.process.wait(timeout=30)


def prepare(project: Path) -> None:
    for name, module in {
        "bench_app.py": BENCH_APP_MODULE,
        "naive_app.py": NAIVE_APP_MODULE,
        "raw_app.py": RAW_APP_MODULE,
        "null_app.py": NULL_APP_MODULE,
    }.items():
        (project / name).write_text(module)


def environment(project: Path, dsn: str, scratch: Path) -> dict[str, str]:
    size = pool_size(project)
    (scratch / "prometheus").mkdir(exist_ok=True)
    return {
        "DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
        "RAW_DSN": dsn,
        "RAW_POOL_SIZE": str(size),
        "BENCH_POOL_SIZE": str(size // 2),
        "BENCH_MAX_OVERFLOW": str(size - size // 2),
        "BENCH_SEEDED_ITEMS": str(SEEDED_ITEMS),
        "ENVIRONMENT": "production",
        "LOG_LEVEL": "INFO",
        "OTEL_SDK_DISABLED": "true",
    }


@contextmanager
def drivers(
    project: Path, chosen: Sequence[App], env: Mapping[str, str], scratch: Path
) -> Iterator[list[Driver]]:
    with ExitStack() as stack:
        started = []
        for app in chosen:
            driver = Driver(project, app, env, scratch / f"{app.name}.log")
            stack.callback(driver.close)
            started.append(driver)
        yield started


Samples = dict[str, dict[str, list[float]]]  # workload -> app -> CPU seconds per request


def measure_cpu(
    project: Path, env: Mapping[str, str], scratch: Path, args: argparse.Namespace
) -> tuple[Samples, Samples, dict[str, int]]:
    """CPU seconds per request, and the stack's own µs per request where the driver timed it."""
    samples: Samples = {workload: {} for workload in args.workloads}
    stack: Samples = {workload: {} for workload in args.workloads}
    errors: dict[str, int] = {}
    # One process's memory layout makes it a few percent faster or slower than
    # the next one running the same code, for its whole life: batches from
    # several sets of fresh processes are pooled, so no one draw decides.
    for process_set in range(args.processes):
        with drivers(project, apps(scratch), env, scratch) as running:
            for workload in args.workloads:  # warm: pools open, statements prepared, caches full
                for driver in running:
                    driver.run(workload, args.requests, args.concurrency)
            for number in range(args.batches):
                for workload in args.workloads:
                    # Interleaved, and rotated, so no app always runs right after another.
                    turn = number % len(running)
                    for driver in running[turn:] + running[:turn]:
                        result = driver.run(workload, args.requests, args.concurrency)
                        name = driver.app.name
                        samples[workload].setdefault(name, []).append(
                            result["cpu_seconds"] / result["requests"]
                        )
                        errors[name] = errors.get(name, 0) + int(result["errors"])
                        if "stack_us" in result:
                            stack[workload].setdefault(name, []).append(result["stack_us"])
                print(
                    f"  processes {process_set + 1}/{args.processes}, "
                    f"batch {number + 1}/{args.batches}",
                    file=sys.stderr,
                )
    return samples, stack, errors


def stack_report(samples: Samples, stack: Samples) -> list[str]:
    """The stack's own time, timed in place in G and K, against the request it wraps.

    What it wraps is bare's request (the same routes with no stack) less the
    driver's own cost: the share is what the stack adds to the app's work.
    """
    rows: list[list[str]] = []
    shares: dict[str, tuple[float, list[float]]] = {}
    for workload, bound in (("livez", 0.15), ("read", 0.05)):
        by_app = samples.get(workload, {})
        if "bare" not in by_app or "null" not in by_app:
            continue
        wrapped = (median(by_app["bare"]) - median(by_app["null"])) * 1e6
        for name in ("G", "K"):
            timed = stack.get(workload, {}).get(name)
            if timed:
                own = median(timed)
                shares.setdefault(workload, (bound, []))[1].append(own / wrapped)
                share = _percent(own / wrapped)
                rows.append([WORKLOADS[workload], name, f"{own:.1f}", f"{wrapped:.0f}", share])
    if not rows:
        return []
    verdicts = "; ".join(
        f"{WORKLOADS[workload]} (<= {bound:.0%}): {verdict(values, at_most=bound)}"
        for workload, (bound, values) in shares.items()
    )
    return [
        (
            "The stack's own time, timed in place (bench/inprocess_driver.py's StackClock: "
            "RequestContextMiddleware's call less the app's inside it, so the request id, "
            "the access line and the metrics), against the request it wraps (bare's, less "
            "the driver's own cost):"
        ),
        "",
        markdown_table(["workload", "app", "stack µs", "request µs", "share"], rows),
        "",
        f"Stack cost timed in place: {verdicts}.",
        "",
    ]


def paired(samples: Mapping[str, list[float]], app: str, baseline: str) -> float | None:
    """Median over batches of baseline CPU / app CPU: above 1.0, the app is the cheaper."""
    if app not in samples or baseline not in samples:
        return None
    return median([base / own for own, base in zip(samples[app], samples[baseline], strict=True)])


def overhead(samples: Mapping[str, list[float]], app: str, baseline: str) -> float | None:
    """Median over batches of app CPU / baseline CPU - 1: what the app adds."""
    if app not in samples or baseline not in samples:
        return None
    return median(
        [own / base - 1 for own, base in zip(samples[app], samples[baseline], strict=True)]
    )


def count_round_trips(
    project: Path, env: Mapping[str, str], scratch: Path, requests: int
) -> dict[str, dict[str, tuple[float, str]]]:
    """Per app and workload: PostgreSQL round trips per request, and the statements behind them."""
    url = urlsplit(env["RAW_DSN"])
    found: dict[str, dict[str, tuple[float, str]]] = {}
    for app in apps(scratch):
        if app.name in ("null", "K"):  # K's statements are G's
            continue
        with CountingProxy(url.hostname or "127.0.0.1", url.port or 5432) as proxy:
            user = f"{url.username}@" if url.username else ""
            via = url._replace(netloc=f"{user}127.0.0.1:{proxy.port}").geturl()
            proxied = {
                **env,
                "RAW_DSN": via,
                "DATABASE_URL": via.replace("postgresql://", "postgresql+asyncpg://", 1),
            }
            with drivers(project, [app], proxied, scratch) as (driver,):
                for workload in DATABASE_WORKLOADS:
                    driver.run(workload, 20, 1)  # connected, statements prepared
                    before, queries_before = proxy.snapshot()
                    driver.run(workload, requests, 1)
                    after, queries_after = proxy.snapshot()
                    queries_after.subtract(queries_before)
                    statements = ", ".join(
                        f"{query} {count / requests:.1f}"
                        for query, count in sorted(queries_after.items())
                        if count > 0
                    )
                    per_request = (after - before) / requests
                    found.setdefault(app.name, {})[workload] = (per_request, statements)
    return found


def report(
    samples: Samples, errors: Mapping[str, int], trips: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    names = [app.name for app in apps(Path())]
    rows = []
    for workload, by_app in samples.items():
        cpu = {name: median(values) * 1e6 for name, values in by_app.items()}
        rows.append([WORKLOADS[workload], *(f"{cpu[name]:.0f}" for name in names if name in cpu)])
    lines = [
        "CPU µs per request (median over batches; the driver's own cost is the null column):",
        "",
        markdown_table(["workload", *names], rows),
        "",
    ]
    ratio_rows = []
    for workload, by_app in samples.items():
        ratio_rows.append(
            [
                WORKLOADS[workload],
                format_ratio(paired(by_app, "G", "N")),
                format_ratio(paired(by_app, "K", "N")),
                format_ratio(paired(by_app, "G", "R")),
                _percent(overhead(by_app, "G", "bare")),
                _percent(overhead(by_app, "K", "bare")),
            ]
        )
    lines += [
        (
            "Ratios of CPU per request (N/G: above 1.00x, G costs less than the naive app), "
            "median of the per-batch ratios:"
        ),
        "",
        markdown_table(
            ["workload", "G vs N", "K vs N", "G vs R", "stack on G (G/bare - 1)", "stack on K"],
            ratio_rows,
        ),
        "",
        f"Requests answered 4xx/5xx: {dict(errors)}.",
        "",
        *targets(samples),
    ]
    if trips:
        trip_rows = [
            [name, WORKLOADS[workload], f"{per_request:.2f}", statements]
            for name, by_workload in trips.items()
            for workload, (per_request, statements) in by_workload.items()
        ]
        lines += [
            "PostgreSQL round trips per request (one client, counted at the protocol):",
            "",
            markdown_table(["app", "workload", "round trips", "statements"], trip_rows),
            "",
        ]
    return lines


def targets(samples: Samples) -> list[str]:
    """Issue #17's targets on CPU per request, for G and K alike: the worse of the two decides."""

    def both(workload: str, measure: Any, baseline: str) -> list[float]:
        by_app = samples.get(workload, {})
        found = (measure(by_app, app, baseline) for app in ("G", "K"))
        return [value for value in found if value is not None]

    rows = []
    for label, workload, measure, baseline, bound in (
        ("read one item vs the naive app", "read", paired, "N", ">= 1.00x"),
        ("list a page vs the naive app", "list", paired, "N", ">= 1.00x"),
        ("create an item vs the naive app", "create", paired, "N", ">= 1.00x"),
        ("read one item vs raw asyncpg", "read", paired, "R", ">= 0.40x"),
        ("stack cost on /livez", "livez", overhead, "bare", "<= 15%"),
        ("stack cost on the read", "read", overhead, "bare", "<= 5%"),
    ):
        values = both(workload, measure, baseline)
        limit = float(bound[3:].rstrip("x%")) / (100 if bound.endswith("%") else 1)
        shown = [_percent(v) if measure is overhead else format_ratio(v) for v in values]
        result = (
            verdict(values, at_least=limit)
            if bound.startswith(">=")
            else verdict(values, at_most=limit)
        )
        rows.append([label, bound, " / ".join(shown) or "n/a", result])
    return [
        "Issue #17's targets (G / K; the worse of the two decides):",
        "",
        markdown_table(["target", "bound", "measured (G / K)", "worst case"], rows),
        "",
    ]


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.0%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=8, help="per set of processes")
    parser.add_argument(
        "--processes", type=int, default=3, help="sets of fresh processes, one per app each"
    )
    parser.add_argument("--requests", type=int, default=200, help="per batch")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight per app")
    parser.add_argument("--workloads", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS))
    parser.add_argument("--count", type=int, default=100, help="requests per round-trip count")
    parser.add_argument("--project", type=Path, help="a rendered gunicorn + PostgreSQL service")
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a server the bench may create and drop a database on (loopback only)",
    )
    args = parser.parse_args()

    lines = ["# In-process CPU per request", "", f"Machine: {machine()}.", ""]
    with tempfile.TemporaryDirectory() as directory:
        scratch = Path(directory)
        project = args.project or render(scratch / "gunicorn", TARGETS["gunicorn"])
        prepare(project)
        with bench_database(project, args.postgres) as dsn:
            env = environment(project, dsn, scratch)
            migrate_and_seed(project, dsn, env)
            samples, stack, errors = measure_cpu(project, env, scratch, args)
            trips = count_round_trips(project, env, scratch, args.count) if args.count else {}
    lines += [
        (
            f"{args.processes} sets of fresh processes, each driven for {args.batches} "
            f"interleaved batches of {args.requests} requests per app and workload, "
            f"{args.concurrency} in flight; {SEEDED_ITEMS} items seeded."
        ),
        "",
        *report(samples, errors, trips),
        *stack_report(samples, stack),
        f"Load average after the run: {load_average()}.",
        "",
    ]
    text = "\n".join(lines)
    publish("inprocess.md", text)


if __name__ == "__main__":
    main()
