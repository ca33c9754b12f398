"""extensions/ci.py: the servers a generated service's CI starts, and the variables that reach them."""

from __future__ import annotations

from extensions import ci


def names(database: str, pooler: str = "none", broker: str = "") -> list[str]:
    return [service.name for service in ci.services(database, pooler, broker)]


def test_exactly_the_chosen_servers() -> None:
    assert names("sqlite") == []
    assert names("none", broker="redis") == ["redis"]
    assert names("postgresql") == ["postgres"]
    assert names("postgresql", "pgbouncer", "rabbitmq") == ["postgres", "pgbouncer", "rabbitmq"]
    # RDS Proxy has no container: CI tests against PostgreSQL itself.
    assert names("postgresql", "rds_proxy") == ["postgres"]
    assert names("mysql", broker="redis") == ["mariadb", "redis"]


def test_every_image_is_pinned_and_health_checked() -> None:
    for service in ci.services("postgresql", "pgbouncer", "redis") + ci.services(
        "mysql", "none", "rabbitmq"
    ):
        repository, _, tag = service.image.rpartition(":")
        assert repository
        assert tag
        assert tag != "latest"
        assert service.health


def test_the_tests_reach_the_pooler_not_the_database_behind_it() -> None:
    variables = ci.variables("postgresql", "pgbouncer", "redis")
    assert ci.github_env(variables) == {
        "TEST_DATABASE_URL": "postgresql+asyncpg://app:app@localhost:6432/postgres",
        "TEST_BROKER_URL": "redis://localhost:6379/15",
    }
    assert ci.gitlab_env(variables) == {
        "TEST_DATABASE_URL": "postgresql+asyncpg://app:app@pgbouncer:6432/postgres",
        "TEST_BROKER_URL": "redis://redis:6379/15",
    }
    # The pooler reaches PostgreSQL by its service name, for any database.
    [_, pgbouncer] = ci.services("postgresql", "pgbouncer", "")
    assert pgbouncer.env["DATABASE_URL"] == "postgres://app:app@postgres:5432"


def test_no_server_no_variable() -> None:
    assert ci.variables("sqlite", "none", "") == []
    [mysql] = ci.variables("mysql", "none", "")
    assert mysql.on("mariadb") == "mysql+asyncmy://root:root@mariadb:3306/mysql"
