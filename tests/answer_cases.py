"""The answer sets the tests agree on: what Copier, the checker and the schema refuse or accept.

Every case is a portal's answers file on top of REQUIRED. test_derived checks
the refusals in the extensions; test_questions feeds each to Copier's CLI
(``--defaults --data-file``) and to portal/answers.schema.json under Ajv, and
requires the same verdict from both (the schema excepted for the capacity
plan, which only the checker and Copier state).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .conftest import REQUIRED

SLUG_45 = "orders-api-" + "x" * 34
SLUG_63 = "orders-api-" + "x" * 52


@dataclass(frozen=True)
class Refused:
    """Answers Copier refuses, and the lines (question: fragment) it must print."""

    answers: dict[str, Any]
    errors: dict[str, str]
    # The capacity plan: no JSON Schema can state it, so the schema accepts these.
    plan: bool = False
    without: tuple[str, ...] = field(default=())

    def data(self) -> dict[str, Any]:
        data = {**REQUIRED, **self.answers}
        for key in self.without:
            del data[key]
        return data

    @property
    def id(self) -> str:
        return "+".join(f"{k}={v}" for k, v in self.answers.items())[:60] or "-".join(self.without)


REFUSED = [
    # Names: exactly the rule that failed.
    Refused({"project_slug": "Orders_API"}, {"project_slug": "must start with a lowercase letter"}),
    Refused({"project_slug": "x"}, {"project_slug": "at least 2 characters"}),
    Refused({"project_slug": SLUG_63 + "y"}, {"project_slug": "too long: 64 characters"}),
    Refused(
        {"project_slug": SLUG_45 + "y", "database": "postgresql", "deploy_target": "kubernetes"},
        {"project_slug": "too long for Kubernetes (46 characters)"},
    ),
    Refused({"package_name": "json"}, {"package_name": "would shadow the standard library"}),
    Refused({"package_name": "os"}, {"package_name": "would shadow the standard library"}),
    Refused({"package_name": "class"}, {"package_name": "is a Python keyword"}),
    Refused({"package_name": "fastapi"}, {"package_name": "a module the generated service"}),
    Refused({"package_name": "orders-api"}, {"package_name": "'-' not allowed"}),
    Refused({"project_name": "!!!"}, {"project_name": "has no letter or digit"}),
    Refused({"project_name": " "}, {"project_name": "cannot be empty"}),
    Refused({"owner": " "}, {"owner": "owner cannot be empty"}),
    Refused({"owner": "Payments Team"}, {"owner": "'Payments Team' is not a catalog entity"}),
    Refused({"owner": "system:payments"}, {"owner": "must name a group or user entity"}),
    Refused({"system": "group:commerce"}, {"system": "must name a system entity"}),
    Refused({"system": "the commerce system"}, {"system": "is not a catalog entity reference"}),
    Refused({}, {"owner": "required"}, without=("owner",)),
    # Keys, types and choices.
    Refused({"python_version": "3.9"}, {"python_version": "'3.9' is not one of the choices"}),
    Refused({"database": "oracle"}, {"database": "'oracle' is not one of the choices"}),
    Refused({"max_replicas": "many"}, {"max_replicas": "expected an integer, got 'many'"}),
    Refused({"metrics": "maybe"}, {"metrics": "expected true or false, got 'maybe'"}),
    Refused({"metricz": False}, {"metricz": "not a question of this template (did you mean"}),
    Refused({"cors_origins": ["ftp://files.example.com"]}, {"cors_origins": "is not an origin"}),
    Refused({"cors_origins": "https://a.example"}, {"cors_origins": "must be a YAML list"}),
    # Rules across questions, each under the later question of its pair.
    Refused({"deploy_target": "kubernetes"}, {"deploy_target": "sqlite cannot run on kubernetes"}),
    Refused({"deploy_target": "lambda"}, {"deploy_target": "sqlite cannot run on lambda"}),
    Refused({"max_replicas": 3}, {"max_replicas": "sqlite serves from one host"}),
    Refused({"queue": "celery", "database": "none"}, {"queue": "queue=celery needs a database"}),
    Refused({"queue": "arq", "broker": "rabbitmq"}, {"broker": "arq runs on redis only"}),
    Refused(
        {"database": "mysql", "db_pooler": "pgbouncer"},
        {"db_pooler": "db_pooler=pgbouncer applies to postgresql only"},
    ),
    Refused(
        {"database": "postgresql", "deploy_target": "lambda", "queue": "celery"},
        {"deploy_target": "queue=celery needs a long-running worker process"},
    ),
    Refused(
        {"database": "postgresql", "deploy_target": "kubernetes", "web_processes": 2},
        {"web_processes": "kubernetes runs one process per replica"},
    ),
    # Two rules at once, each under its own question, no connection-plan message.
    Refused(
        {"deploy_target": "lambda", "web_processes": 4},
        {
            "deploy_target": "sqlite cannot run on lambda",
            "web_processes": "lambda runs one process per replica",
        },
    ),
    # Bounds.
    Refused(
        {"database": "postgresql", "queue": "arq", "worker_processes": 0},
        {"worker_processes": "worker_processes must be at least 1 (got 0)"},
    ),
    Refused(
        {"database": "postgresql", "queue": "arq", "worker_concurrency": 0},
        {"worker_concurrency": "worker_concurrency must be at least 1 (got 0)"},
    ),
    Refused(
        {"database": "none", "web_processes": 99999999999999999999},
        {"web_processes": "web_processes must be at most 512"},
    ),
    Refused({"max_replicas": 0}, {"max_replicas": "max_replicas must be at least 1"}),
    Refused(
        {"database": "postgresql", "db_pooler": "pgbouncer", "max_replicas": 10001},
        {"max_replicas": "max_replicas must be at most 10000"},
    ),
    Refused(
        {"database": "postgresql", "db_max_connections": 0},
        {"db_max_connections": "db_max_connections must be at least 1"},
    ),
    Refused(
        {"database": "mysql", "db_max_connections": 200_000},
        {"db_max_connections": "MySQL and MariaDB accept at most 100000"},
    ),
    # The capacity plan: under a question the user set.
    Refused(
        {"database": "mysql", "deploy_target": "lambda", "max_replicas": 120},
        {"max_replicas": "the connection plan does not fit: 120 web processes"},
        plan=True,
    ),
    Refused(
        {"database": "postgresql", "max_replicas": 50, "web_processes": 4},
        {"web_processes": "the connection plan does not fit: 400 web processes"},
        plan=True,
    ),
    Refused(
        {
            "database": "mysql",
            "deploy_target": "kubernetes",
            "db_max_connections": 10,
            "db_reserved_connections": 10,
        },
        {"db_reserved_connections": "must be below db_max_connections (10)"},
        plan=True,
    ),
    Refused(
        {"database": "postgresql", "deploy_target": "kubernetes", "db_max_connections": 20},
        {"db_max_connections": "the connection plan does not fit: 13 web processes"},
        plan=True,
    ),
]

ACCEPTED: list[dict[str, Any]] = [
    {},
    {"project_name": "X"},
    {"project_name": "123 API"},
    {"project_name": "日本"},
    {"project_name": "Joe's Café API", "owner": "user:jdoe", "system": "commerce"},
    {"project_slug": SLUG_63},
    {"project_slug": SLUG_45, "database": "postgresql", "deploy_target": "kubernetes"},
    {"package_name": "_private", "system": ""},
    {"database": "none", "web_processes": 512, "cors_origins": ["*"]},
    {
        "database": "postgresql",
        "db_pooler": "pgbouncer",
        "deploy_target": "kubernetes",
        "max_replicas": 10_000,
        "db_max_connections": 262_143,
        "db_reserved_connections": 0,
    },
    {
        "database": "mysql",
        "deploy_target": "kubernetes",
        "queue": "celery",
        "broker": "rabbitmq",
        "worker_processes": 2,
        "worker_concurrency": 2,
        "db_max_connections": 100_000,
    },
    {"database": "postgresql", "db_pooler": "rds_proxy", "deploy_target": "lambda"},
    {"database": "postgresql", "queue": "arq", "worker_concurrency": 1},
    # A question that is not asked for these answers takes any valid value.
    {"broker": "rabbitmq", "db_max_connections": 5},
]
