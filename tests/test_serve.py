"""The rendered service under its production command: real gunicorn with two
workers, or the one uvicorn process of a Kubernetes pod.

Probes and an items round trip over HTTP, then SIGTERM with a slow request in
flight: /readyz must answer 503 during the drain, the slow request must
complete, and the server must exit within its graceful timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import httpx
import pytest

from .conftest import TEST_DATABASE_URLS, Project, each_variant
from .processes import free_port, started

pytestmark = [pytest.mark.slow, pytest.mark.serve]

WORKERS = 2
GRACEFUL_TIMEOUT = 10
DRAIN_SECONDS = 1.5
SLOW_SECONDS = 3.0

# Added next to the service, not inside it: the test's slow route.
SLOW_APP = """
import asyncio

from {package}.main import create_app

app = create_app()


@app.get("/slow")
async def slow(seconds: float) -> dict[str, float]:
    await asyncio.sleep(seconds)
    return {{"slept": seconds}}


def create_slow_app():
    return app
"""

# Creates or drops a database on a server, with the project's own driver.
SERVER_STATEMENT = """
import asyncio, sys
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

async def main(url, statement):
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


@dataclass
class Server:
    process: subprocess.Popen[str]
    base_url: str
    log: Path
    metrics_dir: Path
    processes: int

    def workers(self) -> list[int]:
        """PIDs of the gunicorn master's children."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


def wait_until_ready(base_url: str, process: subprocess.Popen[str], log: Path, count: int) -> None:
    """Until /readyz answers 200 and every server process has finished its lifespan startup."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            ready = httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200
        except httpx.TransportError:
            ready = False
        if ready and log.read_text().count('"event": "startup complete"') == count:
            return
        time.sleep(0.2)
    pytest.fail(f"the server did not become ready:\n{log.read_text()}")


@contextmanager
def serving(
    project: Project, tmp_path: Path, command: list[str], env: dict[str, str], processes: int
) -> Iterator[Server]:
    """Migrate, start ``command`` with the slow app importable, and stop it for good at the end."""
    project.sync()
    (tmp_path / "slow_app.py").write_text(SLOW_APP.format(package=project.package))
    port = free_port()
    env = {
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "SHUTDOWN_DRAIN_SECONDS": str(DRAIN_SECONDS),
        "GRACEFUL_TIMEOUT": str(GRACEFUL_TIMEOUT),
        "PYTHONPATH": str(tmp_path),
        **env,
    }
    project.run(project.bin("alembic"), "upgrade", "heads", env=env)
    log = tmp_path / "server.log"
    base_url = f"http://127.0.0.1:{port}"
    with started(project, command, env, log) as process:
        wait_until_ready(base_url, process, log, processes)
        yield Server(process, base_url, log, tmp_path / "prometheus", processes)


@pytest.fixture
def server(project: Project, tmp_path: Path) -> Iterator[Server]:
    """gunicorn with two workers, on a SQLite file."""
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "WEB_CONCURRENCY": str(WORKERS),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    command = [project.bin("gunicorn"), "-c", "gunicorn.conf.py", "slow_app:app"]
    with serving(project, tmp_path, command, env, WORKERS) as server:
        yield server


@contextmanager
def server_database(project: Project) -> Iterator[str]:
    """A database of its own on the test server of the project's database."""
    server_url = TEST_DATABASE_URLS[project.answers["database"]]
    name = f"serve_{uuid.uuid4().hex[:12]}"
    statement = [project.bin("python"), "-c", SERVER_STATEMENT, server_url]
    project.run(*statement, f"CREATE DATABASE {name}")
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        project.run(*statement, f"DROP DATABASE {name}")


@pytest.fixture
def pod(project: Project, tmp_path: Path) -> Iterator[Server]:
    """The container command of a Kubernetes pod: one uvicorn process (python -m <pkg>.serve)."""
    project.sync()
    command = [
        project.bin("python"),
        "-c",
        f"from {project.package}.serve import main; main('slow_app:create_slow_app')",
    ]
    with (
        server_database(project) as database_url,
        serving(project, tmp_path, command, {"DATABASE_URL": database_url}, 1) as server,
    ):
        yield server


@each_variant("default")
def test_probes_and_items_over_http(server: Server) -> None:
    assert len(server.workers()) == WORKERS
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        assert client.get("/livez").json() == {"status": "ok"}
        ready = client.get("/readyz").json()
        assert ready["status"] == "ok"
        assert ready["checks"]["database"]["status"] == "ok"
        assert client.get("/healthz").json()["version"] == "0.1.0"

        created = client.post("/api/v1/items", json={"name": "over-http"})
        assert created.status_code == 201
        item_id = created.json()["id"]
        assert client.get(f"/api/v1/items/{item_id}").json()["name"] == "over-http"
        missing = client.get("/api/v1/items/999999")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"


def assert_sigterm_drains(server: Server) -> int:
    """SIGTERM with a slow request in flight; returns the server's exit code."""
    slow: dict[str, httpx.Response | httpx.HTTPError] = {}

    def slow_request() -> None:
        try:
            slow["response"] = httpx.get(
                f"{server.base_url}/slow", params={"seconds": SLOW_SECONDS}, timeout=30
            )
        except httpx.HTTPError as error:  # reported by the assertion below
            slow["response"] = error

    caller = threading.Thread(target=slow_request)
    caller.start()
    time.sleep(0.5)  # the slow request is in flight

    sent = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    statuses: list[int] = []
    while time.monotonic() - sent < DRAIN_SECONDS - 0.3:
        try:
            statuses.append(httpx.get(f"{server.base_url}/readyz", timeout=1).status_code)
        except httpx.TransportError:
            statuses.append(0)
        time.sleep(0.1)

    caller.join(timeout=GRACEFUL_TIMEOUT + 5)
    response = slow.get("response")
    assert isinstance(response, httpx.Response), response
    assert response.status_code == 200
    assert response.json() == {"slept": SLOW_SECONDS}

    exit_code = server.process.wait(timeout=GRACEFUL_TIMEOUT + 5)
    elapsed = time.monotonic() - sent
    assert elapsed < GRACEFUL_TIMEOUT
    # The signal may travel master -> workers, so the first polls may still see
    # 200; from the first 503 on, every poll is answered 503 (unready, never refused).
    assert 503 in statuses, statuses
    draining = statuses[statuses.index(503) :]
    assert set(draining) == {503}, statuses
    assert set(statuses[: statuses.index(503)]) <= {200}, statuses
    log = server.log.read_text()
    assert log.count("SIGTERM received: draining") == server.processes
    # The server's and the service's lines alike: one JSON object each.
    for line in log.splitlines():
        assert isinstance(json.loads(line), dict), line
    return exit_code


@each_variant("default")
def test_sigterm_drains_in_flight_requests(server: Server) -> None:
    assert assert_sigterm_drains(server) == 0, server.log.read_text()


@each_variant("kubernetes")
def test_pod_serves_probes_and_items_with_one_process(pod: Server) -> None:
    with httpx.Client(base_url=pod.base_url, timeout=5) as client:
        assert client.get("/livez").json() == {"status": "ok"}
        ready = client.get("/readyz").json()
        assert ready["checks"]["database"]["status"] == "ok"
        created = client.post("/api/v1/items", json={"name": "in-a-pod"})
        assert created.status_code == 201
        assert client.get(f"/api/v1/items/{created.json()['id']}").json()["name"] == "in-a-pod"
        # One process, no multiprocess directory: the default registry counts it all.
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert requests_counted(metrics.text, "/api/v1/items/{item_id}") == 1
    children = Path(f"/proc/{pod.process.pid}/task/{pod.process.pid}/children").read_text()
    assert children.split() == []  # no worker processes under it


@each_variant("kubernetes")
def test_pod_sigterm_drains_in_flight_requests(pod: Server) -> None:
    # After a graceful shutdown uvicorn re-raises the signal it stopped on, so a
    # supervisor sees why it stopped; as a container's PID 1 it exits 0 instead.
    assert assert_sigterm_drains(pod) == -signal.SIGTERM, pod.log.read_text()


def requests_counted(metrics: str, route: str) -> float:
    pattern = (
        rf'^http_requests_total{{method="GET",route="{re.escape(route)}",status="200"}} (\S+)$'
    )
    match = re.search(pattern, metrics, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


@each_variant("default")
def test_one_scrape_aggregates_every_worker(server: Server) -> None:
    workers = server.workers()
    sent = 0
    # A new connection per request lets the kernel hand them to either worker;
    # go on until both have written samples.
    while sent < 400 and not all(
        (server.metrics_dir / f"counter_{pid}.db").exists() for pid in workers
    ):
        assert httpx.get(f"{server.base_url}/api/v1/items", timeout=5).status_code == 200
        sent += 1
    assert all((server.metrics_dir / f"counter_{pid}.db").exists() for pid in workers)

    response = httpx.get(f"{server.base_url}/metrics", timeout=5)
    assert response.status_code == 200  # not a 307 to /metrics/
    assert requests_counted(response.text, "/api/v1/items") == sent


def run_loadtest(project: Project, host: str, *options: str) -> subprocess.CompletedProcess[str]:
    """The generated Locust scenario, briefly, as `make loadtest` runs it."""
    return project.uv(
        "run", "--group", "loadtest", "locust", "-f", "loadtest/locustfile.py",
        "--headless", "--only-summary", "--host", host,
        "--users", "5", "--spawn-rate", "5", "--run-time", "3s", *options,
        check=False,
    )  # fmt: skip


@each_variant("default")
def test_loadtest_passes_its_slos_and_fails_when_one_is_missed(
    project: Project, server: Server
) -> None:
    # Latency objectives no loaded CI machine can miss: no timing is asserted here,
    # only that the run succeeds when they are met and fails when one is not.
    met = run_loadtest(project, server.base_url, "--slo-p95-ms", "30000", "--slo-p99-ms", "30000")
    output = met.stdout + met.stderr  # Locust logs and prints its summary on stderr
    assert met.returncode == 0, output
    assert "SLOs met" in output
    # Every request of the scenario succeeded against the real server.
    assert re.search(r"Aggregated\s+\d+\s+0\(0\.00%\)", output), output

    missed = run_loadtest(project, server.base_url, "--slo-p99-ms", "0.001")
    assert missed.returncode == 1, missed.stdout + missed.stderr
    assert "SLO missed: p99" in missed.stdout + missed.stderr


def keep_alive_through_the_drain(server: Server) -> tuple[int, int, int]:
    """One keep-alive client polling across SIGTERM: (answers, of them `Connection: close`, resets)."""
    answers = closing = resets = 0
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        assert client.get("/livez").status_code == 200
        server.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACEFUL_TIMEOUT
        while time.monotonic() < deadline and server.process.poll() is None:
            try:
                response = client.get("/livez")
            except httpx.ConnectError:  # refused: the server stopped accepting, as it should
                time.sleep(0.05)
                continue
            except (httpx.RemoteProtocolError, httpx.ReadError):  # a reused connection was cut
                resets += 1
                continue
            answers += 1
            closing += response.headers.get("connection") == "close"
            time.sleep(0.02)
    server.process.wait(timeout=GRACEFUL_TIMEOUT + 5)
    return answers, closing, resets


@each_variant("default")
def test_keep_alive_clients_are_closed_cleanly_while_gunicorn_drains(server: Server) -> None:
    answers, closing, resets = keep_alive_through_the_drain(server)
    assert resets == 0
    assert closing > 0  # the drain told the client to reconnect
    assert answers >= closing


@each_variant("kubernetes")
def test_keep_alive_clients_are_closed_cleanly_while_the_pod_drains(pod: Server) -> None:
    answers, closing, resets = keep_alive_through_the_drain(pod)
    assert resets == 0
    assert closing > 0
    assert answers >= closing


def first_requests(server: Server) -> None:
    """One request of each kind a fresh process serves, each on a new connection."""
    created = httpx.post(f"{server.base_url}/api/v1/items", json={"name": "first"}, timeout=10)
    assert created.status_code == 201
    for method, path in (
        ("GET", "/api/v1/items"),
        ("GET", f"/api/v1/items/{created.json()['id']}"),
        ("GET", "/api/v1/items/0"),
        ("HEAD", "/api/v1/items"),
        ("GET", "/nope"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
    ):
        assert httpx.request(method, f"{server.base_url}{path}", timeout=10).status_code < 500


@each_variant("default")
def test_a_fresh_gunicorn_logs_no_blocked_loop_on_its_first_requests(server: Server) -> None:
    first_requests(server)
    time.sleep(0.5)  # a watchdog reports within its poll interval
    assert '"event": "event loop blocked"' not in server.log.read_text()


@each_variant("kubernetes")
def test_a_fresh_pod_logs_no_blocked_loop_on_its_first_requests(pod: Server) -> None:
    first_requests(pod)
    time.sleep(0.5)
    assert '"event": "event loop blocked"' not in pod.log.read_text()


# The service's own gunicorn.conf.py, with the workers a reload forks booting
# slowly on purpose: post_worker_init runs in a new worker before it serves.
SLOW_BOOT_CONF = """
import time
from pathlib import Path

_conf = Path("gunicorn.conf.py").resolve()
exec(compile(_conf.read_text(), str(_conf), "exec"))


def post_worker_init(worker):
    if worker.age > workers:  # not the first generation: forked by the reload
        time.sleep({seconds})
"""
BOOT_SECONDS = 3


class Load:
    """Keep-alive clients, each on a thread, until stopped (or a bound is reached).

    Counts every answer by status and every failure by exception type: a reset
    or a cut connection is ``RemoteProtocolError``/``ReadError``.
    """

    def __init__(self, base_url: str, clients: int = 3, limit: int = 200_000) -> None:
        self.results: Counter[int | str] = Counter()
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._limit = limit
        self._deadline = time.monotonic() + 180  # the loops end by themselves
        self._threads = [
            threading.Thread(target=self._client, args=(base_url,)) for _ in range(clients)
        ]

    def _client(self, base_url: str) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            while not self._stop.is_set() and time.monotonic() < self._deadline:
                try:
                    result: int | str = client.get("/livez").status_code
                except httpx.HTTPError as error:
                    result = type(error).__name__
                with self._changed:
                    self.results[result] += 1
                    self._changed.notify_all()
                    if self.results.total() >= self._limit:
                        self._stop.set()

    def wait_for_answers(self, more: int) -> None:
        """Until ``more`` requests beyond those answered so far are answered 200."""
        with self._changed:
            target = self.results[200] + more
            self._changed.wait_for(
                lambda: self.results[200] >= target or self._stop.is_set(), timeout=120
            )
        assert self.results[200] >= target, self.results

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def wait_for_exit(pids: Iterable[int], timeout: float = 120) -> None:
    """Until every process in ``pids`` has exited: a pidfd turns readable when it does."""
    pidfds = [os.pidfd_open(pid) for pid in pids]
    try:
        deadline = time.monotonic() + timeout
        waiting = set(pidfds)
        while waiting and (left := deadline - time.monotonic()) > 0:
            exited, _, _ = select.select(list(waiting), [], [], left)
            waiting -= set(exited)
        assert not waiting, "a process did not exit"
    finally:
        for pidfd in pidfds:
            os.close(pidfd)


def reaped(server: Server, old: Iterable[int], timeout: float = 30) -> list[int]:
    """The master's children once it has reaped ``old``: an exited worker stays
    its child (a zombie) until the master's loop next waits for it."""
    deadline = time.monotonic() + timeout
    while set(children := server.workers()) & set(old) and time.monotonic() < deadline:
        time.sleep(0.05)
    return children


@each_variant("default")
def test_a_reload_under_load_drops_nothing_while_new_workers_boot(
    project: Project, tmp_path: Path
) -> None:
    conf = tmp_path / "slow_boot.conf.py"
    conf.write_text(SLOW_BOOT_CONF.format(seconds=BOOT_SECONDS))
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "WEB_CONCURRENCY": str(WORKERS),
        "MAX_REQUESTS": "0",  # no recycled worker among the reload's
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    command = [project.bin("gunicorn"), "-c", str(conf), "slow_app:app"]
    with serving(project, tmp_path, command, env, WORKERS) as server, Load(server.base_url) as load:
        old = server.workers()
        load.wait_for_answers(100)
        server.process.send_signal(signal.SIGHUP)
        wait_for_exit(old)
        load.wait_for_answers(100)  # served by the new workers alone
        new = reaped(server, old)
    assert load.results == Counter({200: load.results[200]}), load.results
    assert len(new) == WORKERS
    assert not set(new) & set(old)
    # Each old worker starts draining only once a new one serves in its place.
    serving_line, draining_line = (
        "worker serving: the old worker drains now",
        "SIGTERM received: draining",
    )
    events = [json.loads(line)["event"] for line in server.log.read_text().splitlines()]
    handover = [event for event in events if event in (serving_line, draining_line)]
    assert handover.count(serving_line) == handover.count(draining_line) == WORKERS, handover
    for seen in range(len(handover)):
        assert handover[:seen].count(draining_line) <= handover[:seen].count(serving_line), handover


def control(project: Project, socket: Path) -> dict[str, object]:
    """gunicornc's `show stats` through ``socket``, as JSON."""
    shown = project.run(project.bin("gunicornc"), "-s", str(socket), "-c", "show stats", "-j")
    return dict(json.loads(shown.stdout))


@each_variant("default")
def test_two_services_on_one_host_each_have_their_own_control_socket_or_none(
    project: Project, tmp_path: Path
) -> None:
    home = tmp_path / "home"  # where gunicorn's default socket would go
    home.mkdir()
    sockets = [tmp_path / "a.ctl", tmp_path / "b.ctl"]
    with contextlib.ExitStack() as stack:
        masters = []
        for name, control_socket in [("a", sockets[0]), ("b", sockets[1]), ("c", None)]:
            env = {
                "HOME": str(home),
                "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}",
                "WEB_CONCURRENCY": "1",
                "SERVICE_NAME": f"service-{name}",
                "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"prometheus-{name}"),
                **({"CONTROL_SOCKET": str(control_socket)} if control_socket else {}),
            }
            service = tmp_path / name
            service.mkdir()
            command = [project.bin("gunicorn"), "-c", "gunicorn.conf.py", "slow_app:app"]
            masters.append(stack.enter_context(serving(project, service, command, env, 1)))
        for socket, server in zip(sockets, masters, strict=False):
            assert control(project, socket)["pid"] == server.process.pid
            assert socket.is_socket()
        assert not (home / ".gunicorn").exists()  # the third opened none


def container_healthcheck(project: Project, server: Server) -> subprocess.CompletedProcess[str]:
    """The Dockerfile's HEALTHCHECK command, run next to the server as Docker runs it."""
    dockerfile = (project.path / "Dockerfile").read_text().replace("\\\n", "")
    [command] = re.findall(r"^HEALTHCHECK .* CMD (\[.*\])$", dockerfile, re.MULTILINE)
    port = server.base_url.rsplit(":", 1)[1]
    return project.run(*json.loads(command), env={"PORT": port}, check=False)


@each_variant("default")
def test_the_container_healthcheck_asks_livez_of_gunicorn(project: Project, server: Server) -> None:
    assert container_healthcheck(project, server).returncode == 0
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=GRACEFUL_TIMEOUT + 5)
    assert container_healthcheck(project, server).returncode != 0  # nothing answers


@each_variant("kubernetes")
def test_the_container_healthcheck_asks_livez_of_the_pod(project: Project, pod: Server) -> None:
    assert container_healthcheck(project, pod).returncode == 0
