"""Each variant's own toolchain, in its own uv environment: mypy strict and its test suite."""

from __future__ import annotations

import re

import pytest
from uv import find_uv_bin

from .conftest import VARIANTS_WITHOUT_CI, Project, each_variant, variants_where

pytestmark = pytest.mark.slow


# Variants with a CI job run these through it (tests/test_workflows.py).
@each_variant(*VARIANTS_WITHOUT_CI)
def test_mypy_strict(project: Project) -> None:
    result = project.sync().uv("run", "mypy")
    assert "Success: no issues found" in result.stdout


@each_variant("default", "no-database")
def test_loadtest_is_strictly_typed_against_locust(project: Project) -> None:
    # Locust is outside the default groups; with it installed, mypy sees its types.
    result = project.sync().uv("run", "--group", "loadtest", "mypy", "loadtest")
    assert "Success: no issues found" in result.stdout


@each_variant(*VARIANTS_WITHOUT_CI)
def test_own_test_suite_passes(project: Project) -> None:
    result = project.sync().uv("run", "pytest", "-q", "-p", "no:cacheprovider")
    summary = result.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary), result.stdout
    assert "skipped" not in summary
    assert "failed" not in summary


@each_variant(*variants_where(deploy_target="gunicorn"))
def test_gunicorn_accepts_its_config(project: Project) -> None:
    project.sync().run(project.bin("gunicorn"), "--check-config", "-c", "gunicorn.conf.py")


@each_variant("default")
def test_migrations_run_from_the_makefile(
    project: Project, tmp_path_factory: pytest.TempPathFactory
) -> None:
    database = tmp_path_factory.mktemp("make") / "app.db"
    project.sync().run("make", "migrate", env={"DATABASE_URL": f"sqlite+aiosqlite:///{database}"})
    assert database.stat().st_size > 0


@each_variant("arq")  # a server database and a broker
def test_server_tests_skip_locally_and_fail_in_ci_when_unconfigured(project: Project) -> None:
    project.sync()
    unset = {"TEST_DATABASE_URL": "", "TEST_BROKER_URL": ""}
    selected = ("tests/test_items.py::test_duplicate_name_is_a_conflict", "tests/test_worker.py")
    command = ("run", "pytest", "-q", "-p", "no:cacheprovider", *selected)
    local = project.run(find_uv_bin(), *command, env={**unset, "CI": ""}, check=False)
    assert local.returncode == 0, local.stdout
    assert "failed" not in local.stdout.splitlines()[-1]
    assert "skipped" in local.stdout.splitlines()[-1]
    in_ci = project.run(find_uv_bin(), *command, env={**unset, "CI": "true"}, check=False)
    assert in_ci.returncode == 1, in_ci.stdout
    assert "CI is set, so this fails instead of skipping" in in_ci.stdout
    assert "skipped" not in in_ci.stdout.splitlines()[-1]
