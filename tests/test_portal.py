"""Portal bootstrapping: examples/ render with no terminal; the schema and the form match copier.yml."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from packaging.version import Version

from scripts.answers_schema import (
    BACKSTAGE_TEMPLATE,
    SCHEMA,
    build_backstage_template,
    build_schema,
    pinned_release,
    questions,
)

from .conftest import ROOT, copy_from_data_file
from .test_render import STRAY_JINJA

EXAMPLES = sorted((ROOT / "examples").glob("*.yml"))


def schema() -> dict[str, Any]:
    return dict(json.loads(SCHEMA.read_text()))


def test_the_committed_schema_is_generated_from_copier_yml() -> None:
    assert schema() == build_schema(), (
        "portal/answers.schema.json is out of date: run `uv run python -m scripts.answers_schema`"
    )


def test_the_schema_is_valid_and_has_every_question() -> None:
    Draft202012Validator.check_schema(schema())
    properties = schema()["properties"]
    assert list(properties) == list(questions())
    assert properties["database"]["enum"] == ["sqlite", "postgresql", "mysql", "none"]
    assert properties["broker"]["enum"] == ["redis", "rabbitmq"]
    assert properties["db_max_connections"]["type"] == "integer"
    assert properties["db_max_connections"]["default"] == 100
    assert properties["db_pooler"]["x-copier-when"] == "{{ database == 'postgresql' }}"
    assert schema()["required"] == ["project_name", "owner"]


@pytest.mark.parametrize(
    "answers",
    [
        {"database": "oracle"},
        {"project_slug": "Orders_API"},
        {"project_slug": "orders--api"},
        {"package_name": "orders-api"},
        {"owner": " "},
        {"owner": "Payments Team"},
        {"system": "the commerce system"},
        {"cors_origins": ["https://app.example.com/path"]},
        {"max_replicas": "three"},
        {"queue_name": "jobs"},  # not a question: a typo in a portal's form
    ],
    ids=lambda answers: next(iter(answers)),
)
def test_the_schema_refuses_what_copier_would(answers: dict[str, Any]) -> None:
    validator = Draft202012Validator(schema())
    assert validator.is_valid({"project_name": "Orders API", "owner": "group:payments"})
    assert not validator.is_valid({"project_name": "Orders API", "owner": "group:x", **answers})


def test_there_is_an_example_per_service_shape() -> None:
    shapes = {
        (data.get("database"), data.get("deploy_target"), data.get("queue", "none"))
        for data in map(yaml.safe_load, map(Path.read_text, EXAMPLES))
    }
    assert len(shapes) == len(EXAMPLES) >= 5


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_example_validates_against_the_schema(example: Path) -> None:
    Draft202012Validator(schema()).validate(yaml.safe_load(example.read_text()))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_example_renders_without_a_terminal(
    copier_template: Path, tmp_path: Path, example: Path
) -> None:
    destination = tmp_path / "service"
    result = copy_from_data_file(copier_template, destination, example)
    assert result.returncode == 0, result.stderr
    recorded = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    expected = yaml.safe_load(example.read_text())
    assert {key: recorded[key] for key in expected} == expected
    leftovers = [
        str(path.relative_to(destination))
        for path in destination.rglob("*")
        if path.is_file() and (path.suffix == ".jinja" or STRAY_JINJA.search(path.read_text()))
    ]
    assert leftovers == []


# ---------------------------------------------------------------------------
# Backstage: the Template entity and the workflow it starts
# ---------------------------------------------------------------------------
BOOTSTRAP = ROOT / ".github/workflows/bootstrap.yml"


def backstage_template() -> dict[str, Any]:
    return dict(yaml.safe_load(BACKSTAGE_TEMPLATE.read_text()))


def test_the_committed_backstage_template_is_generated_from_copier_yml() -> None:
    assert backstage_template() == build_backstage_template(build_schema()), (
        "portal/backstage-template.yaml is out of date: "
        "run `uv run python -m scripts.answers_schema`"
    )


def test_the_backstage_form_asks_every_question_and_pins_a_release() -> None:
    template = backstage_template()
    assert template["apiVersion"] == "scaffolder.backstage.io/v1beta3"
    assert template["kind"] == "Template"
    asked = [name for page in template["spec"]["parameters"] for name in page["properties"]]
    assert sorted(set(asked) - {"repoUrl"}) == sorted(questions())
    assert len(asked) == len(set(asked))
    (step,) = template["spec"]["steps"]
    assert step["action"] == "github:actions:dispatch"
    assert step["input"]["workflowId"] == BOOTSTRAP.name
    release = step["input"]["branchOrTagName"]
    assert str(Version(release)) == release == pinned_release()


def test_the_repository_root_points_backstage_at_the_template() -> None:
    location = yaml.safe_load((ROOT / "catalog-info.yaml").read_text())
    assert (location["apiVersion"], location["kind"]) == ("backstage.io/v1alpha1", "Location")
    (target,) = location["spec"]["targets"]
    assert (ROOT / target).resolve() == BACKSTAGE_TEMPLATE
    assert backstage_template()["kind"] == "Template"


def test_the_bootstrap_workflow_renders_a_form_submission(
    copier_template: Path, tmp_path: Path
) -> None:
    """The workflow's render step, run as GitHub would, on what the form submits."""
    # The template repository as GitHub serves it, tagged with the pinned release.
    server = tmp_path / "github.com"
    repository = server / "your-org/fastapi-golden-path.git"
    subprocess.run(
        ["git", "clone", "--quiet", "--bare", str(copier_template), str(repository)], check=True
    )
    subprocess.run(["git", "tag", pinned_release()], cwd=repository, check=True)
    # The form sends every field with a static default, the user's answers,
    # and the repository page.
    form = {
        name: field["default"]
        for name, field in build_schema()["properties"].items()
        if "default" in field
    }
    form |= yaml.safe_load((ROOT / "examples/kubernetes-celery.yml").read_text())
    form["repoUrl"] = "github.com?owner=your-org&repo=orders-api"
    (workflow_step,) = [
        step
        for step in yaml.safe_load(BOOTSTRAP.read_text())["jobs"]["render"]["steps"]
        if step.get("name") == "Render the release with Copier"
    ]
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    # gh is GitHub's; uvx runs the pinned Copier, which is this environment's.
    shims = f'gh() {{ :; }}\nuvx() {{ shift 4; "{sys.executable}" -m "$@"; }}\n'
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", shims + workflow_step["run"]],
        cwd=ROOT,
        env={
            **os.environ,
            "ANSWERS": json.dumps(form),
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_REF_NAME": pinned_release(),
            "GITHUB_SERVER_URL": str(server),
            "GITHUB_REPOSITORY": "your-org/fastapi-golden-path",
        },
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answers = yaml.safe_load((runner_temp / "service/.copier-answers.yml").read_text())
    assert answers["_commit"] == pinned_release()
    assert answers["_src_path"] == str(repository)
    assert answers["queue"] == "celery"
    assert answers["deploy_target"] == "kubernetes"
    assert "repoUrl" not in answers
