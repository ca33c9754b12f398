"""The JSON Schema of the template's answers, and the Backstage form, from copier.yml.

A portal (Backstage, a CI job) renders the schema as a form and validates what
it writes to the answers file before Copier sees it:

    uv run python -m scripts.answers_schema     # rewrites both files in portal/

Choices become enums (with their labels as ``enumNames`` for form renderers),
static defaults are kept, the naming validators become patterns, and questions
without a default are required. Defaults computed from other answers, the
cross-question checks and ``when`` conditions stay Copier's to enforce; the
schema names them in ``x-copier-default`` and ``x-copier-when``.
tests/test_portal.py fails when the committed schema drifts from copier.yml.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

from extensions import naming
from extensions.derived import CAPACITY_KEYS, ORIGIN_PATTERN

ROOT = Path(__file__).resolve().parents[1]
COPIER_YML = ROOT / "copier.yml"
SCHEMA = ROOT / "portal" / "answers.schema.json"
BACKSTAGE_TEMPLATE = ROOT / "portal" / "backstage-template.yaml"
RELEASES = ROOT / "tests" / "releases.toml"
# Where your platform hosts this template on GitHub: edit, then regenerate.
TEMPLATE_REPO_URL = "github.com?owner=your-org&repo=fastapi-golden-path"

# The Backstage form's pages, in copier.yml's groups; every question is on one.
PAGES = {
    "Service": [
        "project_name",
        "project_slug",
        "package_name",
        "description",
        "owner",
        "python_version",
    ],
    "Runtime": ["database", "db_pooler", "queue", "broker", "deploy_target"],
    "Capacity plan": list(CAPACITY_KEYS),
    "Observability and tooling": ["metrics", "tracing", "cors_origins", "ci", "catalog", "system"],
}

JSON_TYPES = {"str": "string", "int": "integer", "bool": "boolean", "float": "number"}
# What a JSON Schema can state of a question's validator (the rest needs the
# extensions), and the shape of its `yaml` answers.
CONSTRAINTS: dict[str, dict[str, Any]] = {
    "project_slug": {
        "pattern": naming.SLUG_PATTERN.pattern,
        "maxLength": naming.SLUG_MAX_LENGTH,
        "not": {"pattern": "--"},
    },
    "package_name": {"pattern": naming.PACKAGE_PATTERN.pattern},
    "owner": {"pattern": naming.ENTITY_REF_PATTERN.pattern},
    "system": {"pattern": f"^$|{naming.ENTITY_REF_PATTERN.pattern}"},
    "project_name": {"pattern": r"\S"},
    "cors_origins": {
        "type": "array",
        "items": {"anyOf": [{"const": "*"}, {"type": "string", "pattern": ORIGIN_PATTERN.pattern}]},
    },
}


def questions(copier_yml: Path = COPIER_YML) -> dict[str, dict[str, Any]]:
    """copier.yml's questions, in order, without the template settings (``_...``)."""
    config = yaml.safe_load(copier_yml.read_text())
    return {key: value for key, value in config.items() if not key.startswith("_")}


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def choices(question: dict[str, Any]) -> tuple[list[Any], list[str]]:
    """Values and labels of a question's choices (Copier accepts a list or a mapping)."""
    raw = question["choices"]
    if isinstance(raw, list):
        return list(raw), [str(value) for value in raw]
    values = [item["value"] if isinstance(item, dict) else item for item in raw.values()]
    return values, list(raw)


def property_for(question: dict[str, Any]) -> dict[str, Any]:
    kind = question.get("type", "str")
    schema: dict[str, Any] = {}
    if kind in JSON_TYPES:
        schema["type"] = JSON_TYPES[kind]
    if "help" in question:
        schema["description"] = " ".join(str(question["help"]).split())
    if "choices" in question:
        schema["enum"], schema["enumNames"] = choices(question)
    if "default" in question:
        default = question["default"]
        if is_template(default):
            schema["x-copier-default"] = default
        elif kind == "yaml" and isinstance(default, str):
            schema["default"] = yaml.safe_load(default)
        else:
            schema["default"] = default
    if "when" in question:
        schema["x-copier-when"] = question["when"]
    return schema


def build_schema(copier_yml: Path = COPIER_YML) -> dict[str, Any]:
    properties = {}
    required = []
    for name, question in questions(copier_yml).items():
        properties[name] = {**property_for(question), **CONSTRAINTS.get(name, {})}
        if "default" not in question:
            required.append(name)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "FastAPI Golden Path answers",
        "description": (
            "The answers file of `copier copy --trust --defaults --data-file`. "
            "Generated from copier.yml by scripts/answers_schema.py; do not edit."
        ),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def pinned_release() -> str:
    """The release the portal renders: the one this file ships in."""
    return str(tomllib.loads(RELEASES.read_text())["next"])


def form_field(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A question as a scaffolder form field: the schema's property, titled."""
    # Copier's computed defaults and conditions are for people reading the schema.
    field = {"title": name} | {
        key: value for key, value in schema.items() if not key.startswith("x-copier-")
    }
    # Backstage's own pickers; their entity refs (group:default/payments) suit the catalog.
    if name == "owner":
        field["ui:field"] = "OwnerPicker"
        field["ui:options"] = {"catalogFilter": {"kind": ["Group"]}}
    if name == "system":
        field["ui:field"] = "EntityPicker"
        field["ui:options"] = {"catalogFilter": {"kind": ["System"]}}
    return field


def build_backstage_template(schema: dict[str, Any]) -> dict[str, Any]:
    """A scaffolder Template that collects the answers and has Copier render them.

    The scaffolder has no built-in action that runs a program, so the
    `github:actions:dispatch` action (Backstage's GitHub module) starts this
    repository's .github/workflows/bootstrap.yml at the pinned release tag;
    that workflow runs Copier with --trust --defaults --data-file and pushes
    the new repository.
    """
    properties = schema["properties"]
    placed = [name for names in PAGES.values() for name in names]
    missing = sorted(set(properties) - set(placed))
    if missing or len(placed) != len(set(placed)):
        raise SystemExit(f"place every question on exactly one page of PAGES: {missing}")
    pages: list[dict[str, Any]] = []
    for title, names in PAGES.items():
        page: dict[str, Any] = {
            "title": title,
            "properties": {name: form_field(name, properties[name]) for name in names},
        }
        required = [name for name in names if name in schema["required"]]
        if required:
            page["required"] = required
        pages.append(page)
    pages.append(
        {
            "title": "Repository",
            "required": ["repoUrl"],
            "properties": {
                "repoUrl": {
                    "title": "Repository to create",
                    "type": "string",
                    "ui:field": "RepoUrlPicker",
                    "ui:options": {"allowedHosts": ["github.com"]},
                }
            },
        }
    )
    release = pinned_release()
    return {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {
            "name": "fastapi-golden-path",
            "title": "FastAPI service (Golden Path)",
            "description": (
                "A production-grade FastAPI service: pools sized by a capacity plan, "
                "truthful probes, logs, metrics and traces, on Gunicorn, Kubernetes or Lambda."
            ),
            "tags": ["python", "fastapi", "recommended"],
            "annotations": {"fastapi-golden-path/release": release},
        },
        "spec": {
            "owner": "group:platform",
            "type": "service",
            "parameters": pages,
            "steps": [
                {
                    "id": "render",
                    "name": f"Render release {release} with Copier",
                    "action": "github:actions:dispatch",
                    "input": {
                        "repoUrl": TEMPLATE_REPO_URL,
                        "workflowId": "bootstrap.yml",
                        "branchOrTagName": release,
                        "workflowInputs": {
                            # The form's answers, less the repository page.
                            "answers": "${{ parameters | dump }}",
                            "repository": (
                                "${{ (parameters.repoUrl | parseRepoUrl).owner }}/"
                                "${{ (parameters.repoUrl | parseRepoUrl).repo }}"
                            ),
                        },
                    },
                }
            ],
            "output": {
                "text": [
                    {
                        "title": "Next",
                        "content": (
                            f"The template repository's bootstrap workflow renders release "
                            f"{release} and pushes ${{{{ parameters.repoUrl }}}}; follow it "
                            "under the template repository's Actions."
                        ),
                    }
                ]
            },
        },
    }


HEADER = (
    "# Generated from copier.yml by scripts/answers_schema.py; do not edit.\n"
    "# Register it in your catalog; see README.md (From a developer portal).\n"
)


def main() -> int:
    SCHEMA.parent.mkdir(exist_ok=True)
    schema = build_schema()
    SCHEMA.write_text(render(schema))
    BACKSTAGE_TEMPLATE.write_text(
        HEADER + yaml.safe_dump(build_backstage_template(schema), sort_keys=False, width=1000)
    )
    for path in (SCHEMA, BACKSTAGE_TEMPLATE):
        print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
