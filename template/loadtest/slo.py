"""Service level objectives of a load test: the run exits 1 when it misses one.

Each objective is a Locust option that can also come from the environment:

  --slo-p95-ms      LOCUST_SLO_P95_MS      95th percentile response time, ms
  --slo-p99-ms      LOCUST_SLO_P99_MS      99th percentile response time, ms
  --slo-error-rate  LOCUST_SLO_ERROR_RATE  failed requests / all requests

The defaults suit the example resource on a small instance; set yours from the
service's real objectives, so CI or a release pipeline can gate on them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from locust import events
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Objectives:
    p95_ms: float
    p99_ms: float
    error_rate: float


@dataclass(frozen=True)
class Measured:
    requests: int
    p95_ms: float
    p99_ms: float
    error_rate: float


def missed(objectives: Objectives, measured: Measured) -> list[str]:
    """Every objective the run missed, as a sentence; empty when all were met."""
    if measured.requests == 0:
        return ["no request was made: is the host right?"]
    failures = []
    if measured.p95_ms > objectives.p95_ms:
        failures.append(f"p95 {measured.p95_ms:.0f} ms is above {objectives.p95_ms:g} ms")
    if measured.p99_ms > objectives.p99_ms:
        failures.append(f"p99 {measured.p99_ms:.0f} ms is above {objectives.p99_ms:g} ms")
    if measured.error_rate > objectives.error_rate:
        failures.append(
            f"error rate {measured.error_rate * 100:.2f}% is above "
            f"{objectives.error_rate * 100:.2f}%"
        )
    return failures


def add_options(parser: LocustArgumentParser, **_kwargs: Any) -> None:
    slo = parser.add_argument_group("service level objectives")
    slo.add_argument("--slo-p95-ms", type=float, default=250.0, env_var="LOCUST_SLO_P95_MS")
    slo.add_argument("--slo-p99-ms", type=float, default=500.0, env_var="LOCUST_SLO_P99_MS")
    slo.add_argument("--slo-error-rate", type=float, default=0.001, env_var="LOCUST_SLO_ERROR_RATE")


def check(environment: Environment, **_kwargs: Any) -> None:
    """On quitting: compare the whole run with the objectives and set the exit code."""
    options = environment.parsed_options
    if options is None:  # a library user that never parsed options
        return
    objectives = Objectives(options.slo_p95_ms, options.slo_p99_ms, options.slo_error_rate)
    total = environment.stats.total
    measured = Measured(
        requests=total.num_requests,
        p95_ms=total.get_response_time_percentile(0.95) or 0.0,
        p99_ms=total.get_response_time_percentile(0.99) or 0.0,
        error_rate=total.fail_ratio,
    )
    failures = missed(objectives, measured)
    for failure in failures:
        log.error("SLO missed: %s", failure)
    if failures:
        environment.process_exit_code = 1
    else:
        log.info(
            "SLOs met: p95 %.0f ms, p99 %.0f ms, error rate %.2f%%",
            measured.p95_ms,
            measured.p99_ms,
            measured.error_rate * 100,
        )


events.init_command_line_parser.add_listener(add_options)
events.quitting.add_listener(check)
