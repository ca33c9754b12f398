"""The capacity planner: size connection pools so the worst case fits the database.

Every process of the service holds its own pool. When the deployment is at its
largest (all replicas up, plus the extra ones a rollout starts before old ones
stop) and every pool is full, the connections in use must still fit inside the
database's ``max_connections`` minus what is kept for administrators and
migrations. This module turns that sentence into numbers, and refuses a plan
that cannot fit with the arithmetic and the ways out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# How many extra replicas a rollout may run next to the old ones, per target.
# kubernetes: a Deployment's default maxSurge is 25%.
# gunicorn: a HUP reload starts the new workers before the old ones exit.
# lambda: reserved concurrency is a hard ceiling, so there is no surge.
SURGE_FRACTION = {"kubernetes": 0.25, "gunicorn": 1.0, "lambda": 0.0}

# One async process gains nothing from more connections than it can keep busy;
# past this, extra connections only queue inside the database.
MAX_CONNECTIONS_PER_PROCESS = 20
# A SQLite file has one writer at a time: a small pool is all it can use.
SQLITE_CONNECTIONS_PER_PROCESS = 5
# A Lambda execution environment serves one request at a time, so one
# connection is all it can use; reserved concurrency counts the environments.
LAMBDA_CONNECTIONS_PER_PROCESS = 1

# What one server process gets on Kubernetes: an event loop keeps about one core
# busy at most, so the limit is one core and the request half of it; memory is
# requested at what a service with its pools idles at, and limited at twice that.
CPU_REQUEST_MILLICORES_PER_PROCESS = 500
CPU_LIMIT_MILLICORES_PER_PROCESS = 1000
MEMORY_REQUEST_MIB_PER_PROCESS = 256
MEMORY_LIMIT_MIB_PER_PROCESS = 512
# The HPA keeps two replicas, so one can be drained or rescheduled while the
# other serves; fewer if the plan allows fewer.
MIN_REPLICAS = 2

# Defaults per deploy target for the questionnaire.
DEFAULT_MAX_REPLICAS = {"kubernetes": 10, "gunicorn": 1, "lambda": 50}
DEFAULT_WEB_PROCESSES = {"kubernetes": 1, "gunicorn": 2, "lambda": 1}
DEFAULT_WORKER_CONCURRENCY = {"arq": 10, "celery": 4, "dramatiq": 8}


class CapacityError(ValueError):
    """The deployment cannot fit inside the database's connection budget."""


@dataclass(frozen=True)
class CapacityInputs:
    """What the planner needs to know; ``max_connections=None`` means no server limit."""

    deploy_target: str
    max_replicas: int
    web_processes: int
    max_connections: int | None = None
    reserved_connections: int = 0
    worker_processes: int = 0
    worker_concurrency: int = 0
    per_process_cap: int = MAX_CONNECTIONS_PER_PROCESS
    pooler: str = "none"


@dataclass(frozen=True)
class CapacityPlan:
    """The plan, with every intermediate number so the docs can show the arithmetic."""

    inputs: CapacityInputs
    surge_replicas: int
    web_processes_worst_case: int
    worker_processes_worst_case: int
    worker_connections: int
    budget: int | None
    per_process_share: int | None
    pool_size: int
    max_overflow: int

    @property
    def connections_per_process(self) -> int:
        return self.pool_size + self.max_overflow

    @property
    def worst_case_connections(self) -> int:
        """Every pool full on every process at the peak of a rollout, workers included."""
        return self.web_processes_worst_case * self.connections_per_process + (
            self.worker_connections
        )

    @property
    def gunicorn_workers(self) -> int:
        return self.inputs.web_processes

    @property
    def pooler_max_client_conn(self) -> int:
        """Client connections PgBouncer must accept: every process at its cap, workers too."""
        return self.web_processes_worst_case * self.inputs.per_process_cap + self.worker_connections

    @property
    def min_replicas(self) -> int:
        return min(MIN_REPLICAS, self.inputs.max_replicas)

    @property
    def cpu_request(self) -> str:
        """Kubernetes CPU request of one replica (all its web processes)."""
        return f"{CPU_REQUEST_MILLICORES_PER_PROCESS * self.inputs.web_processes}m"

    @property
    def cpu_limit(self) -> str:
        return f"{CPU_LIMIT_MILLICORES_PER_PROCESS * self.inputs.web_processes}m"

    @property
    def memory_request(self) -> str:
        return f"{MEMORY_REQUEST_MIB_PER_PROCESS * self.inputs.web_processes}Mi"

    @property
    def memory_limit(self) -> str:
        return f"{MEMORY_LIMIT_MIB_PER_PROCESS * self.inputs.web_processes}Mi"

    @property
    def surge_percent(self) -> int:
        """The rollout surge as a Deployment's maxSurge (Kubernetes rounds it up, as we do)."""
        return round(SURGE_FRACTION[self.inputs.deploy_target] * 100)

    @property
    def uses_null_pool(self) -> bool:
        """PgBouncer in transaction mode pools for us: the app opens and closes freely."""
        return self.inputs.pooler == "pgbouncer"


def surge_replicas(deploy_target: str, max_replicas: int) -> int:
    """Extra replicas that run during a rollout on ``deploy_target``."""
    return math.ceil(max_replicas * SURGE_FRACTION[deploy_target])


def split_pool(connections: int) -> tuple[int, int]:
    """Split a process's connection allowance into (pool_size, max_overflow).

    Half is kept open for steady traffic; the other half is overflow that opens
    under bursts and closes again, so idle services do not hold the whole budget.
    """
    pool_size = math.ceil(connections / 2)
    return pool_size, connections - pool_size


def plan_capacity(inputs: CapacityInputs) -> CapacityPlan:
    """Size per-process pools so that the worst case fits; raise CapacityError if not."""
    _check_inputs(inputs)
    surge = surge_replicas(inputs.deploy_target, inputs.max_replicas)
    web_worst = (inputs.max_replicas + surge) * inputs.web_processes
    worker_worst = inputs.worker_processes + math.ceil(
        inputs.worker_processes * SURGE_FRACTION[inputs.deploy_target]
    )
    # Each job a worker runs at once may hold one connection; no overflow there.
    worker_connections = worker_worst * inputs.worker_concurrency

    budget = share = None
    allowance = inputs.per_process_cap
    if inputs.max_connections is not None:
        budget = inputs.max_connections - inputs.reserved_connections
    if budget is not None and inputs.pooler == "none":
        share = (budget - worker_connections) // web_worst
        if share < 1:
            raise CapacityError(_refusal(inputs, budget, web_worst, worker_connections))
        allowance = min(share, inputs.per_process_cap)
    # With a pooler, the pooler holds the server connections and queues what
    # does not fit the budget (PgBouncer's default_pool_size, RDS Proxy's
    # MaxConnectionsPercent), so the app-side pools need not add up to it.

    pool_size, max_overflow = split_pool(allowance)
    return CapacityPlan(
        inputs=inputs,
        surge_replicas=surge,
        web_processes_worst_case=web_worst,
        worker_processes_worst_case=worker_worst,
        worker_connections=worker_connections,
        budget=budget,
        per_process_share=share,
        pool_size=pool_size,
        max_overflow=max_overflow,
    )


def _check_inputs(inputs: CapacityInputs) -> None:
    if inputs.deploy_target not in SURGE_FRACTION:
        raise CapacityError(f"unknown deploy target {inputs.deploy_target!r}")
    if inputs.pooler not in ("none", "pgbouncer", "rds_proxy"):
        raise CapacityError(f"unknown pooler {inputs.pooler!r}")
    for name in ("max_replicas", "web_processes", "per_process_cap"):
        if getattr(inputs, name) < 1:
            raise CapacityError(f"{name} must be at least 1")
    for name in ("reserved_connections", "worker_processes", "worker_concurrency"):
        if getattr(inputs, name) < 0:
            raise CapacityError(f"{name} cannot be negative")
    if inputs.max_connections is not None and (
        inputs.reserved_connections >= inputs.max_connections
    ):
        raise CapacityError(
            f"db_reserved_connections ({inputs.reserved_connections}) must be below "
            f"db_max_connections ({inputs.max_connections})"
        )


def _refusal(inputs: CapacityInputs, budget: int, web_worst: int, worker_connections: int) -> str:
    needed = web_worst + worker_connections + inputs.reserved_connections
    return (
        f"the connection plan does not fit: {web_worst} web processes at the peak of a rollout "
        f"need at least 1 connection each, plus {worker_connections} for queue workers and "
        f"{inputs.reserved_connections} reserved = {needed} > db_max_connections "
        f"{inputs.max_connections} (budget {budget}); lower max_replicas or web_processes, "
        "add a pooler (db_pooler), or raise db_max_connections"
    )
