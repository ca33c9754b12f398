"""The JSON Schema of the template's answers, generated from copier.yml for portals.

A portal (Backstage, a CI job) renders the schema as a form and validates what
it writes to the answers file before Copier sees it:

    uv run python -m scripts.answers_schema     # rewrites portal/answers.schema.json

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
from pathlib import Path
from typing import Any

import yaml

from extensions import naming
from extensions.derived import ORIGIN_PATTERN

ROOT = Path(__file__).resolve().parents[1]
COPIER_YML = ROOT / "copier.yml"
SCHEMA = ROOT / "portal" / "answers.schema.json"

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
    "owner": {"pattern": r"\S"},
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


def main() -> int:
    SCHEMA.parent.mkdir(exist_ok=True)
    SCHEMA.write_text(render(build_schema()))
    print(f"wrote {SCHEMA.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
