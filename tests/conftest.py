"""Shared machinery: render each answer set once per session and run its toolchain.

Tests of one answer set share an ``xdist_group``, so under ``--dist loadgroup``
one worker renders it, syncs its environment once, and runs all of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from copier import run_copy
from uv import find_uv_bin

ROOT = Path(__file__).resolve().parents[1]
# Copier's lock task (copier.yml) calls `uv` from PATH: make it the real uv, not
# a pyenv shim that follows each rendered project's .python-version.
os.environ["PATH"] = os.pathsep.join([str(Path(find_uv_bin()).parent), os.environ["PATH"]])
os.environ["UV_PYTHON_DOWNLOADS"] = "never"
REQUIRED = {"project_name": "Orders API", "owner": "group:payments"}
# The answers a variant leaves to their defaults, where tests select by them.
DEFAULT_ANSWERS: dict[str, Any] = {
    "database": "sqlite",
    "deploy_target": "gunicorn",
    "ci": "github",
}

# A covering set of what is buildable today: every valid database, python
# version, CI provider, catalog choice and CORS shape appears at least once.
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "no-database": {
        "database": "none",
        "python_version": "3.11",
        "ci": "gitlab",
        "catalog": False,
        "cors_origins": ["https://app.example.com", "http://localhost:3000"],
        "web_processes": 4,
    },
    "py313": {
        "project_name": "Billing",
        # Quotes, an ampersand and an accent reach Python, TOML, YAML and JSON.
        "description": 'Invoices & credit notes for the "Billing" team (café)',
        "package_name": "billing_core",
        "python_version": "3.13",
        "ci": "none",
        "cors_origins": ["*"],
        "tracing": False,
    },
    "postgresql": {"database": "postgresql", "max_replicas": 3, "system": "commerce"},
    "pgbouncer": {"database": "postgresql", "db_pooler": "pgbouncer", "python_version": "3.13"},
    "rds-proxy": {"database": "postgresql", "db_pooler": "rds_proxy", "python_version": "3.11"},
    "mysql": {"database": "mysql", "max_replicas": 2, "db_max_connections": 151, "metrics": False},
    # Every valid queue x broker pair, spread over the databases.
    "arq": {"queue": "arq", "database": "postgresql", "python_version": "3.11"},
    "celery-redis": {"queue": "celery", "broker": "redis", "tracing": False},
    # GitLab CI with service containers: its check job runs on loopback too.
    "celery-rabbitmq": {
        "queue": "celery",
        "broker": "rabbitmq",
        "database": "mysql",
        "ci": "gitlab",
    },
    "dramatiq-redis": {
        "queue": "dramatiq",
        "broker": "redis",
        "metrics": False,
        "python_version": "3.13",
    },
    "dramatiq-rabbitmq": {
        "queue": "dramatiq",
        "broker": "rabbitmq",
        "database": "postgresql",
        "worker_processes": 2,
        "worker_concurrency": 4,
    },
    "kubernetes": {"database": "postgresql", "deploy_target": "kubernetes"},
    "kubernetes-mysql": {
        "database": "mysql",
        "deploy_target": "kubernetes",
        "max_replicas": 4,
        "python_version": "3.13",
    },
    "lambda-rds-proxy": {
        "database": "postgresql",
        "db_pooler": "rds_proxy",
        "deploy_target": "lambda",
    },
    "lambda-mysql": {
        "database": "mysql",
        "deploy_target": "lambda",
        "max_replicas": 20,
        "python_version": "3.11",
    },
}

# ruff check, ruff format --check, mypy strict and its own suite run once per
# variant: through its CI job where it has one (tests/test_workflows.py), by
# the template's tests otherwise.
VARIANTS_WITH_CI = tuple(name for name, answers in VARIANTS.items() if answers.get("ci") != "none")
VARIANTS_WITHOUT_CI = tuple(name for name in VARIANTS if name not in VARIANTS_WITH_CI)

# Rendered and checked statically only (manifests, templates, Dockerfile): the
# rest of every database a target accepts, at the cost of a render each.
RENDER_ONLY_VARIANTS: dict[str, dict[str, Any]] = {
    "kubernetes-pgbouncer": {
        "database": "postgresql",
        "db_pooler": "pgbouncer",
        "deploy_target": "kubernetes",
        "max_replicas": 40,
        "ci": "gitlab",
    },
    "kubernetes-rds-proxy": {
        "database": "postgresql",
        "db_pooler": "rds_proxy",
        "deploy_target": "kubernetes",
    },
    "kubernetes-none": {"database": "none", "deploy_target": "kubernetes", "metrics": False},
    "lambda-postgresql": {"database": "postgresql", "deploy_target": "lambda"},
    "lambda-pgbouncer": {
        "database": "postgresql",
        "db_pooler": "pgbouncer",
        "deploy_target": "lambda",
        "max_replicas": 500,
    },
    "lambda-none": {"database": "none", "deploy_target": "lambda", "tracing": False},
    "kubernetes-celery": {
        # The longest slug Kubernetes names allow: every generated name still fits.
        "project_slug": "orders-api-" + "x" * 34,
        "package_name": "orders_api",
        "database": "postgresql",
        "deploy_target": "kubernetes",
        "queue": "celery",
        "broker": "rabbitmq",
    },
}

# Servers the generated tests create their databases on (see .ci/run).
TEST_DATABASE_URLS = {
    "postgresql": "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
    "pgbouncer": "postgresql+asyncpg://postgres@127.0.0.1:6432/postgres",
    "mysql": "mysql+asyncmy://root@127.0.0.1:3306/mysql",
}
# Brokers of the generated queue tests; each test uses queues of its own.
TEST_BROKER_URLS = {
    "redis": "redis://127.0.0.1:6379/0",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672/%2F",
}


def answers_for(variant: str) -> dict[str, Any]:
    return {**REQUIRED, **{**VARIANTS, **RENDER_ONLY_VARIANTS}[variant]}


def variants_where(**answers: Any) -> tuple[str, ...]:
    """Every variant, render-only ones too, whose answers include ``answers``."""
    every = {**VARIANTS, **RENDER_ONLY_VARIANTS}
    return tuple(
        name
        for name, values in every.items()
        if all(values.get(key, DEFAULT_ANSWERS.get(key)) == value for key, value in answers.items())
    )


def render(template: Path, destination: Path, vcs_ref: str = "HEAD", **answers: Any) -> None:
    """Render like a portal does: no prompts, every other answer from its default."""
    run_copy(
        str(template),
        destination,
        data=answers,
        defaults=True,
        unsafe=True,
        quiet=True,
        vcs_ref=vcs_ref,
    )


def copy_from_data_file(
    template: Path, destination: Path, data_file: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    """`copier copy` as a portal runs it: the CLI, no TTY, every answer from a data file."""
    return subprocess.run(
        [
            sys.executable,
            *("-m", "copier", "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", "HEAD"),
            *options,
            *("--data-file", str(data_file), str(template), str(destination)),
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


# Node tools of the portal tests (tests/js, installed by `npm ci` in .ci/run).
JS = ROOT / "tests" / "js"


def node_tool(mode: str, payload: Any) -> Any:
    """Run tests/js/validate.mjs in ``mode`` on ``payload``; its JSON answer."""
    if not (JS / "node_modules").is_dir():
        pytest.fail(
            "tests/js/node_modules is missing: run `npm ci --prefix tests/js` (.ci/run does)"
        )
    result = subprocess.run(
        ["node", str(JS / "validate.mjs"), mode],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"validate.mjs {mode} failed:\n{result.stderr}")
    return json.loads(result.stdout)


def ajv_validate(schema: dict[str, Any], instances: list[Any]) -> list[dict[str, Any]]:
    """Ajv 8's verdicts (draft 2020-12, strict mode) on ``instances``."""
    return list(node_tool("answers", {"schema": schema, "instances": instances}))


def python_for(version: str) -> str:
    """An interpreter for the generated project; never downloaded (no network in CI)."""
    candidates = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    if candidates:
        return str(candidates[-1])
    found = subprocess.run(
        [find_uv_bin(), "python", "find", "--no-python-downloads", version],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        pytest.fail(f"Python {version} is not installed; install it (pyenv or uv python install)")
    return found.stdout.strip()


@dataclass
class Project:
    """A rendered project and the environment its own tools run in."""

    path: Path
    answers: dict[str, Any]
    synced: bool = field(default=False)
    # What the template wrote, before any tool added caches or lockfiles.
    rendered: list[Path] = field(default_factory=list)

    @property
    def package(self) -> str:
        return str(self.answers.get("package_name", "orders_api"))

    @property
    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH"}
        }
        env["PATH"] = os.pathsep.join([str(Path(find_uv_bin()).parent), env.get("PATH", "")])
        env["UV_PYTHON"] = python_for(self.answers.get("python_version", "3.12"))
        env["UV_PYTHON_DOWNLOADS"] = "never"
        env["UV_NO_PROGRESS"] = "1"
        database = self.answers.get("database", "sqlite")
        if self.answers.get("db_pooler") == "pgbouncer":
            database = "pgbouncer"
        if database in TEST_DATABASE_URLS:
            env["TEST_DATABASE_URL"] = TEST_DATABASE_URLS[database]
        # Always set, so a generated test that needs a broker never skips here.
        env["TEST_REDIS_URL"] = TEST_BROKER_URLS["redis"]
        broker = self.answers.get("broker", "redis") if self.answers.get("queue") else "redis"
        env["TEST_BROKER_URL"] = TEST_BROKER_URLS[broker]
        return env

    def run(
        self,
        *command: str,
        timeout: float = 600,
        check: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the project; unless told not to, fail the test if it fails."""
        result = subprocess.run(
            command,
            cwd=self.path,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"{' '.join(command)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
        return result

    def uv(
        self, *args: str, timeout: float = 600, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return self.run(find_uv_bin(), *args, timeout=timeout, check=check)

    def sync(self) -> Project:
        if not self.synced:
            # --locked: the uv.lock the render wrote must be there and current,
            # as the service's CI and Dockerfile require.
            self.uv("sync", "--locked", "--quiet")
            self.synced = True
        return self

    def bin(self, name: str) -> str:
        return str(self.path / ".venv" / "bin" / name)


@pytest.fixture(scope="session")
def copier_template_paths() -> list[str]:
    """What pytest-copier snapshots into its throwaway template repository."""
    return ["copier.yml", "extensions", "template"]


@pytest.fixture(scope="session")
def project_for(
    copier_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Project]:
    """Rendered projects by variant, each rendered at most once per worker."""
    cache: dict[str, Project] = {}

    def project(variant: str) -> Project:
        if variant not in cache:
            destination = tmp_path_factory.mktemp(variant) / "service"
            answers = answers_for(variant)
            render(copier_template, destination, **answers)
            rendered = sorted(path for path in destination.rglob("*") if path.is_file())
            cache[variant] = Project(destination, answers, rendered=rendered)
        return cache[variant]

    return project


@pytest.fixture
def project(request: pytest.FixtureRequest, project_for: Callable[[str], Project]) -> Project:
    """The project of the variant a test is parametrized with (indirect=True)."""
    return project_for(request.param)


def each_variant(*variants: str) -> pytest.MarkDecorator:
    """Run a test once per variant, keeping each variant's tests on one xdist worker."""
    params = [
        pytest.param(variant, id=variant, marks=pytest.mark.xdist_group(variant))
        for variant in variants or tuple(VARIANTS)
    ]
    return pytest.mark.parametrize("project", params, indirect=True)


class CloudFormationLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub) as their long form."""


for _tag, _name in (("!Ref", "Ref"), ("!Sub", "Fn::Sub"), ("!GetAtt", "Fn::GetAtt")):
    CloudFormationLoader.add_constructor(
        _tag,
        lambda loader, node, name=_name: {name: loader.construct_scalar(node)},  # type: ignore[misc]
    )
