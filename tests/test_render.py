"""Static checks of every rendered variant: no Jinja left, valid files, lint-clean code."""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from scripts.answers_schema import BACKSTAGE_TEMPLATE

from .conftest import (
    VARIANTS_WITHOUT_CI,
    CloudFormationLoader,
    Project,
    each_variant,
    variants_where,
)

# Jinja that escaped rendering; GitHub's ${{ }} expressions, Mako's ${} and
# CloudFormation's {{resolve:...}} dynamic references are not Jinja.
STRAY_JINJA = re.compile(r"(?<!\$)\{\{(?!resolve:)|\{%|%\}|\{#")

# The image's entrypoint per deploy target.
ENTRYPOINTS = {
    "gunicorn": ["gunicorn", "-c", "gunicorn.conf.py"],
    "kubernetes": ["python", "-m", "{package}.serve"],
    "lambda": ["python", "-m", "awslambdaric"],
}


@each_variant(*variants_where())
def test_no_jinja_left(project: Project) -> None:
    leftovers = [
        str(path.relative_to(project.path))
        for path in project.rendered
        if path.suffix == ".jinja" or STRAY_JINJA.search(path.read_text())
    ]
    assert project.rendered
    assert leftovers == []


@each_variant(*variants_where())
def test_structured_files_parse(project: Project) -> None:
    tomllib.loads((project.path / "pyproject.toml").read_text())
    for path in [*project.path.rglob("*.yml"), *project.path.rglob("*.yaml")]:
        list(yaml.load_all(path.read_text(), Loader=CloudFormationLoader))


@each_variant(*variants_where())
def test_the_render_is_locked(project: Project) -> None:
    # Copier's lock task wrote it: `uv sync --locked` (CI, the Dockerfile) accepts it.
    assert (project.path / "uv.lock").is_file()
    project.uv("lock", "--check", "--quiet")


# Variants with a CI job run these through it (tests/test_workflows.py).
@each_variant(*VARIANTS_WITHOUT_CI)
def test_ruff_check_and_format(project: Project) -> None:
    project.sync().uv("run", "ruff", "check", ".")
    project.uv("run", "ruff", "format", "--check", ".")


def ruff_codes(project: Project, source: str) -> set[str]:
    """What the project's own ruff config reports for ``source`` planted in its package."""
    planted = project.path / "src" / project.package / "planted.py"
    planted.write_text(source)
    try:
        result = project.sync().uv(
            "run", "ruff", "check", "--output-format", "json", str(planted), check=False
        )
    finally:
        planted.unlink()
    return {finding["code"] for finding in json.loads(result.stdout)}


@each_variant()
def test_lint_config_flags_blocking_calls_in_async_code(project: Project) -> None:
    sleeping = "import time\n\n\nasync def handler() -> None:\n    time.sleep(1)\n"
    assert "ASYNC251" in ruff_codes(project, sleeping)
    fetching = (
        "import requests\n\n\nasync def handler() -> None:\n"
        '    requests.get("https://example.com")\n'
    )
    # A blocking HTTP call in async code, and one without a timeout.
    assert {"ASYNC210", "S113"} <= ruff_codes(project, fetching)


@each_variant()
def test_python_version_is_applied(project: Project) -> None:
    version = project.answers.get("python_version", "3.12")
    pyproject = tomllib.loads((project.path / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == f">={version}"
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + version.replace(".", "")
    assert pyproject["tool"]["mypy"]["python_version"] == version
    assert (project.path / ".python-version").read_text().strip() == version
    assert f"ARG PYTHON_VERSION={version}" in (project.path / "Dockerfile").read_text()


@each_variant(*variants_where())
def test_dockerfile_is_multi_stage_non_root_exec_form(project: Project) -> None:
    lines = [
        line.strip()
        for line in (project.path / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert len(stages) == 2
    assert all(":latest" not in stage for stage in stages)
    assert "uv sync --locked --no-dev" in "\n".join(lines)
    user = next(line for line in lines if line.startswith("USER "))
    assert user.split()[1].split(":")[0] not in {"0", "root"}
    entrypoint = next(line for line in lines if line.startswith("ENTRYPOINT "))
    target = project.answers.get("deploy_target", "gunicorn")
    expected = [part.format(package=project.package) for part in ENTRYPOINTS[target]]
    assert json.loads(entrypoint.removeprefix("ENTRYPOINT ")) == expected


@each_variant(*variants_where())
def test_optional_files_follow_the_answers(project: Project) -> None:
    answers = project.answers
    has_database = answers.get("database", "sqlite") != "none"
    assert (project.path / "alembic.ini").exists() == has_database
    assert (project.path / "migrations").exists() == has_database
    assert (project.path / "src" / project.package / "db.py").exists() == has_database
    assert (project.path / "src" / project.package / "pool.py").exists() == has_database
    assert (project.path / "docs/capacity.md").exists() == has_database
    has_server = answers.get("database") in ("postgresql", "mysql")
    has_queue = answers.get("queue", "none") != "none"
    assert (project.path / "compose.yaml").exists() == (has_server or has_queue)
    assert (project.path / "tests/tcp_proxy.py").exists() == (has_server or has_queue)
    assert (project.path / "src" / project.package / "workers").exists() == has_queue
    assert (project.path / "tests/test_worker.py").exists() == has_queue
    worker_units = (project.path / "deploy/gunicorn").glob("*-worker.service")
    assert any(worker_units) == (has_queue and answers.get("deploy_target") in (None, "gunicorn"))
    ci = answers.get("ci", "github")
    assert (project.path / ".github/workflows/ci.yml").exists() == (ci == "github")
    assert (project.path / ".gitlab-ci.yml").exists() == (ci == "gitlab")
    assert (project.path / "catalog-info.yaml").exists() == answers.get("catalog", True)
    observability = project.path / "src" / project.package / "observability"
    metrics, tracing = answers.get("metrics", True), answers.get("tracing", True)
    assert (observability / "metrics.py").exists() == metrics
    assert (observability / "pool_metrics.py").exists() == (metrics and has_database)
    assert (observability / "tracing.py").exists() == tracing
    assert (observability / "sql_tracing.py").exists() == (tracing and has_database)
    pyproject = (project.path / "pyproject.toml").read_text()
    assert ("prometheus-client" in pyproject) == metrics
    assert ("opentelemetry-sdk" in pyproject) == tracing
    target = answers.get("deploy_target", "gunicorn")
    package = project.path / "src" / project.package
    assert (project.path / "gunicorn.conf.py").exists() == (target == "gunicorn")
    assert (project.path / "deploy/gunicorn").exists() == (target == "gunicorn")
    assert (package / "gunicorn_worker.py").exists() == (target == "gunicorn")
    assert (package / "serve.py").exists() == (target != "gunicorn")
    assert (project.path / "deploy/k8s").exists() == (target == "kubernetes")
    # Migrations run in the pods' init containers: no Job to delete between releases.
    assert not (project.path / "deploy/k8s/base/migrate-job.yaml").exists()
    assert (package / "schema_version.py").exists() == has_database
    assert (package / "lambda_handler.py").exists() == (target == "lambda")
    assert (project.path / "template.yaml").exists() == (target == "lambda")
    assert (project.path / "tests/test_lambda_handler.py").exists() == (target == "lambda")
    assert (project.path / f"docs/runbook-{target}.md").exists()
    assert ("mangum" in pyproject) == (target == "lambda")
    assert ('"gunicorn>=' in pyproject) == (target == "gunicorn")


@each_variant("default")
def test_capacity_plan_reaches_settings_and_docs(project: Project) -> None:
    settings = (project.path / "src" / project.package / "settings.py").read_text()
    assert "db_pool_size: int = Field(default=3, ge=1)" in settings
    assert "db_max_overflow: int = Field(default=2, ge=0)" in settings
    assert "web_concurrency: int = Field(default=2, ge=1)" in settings
    docs = (project.path / "docs/capacity.md").read_text()
    assert "| `DB_POOL_SIZE` | half, rounded up: kept open | 3 |" in docs
    env_example = (project.path / ".env.example").read_text()
    for variable in ("DATABASE_URL", "DB_POOL_SIZE", "DB_POOL_TIMEOUT", "WEB_CONCURRENCY", "PORT"):
        assert f"\n{variable}=" in env_example


def catalog_entities(project: Project) -> dict[str, dict[str, Any]]:
    """catalog-info.yaml's entities by kind."""
    documents = yaml.safe_load_all((project.path / "catalog-info.yaml").read_text())
    return {entity["kind"]: entity for entity in documents}


@each_variant("default", "postgresql")
def test_catalog_entities(project: Project) -> None:
    entities = catalog_entities(project)
    assert set(entities) == {"Component", "API"}
    component, api = entities["Component"], entities["API"]
    annotations = component["metadata"]["annotations"]
    assert "backstage.io/kubernetes-id" not in annotations
    portal_template = yaml.safe_load(BACKSTAGE_TEMPLATE.read_text())["metadata"]["name"]
    assert annotations["backstage.io/source-template"] == f"template:default/{portal_template}"
    assert component["metadata"]["name"] == api["metadata"]["name"] == "orders-api"
    system = {"system": project.answers["system"]} if "system" in project.answers else {}
    assert component["spec"] == {
        "type": "service",
        "lifecycle": "experimental",
        "owner": "group:payments",
        **system,
        "providesApis": ["orders-api"],
    }
    assert api["spec"] == {
        "type": "openapi",
        "lifecycle": "experimental",
        "owner": "group:payments",
        **system,
        "definition": {"$text": "./openapi.json"},
    }


@each_variant(*variants_where())
def test_openapi_document_is_valid_and_names_the_service(project: Project) -> None:
    # Every variant has it, with or without a catalog: clients generate from it too.
    document = json.loads((project.path / "openapi.json").read_text())
    validate(document)
    assert document["info"]["title"] == project.answers["project_name"]
    paths = set(document["paths"])
    if project.answers.get("database", "sqlite") == "none":
        assert paths == set()
        return
    assert "/api/v1/items/{item_id}" in paths
    assert ("/api/v1/items/{item_id}/process" in paths) == ("queue" in project.answers)
    # Errors are documented as the problem+json the service answers with.
    create = document["paths"]["/api/v1/items"]["post"]
    assert set(create["responses"]["422"]["content"]) == {"application/problem+json"}
    assert "HTTPValidationError" not in document["components"]["schemas"]


@each_variant("default", "postgresql", "no-database")
def test_systemd_unit(project: Project) -> None:
    unit = (project.path / "deploy/gunicorn/orders-api.service").read_text()
    assert "ExecStart=/opt/orders-api/.venv/bin/gunicorn -c gunicorn.conf.py" in unit
    assert "KillMode=mixed" in unit
    stop = int(re.search(r"TimeoutStopSec=(\d+)", unit).group(1))  # type: ignore[union-attr]
    assert stop > 30  # above the default GRACEFUL_TIMEOUT
    # The migrations run before the code that needs them: on start, and on reload before HUP.
    migrate = f"/opt/orders-api/.venv/bin/python -m {project.package}.migrate"
    lines = unit.splitlines()
    reload = [line.removeprefix("ExecReload=") for line in lines if line.startswith("ExecReload=")]
    if project.answers.get("database", "sqlite") == "none":
        assert "ExecStartPre=" not in unit
        assert reload == ["/bin/kill -s HUP $MAINPID"]
    else:
        assert f"ExecStartPre={migrate}" in lines
        assert reload == [migrate, "/bin/kill -s HUP $MAINPID"]


@each_variant("no-database")
def test_cors_origins_become_the_settings_default(project: Project) -> None:
    settings = (project.path / "src" / project.package / "settings.py").read_text()
    assert (
        'cors_origins: list[str] = ["https://app.example.com", "http://localhost:3000"]' in settings
    )


@each_variant("arq", "celery-redis", "celery-rabbitmq", "dramatiq-redis", "dramatiq-rabbitmq")
def test_queue_worker_is_wired_everywhere(project: Project) -> None:
    """One worker command for make, compose and systemd; the broker in compose; its settings."""
    answers = project.answers
    command = f"python -m {project.package}.workers"
    makefile = (project.path / "Makefile").read_text()
    assert re.search(rf"^worker: .*\n\tuv run --no-dev {command}$", makefile, re.MULTILINE)
    compose = yaml.safe_load((project.path / "compose.yaml").read_text())
    broker = answers.get("broker", "redis")
    assert compose["services"]["broker"]["image"].startswith(broker)
    worker = compose["services"]["worker"]
    assert worker["entrypoint"] == ["python", "-m", f"{project.package}.workers"]
    assert worker["healthcheck"]["test"][-1] == f"{project.package}.workers.heartbeat"
    assert worker["environment"]["BROKER_URL"].startswith(
        "amqp" if broker == "rabbitmq" else "redis"
    )
    unit = (project.path / "deploy/gunicorn/orders-api-worker.service").read_text()
    assert f"ExecStart=/opt/orders-api/.venv/bin/{command}" in unit
    stop = int(re.search(r"TimeoutStopSec=(\d+)", unit).group(1))  # type: ignore[union-attr]
    settings = (project.path / "src" / project.package / "settings.py").read_text()
    default = re.search(r"worker_shutdown_timeout: int = Field\(default=(\d+)", settings)
    assert default is not None
    shutdown = int(default.group(1))
    assert stop > shutdown
    env_example = (project.path / ".env.example").read_text()
    for variable in ("BROKER_URL", "WORKER_QUEUE", "WORKER_CONCURRENCY", "WORKER_SHUTDOWN_TIMEOUT"):
        assert f"\n{variable}=" in env_example
    assert (
        project.path / "migrations/versions/20260102_golden_path_0002_add_items_processed_at.py"
    ).exists()


def test_variants_cover_every_buildable_choice() -> None:
    from .conftest import VARIANTS

    seen: dict[str, set[object]] = {}
    for answers in VARIANTS.values():
        for key in (
            "database",
            "db_pooler",
            "python_version",
            "ci",
            "catalog",
            "metrics",
            "tracing",
            "deploy_target",
            "queue",
            "broker",
        ):
            seen.setdefault(key, set()).add(answers.get(key))
    assert seen["database"] >= {None, "none", "postgresql", "mysql"}  # None: sqlite
    assert seen["db_pooler"] >= {None, "pgbouncer", "rds_proxy"}
    assert seen["python_version"] >= {None, "3.11", "3.13"}
    assert seen["ci"] >= {None, "gitlab", "none"}
    assert seen["catalog"] >= {None, False}
    assert seen["metrics"] >= {None, False}  # None: the default, true
    assert seen["tracing"] >= {None, False}
    assert seen["deploy_target"] >= {None, "kubernetes", "lambda"}  # None: gunicorn
    assert seen["queue"] >= {None, "arq", "celery", "dramatiq"}
    pairs = {
        (a.get("queue"), a.get("broker", "redis")) for a in VARIANTS.values() if a.get("queue")
    }
    assert pairs == {
        ("arq", "redis"),
        ("celery", "redis"),
        ("celery", "rabbitmq"),
        ("dramatiq", "redis"),
        ("dramatiq", "rabbitmq"),
    }


pytestmark = pytest.mark.slow


def assert_compose_pgbouncer_fronts_the_database(compose: dict[str, Any]) -> None:
    """compose.yaml's PgBouncer: a fixed tag, the db's account, SCRAM, on 6432."""
    db, pgbouncer = compose["services"]["db"], compose["services"]["pgbouncer"]
    name, tag = pgbouncer["image"].rsplit(":", 1)
    assert name == "edoburu/pgbouncer"
    assert re.fullmatch(r"v\d+\.\d+\.\d+-p\d+", tag)  # a build of a release, not `latest`
    environment = pgbouncer["environment"]
    assert environment["DB_HOST"] == "db"
    assert environment["DB_USER"] == db["environment"]["POSTGRES_USER"]
    assert environment["DB_PASSWORD"] == db["environment"]["POSTGRES_PASSWORD"]
    # PostgreSQL 14+ stores SCRAM verifiers, which an md5 userlist cannot log in with.
    assert int(db["image"].split(":")[1].split(".")[0]) >= 14
    assert environment["AUTH_TYPE"] == "scram-sha-256"
    assert environment["POOL_MODE"] == "transaction"
    assert pgbouncer["ports"] == [f"127.0.0.1:{environment['LISTEN_PORT']}:6432"]
    assert pgbouncer["depends_on"]["db"]["condition"] == "service_healthy"
    assert "6432" in pgbouncer["healthcheck"]["test"]


@each_variant("postgresql", "pgbouncer", "rds-proxy", "mysql")
def test_server_database_settings_and_compose(project: Project) -> None:
    answers = project.answers
    settings = (project.path / "src" / project.package / "settings.py").read_text()
    dialect = (project.path / "src" / project.package / "dialect.py").read_text()
    compose = yaml.safe_load((project.path / "compose.yaml").read_text())
    assert "db" in compose["services"]
    assert "db_pool_pre_ping: bool = True" in settings
    assert "db_statement_timeout_ms" in settings
    if answers["database"] == "postgresql":
        pooler = answers.get("db_pooler", "none")
        assert f'db_pooler: Literal["none", "pgbouncer", "rds_proxy"] = "{pooler}"' in settings
        assert "statement_cache_size" in dialect
        assert ("pgbouncer" in compose["services"]) == (pooler == "pgbouncer")
        assert ":6432/" in settings if pooler == "pgbouncer" else ":5432/" in settings
        if pooler == "pgbouncer":
            assert_compose_pgbouncer_fronts_the_database(compose)
        if pooler == "rds_proxy":
            assert "db_pool_recycle: int = 1500" in settings
    else:
        assert "max_statement_time" in dialect
        assert compose["services"]["db"]["image"].startswith("mariadb")


@each_variant("postgresql")
def test_capacity_plan_for_three_hosts(project: Project) -> None:
    """max_replicas=3 under gunicorn: (3 + 3 surge) x 2 workers = 12 processes share 90."""
    settings = (project.path / "src" / project.package / "settings.py").read_text()
    assert "db_pool_size: int = Field(default=4, ge=1)" in settings
    assert "db_max_overflow: int = Field(default=3, ge=0)" in settings
    docs = (project.path / "docs/capacity.md").read_text()
    assert "| share per web process | (90 - 0) / 12, rounded down | 7 |" in docs
    assert "| worst case in use | 12 x 7 | 84 of 90 |" in docs


@each_variant("pgbouncer", "rds-proxy")
def test_pooler_docs_carry_role_settings(project: Project) -> None:
    docs = (project.path / "docs/capacity.md").read_text()
    assert "ALTER ROLE" in docs
    assert "statement_timeout" in docs


@each_variant("default", "no-database")  # github, gitlab
def test_a_scheduled_job_proposes_each_template_release(project: Project) -> None:
    # tests/test_update.py runs it, up to the pull request, against a bare origin.
    if project.answers.get("ci", "github") == "github":
        workflow = yaml.safe_load(
            (project.path / ".github/workflows/template-update.yml").read_text()
        )
        # PyYAML reads the `on:` key as True.
        assert workflow[True]["schedule"][0]["cron"]
        steps = workflow["jobs"]["update"]["steps"]
        commands = "\n".join(step.get("run", "") for step in steps)
        assert "gh pr create" in commands
    else:
        job = yaml.safe_load((project.path / ".gitlab-ci.yml").read_text())["template-update"]
        assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
        commands = "\n".join(job["script"])
        assert "merge_request.create" in commands
    assert "copier check-update" in commands
    assert "copier update --trust --defaults" in commands
    assert "uv lock" in commands
    readme = (project.path / "README.md").read_text()
    assert "copier check-update" in readme
    assert "copier update --trust" in readme


@each_variant(*variants_where(deploy_target="kubernetes"))
def test_backstage_finds_the_pods(project: Project) -> None:
    kustomization = yaml.safe_load(
        (project.path / "deploy/k8s/base/kustomization.yaml").read_text()
    )
    labels = kustomization["labels"][0]
    assert labels["includeTemplates"] is True  # on the pods, where the plugin looks
    if not project.answers.get("catalog", True):
        assert "backstage.io/kubernetes-id" not in labels["pairs"]
        return
    entity = catalog_entities(project)["Component"]
    slug = entity["metadata"]["annotations"]["backstage.io/kubernetes-id"]
    assert slug == entity["metadata"]["name"]
    assert labels["pairs"]["backstage.io/kubernetes-id"] == slug
