"""Everything the template derives from the answers, computed once, in one place.

``derive(answers)`` returns the ``derived`` namespace that copier.yml and every
template file read: flags, per-target defaults, the capacity plan, and the
validation errors keyed by the question they belong to. It must cope with a
half-answered questionnaire: Copier renders defaults and validators while the
later answers do not exist yet, so every rule runs only once its inputs exist.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import capacity, ci, naming, rules
from .rules import CAPACITY_KEYS  # noqa: F401 - imported from here by tests and scripts

DRIVERS = {"postgresql": "asyncpg", "mysql": "asyncmy", "sqlite": "aiosqlite"}
DRIVER_REQUIREMENTS = {
    "postgresql": "asyncpg>=0.30",
    # 0.2.13: the first with Python 3.13 wheels on every platform (Linux aarch64 too).
    "mysql": "asyncmy>=0.2.13",
    "sqlite": "aiosqlite>=0.20",
}
# uv release line of the Docker build stage and the GitLab CI image.
UV_IMAGE_VERSION = "0.13"

# Task queues: what each backend installs, per broker.
QUEUE_REQUIREMENTS = {
    ("arq", "redis"): ["arq>=0.26"],
    ("celery", "redis"): ["celery[redis]>=5.5"],
    ("celery", "rabbitmq"): ["celery>=5.5"],
    ("dramatiq", "redis"): ["dramatiq[redis]>=2.0"],
    ("dramatiq", "rabbitmq"): ["dramatiq[rabbitmq]>=2.0"],
}
# Where the worker and the enqueue client look by default: compose.yaml's broker.
BROKER_URLS = {
    "redis": "redis://127.0.0.1:6379/0",
    "rabbitmq": "amqp://app:app@127.0.0.1:5672/%2F",
}
TEST_BROKER_URLS = {
    "redis": "redis://127.0.0.1:6379/15",
    "rabbitmq": "amqp://app:app@127.0.0.1:5672/%2F",
}
# Seconds a worker has, after SIGTERM, to finish the jobs it holds before it
# hands them back to the queue. Deploy files add their margin to it
# (systemd TimeoutStopSec, Kubernetes terminationGracePeriodSeconds).
WORKER_SHUTDOWN_SECONDS = 30
# What the platform adds before it kills a stopping worker: the process's own
# exit (closing the broker and database connections) after its last job.
WORKER_STOP_MARGIN_SECONDS = 15


@dataclass(frozen=True)
class Redelivery:
    """How the jobs of a lost worker come back, per queue x broker pair.

    A worker that dies (SIGKILL, OOM, a lost host) or gives its jobs up at the
    shutdown deadline never acknowledged them; the broker (or a peer worker)
    hands them out again within ``expression`` seconds of Settings, plus
    REDELIVERY_MARGIN_SECONDS for polling and clocks. Settings.redelivery_seconds
    renders ``expression``; the runbooks and the README render ``why``.
    """

    expression: str
    why: str


# Added to every redelivery bound: polls, timers and process start-up.
REDELIVERY_MARGIN_SECONDS = 5
REDELIVERY = {
    ("arq", "redis"): Redelivery(
        # ARQ's in-progress mark lasts the job timeout + 10 s (arq.worker).
        "self.worker_job_timeout + 10",
        "ARQ runs the job again once its in-progress mark (WORKER_JOB_TIMEOUT + 10 s) expires",
    ),
    ("celery", "redis"): Redelivery(
        "self.broker_visibility_timeout + self.broker_restore_interval",
        "Redis hands an unacknowledged job out again once BROKER_VISIBILITY_TIMEOUT has"
        " passed, at the next restore pass (every BROKER_RESTORE_INTERVAL seconds)",
    ),
    ("celery", "rabbitmq"): Redelivery(
        "2 * self.broker_heartbeat",
        "RabbitMQ requeues the jobs of a connection as soon as it closes, and closes"
        " one it has not heard from for two BROKER_HEARTBEAT intervals (a lost host)",
    ),
    ("dramatiq", "redis"): Redelivery(
        "self.broker_heartbeat_timeout + self.broker_maintenance_interval",
        "every worker requeues the jobs of one whose heartbeat is BROKER_HEARTBEAT_TIMEOUT"
        " old, on a clock of BROKER_MAINTENANCE_INTERVAL seconds",
    ),
    ("dramatiq", "rabbitmq"): Redelivery(
        "2 * self.broker_heartbeat",
        "RabbitMQ requeues the jobs of a connection as soon as it closes, and closes"
        " one it has not heard from for two BROKER_HEARTBEAT intervals (a lost host)",
    ),
}


# Seconds after which the pool replaces a connection, and why that number.
POOL_RECYCLE = {
    "sqlite": (3600, "A local file has no idle limit; recycle hourly all the same."),
    "postgresql": (1800, "Below the idle timeouts of cloud load balancers and proxies."),
    "rds_proxy": (1500, "Below RDS Proxy's default IdleClientTimeout of 1800 s."),
    "pgbouncer": (
        1800,
        "Unused with PgBouncer (NullPool), unless DB_PGBOUNCER_PREPARED_STATEMENTS keeps a pool.",
    ),
    "mysql": (1800, "Below MySQL's wait_timeout and the idle limits of proxies in between."),
}


# A server account the generated tests may create databases with: compose.yaml's.
TEST_DATABASE_URLS = {
    "postgresql": "postgresql+asyncpg://app:app@127.0.0.1:5432/app",
    "mysql": "mysql+asyncmy://root:root@127.0.0.1:3306/mysql",
}
DROP_DATABASE_SQL = {
    # FORCE ends the sessions a pooler may still hold on the database.
    "postgresql": "DROP DATABASE IF EXISTS {name} WITH (FORCE)",
    "mysql": "DROP DATABASE IF EXISTS {name}",
}


def default_database_url(database: str, pooler: str = "none") -> str:
    """Where the service looks by default: the database of compose.yaml, or a local file."""
    if database == "postgresql":
        port = 6432 if pooler == "pgbouncer" else 5432  # compose.yaml's PgBouncer
        return f"postgresql+asyncpg://app:app@127.0.0.1:{port}/app"
    if database == "mysql":
        return "mysql+asyncmy://app:app@127.0.0.1:3306/app"
    if database == "sqlite":
        return "sqlite+aiosqlite:///./app.db"
    return ""


# settings.py's LIFESPAN_SHUTDOWN_SECONDS: closing pools and clients.
LIFESPAN_SHUTDOWN_SECONDS = 3


@dataclass(frozen=True)
class Grace:
    """How a replica stops, in seconds, from the moment it is told to.

    preStop sleep (Kubernetes only: endpoints and load balancers stop routing to
    the pod), then SIGTERM: /readyz answers 503 for ``drain`` while requests are
    still served, then the server stops accepting and gives in-flight requests
    ``requests``, then the lifespan closes pools in ``lifespan_shutdown``. The
    platform's hard limit (terminationGracePeriodSeconds) covers all of it plus
    a margin, so nothing is killed mid-response.
    """

    prestop: int
    drain: int
    requests: int
    lifespan_shutdown: int = LIFESPAN_SHUTDOWN_SECONDS
    margin: int = 5

    @property
    def graceful_timeout(self) -> int:
        """GRACEFUL_TIMEOUT: from SIGTERM to exit (gunicorn's graceful_timeout)."""
        return self.drain + self.requests + self.lifespan_shutdown

    @property
    def uvicorn_graceful_shutdown(self) -> int:
        """uvicorn's timeout_graceful_shutdown, as Settings.shutdown_timeout computes it."""
        return self.graceful_timeout - self.drain - self.lifespan_shutdown

    @property
    def termination_grace_period(self) -> int:
        """terminationGracePeriodSeconds: its clock starts with the preStop hook."""
        return self.prestop + self.graceful_timeout + self.margin


GRACE = {
    "gunicorn": Grace(prestop=0, drain=5, requests=22),
    # Endpoint removal reaches kube-proxy and ingress controllers within seconds;
    # the drain after it covers load balancers that probe pod IPs themselves.
    "kubernetes": Grace(prestop=10, drain=5, requests=22),
    # Lambda freezes and retires environments itself; the numbers serve `make run`.
    "lambda": Grace(prestop=0, drain=5, requests=22),
}

# What one Lambda execution environment gets: memory buys CPU (1769 MB is one
# vCPU), and the timeout stays below API Gateway's 30 s integration limit.
LAMBDA_MEMORY_MB = 1024
LAMBDA_TIMEOUT_SECONDS = 29
# DB_STATEMENT_TIMEOUT_MS: the server cancels a statement well before the
# platform would kill the request, so a slow query is a clean 503, not a
# timed-out function. Lambda leaves room for the pool wait and the response.
DB_STATEMENT_TIMEOUT_MS = 30_000
LAMBDA_STATEMENT_MARGIN_SECONDS = 5


def statement_timeout_ms(target: str) -> int:
    """DB_STATEMENT_TIMEOUT_MS's default: below the function timeout on Lambda."""
    if target == "lambda":
        return (LAMBDA_TIMEOUT_SECONDS - LAMBDA_STATEMENT_MARGIN_SECONDS) * 1000
    return DB_STATEMENT_TIMEOUT_MS


# Kept here for the code and tests that import them from derived.
OWNER_KINDS = rules.OWNER_KINDS
SYSTEM_KINDS = rules.SYSTEM_KINDS
ORIGIN_PATTERN = rules.ORIGIN_PATTERN
cors_origins_error = rules.cors_origins_error
capacity_inputs = rules.capacity_inputs
per_process_cap = rules.per_process_cap


def queue_broker(answers: Mapping[str, Any]) -> str:
    """The broker the queue runs on: arq is redis only, no queue has none."""
    queue = answers.get("queue")
    if queue in (None, "none"):
        return ""
    if queue == "arq":
        return "redis"
    return str(answers.get("broker") or "redis")


def derive(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Build the ``derived`` namespace from whatever answers exist so far."""
    name = str(answers.get("project_name") or "")
    slug = str(answers.get("project_slug") or naming.slugify(name))
    database = answers.get("database")
    target = answers.get("deploy_target")
    queue = answers.get("queue")
    python_version = str(answers.get("python_version") or "3.12")
    pooler = str(answers.get("db_pooler") or "none") if database == "postgresql" else "none"
    broker = queue_broker(answers)
    recycle, recycle_reason = POOL_RECYCLE.get(
        pooler if pooler != "none" else str(database), (0, "")
    )

    plan, problems = rules.problems(answers)
    # What each question's validator says: its own problems and those of the
    # rules it feeds, so an interactive prompt refuses the answer that breaks one.
    errors = {
        key: "; ".join(problem.message for problem in rules.involving(problems, key))
        for key in dict.fromkeys(
            key for problem in problems for key in (problem.key, *problem.involves)
        )
    }

    return {
        "suggested_slug": naming.slugify(name),
        "suggested_package_name": naming.package_name_for(slug),
        "default_max_replicas": capacity.DEFAULT_MAX_REPLICAS.get(str(target), 1),
        "default_web_processes": capacity.DEFAULT_WEB_PROCESSES.get(str(target), 1),
        "default_worker_concurrency": capacity.DEFAULT_WORKER_CONCURRENCY.get(str(queue), 1),
        "has_database": database not in (None, "none"),
        "is_sqlite": database == "sqlite",
        "is_postgresql": database == "postgresql",
        "is_mysql": database == "mysql",
        "has_db_server": database in ("postgresql", "mysql"),
        "db_pooler": pooler,
        "db_driver": DRIVERS.get(str(database), ""),
        "db_requirement": DRIVER_REQUIREMENTS.get(str(database), ""),
        "database_url": default_database_url(str(database), pooler),
        "test_database_url_example": TEST_DATABASE_URLS.get(str(database), ""),
        "drop_database_sql": DROP_DATABASE_SQL.get(str(database), ""),
        "pool_recycle": recycle,
        "pool_recycle_reason": recycle_reason,
        "has_queue": queue not in (None, "none"),
        "is_arq": queue == "arq",
        "is_celery": queue == "celery",
        "is_dramatiq": queue == "dramatiq",
        "broker": broker,
        "uses_redis": broker == "redis",
        "uses_rabbitmq": broker == "rabbitmq",
        "broker_url": BROKER_URLS.get(broker, ""),
        "test_broker_url_example": TEST_BROKER_URLS.get(broker, ""),
        "queue_requirements": QUEUE_REQUIREMENTS.get((str(queue), broker), []),
        "worker_shutdown_seconds": WORKER_SHUTDOWN_SECONDS,
        "redelivery": REDELIVERY.get((str(queue), broker)),
        "redelivery_margin_seconds": REDELIVERY_MARGIN_SECONDS,
        # systemd's TimeoutStopSec, compose's stop_grace_period, the worker pod's grace.
        "worker_stop_seconds": WORKER_SHUTDOWN_SECONDS + WORKER_STOP_MARGIN_SECONDS,
        "uses_gunicorn": target == "gunicorn",
        "uses_kubernetes": target == "kubernetes",
        "uses_lambda": target == "lambda",
        "grace": GRACE.get(str(target), GRACE["gunicorn"]),
        "lambda_memory_mb": LAMBDA_MEMORY_MB,
        "lambda_timeout_seconds": LAMBDA_TIMEOUT_SECONDS,
        "db_statement_timeout_ms": statement_timeout_ms(str(target)),
        # Lambda reads DATABASE_URL from Secrets Manager at run time (database_secret.py).
        "reads_database_secret": target == "lambda" and database in ("postgresql", "mysql"),
        # uvicorn alone serves one process per replica (kubernetes; lambda locally).
        "uses_uvicorn": target in ("kubernetes", "lambda"),
        "python_version": python_version,
        "uv_version": UV_IMAGE_VERSION,
        # The servers CI starts for the tests, and the TEST_* variables that reach them.
        "ci_services": ci.services(str(database), pooler, broker),
        "ci_github_env": ci.github_env(ci.variables(str(database), pooler, broker)),
        "ci_gitlab_env": ci.gitlab_env(ci.variables(str(database), pooler, broker)),
        "python_tag": "py" + python_version.replace(".", ""),
        "plan": plan,
        "errors": errors,
        "problems": problems,
    }


def quoted(value: str) -> str:
    """``value`` as a double-quoted string that JSON, TOML and YAML all read back.

    Jinja's ``tojson`` also escapes ``'``, ``&``, ``<`` and ``>`` for HTML, which
    would put ``\\u0027`` into a service's name in its catalog entry.
    """
    return json.dumps(value, ensure_ascii=False)


def python_string(value: str) -> str:
    """``value`` as the Python literal that ``ruff format`` leaves as it is.

    Double quotes, unless the value holds more of them than single quotes.
    """
    body = quoted(value)[1:-1]  # backslashes, double quotes and control characters escaped
    if value.count('"') > value.count("'"):
        return "'" + body.replace('\\"', '"').replace("'", "\\'") + "'"
    return '"' + body + '"'


def first_error_line(errors: Mapping[str, str]) -> str:
    """All errors as the one line a terminal or a portal shows."""
    return "; ".join(f"{key}: {message}" for key, message in errors.items())


# How Copier words a rejected answer; it raises these as plain ValueErrors.
COPIER_ANSWER_ERRORS = ("Validation error for question", "Invalid choice for", 'Question "')


def answer_error_line(error: BaseException) -> str | None:
    """The one line to print for Copier's rejection of an answer, else None."""
    message = str(error)
    if isinstance(error, ValueError) and message.startswith(COPIER_ANSWER_ERRORS):
        return " ".join(message.split())
    return None
