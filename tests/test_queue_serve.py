"""A queue variant under its production commands: gunicorn and `python -m <pkg>.workers`.

A job is enqueued over HTTP through a forked gunicorn worker, runs in the real
worker process, and its effect shows on GET; the worker's liveness check
passes while it runs; both processes stop cleanly on SIGTERM.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from .conftest import TEST_BROKER_URLS, Project, each_variant
from .processes import free_port, started

pytestmark = [pytest.mark.slow, pytest.mark.serve]

# Generous: nothing waits this long when all is well.
DEADLINE_SECONDS = 90


def wait_for(condition: str, check: Callable[[], bool], *processes: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        for process in processes:
            assert process.poll() is None, f"{process.args!r} exited with {process.returncode}"
        with contextlib.suppress(httpx.TransportError):
            if check():
                return
        time.sleep(0.2)
    pytest.fail(f"never {condition}")


@each_variant("celery-redis")
def test_job_round_trip_under_gunicorn_and_the_worker(project: Project, tmp_path: Path) -> None:
    project.sync()
    port = free_port()
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "BROKER_URL": TEST_BROKER_URLS[project.answers.get("broker", "redis")],
        "WORKER_QUEUE": f"serve-{uuid.uuid4().hex[:12]}",
        "WORKER_HEARTBEAT_DIR": str(tmp_path / "heartbeats"),
    }
    project.run(project.bin("alembic"), "upgrade", "heads", env=env)
    base_url = f"http://127.0.0.1:{port}"
    web_command = [project.bin("gunicorn"), "-c", "gunicorn.conf.py"]
    worker_command = [project.bin("python"), "-m", f"{project.package}.workers"]
    with (
        started(project, web_command, env, tmp_path / "web.log") as web,
        started(project, worker_command, env, tmp_path / "worker.log") as worker,
        httpx.Client(base_url=base_url, timeout=5) as client,
    ):
        wait_for("ready", lambda: client.get("/readyz").status_code == 200, web, worker)
        ready = client.get("/readyz").json()
        assert ready["checks"]["broker"]["status"] == "ok"

        item = client.post("/api/v1/items", json={"name": "served"}).json()
        accepted = client.post(f"/api/v1/items/{item['id']}/process")
        assert accepted.status_code == 202
        status_url = accepted.json()["status_url"]
        wait_for(
            "processed",
            lambda: client.get(status_url).json()["processed_at"] is not None,
            web,
            worker,
        )

        # The liveness check passes (project.run fails the test otherwise).
        project.run(project.bin("python"), "-m", f"{project.package}.workers.heartbeat", env=env)

        worker.send_signal(signal.SIGTERM)
        web.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=DEADLINE_SECONDS) == 0, (tmp_path / "worker.log").read_text()
        assert web.wait(timeout=DEADLINE_SECONDS) == 0, (tmp_path / "web.log").read_text()
    # What the broker keeps for the queue goes with it.
    forget = (
        "import redis, sys\n"
        "client = redis.Redis.from_url(sys.argv[1])\n"
        "for key in client.scan_iter(match=f'*{sys.argv[2]}*'):\n"
        "    client.delete(key)\n"
    )
    project.run(project.bin("python"), "-c", forget, env["BROKER_URL"], env["WORKER_QUEUE"])
