"""Portal bootstrapping: examples/ render with no terminal, and the answers schema matches copier.yml."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from scripts.answers_schema import SCHEMA, build_schema, questions

from .conftest import ROOT
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
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "copier",
            "copy",
            "--trust",
            "--defaults",
            "--quiet",
            "--vcs-ref",
            "HEAD",
            "--data-file",
            str(example),
            str(copier_template),
            str(destination),
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
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
