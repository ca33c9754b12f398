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
from packaging.version import Version

from extensions import answers, naming, rules
from scripts.answers_schema import (
    BACKSTAGE_TEMPLATE,
    SCHEMA,
    build_backstage_template,
    build_schema,
    pinned_release,
    questions,
)

from .conftest import ROOT, Project, ajv_validate, copy_from_data_file, node_tool
from .test_render import STRAY_JINJA

EXAMPLES = sorted((ROOT / "examples").glob("*.yml"))


def schema() -> dict[str, Any]:
    return dict(json.loads(SCHEMA.read_text()))


def test_the_committed_schema_is_generated_from_copier_yml() -> None:
    assert schema() == build_schema(), (
        "portal/answers.schema.json is out of date: run `uv run python -m scripts.answers_schema`"
    )


def test_the_schema_compiles_in_ajv_strict_mode_and_has_every_question() -> None:
    """Ajv 8 in strict mode: no unknown keywords (Copier's notes are $comments), types stated."""
    ajv_validate(schema(), [])  # compiling is the check: strict mode throws
    properties = schema()["properties"]
    assert list(properties) == list(questions())
    assert [c["const"] for c in properties["database"]["oneOf"]] == [
        "sqlite",
        "postgresql",
        "mysql",
        "none",
    ]
    assert properties["db_max_connections"]["type"] == "integer"
    assert properties["db_max_connections"]["default"] == 100
    assert properties["db_pooler"]["$comment"] == "asked when {{ database == 'postgresql' }}"
    assert schema()["required"] == ["project_name", "owner"]
    assert "x-copier" not in SCHEMA.read_text()


def test_every_rule_of_the_extensions_is_in_the_schema() -> None:
    """One source: each bound and cross-question rule of extensions/rules.py, as keywords."""
    properties = schema()["properties"]
    for key, bound in rules.BOUNDS.items():
        assert (properties[key]["minimum"], properties[key]["maximum"]) == (
            bound.minimum,
            bound.maximum,
        )
    stated = [(entry["if"], entry["then"]) for entry in schema()["allOf"]]
    assert len(stated) == len(rules.RULES)
    for rule, (condition, then) in zip(rules.RULES, stated, strict=True):
        assert {k: v["enum"] for k, v in condition["properties"].items()} == {
            k: list(v) for k, v in rule.when.items()
        }
        assert {k: v for k, v in then["properties"][rule.key].items() if k != "type"} == dict(
            rule.require
        )
    assert set(properties["package_name"]["not"]["enum"]) == naming.RESERVED_PACKAGE_NAMES


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
    base = {"project_name": "Orders API", "owner": "group:payments"}
    valid, invalid = ajv_validate(schema(), [base, {**base, **answers}])
    assert valid["valid"]
    assert not invalid["valid"]


def test_there_is_an_example_per_service_shape() -> None:
    shapes = {
        (data.get("database"), data.get("deploy_target"), data.get("queue", "none"))
        for data in map(yaml.safe_load, map(Path.read_text, EXAMPLES))
    }
    assert len(shapes) == len(EXAMPLES) >= 5


def test_examples_validate_against_the_schema_and_the_checker() -> None:
    data = [yaml.safe_load(example.read_text()) for example in EXAMPLES]
    for example, verdict in zip(EXAMPLES, ajv_validate(schema(), data), strict=True):
        assert verdict["valid"], (example.name, verdict["errors"])
    for example, answers_file in zip(EXAMPLES, data, strict=True):
        assert answers.check(answers_file) == [], example.name


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


def fields_of(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A page's fields, those it shows only for some answers included."""
    fields = dict(page["properties"])
    for dependency in page.get("dependencies", {}).values():
        for branch in dependency["oneOf"]:
            fields |= {k: v for k, v in branch["properties"].items() if "const" not in v}
    return fields


def test_the_backstage_form_asks_every_question_and_pins_a_release() -> None:
    template = backstage_template()
    assert template["apiVersion"] == "scaffolder.backstage.io/v1beta3"
    assert template["kind"] == "Template"
    asked = [name for page in template["spec"]["parameters"] for name in fields_of(page)]
    assert sorted(set(asked) - {"repoUrl"}) == sorted(questions())
    assert len(asked) == len(set(asked))
    dispatch, register = template["spec"]["steps"]
    assert dispatch["action"] == "github:actions:dispatch"
    assert dispatch["input"]["workflowId"] == BOOTSTRAP.name
    release = dispatch["input"]["branchOrTagName"]
    assert str(Version(release)) == release == pinned_release()
    # The run's URL comes back (the module's input, and its output's name) and is linked.
    assert dispatch["input"]["returnWorkflowRunDetails"] is True
    links = {link["title"]: link for link in template["spec"]["output"]["links"]}
    assert links["Bootstrap workflow run"]["url"] == (
        "${{ steps.render.output.workflowRunHtmlUrl }}"
    )
    # The new service's catalog-info.yaml, read once the workflow has pushed it.
    assert register["action"] == "catalog:register"
    assert register["input"]["catalogInfoUrl"].endswith("/blob/main/catalog-info.yaml")
    assert register["input"]["optional"] is True
    assert links["Open in catalog"]["entityRef"] == "${{ steps.register.output.entityRef }}"


def test_the_backstage_form_is_what_an_admin_would_ship() -> None:
    template = backstage_template()
    pages = template["spec"]["parameters"]
    text = BACKSTAGE_TEMPLATE.read_text()
    assert "enumNames" not in text  # deprecated: labels are oneOf const/title
    fields = {name: field for page in pages for name, field in fields_of(page).items()}
    for name, field in fields.items():
        assert field["title"] != name, name  # human titles, not keys
        assert field.get("description"), name
    # Only what the bootstrap can create: a GitHub repository, so GitHub Actions or no CI.
    assert [choice["const"] for choice in fields["ci"]["oneOf"]] == ["github", "none"]
    # Conditional questions are shown only when they apply.
    runtime = next(page for page in pages if "database" in page["properties"])
    for hidden in ("db_pooler", "broker", "worker_processes", "web_processes"):
        assert hidden not in runtime["properties"]
    brokers = {
        branch["properties"]["queue"]["const"]: "broker" in branch["properties"]
        for branch in runtime["dependencies"]["queue"]["oneOf"]
    }
    assert brokers == {"none": False, "arq": False, "celery": True, "dramatiq": True}


def test_the_backstage_template_passes_backstages_own_validator() -> None:
    """@backstage/plugin-scaffolder-common's Template validator, as the catalog runs it."""
    result = node_tool("backstage", {"template": backstage_template()})
    assert result["valid"] is True, result["error"]
    assert all(page["valid"] for page in result["pages"]), result["pages"]
    # The validator is real: it refuses a Template without steps.
    broken = backstage_template()
    del broken["spec"]["steps"]
    assert node_tool("backstage", {"template": broken})["valid"] is not True


def test_the_readme_states_the_tokens_scopes() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "`workflow`" in readme
    assert "BOOTSTRAP_TOKEN" in readme


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

    # The push step, up to GitHub's `gh repo create`: its first commit is locked.
    service = runner_temp / "service"
    pushed = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "gh() { :; }\n" + bootstrap_step(PUSH_STEP)["run"]],
        cwd=service,
        env={
            **os.environ,
            "GITHUB_REF_NAME": pinned_release(),
            "REPOSITORY": "your-org/orders-api",
        },
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert pushed.returncode == 0, pushed.stderr
    committed = subprocess.run(
        ["git", "ls-files", "uv.lock", "pyproject.toml"],
        cwd=service,
        capture_output=True,
        text=True,
        check=True,
    )
    assert committed.stdout.split() == ["pyproject.toml", "uv.lock"]
    Project(service, answers).uv("lock", "--check", "--quiet")


def bootstrap_step(name: str) -> dict[str, Any]:
    (step,) = [
        step
        for step in yaml.safe_load(BOOTSTRAP.read_text())["jobs"]["render"]["steps"]
        if step.get("name") == name
    ]
    return dict(step)


CHECK_STEP = "Check the answers, capacity plan included"
PUSH_STEP = "Push the new repository"


def test_the_bootstrap_workflow_checks_the_answers_first() -> None:
    steps = yaml.safe_load(BOOTSTRAP.read_text())["jobs"]["render"]["steps"]
    names = [step.get("name") for step in steps]
    assert names.index(CHECK_STEP) < names.index("Render the release with Copier")


@pytest.mark.parametrize(
    ("form", "lines"),
    [
        ({"project_name": "Orders API", "owner": "group:payments"}, []),
        (
            {
                "project_name": "Orders API",
                "owner": "group:payments",
                "database": "postgresql",
                "deploy_target": "kubernetes",
                "db_max_connections": 20,
                "worker_concurrency": "many",
            },
            [
                "error: db_max_connections: the connection plan does not fit: 13 web processes",
                "error: worker_concurrency: expected an integer, got 'many'",
            ],
        ),
    ],
)
def test_the_check_step_fails_a_bad_plan_in_one_line_each(
    tmp_path: Path, form: dict[str, Any], lines: list[str]
) -> None:
    """The workflow's check step, run as GitHub would, on what the form submits."""
    form = {**form, "repoUrl": "github.com?owner=your-org&repo=orders-api"}
    # uv runs the module with this environment's Python, which has Copier's dependencies.
    shim = f'uv() {{ while [ "$1" != python ]; do shift; done; shift; "{sys.executable}" "$@"; }}\n'
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", shim + bootstrap_step(CHECK_STEP)["run"]],
        cwd=ROOT,
        env={**os.environ, "ANSWERS": json.dumps(form)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == (1 if lines else 0), result.stderr
    printed = result.stderr.splitlines()
    assert len(printed) == len(lines)
    assert all(line.startswith(expected) for line, expected in zip(printed, lines, strict=True))
