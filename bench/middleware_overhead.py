"""What the generated service's middleware and observability stack costs in throughput.

Renders the default service (metrics and tracing on), then serves two apps from
it, one after the other, with the same routes and the same database:

  bare     the same routes, lifespan and database with no middleware or telemetry
  stack    the service as generated, tracing switched off (OTEL_SDK_DISABLED):
           request-id/access-log middleware (an INFO line per request, to a
           pipe), Prometheus middleware, event-loop monitor
  traced   the same with every request traced and exported to a local OTLP sink

Each is driven by wrk (Debian's package; installed if missing) on loopback and
the script prints and writes (bench/results/middleware_overhead.md) the
requests/s of each and the overhead ratio, for a trivial route and a database
route. Targets (SPEC section 4): <= 15% on the trivial route, <= 5% on the database
route. Nothing here asserts timings.

    uv run python -m bench.middleware_overhead [--seconds 10] [--connections 64] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from bench.common import (
    BENCH_APP_MODULE,
    ensure_wrk,
    free_port,
    publish,
    render,
    run_wrk,
    stop,
    wait_for,
)


class Sink(BaseHTTPRequestHandler):
    """An OTLP endpoint that accepts spans and drops them."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def render_with_bench_app(destination: Path) -> Path:
    render(destination)
    (destination / "bench_app.py").write_text(BENCH_APP_MODULE)
    return destination


def serve(project: Path, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            str(project / ".venv/bin/uvicorn"),
            "bench_app:app",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(f"http://127.0.0.1:{port}/livez", process, 30)
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; best counts")
    args = parser.parse_args()
    ensure_wrk()

    with tempfile.TemporaryDirectory() as scratch:
        project = render_with_bench_app(Path(scratch) / "service")
        database = Path(scratch) / "bench.db"
        sink = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
        threading.Thread(target=sink.serve_forever, daemon=True).start()
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "LOG_LEVEL": "INFO",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink.server_port}",
        }
        subprocess.run(
            [str(project / ".venv/bin/alembic"), "upgrade", "heads"],
            cwd=project,
            env=env,
            check=True,
        )

        routes = {"trivial route": "/bench/trivial", "database route": "/api/v1/items/1"}
        results: dict[str, dict[str, float]] = {route: {} for route in routes}
        variants = {
            "bare": {"BENCH_BARE": "1"},
            "stack": {"OTEL_SDK_DISABLED": "true"},
            "traced": {},
        }
        for variant in list(variants) * args.rounds:  # interleaved: drift hits all alike
            port = free_port()
            process = serve(project, {**env, **variants[variant]}, port)
            try:
                httpx.post(f"http://127.0.0.1:{port}/api/v1/items", json={"name": f"bench-{port}"})
                for route, path in routes.items():
                    result = run_wrk(
                        f"http://127.0.0.1:{port}{path}", args.seconds, args.connections
                    )
                    if result.errors:
                        raise RuntimeError(f"{result.errors} errors under load on {path}")
                    rps = result.requests_per_second
                    results[route][variant] = max(results[route].get(variant, 0.0), rps)
            finally:
                stop(process)
        sink.shutdown()

    lines = [
        "# Middleware and observability overhead",
        "",
        (
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, one uvicorn process, "
            f"wrk -t2 -c{args.connections} -d{args.seconds}s on loopback, "
            f"best of {args.rounds} interleaved rounds."
        ),
        "",
        (
            "| route | bare req/s | stack req/s | stack overhead | traced req/s "
            "| traced overhead | target |"
        ),
        "|---|---|---|---|---|---|---|",
    ]
    for route, measured in results.items():
        bare, stack, traced = measured["bare"], measured["stack"], measured["traced"]
        target = "<= 15%" if route == "trivial route" else "<= 5%"
        lines.append(
            f"| {route} | {bare:.0f} | {stack:.0f} | {1 - stack / bare:.1%} "
            f"| {traced:.0f} | {1 - traced / bare:.1%} | {target} |"
        )
    lines += [
        "",
        "The target is for the stack; tracing every request is reported beside it.",
        "Sample in production (OTEL_TRACES_SAMPLER=parentbased_traceidratio,",
        "OTEL_TRACES_SAMPLER_ARG=0.1) to pay a fraction of the traced cost.",
    ]
    report = "\n".join(lines) + "\n"
    publish("middleware_overhead.md", report)


if __name__ == "__main__":
    main()
