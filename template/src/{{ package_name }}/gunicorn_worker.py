"""The uvicorn worker gunicorn runs, and the hand-over that keeps a reload serving.

Gunicorn's stock configuration gives uvicorn no graceful-shutdown timeout, so a
slow request can hold a worker until gunicorn kills it mid-response. Here
in-flight requests get SHUTDOWN_TIMEOUT seconds after the drain, which ends
before GRACEFUL_TIMEOUT, gunicorn's hard limit.

On SIGHUP gunicorn forks the new workers and sends SIGTERM to the old ones at
once: for as long as the new ones take to boot, nobody accepts. ``Handover``
(driven by gunicorn.conf.py's hooks) keeps the old workers counted instead, and
each new worker, once it serves, sends SIGTERM to the one it replaces, which
then drains as on any stop.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import Any, ClassVar

import structlog
from uvicorn_worker import UvicornWorker

from .settings import Settings

log = structlog.stdlib.get_logger(__name__)


class GracefulUvicornWorker(UvicornWorker):  # type: ignore[misc]  # untyped base
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **UvicornWorker.CONFIG_KWARGS,
        # RequestContextMiddleware writes the access log, with the request id.
        "access_log": False,
        # A lifespan failure must stop the worker, not serve without resources.
        "lifespan": "on",
    }
    # The old worker this one replaces, by pid and pidfd (Handover.forking sets them).
    replaces_pid: int | None = None
    replaces: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config.timeout_graceful_shutdown = Settings().shutdown_timeout

    async def callback_notify(self) -> None:
        # uvicorn first calls this as soon as the server accepts (after the
        # lifespan startup), then every few seconds: the moment to take over.
        if self.replaces is not None:
            pidfd, self.replaces = self.replaces, None
            log.info("worker serving: the old worker drains now", old_worker=self.replaces_pid)
            with contextlib.suppress(ProcessLookupError):  # it died meanwhile
                signal.pidfd_send_signal(pidfd, signal.SIGTERM)
            os.close(pidfd)
        await super().callback_notify()


class Handover:
    """The master's side of a reload: which old worker each new one replaces.

    A pidfd names each old worker, so a signal can never reach another process
    that reused its pid. Without pidfds (macOS) reloads keep gunicorn's own way.
    """

    def __init__(self) -> None:
        self._retiring: dict[int, int] = {}  # old worker's pid -> its pidfd
        self._unassigned: list[int] = []  # old workers no new one replaces yet

    def reloading(self, arbiter: Any) -> None:
        """on_reload: before gunicorn forks the new workers."""
        if not hasattr(os, "pidfd_open"):
            return
        old = sorted(
            (w for pid, w in arbiter.WORKERS.items() if pid not in self._retiring),
            key=lambda worker: worker.age,
        )
        for worker in old:
            self._retiring[worker.pid] = os.pidfd_open(worker.pid)
        # Fewer workers than before: the oldest have no replacement to wait for.
        excess = max(0, len(old) - arbiter.cfg.workers)
        for worker in old[:excess]:
            signal.pidfd_send_signal(self._retiring[worker.pid], signal.SIGTERM)
        self._unassigned += [worker.pid for worker in old[excess:]]
        # Counted, the old workers are not the surplus gunicorn stops at once.
        arbiter.num_workers = arbiter.cfg.workers + len(self._retiring)
        arbiter.log.info("Reloading: %s old workers serve until their replacements do", len(old))

    def forking(self, worker: Any) -> None:
        """pre_fork: a new worker replaces the oldest worker not yet replaced."""
        worker.replaces_pid = self._unassigned.pop(0) if self._unassigned else None
        if worker.replaces_pid is not None:
            worker.replaces = self._retiring[worker.replaces_pid]

    def forked(self, worker: Any) -> None:
        """post_fork, in the new worker: only its own old worker's pidfd stays open."""
        for pidfd in self._retiring.values():
            if pidfd != worker.replaces:
                os.close(pidfd)

    def exited(self, arbiter: Any, worker: Any) -> None:
        """child_exit: an old worker is gone, or a new one died before taking over."""
        if (pidfd := self._retiring.pop(worker.pid, None)) is not None:
            os.close(pidfd)
            with contextlib.suppress(ValueError):
                self._unassigned.remove(worker.pid)
            arbiter.num_workers -= 1
        elif (old := getattr(worker, "replaces_pid", None)) in self._retiring and (
            old not in self._unassigned
        ):
            # The worker gunicorn forks in its place replaces that old one.
            self._unassigned.insert(0, old)


handover = Handover()
