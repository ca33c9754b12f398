"""CI files, the template's and every rendered service's: linted, pinned, and run on loopback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from .conftest import (
    ROOT,
    TEST_BROKER_URLS,
    TEST_DATABASE_URLS,
    VARIANTS_WITH_CI,
    Project,
    each_variant,
    variants_where,
)
from .workflows import Job, Loopback, failed, github_job, gitlab_job, rewrite_urls

BIN = Path(sys.executable).parent
# A third-party action: pinned by its commit, its release in a comment.
PINNED = re.compile(r"^\s*-?\s*uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def lint(*workflows: Path) -> None:
    """actionlint (shellcheck on every run: script) and zizmor, offline; both must be silent."""
    names = [str(path) for path in workflows]
    for command in (
        [str(BIN / "actionlint"), "-no-color", "-shellcheck", str(BIN / "shellcheck"), *names],
        [str(BIN / "zizmor"), "--offline", "--no-progress", *names],
    ):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def uses_lines(*workflows: Path) -> list[str]:
    return [
        line
        for path in workflows
        for line in path.read_text().splitlines()
        if line.strip().startswith(("uses:", "- uses:"))
    ]


def ci_of(project: Project) -> str:
    return str(project.answers.get("ci", "github"))


def check_job(project: Project) -> Job:
    if ci_of(project) == "github":
        return github_job(project.path / ".github/workflows/ci.yml", "check")
    return gitlab_job(project.path / ".gitlab-ci.yml", "check")


def expected_services(answers: dict[str, Any]) -> set[str]:
    """The containers CI must start: exactly the database, pooler and broker chosen."""
    database = answers.get("database", "sqlite")
    expected = set()
    if database == "postgresql":
        expected.add("postgres")
        if answers.get("db_pooler") == "pgbouncer":
            expected.add("pgbouncer")
    elif database == "mysql":
        expected.add("mariadb")
    if answers.get("queue", "none") != "none":
        expected.add("rabbitmq" if answers.get("broker") == "rabbitmq" else "redis")
    return expected


# ---------------------------------------------------------------------------
# Static: lint, pins, services
# ---------------------------------------------------------------------------
def test_the_template_repositorys_workflows_lint_clean() -> None:
    workflows = sorted((ROOT / ".github/workflows").glob("*.yml"))
    assert {path.name for path in workflows} >= {"bootstrap.yml", "ci.yml"}
    lint(*workflows)


def test_every_action_is_pinned_by_commit_with_its_release() -> None:
    workflows = [
        *(ROOT / ".github/workflows").glob("*.yml"),
        *(ROOT / "template/.github/workflows").glob("*"),
    ]
    lines = uses_lines(*workflows)
    assert lines
    assert [line for line in lines if not PINNED.match(line)] == []


@each_variant(*variants_where(ci="github"))
def test_rendered_workflows_lint_clean(project: Project) -> None:
    lint(*sorted((project.path / ".github/workflows").glob("*.yml")))


@each_variant(*variants_where(ci="github"), *variants_where(ci="gitlab"))
def test_ci_starts_exactly_the_chosen_servers(project: Project) -> None:
    job = check_job(project)
    assert set(job.services) == expected_services(project.answers)
    for image in job.services.values():
        assert ":" in image
        assert not image.endswith(":latest")
    if ci_of(project) == "github":
        workflow = (project.path / ".github/workflows/ci.yml").read_text()
        assert workflow.count("--health-cmd") == len(job.services)
    # Mapped onto loopback, the TEST_* variables reach the servers this suite uses.
    env = job.mapped_env()
    database = project.answers.get("database", "sqlite")
    if project.answers.get("db_pooler") == "pgbouncer":
        database = "pgbouncer"
    if database in TEST_DATABASE_URLS:
        assert urlsplit(env["TEST_DATABASE_URL"]).netloc == (
            urlsplit(TEST_DATABASE_URLS[database]).netloc
        )
    else:
        assert "TEST_DATABASE_URL" not in env
    if project.answers.get("queue", "none") != "none":
        broker = project.answers.get("broker", "redis")
        assert urlsplit(env["TEST_BROKER_URL"]).netloc == (
            urlsplit(TEST_BROKER_URLS[broker]).netloc
        )
    else:
        assert "TEST_BROKER_URL" not in env


@each_variant("no-database")
def test_the_gitlab_file_is_valid(project: Project) -> None:
    result = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            *("--builtin-schema", "vendor.gitlab-ci", "--data-transform", "gitlab-ci"),
            str(project.path / ".gitlab-ci.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_urls_are_pointed_at_loopback_with_its_accounts() -> None:
    servers = {
        ("localhost", 6432): Loopback(6432, "postgres"),
        ("rabbitmq", 5672): Loopback(5672, "guest:guest"),
    }
    assert rewrite_urls("postgresql+asyncpg://app:app@localhost:6432/postgres", servers) == (
        "postgresql+asyncpg://postgres@127.0.0.1:6432/postgres"
    )
    assert rewrite_urls("x=amqp://app:app@rabbitmq:5672/%2F y", servers) == (
        "x=amqp://guest:guest@127.0.0.1:5672/%2F y"
    )
    # Not a container: left alone.
    assert rewrite_urls("https://localhost:8443/a", servers) == "https://localhost:8443/a"


def test_the_template_ci_maps_onto_the_servers_ci_run_starts() -> None:
    job = github_job(ROOT / ".github/workflows/ci.yml", "test")
    ports = {server.port for server in job.servers.values()}
    # .ci/run waits for these, and the template's tests reach them on loopback.
    assert ports == {5432, 3306, 6432, 6379, 5672}
    assert {("localhost", port) for port in ports} <= set(job.servers)
    commands = [step.run for step in job.steps if step.run]
    assert any("bash .ci/run" in command for command in commands)
    ci_run = (ROOT / ".ci/run").read_text()
    assert "uv run pytest -n auto" in ci_run


# ---------------------------------------------------------------------------
# Run: the check job of each variant with CI, against the loopback servers
# ---------------------------------------------------------------------------
def checkout(project: Project) -> None:
    """The project as CI checks it out: a git repository at a commit."""
    if not (project.path / ".git").exists():
        for args in (["init", "--quiet"], ["add", "-A"], ["commit", "--quiet", "-m", "service"]):
            subprocess.run(
                ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.com", *args],
                cwd=project.path,
                check=True,
                capture_output=True,
            )


@pytest.mark.slow
@each_variant(*VARIANTS_WITH_CI)
def test_the_ci_check_job_passes(project: Project) -> None:
    checkout(project)
    job = check_job(project)
    results = job.run(project.path, project.env)
    assert failed(results) == ""
    project.synced = True  # its `uv sync --locked` step
    ran = [result.name for result in results if not result.skipped]
    if job.provider == "github":
        assert ran[-5:] == [
            "uv sync --locked",
            "uv run ruff check .",
            "uv run ruff format --check .",
            "uv run mypy",
            "uv run pytest",
        ]
    tests = results[-1].output
    assert "uv run pytest" in job.steps[-1].run
    summary = [line for line in tests.splitlines() if re.search(r"\d+ passed", line)][-1]
    assert "skipped" not in summary
    assert "failed" not in summary
    typecheck = results[-2].output if job.provider == "github" else tests
    assert "Success: no issues found" in typecheck
