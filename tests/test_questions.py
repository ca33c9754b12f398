"""The questionnaire through Copier itself: derived context, refusals, and the CLI's output."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import REQUIRED, copy_from_data_file, render

TEMPLATE = Path(__file__).resolve().parents[1]


def copier_cli(
    template: Path, destination: Path, answers: dict[str, Any]
) -> subprocess.CompletedProcess[str]:
    """`copier copy` as a portal runs it, with ``answers`` as its data file."""
    data_file = destination.parent / f"{destination.name}-answers.yml"
    data_file.write_text(yaml.safe_dump(answers))
    return copy_from_data_file(template, destination, data_file)


def test_defaults_render_the_sqlite_gunicorn_service(copier_template: Path, tmp_path: Path) -> None:
    render(copier_template, tmp_path / "svc", **REQUIRED)
    answers = yaml.safe_load((tmp_path / "svc/.copier-answers.yml").read_text())
    assert answers["database"] == "sqlite"
    assert answers["deploy_target"] == "gunicorn"
    assert answers["project_slug"] == "orders-api"
    assert answers["package_name"] == "orders_api"
    # Capacity questions of a server database are not asked for SQLite.
    assert "db_max_connections" not in answers
    assert (tmp_path / "svc/src/orders_api/main.py").is_file()


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"project_slug": "Orders_API"}, "Validation error for question 'project_slug'"),
        ({"package_name": "json"}, "would shadow the standard library module"),
        ({"package_name": "class"}, "is a Python keyword"),
        ({"package_name": "fastapi"}, "would shadow a module the generated service depends on"),
        ({"project_name": "!!!"}, "'' is not a valid slug"),
        ({"queue": "celery", "database": "none"}, "queue=celery needs a database"),
        ({"queue": "arq", "broker": "rabbitmq"}, "arq runs on redis only"),
        ({"deploy_target": "kubernetes"}, "sqlite cannot run on kubernetes"),
        ({"deploy_target": "lambda"}, "sqlite cannot run on lambda"),
        (
            {"database": "postgresql", "deploy_target": "kubernetes", "web_processes": 2},
            "kubernetes runs one process per replica",
        ),
        (
            {"database": "mysql", "deploy_target": "lambda", "max_replicas": 120},
            "the connection plan does not fit: 120 web processes",
        ),
        (
            {"database": "mysql", "db_pooler": "pgbouncer"},
            "db_pooler=pgbouncer applies to postgresql only",
        ),
        (
            {"database": "postgresql", "max_replicas": 50, "web_processes": 4},
            "the connection plan does not fit: 400 web processes",
        ),
        (
            {"database": "mysql", "db_max_connections": 10, "db_reserved_connections": 10},
            "db_reserved_connections (10) must be below db_max_connections (10)",
        ),
        ({"max_replicas": 3}, "sqlite serves from one host"),
        ({"cors_origins": ["ftp://files.example.com"]}, "is not an origin"),
        ({"owner": " "}, "owner cannot be empty"),
        ({"owner": "Payments Team"}, "'Payments Team' is not a catalog entity reference"),
        ({"system": "group:commerce"}, "'group:commerce' must name a system entity"),
        ({"python_version": "3.9"}, "Invalid choice for 'python_version'"),
    ],
)
def test_bad_answer_fails_with_one_line_before_writing(
    copier_template: Path, tmp_path: Path, answers: dict[str, Any], message: str
) -> None:
    destination = tmp_path / "svc"
    destination.mkdir()  # an existing, empty directory must stay empty
    result = copier_cli(copier_template, destination, {**REQUIRED, **answers})
    assert result.returncode != 0
    assert message in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert list(destination.iterdir()) == []


def test_missing_required_answer_is_one_line(copier_template: Path, tmp_path: Path) -> None:
    destination = tmp_path / "svc"
    result = copier_cli(copier_template, destination, {"project_name": "Orders API"})
    assert result.returncode != 0
    assert result.stderr.strip().endswith('error: Question "owner" is required')
    assert not destination.exists()


def test_cli_renders_with_a_data_file(copier_template: Path, tmp_path: Path) -> None:
    answers = {**REQUIRED, "python_version": "3.13", "ci": "none"}
    result = copier_cli(copier_template, tmp_path / "svc", answers)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "svc/.python-version").read_text().strip() == "3.13"
    assert not (tmp_path / "svc/.github").exists()


def test_every_question_is_documented() -> None:
    questions = yaml.safe_load((TEMPLATE / "copier.yml").read_text())
    documented = (TEMPLATE / "docs/questions.md").read_text()
    missing = [key for key in questions if not key.startswith("_") and f"`{key}`" not in documented]
    assert missing == []


def test_copier_context_carries_derived_values(copier: Any) -> None:
    """The hook is wired: Copier's own rendering context holds `derived`."""
    context = copier.context(**REQUIRED)
    derived = context["derived"]
    assert derived["is_sqlite"]
    assert derived["uses_gunicorn"]
    assert (derived["plan"].pool_size, derived["plan"].max_overflow) == (3, 2)
    assert derived["errors"] == {}
