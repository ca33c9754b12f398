"""Probes that tell the truth.

/livez   the process and its event loop answer; no dependency is checked, so a
         database outage never turns into a restart loop.
/readyz  every dependency, checked concurrently with its own timeout; the result
         is cached briefly so a storm of probes costs one round of checks; 503
         while draining after SIGTERM.
/healthz process up, with version and build information for humans.
"""

from __future__ import annotations

import asyncio
import functools
import platform
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from . import DISTRIBUTION
from .errors import describe
from .settings import Settings

# A check raises when its dependency is not usable; what it returns, if a dict,
# is shown in /readyz (the database reports its pool there).
Check = Callable[[], Awaitable[object]]
# Told each check's outcome after every round, e.g. to export it as a metric.
ResultObserver = Callable[[str, bool], None]

log = structlog.stdlib.get_logger(__name__)


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    duration_ms: float
    error: str | None = None
    details: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"status": "ok" if self.ok else "fail"}
        result["duration_ms"] = self.duration_ms
        if self.error:
            result["error"] = self.error
        if self.details:
            result["details"] = self.details
        return result


@dataclass
class Readiness:
    """The dependency checks behind /readyz, and whether the process is draining.

    A round of checks takes at most ``timeout``, whatever a dependency does:
    concurrent probes share the round in flight, and a check that has not
    answered in time is reported failed at once, not awaited while it cleans up.
    """

    timeout: float
    cache_seconds: float
    draining: bool = False
    on_result: ResultObserver | None = None
    _checks: dict[str, Check] = field(default_factory=dict)
    _cached: tuple[float, dict[str, CheckResult]] | None = None
    _round: asyncio.Task[dict[str, CheckResult]] | None = None
    # Why each failing check fails: one log line when that starts or changes.
    _failing: dict[str, str] = field(default_factory=dict)
    # Checks given up on, still cleaning up; kept so they are not garbage-collected.
    _abandoned: set[asyncio.Future[object]] = field(default_factory=set)

    def add_check(self, name: str, check: Check) -> None:
        self._checks[name] = check

    async def results(self) -> dict[str, CheckResult]:
        if self._cached and time.monotonic() - self._cached[0] < self.cache_seconds:
            return self._cached[1]
        if self._round is None:
            self._round = asyncio.create_task(self._check_all(), name="readiness")
        # Shielded: a probe that goes away does not cancel the round for the others.
        return await asyncio.shield(self._round)

    async def _check_all(self) -> dict[str, CheckResult]:
        try:
            names = list(self._checks)
            outcomes = await asyncio.gather(*(self._run(self._checks[name]) for name in names))
            results = dict(zip(names, outcomes, strict=True))
            self._cached = (time.monotonic(), results)
        finally:
            self._round = None
        for name, result in results.items():
            self._record(name, result)
        return results

    async def _run(self, check: Check) -> CheckResult:
        started = time.perf_counter()
        running = asyncio.ensure_future(check())
        await asyncio.wait({running}, timeout=self.timeout)
        if not running.done():
            running.cancel()
            self._abandoned.add(running)
            running.add_done_callback(_forget(self._abandoned))
            return CheckResult(False, _elapsed_ms(started), f"no answer within {self.timeout} s")
        if running.cancelled():
            return CheckResult(False, _elapsed_ms(started), "cancelled")
        if (error := running.exception()) is not None:  # any failure: "not ready", never a 500
            return CheckResult(False, _elapsed_ms(started), describe(error))
        outcome = running.result()
        details = outcome if isinstance(outcome, dict) else None
        return CheckResult(True, _elapsed_ms(started), details=details)

    def _record(self, name: str, result: CheckResult) -> None:
        """Log what an operator acts on: a check starts failing, fails otherwise, recovers."""
        if result.ok:
            if self._failing.pop(name, None) is not None:
                log.info("readiness check recovered", check=name)
        elif self._failing.get(name) != result.error:
            self._failing[name] = result.error or ""
            log.warning("readiness check failed", check=name, error=result.error)
        if self.on_result is not None:
            self.on_result(name, result.ok)


def _forget(tasks: set[asyncio.Future[object]]) -> Callable[[asyncio.Future[object]], None]:
    def done(task: asyncio.Future[object]) -> None:
        tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a given-up check's late error is not news

    return done


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


# async, though they await nothing: a plain `def` dependency runs in a worker thread.
async def get_readiness(request: Request) -> Readiness:
    readiness: Readiness = request.state.readiness
    return readiness


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ReadinessDep = Annotated[Readiness, Depends(get_readiness)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

router = APIRouter(tags=["health"], include_in_schema=False)
_NO_STORE = {"Cache-Control": "no-store"}
_STARTED = time.monotonic()


@router.get("/livez")
async def livez() -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers=_NO_STORE)


@router.get("/readyz")
async def readyz(readiness: ReadinessDep) -> JSONResponse:
    if readiness.draining:
        return JSONResponse({"status": "draining"}, status_code=503, headers=_NO_STORE)
    results = await readiness.results()
    failed = [name for name, result in results.items() if not result.ok]
    body: dict[str, Any] = {
        "status": "fail" if failed else "ok",
        "checks": {name: result.as_dict() for name, result in results.items()},
    }
    if failed:
        body["failed"] = failed
    return JSONResponse(body, status_code=503 if failed else 200, headers=_NO_STORE)


@router.get("/healthz")
async def healthz(settings: SettingsDep) -> JSONResponse:
    return JSONResponse(
        {
            "status": "ok",
            "service": settings.service_name,
            # Read from the installed package's metadata on disk: off the loop.
            "version": await asyncio.to_thread(_package_version),
            "environment": settings.environment,
            "build": {"commit": settings.build_commit, "date": settings.build_date},
            "python": platform.python_version(),
            "uptime_seconds": round(time.monotonic() - _STARTED, 1),
        },
        headers=_NO_STORE,
    )


@functools.cache
def _package_version() -> str | None:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return None
