"""Unit tests of extensions/derived.py: flags, defaults and cross-question rules."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from extensions import answers
from extensions.derived import (
    answer_error_line,
    cors_origins_error,
    derive,
    first_error_line,
    python_string,
    quoted,
)

REQUIRED_ANSWERS = {"project_name": "Orders API", "owner": "group:payments"}
DEFAULTS: dict[str, Any] = {
    "project_name": "Orders API",
    "project_slug": "orders-api",
    "package_name": "orders_api",
    "python_version": "3.12",
    "database": "sqlite",
    "db_pooler": "none",
    "queue": "none",
    "broker": "redis",
    "deploy_target": "gunicorn",
    "db_max_connections": 100,
    "db_reserved_connections": 10,
    "max_replicas": 1,
    "web_processes": 2,
    "worker_processes": 1,
    "worker_concurrency": 1,
    "cors_origins": [],
}


def test_half_answered_questionnaire_derives_what_it_can() -> None:
    derived = derive({"project_name": "Orders API"})
    assert derived["suggested_slug"] == "orders-api"
    assert derived["suggested_package_name"] == "orders_api"
    assert derived["plan"] is None
    assert derived["errors"] == {}


def test_defaults_derive_flags_and_plan() -> None:
    derived = derive(DEFAULTS)
    assert derived["errors"] == {}
    assert derived["has_database"]
    assert derived["is_sqlite"]
    assert derived["uses_gunicorn"]
    assert not derived["has_queue"]
    assert derived["python_tag"] == "py312"
    assert derived["db_requirement"].startswith("aiosqlite")
    plan = derived["plan"]
    assert (plan.pool_size, plan.max_overflow, plan.gunicorn_workers) == (3, 2, 2)


@pytest.mark.parametrize(
    ("queue", "broker", "flag", "url", "requirement"),
    [
        ("arq", "redis", "is_arq", "redis://", "arq>="),
        # ARQ speaks to Redis whatever the broker answer says.
        ("arq", None, "is_arq", "redis://", "arq>="),
        ("celery", "redis", "is_celery", "redis://", "celery[redis]>="),
        ("celery", "rabbitmq", "is_celery", "amqp://", "celery>="),
        ("dramatiq", "redis", "is_dramatiq", "redis://", "dramatiq[redis]>="),
        ("dramatiq", "rabbitmq", "is_dramatiq", "amqp://", "dramatiq[rabbitmq]>="),
    ],
)
def test_queue_flags_broker_and_requirements(
    queue: str, broker: str | None, flag: str, url: str, requirement: str
) -> None:
    answers = {**DEFAULTS, "queue": queue, "broker": broker, "worker_concurrency": 4}
    if broker is None:
        del answers["broker"]
    derived = derive(answers)
    assert derived["errors"] == {}
    assert derived["has_queue"]
    assert derived[flag]
    assert sum(derived[key] for key in ("is_arq", "is_celery", "is_dramatiq")) == 1
    assert derived["broker"] == (broker or "redis")
    assert derived["uses_redis"] == (derived["broker"] == "redis")
    assert derived["uses_rabbitmq"] == (derived["broker"] == "rabbitmq")
    assert derived["broker_url"].startswith(url)
    assert derived["test_broker_url_example"].startswith(url)
    assert [r.split(">=")[0] + ">=" for r in derived["queue_requirements"]] == [requirement]
    assert derived["worker_shutdown_seconds"] == 30
    # The platform waits for the held jobs and then for the process to exit.
    assert derived["worker_stop_seconds"] > derived["worker_shutdown_seconds"]
    # Workers count against the connection budget: (1 process + 1 during a
    # rollout) x 4 jobs, one connection each.
    assert derived["plan"].worker_connections == 8
    # Every pair promises a redelivery bound, written over its own settings.
    assert derived["redelivery"].expression.startswith(("self.", "2 * self."))
    assert derived["redelivery"].why


def test_no_queue_has_no_broker() -> None:
    derived = derive(DEFAULTS)
    assert derived["redelivery"] is None
    assert not derived["has_queue"]
    assert (derived["broker"], derived["broker_url"], derived["queue_requirements"]) == ("", "", [])
    assert not derived["uses_redis"]
    assert not derived["uses_rabbitmq"]


def test_no_database_still_plans_workers() -> None:
    derived = derive({**DEFAULTS, "database": "none", "web_processes": 4})
    assert not derived["has_database"]
    assert derived["plan"].gunicorn_workers == 4


@pytest.mark.parametrize(
    ("answers", "key", "fragment"),
    [
        ({"project_name": " "}, "project_name", "cannot be empty"),
        ({"project_slug": "Orders"}, "project_slug", "not a valid slug"),
        ({"package_name": "json"}, "package_name", "standard library"),
        ({"deploy_target": "kubernetes"}, "deploy_target", "sqlite cannot run on kubernetes"),
        ({"max_replicas": 3}, "max_replicas", "max_replicas must be 1"),
        (
            {"database": "postgresql", "deploy_target": "lambda", "web_processes": 2},
            "web_processes",
            "one process per replica",
        ),
        ({"database": "mysql", "db_pooler": "pgbouncer"}, "db_pooler", "postgresql only"),
        ({"queue": "arq", "broker": "rabbitmq"}, "broker", "redis only"),
        ({"queue": "dramatiq", "database": "none"}, "queue", "needs a database"),
        ({"cors_origins": "https://a.example"}, "cors_origins", "YAML list"),
        ({"cors_origins": ["https://a.example/path"]}, "cors_origins", "not an origin"),
    ],
)
def test_rules_report_on_the_later_question(
    answers: dict[str, Any], key: str, fragment: str
) -> None:
    errors = derive({**DEFAULTS, **answers})["errors"]
    assert fragment in errors[key]


def test_impossible_plan_is_reported_on_every_capacity_question() -> None:
    errors = derive(
        {
            **DEFAULTS,
            "database": "postgresql",
            "deploy_target": "kubernetes",
            "web_processes": 1,
            "max_replicas": 200,
        }
    )["errors"]
    assert "does not fit" in errors["max_replicas"]
    assert errors["max_replicas"] == errors["db_max_connections"] == errors["web_processes"]


@pytest.mark.parametrize(
    "origins", [[], ["*"], ["https://app.example.com", "http://localhost:3000"]]
)
def test_valid_cors_origins(origins: list[str]) -> None:
    assert cors_origins_error(origins) is None


def test_errors_join_into_one_line() -> None:
    line = first_error_line({"a": "first", "b": "second"})
    assert line == "a: first; b: second"


def test_copier_answer_errors_become_one_line() -> None:
    error = ValueError("Validation error for question 'x': bad\n  value")
    assert answer_error_line(error) == "Validation error for question 'x': bad value"
    assert answer_error_line(ValueError('Question "owner" is required')) is not None
    assert answer_error_line(ValueError("something else")) is None
    assert answer_error_line(RuntimeError("Invalid choice for 'x'")) is None


def test_hook_refuses_bad_answers_only_when_rendering_files() -> None:
    from copier.errors import UserMessageError
    from jinja2 import Environment

    from extensions.context import DerivedContext

    hook = DerivedContext(Environment(autoescape=False))  # noqa: S701 - renders no HTML
    prompting = {**DEFAULTS, "max_replicas": 3, "_copier_phase": "prompt"}
    hook.hook(prompting)  # validators report it question by question
    assert "max_replicas" in prompting["derived"]["errors"]

    with pytest.raises(UserMessageError, match="max_replicas: sqlite serves from one host"):
        hook.hook({**DEFAULTS, "max_replicas": 3, "_copier_phase": "render"})


@pytest.mark.parametrize(
    ("answers", "url", "recycle"),
    [
        ({"database": "postgresql"}, "postgresql+asyncpg://app:app@127.0.0.1:5432/app", 1800),
        (
            {"database": "postgresql", "db_pooler": "pgbouncer"},
            "postgresql+asyncpg://app:app@127.0.0.1:6432/app",
            1800,
        ),
        (
            {"database": "postgresql", "db_pooler": "rds_proxy"},
            "postgresql+asyncpg://app:app@127.0.0.1:5432/app",
            1500,
        ),
        ({"database": "mysql"}, "mysql+asyncmy://app:app@127.0.0.1:3306/app", 1800),
        ({"database": "sqlite"}, "sqlite+aiosqlite:///./app.db", 3600),
    ],
)
def test_database_defaults(answers: dict[str, Any], url: str, recycle: int) -> None:
    derived = derive({**DEFAULTS, "max_replicas": 1, **answers})
    assert derived["errors"] == {}
    assert derived["database_url"] == url
    assert derived["pool_recycle"] == recycle


def test_pooler_is_ignored_unless_postgresql() -> None:
    derived = derive({**DEFAULTS, "database": "sqlite", "db_pooler": "none"})
    assert derived["db_pooler"] == "none"
    assert derived["plan"].inputs.pooler == "none"


def test_queue_on_lambda_is_refused_with_the_reason_and_the_way_out() -> None:
    errors = derive(
        {**DEFAULTS, "database": "postgresql", "deploy_target": "lambda", "web_processes": 1}
        | {"queue": "celery"}
    )["errors"]
    message = errors["deploy_target"]
    assert "long-running worker" in message
    assert "deploy_target=kubernetes or gunicorn" in message
    assert "\n" not in message


def test_kubernetes_and_lambda_are_accepted_with_a_server_database() -> None:
    for target in ("kubernetes", "lambda"):
        answers = {
            **DEFAULTS,
            "database": "postgresql",
            "deploy_target": target,
            "web_processes": 1,
            "max_replicas": 10,
        }
        derived = derive(answers)
        assert derived["errors"] == {}
        assert derived["uses_uvicorn"]
        assert not derived["uses_gunicorn"]


@pytest.mark.parametrize("target", ["gunicorn", "kubernetes", "lambda"])
def test_grace_arithmetic_fits_the_platform_limit(target: str) -> None:
    grace = derive({**DEFAULTS, "deploy_target": target})["grace"]
    assert grace.graceful_timeout == grace.drain + grace.requests + grace.lifespan_shutdown
    # uvicorn's graceful-shutdown timeout is what Settings.shutdown_timeout computes.
    assert grace.uvicorn_graceful_shutdown == grace.requests > 0
    assert grace.termination_grace_period > grace.prestop + grace.graceful_timeout


def test_kubernetes_grace_numbers() -> None:
    grace = derive({**DEFAULTS, "deploy_target": "kubernetes"})["grace"]
    assert (grace.prestop, grace.drain, grace.requests, grace.lifespan_shutdown) == (10, 5, 22, 3)
    assert grace.graceful_timeout == 30
    assert grace.termination_grace_period == 45
    # gunicorn keeps the numbers it had: GRACEFUL_TIMEOUT=30, drain 5.
    gunicorn = derive(DEFAULTS)["grace"]
    assert (gunicorn.prestop, gunicorn.graceful_timeout, gunicorn.drain) == (0, 30, 5)


@pytest.mark.parametrize(
    ("answers", "pool"),
    [
        ({"database": "postgresql"}, (1, 0)),
        ({"database": "postgresql", "db_pooler": "rds_proxy"}, (1, 0)),
        ({"database": "mysql"}, (1, 0)),
    ],
)
def test_lambda_pools_one_connection_per_environment(
    answers: dict[str, Any], pool: tuple[int, int]
) -> None:
    derived = derive(
        {**DEFAULTS, "deploy_target": "lambda", "web_processes": 1, "max_replicas": 50, **answers}
    )
    plan = derived["plan"]
    assert (plan.pool_size, plan.max_overflow) == pool
    assert plan.surge_replicas == 0
    assert plan.worst_case_connections == 50


def test_lambda_behind_pgbouncer_keeps_no_pool() -> None:
    plan = derive(
        {
            **DEFAULTS,
            "database": "postgresql",
            "db_pooler": "pgbouncer",
            "deploy_target": "lambda",
            "web_processes": 1,
            "max_replicas": 500,
        }
    )["plan"]
    assert plan.uses_null_pool
    assert plan.pooler_max_client_conn == 500


def test_owner_and_system_must_be_catalog_refs() -> None:
    assert "owner" not in derive({"owner": "group:payments"})["errors"]
    assert derive({"owner": "  "})["errors"]["owner"] == "owner cannot be empty"
    assert "not a catalog entity reference" in derive({"owner": "Payments Team"})["errors"]["owner"]
    # An empty system means none; a set one must name a System.
    assert "system" not in derive({"system": ""})["errors"]
    assert "system" not in derive({"system": "commerce"})["errors"]
    assert "must name a system" in derive({"system": "group:commerce"})["errors"]["system"]


NAMES = [
    "Orders API",
    'The "Billing" team',
    'Joe\'s "quick" API',
    "Invoices & credit notes (café)",
    "a\\b",
    '\\"',
]


@pytest.mark.parametrize("value", NAMES)
def test_quoted_reads_back_the_same_in_json_toml_and_yaml(value: str) -> None:
    literal = quoted(value)
    assert json.loads(literal) == value
    assert tomllib.loads(f"key = {literal}")["key"] == value
    assert yaml.safe_load(f"key: {literal}")["key"] == value
    assert "\\u00" not in literal  # readable: no escapes for accents


@pytest.mark.parametrize("value", NAMES)
def test_python_string_is_what_ruff_format_writes(value: str) -> None:
    source = f"NAME = {python_string(value)}\n"
    assert ast.literal_eval(python_string(value)) == value
    formatted = subprocess.run(
        [Path(sys.executable).with_name("ruff"), "format", "--isolated", "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert formatted == source


# ---------------------------------------------------------------------------
# extensions/answers.py: answers as Copier reads them, checked all at once
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("max_replicas", "3", 3),
        ("max_replicas", 3, 3),
        ("metrics", "false", False),
        ("metrics", "yes", True),
        ("metrics", 0, False),
        ("cors_origins", "[https://a.example]", ["https://a.example"]),
        ("python_version", 3.12, "3.12"),  # YAML's unquoted 3.12
    ],
)
def test_answers_are_read_as_copier_reads_them(key: str, value: Any, expected: Any) -> None:
    assert answers.typed(key, value) == (expected, None)


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [
        ("max_replicas", "many", "expected an integer, got 'many'"),
        ("max_replicas", 2.5, "expected an integer, got the number 2.5"),
        ("max_replicas", True, "expected an integer, got the boolean true"),
        ("metrics", "maybe", "expected true or false, got 'maybe'"),
        ("owner", None, "expected a string, got nothing (null)"),
        ("owner", ["a"], "expected a string, got a list"),
        ("database", "oracle", "'oracle' is not one of the choices: sqlite, postgresql"),
    ],
)
def test_malformed_answers_name_the_expected_type(key: str, value: Any, error: str) -> None:
    assert error in str(answers.typed(key, value)[1])


def test_every_problem_is_reported_at_once_in_questionnaire_order() -> None:
    found = answers.check(
        {**REQUIRED_ANSWERS, "owner": "Payments Team", "max_replicas": "many", "tracing": "maybe"}
        | {"database": "none", "queue": "arq"}
    )
    assert [problem.key for problem in found] == ["owner", "queue", "max_replicas", "tracing"]


def test_a_recorded_answer_an_older_release_accepted_says_what_changed() -> None:
    recorded = {"_commit": "0.1.0", "project_name": "Orders API", "owner": "Payments Team"}
    (problem,) = answers.check({}, recorded)
    assert problem.key == "owner"
    assert problem.message.startswith(
        "'Payments Team' in .copier-answers.yml was accepted by 0.1.0, but 0.2.0 changed the rule"
    )
    assert problem.message.endswith(
        "answer anew: copier update --trust -d owner=group:payments-team"
    )
    # Passing the new answer fixes it.
    assert answers.check({"owner": "group:payments-team"}, recorded) == []


def test_a_recorded_answer_broken_by_hand_says_where_it_is() -> None:
    recorded = {"_commit": "0.3.0", "project_name": "Orders API", "owner": "group:payments"}
    (problem,) = answers.check({}, recorded | {"max_replicas": "many", "metricz": True})[:1]
    assert (
        problem.line() == "max_replicas: expected an integer, got 'many' (in .copier-answers.yml)"
    )


def test_interactive_runs_check_only_keys_and_types() -> None:
    """A terminal asks for what is missing and refuses a broken rule at its own prompt."""
    assert answers.check({"deploy_target": "kubernetes"}, interactive=True) == []
    assert [p.key for p in answers.check({"metrics": "maybe"}, interactive=True)] == ["metrics"]


def test_resolve_renders_the_defaults_copier_would() -> None:
    resolved = answers.resolve(
        {**REQUIRED_ANSWERS, "project_name": "X", "deploy_target": "kubernetes", "queue": "arq"}
        | {"database": "postgresql"}
    )
    assert resolved["project_slug"] == "svc-x"
    assert resolved["package_name"] == "svc_x"
    assert resolved["description"] == "X service"
    assert (resolved["max_replicas"], resolved["web_processes"]) == (10, 1)
    assert resolved["worker_concurrency"] == 10
    assert resolved["cors_origins"] == []


def test_statement_timeout_stays_below_the_lambda_timeout() -> None:
    lambda_ms = derive({**DEFAULTS, "deploy_target": "lambda"})["db_statement_timeout_ms"]
    assert (
        lambda_ms < derive({**DEFAULTS, "deploy_target": "lambda"})["lambda_timeout_seconds"] * 1000
    )
    assert derive(DEFAULTS)["db_statement_timeout_ms"] == 30_000
