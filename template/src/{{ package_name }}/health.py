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
from .settings import Settings

# A check raises when its dependency is not usable; what it returns, if a dict,
# is shown in /readyz (the database reports its pool there).
Check = Callable[[], Awaitable[object]]

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
    """The dependency checks behind /readyz, and whether the process is draining."""

    timeout: float
    cache_seconds: float
    draining: bool = False
    _checks: dict[str, Check] = field(default_factory=dict)
    _cached: tuple[float, dict[str, CheckResult]] | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def add_check(self, name: str, check: Check) -> None:
        self._checks[name] = check

    async def results(self) -> dict[str, CheckResult]:
        async with self._lock:  # concurrent probes wait for one round of checks
            now = time.monotonic()
            if self._cached and now - self._cached[0] < self.cache_seconds:
                return self._cached[1]
            names = list(self._checks)
            outcomes = await asyncio.gather(*(self._run(self._checks[name]) for name in names))
            results = dict(zip(names, outcomes, strict=True))
            self._cached = (time.monotonic(), results)
            return results

    async def _run(self, check: Check) -> CheckResult:
        started = time.perf_counter()
        try:
            outcome = await asyncio.wait_for(check(), self.timeout)
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", never a 500
            error = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
            log.warning("readiness check failed", error=repr(exc))
            return CheckResult(False, _elapsed_ms(started), error)
        details = outcome if isinstance(outcome, dict) else None
        return CheckResult(True, _elapsed_ms(started), details=details)


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
