"""The questionnaire through Copier itself: derived context, refusals, and the CLI's output."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from extensions import answers
from scripts.answers_schema import SCHEMA

from .answer_cases import ACCEPTED, REFUSED, Refused
from .conftest import REQUIRED, ajv_validate, copy_from_data_file, render

TEMPLATE = Path(__file__).resolve().parents[1]


def copier_cli(
    template: Path, destination: Path, data: dict[str, Any], *options: str
) -> subprocess.CompletedProcess[str]:
    """`copier copy` as a portal runs it, with ``data`` as its data file."""
    data_file = destination.parent / f"{destination.name}-answers.yml"
    data_file.write_text(yaml.safe_dump(data, allow_unicode=True))
    return copy_from_data_file(template, destination, data_file, *options)


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


@pytest.fixture(scope="session")
def schema_verdicts() -> dict[str, bool]:
    """Ajv's verdict (strict mode, draft 2020-12) on every case, in one Node process."""
    cases = [case.data() for case in REFUSED] + [{**REQUIRED, **answers} for answers in ACCEPTED]
    results = ajv_validate(json.loads(SCHEMA.read_text()), cases)
    return {
        json.dumps(case, sort_keys=True): result["valid"]
        for case, result in zip(cases, results, strict=True)
    }


@pytest.mark.parametrize("case", REFUSED, ids=lambda case: case.id)
def test_copier_the_checker_and_the_schema_refuse_together(
    copier_template: Path, tmp_path: Path, case: Refused, schema_verdicts: dict[str, bool]
) -> None:
    """One verdict everywhere, every broken rule at once, one line each, nothing written."""
    destination = tmp_path / "svc"
    destination.mkdir()  # an existing, empty directory must stay empty
    result = copier_cli(copier_template, destination, case.data())
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == len(case.errors), result.stderr
    for line, (key, fragment) in zip(lines, case.errors.items(), strict=True):
        assert line.startswith(f"error: {key}: "), result.stderr
        assert fragment in line, result.stderr
    assert list(destination.iterdir()) == []
    # The published checker prints the same lines.
    assert answers.lines(answers.check(case.data())).splitlines() == lines
    # The portal's schema refuses it too, except the capacity plan, which it cannot state.
    assert schema_verdicts[json.dumps(case.data(), sort_keys=True)] is case.plan


@pytest.mark.parametrize("accepted", ACCEPTED, ids=lambda answers: json.dumps(answers)[:60])
def test_copier_the_checker_and_the_schema_accept_together(
    copier_template: Path,
    tmp_path: Path,
    accepted: dict[str, Any],
    schema_verdicts: dict[str, bool],
) -> None:
    data = {**REQUIRED, **accepted}
    result = copier_cli(copier_template, tmp_path / "svc", data, "--pretend")
    assert result.returncode == 0, result.stderr
    assert answers.check(data) == []
    assert schema_verdicts[json.dumps(data, sort_keys=True)] is True


def test_missing_required_answer_is_one_line(copier_template: Path, tmp_path: Path) -> None:
    destination = tmp_path / "svc"
    result = copier_cli(copier_template, destination, {"project_name": "Orders API"})
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "error: owner: required: this question has no default; answer it (e.g. group:payments)"
    )
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
