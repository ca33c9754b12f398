"""Each variant's own toolchain, in its own uv environment: mypy strict and its test suite."""

from __future__ import annotations

import re

import pytest

from .conftest import Project, each_variant, variants_where

pytestmark = pytest.mark.slow


@each_variant()
def test_mypy_strict(project: Project) -> None:
    result = project.sync().uv("run", "mypy")
    assert "Success: no issues found" in result.stdout


@each_variant("default", "no-database")
def test_loadtest_is_strictly_typed_against_locust(project: Project) -> None:
    # Locust is outside the default groups; with it installed, mypy sees its types.
    result = project.sync().uv("run", "--group", "loadtest", "mypy", "loadtest")
    assert "Success: no issues found" in result.stdout


@each_variant()
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


@each_variant("dramatiq-redis")
def test_make_revision_goes_on_top_of_every_head(
    project: Project, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With a queue the template has two heads; a team's new revision merges them."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('revision') / 'app.db'}"
    env = {"DATABASE_URL": url}
    project.sync().run("make", "migrate", env=env)
    project.run("make", "revision", "m=add nothing", env=env)
    [created] = (project.path / "migrations/versions").glob("*_add_nothing.py")
    try:
        [down] = [line for line in created.read_text().splitlines() if "down_revision" in line]
        assert sorted(re.findall(r"'(\w+)'", down)) == ["golden_path_0002", "golden_path_0003"]
        project.run("make", "migrate", env=env)
        heads = project.run(project.bin("alembic"), "heads", env=env).stdout.split()
        assert heads[0] == created.name.split("_")[1]
    finally:
        created.unlink()
