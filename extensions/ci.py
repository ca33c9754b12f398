"""The servers a generated service's CI starts, the same for GitHub Actions and GitLab CI.

Each service container is named as the other containers reach it (GitHub's
service label, GitLab's alias); the TEST_* variables point the service's own
tests at them, from the runner's host (GitHub: published ports on localhost)
or from the job's container (GitLab: the alias).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Pinned to the release lines of compose.yaml, so CI tests what `docker compose
# up` runs locally; Dependabot/Renovate move the compose file and the CI files.
POSTGRES_IMAGE = "postgres:17"
PGBOUNCER_IMAGE = "edoburu/pgbouncer:v1.24.1-p1"
MARIADB_IMAGE = "mariadb:11.4"
REDIS_IMAGE = "redis:7.4"
RABBITMQ_IMAGE = "rabbitmq:4.1-management"


@dataclass(frozen=True)
class Service:
    """One service container: what it runs, the port it serves, how CI knows it is up."""

    name: str
    image: str
    port: int
    health: str
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CIVariable:
    """A TEST_* variable: a URL on ``service``, whose host CI fills in."""

    name: str
    service: str
    url: str  # with {host} for the host

    def on(self, host: str) -> str:
        return self.url.format(host=host)


def services(database: str, pooler: str, broker: str) -> list[Service]:
    """Exactly the servers the answers chose: database, pooler, broker."""
    found = []
    if database == "postgresql":
        found.append(
            Service(
                "postgres",
                POSTGRES_IMAGE,
                5432,
                "pg_isready -U app",
                {"POSTGRES_USER": "app", "POSTGRES_PASSWORD": "app"},
            )
        )
        if pooler == "pgbouncer":
            found.append(
                Service(
                    "pgbouncer",
                    PGBOUNCER_IMAGE,
                    6432,
                    "pg_isready -h 127.0.0.1 -p 6432",
                    {
                        # No database name: a wildcard entry, so the tests'
                        # throwaway databases are reachable through it too.
                        "DATABASE_URL": "postgres://app:app@postgres:5432",
                        "AUTH_TYPE": "scram-sha-256",
                        "LISTEN_PORT": "6432",
                        "POOL_MODE": "transaction",
                        "QUERY_WAIT_TIMEOUT": "5",
                    },
                )
            )
    elif database == "mysql":
        found.append(
            Service(
                "mariadb",
                MARIADB_IMAGE,
                3306,
                "healthcheck.sh --connect --innodb_initialized",
                # root creates the tests' throwaway databases.
                {"MARIADB_ROOT_PASSWORD": "root"},
            )
        )
    if broker == "redis":
        found.append(Service("redis", REDIS_IMAGE, 6379, "redis-cli ping"))
    elif broker == "rabbitmq":
        found.append(
            Service(
                "rabbitmq",
                RABBITMQ_IMAGE,
                5672,
                "rabbitmq-diagnostics -q ping",
                # RabbitMQ's guest account only logs in from inside the container.
                {"RABBITMQ_DEFAULT_USER": "app", "RABBITMQ_DEFAULT_PASS": "app"},
            )
        )
    return found


def variables(database: str, pooler: str, broker: str) -> list[CIVariable]:
    """What the service's tests read to reach the servers of ``services``."""
    found = []
    if database == "postgresql":
        via, port = ("pgbouncer", 6432) if pooler == "pgbouncer" else ("postgres", 5432)
        url = f"postgresql+asyncpg://app:app@{{host}}:{port}/postgres"
        found.append(CIVariable("TEST_DATABASE_URL", via, url))
    elif database == "mysql":
        url = "mysql+asyncmy://root:root@{host}:3306/mysql"
        found.append(CIVariable("TEST_DATABASE_URL", "mariadb", url))
    if broker == "redis":
        found.append(CIVariable("TEST_BROKER_URL", "redis", "redis://{host}:6379/15"))
    elif broker == "rabbitmq":
        url = "amqp://app:app@{host}:5672/%2F"
        found.append(CIVariable("TEST_BROKER_URL", "rabbitmq", url))
    return found


def github_env(variables: list[CIVariable]) -> dict[str, str]:
    """GitHub's job runs on the host: each service is a published port on localhost."""
    return {variable.name: variable.on("localhost") for variable in variables}


def gitlab_env(variables: list[CIVariable]) -> dict[str, str]:
    """GitLab's job runs in a container beside the services: each is its alias."""
    return {variable.name: variable.on(variable.service) for variable in variables}
