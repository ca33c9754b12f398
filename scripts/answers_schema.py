"""The JSON Schema of the template's answers, and the Backstage form, from copier.yml and its rules.

A portal (Backstage, a CI job) renders the schema as a form and validates what
it writes to the answers file before Copier sees it:

    uv run python -m scripts.answers_schema     # rewrites both files in portal/

Questions, types, choices, help and static defaults come from copier.yml; the
naming rules, integer bounds and cross-question rules from extensions/ (the
same objects Copier's validators use), stated as draft 2020-12 keywords:
``pattern``, ``not``/``enum``, ``minimum``/``maximum`` and ``if``/``then``.
The capacity plan is the one rule a schema cannot state: scripts/check_answers.py
checks it (the bootstrap workflow runs it first). Copier-specific notes
(computed defaults, when a question is asked) are ``$comment``s, which strict
validators accept. tests/test_portal.py fails when the committed files drift.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

from extensions import answers, naming, rules

ROOT = Path(__file__).resolve().parents[1]
COPIER_YML = answers.COPIER_YML
SCHEMA = ROOT / "portal" / "answers.schema.json"
BACKSTAGE_TEMPLATE = ROOT / "portal" / "backstage-template.yaml"
RELEASES = ROOT / "tests" / "releases.toml"
# Where your platform hosts this template on GitHub: edit, then regenerate.
TEMPLATE_REPO_URL = "github.com?owner=your-org&repo=fastapi-golden-path"

# Form titles: what a person reads above each field (the help becomes its description).
TITLES = {
    "project_name": "Service name",
    "project_slug": "Slug",
    "package_name": "Python package",
    "description": "Description",
    "owner": "Owner",
    "python_version": "Python version",
    "database": "Database",
    "db_pooler": "Connection pooler",
    "queue": "Task queue",
    "broker": "Queue broker",
    "deploy_target": "Deploy target",
    "db_max_connections": "Database max_connections",
    "db_reserved_connections": "Reserved connections",
    "max_replicas": "Maximum replicas",
    "web_processes": "Web processes per replica",
    "worker_processes": "Queue worker processes",
    "worker_concurrency": "Jobs per worker process",
    "metrics": "Prometheus metrics",
    "tracing": "OpenTelemetry traces",
    "cors_origins": "CORS origins",
    "ci": "CI provider",
    "catalog": "Register in the catalog",
    "system": "System",
}

# The Backstage form's pages; every question is on one. A field shown only for
# some answers sits on the page of the answer it depends on (rjsf's
# `dependencies` work within one page).
PAGES = {
    "Service": [
        "project_name",
        "project_slug",
        "package_name",
        "description",
        "owner",
        "python_version",
    ],
    "Runtime and capacity": [
        "deploy_target",
        "database",
        "db_pooler",
        "db_max_connections",
        "db_reserved_connections",
        "queue",
        "broker",
        "worker_processes",
        "worker_concurrency",
        "max_replicas",
        "web_processes",
    ],
    "Observability and tooling": ["metrics", "tracing", "cors_origins", "ci", "catalog", "system"],
}

# Shown only when the answer they depend on takes one of these values: copier.yml's
# `when`, and web_processes, which is always 1 except on gunicorn.
SHOWN_WHEN: dict[str, tuple[str, tuple[Any, ...]]] = {
    "db_pooler": ("database", ("postgresql",)),
    "db_max_connections": ("database", ("postgresql", "mysql")),
    "db_reserved_connections": ("database", ("postgresql", "mysql")),
    "broker": ("queue", ("celery", "dramatiq")),
    "worker_processes": ("queue", rules.QUEUES),
    "worker_concurrency": ("queue", rules.QUEUES),
    "web_processes": ("deploy_target", ("gunicorn",)),
    "system": ("catalog", (True,)),
}
# The bootstrap pushes to a new GitHub repository: GitLab CI would never run there.
FORM_CHOICES = {"ci": ["github", "none"]}

JSON_TYPES = {"str": "string", "int": "integer", "bool": "boolean", "yaml": "array"}


def questions() -> dict[str, dict[str, Any]]:
    return answers.questions(COPIER_YML)


def labelled_choices(question: dict[str, Any]) -> list[dict[str, Any]]:
    """Choices as ``oneOf`` of ``const`` + ``title``: labelled values, no deprecated enumNames."""
    raw = question["choices"]
    if isinstance(raw, list):
        return [{"const": value, "title": str(value)} for value in raw]
    return [
        {"const": item["value"] if isinstance(item, dict) else item, "title": label}
        for label, item in raw.items()
    ]


# What a JSON Schema can state of each question's own rules.
def constraints(name: str) -> dict[str, Any]:
    if name == "project_name":
        # At least one letter or digit, in any script (Unicode property escapes).
        return {"minLength": 1, "pattern": "[\\p{L}\\p{N}]"}
    if name == "project_slug":
        return {
            "pattern": naming.SLUG_PATTERN.pattern,
            "maxLength": naming.SLUG_MAX_LENGTH,
            "not": {"pattern": "--"},
        }
    if name == "package_name":
        return {
            "pattern": naming.PACKAGE_PATTERN.pattern,
            "not": {"enum": sorted(naming.RESERVED_PACKAGE_NAMES)},
        }
    if name == "owner":
        return {"pattern": naming.entity_ref_pattern(rules.OWNER_KINDS)}
    if name == "system":
        return {"pattern": "^$|" + naming.entity_ref_pattern(rules.SYSTEM_KINDS)}
    if name == "cors_origins":
        return {
            "items": {
                "anyOf": [
                    {"const": "*"},
                    {"type": "string", "pattern": rules.ORIGIN_PATTERN.pattern},
                ]
            }
        }
    if name in rules.BOUNDS:
        bound = rules.BOUNDS[name]
        return {"minimum": bound.minimum, "maximum": bound.maximum}
    return {}


def property_for(name: str, question: dict[str, Any]) -> dict[str, Any]:
    kind = question.get("type", "str")
    schema: dict[str, Any] = {"title": TITLES[name], "type": JSON_TYPES[kind]}
    if "help" in question:
        schema["description"] = " ".join(str(question["help"]).split())
    if "choices" in question:
        schema["oneOf"] = labelled_choices(question)
    comments = []
    if "default" in question:
        default = question["default"]
        if answers.is_template(default):
            comments.append(f"Copier's default: {default}")
        elif kind == "yaml" and isinstance(default, str):
            schema["default"] = yaml.safe_load(default)
        else:
            schema["default"] = default
    if "when" in question:
        comments.append(f"asked when {question['when']}")
    if comments:
        schema["$comment"] = "; ".join(comments)
    return schema | constraints(name)


def _defaults() -> dict[str, Any]:
    return {
        k: q["default"]
        for k, q in questions().items()
        if "default" in q and not answers.is_template(q["default"])
    }


def rule_schema(rule: rules.Rule) -> dict[str, Any]:
    """A cross-question rule as ``if``/``then``; an absent answer is its default.

    ``if`` with ``properties`` alone also holds when the answer is absent, which
    is right when the default is one of the values the rule applies to (an
    absent database is sqlite); otherwise the answer must be present.
    """
    defaults = _defaults()
    condition: dict[str, Any] = {
        "properties": {key: {"enum": list(values)} for key, values in rule.when.items()}
    }
    needed = [key for key, values in rule.when.items() if defaults.get(key) not in values]
    if needed:
        condition["required"] = needed
    return {
        "$comment": describe(rule),
        "if": condition,
        "then": {"properties": {rule.key: {"type": _type_of(rule.key), **rule.require}}},
    }


def _type_of(name: str) -> str:
    return JSON_TYPES[questions()[name].get("type", "str")]


def describe(rule: rules.Rule) -> str:
    """A rule in one sentence, for people reading the schema."""
    when = " and ".join(f"{key} is {' or '.join(map(str, v))}" for key, v in rule.when.items())
    need = {
        "enum": lambda limit: "one of " + ", ".join(map(str, limit)),
        "maximum": lambda limit: f"at most {limit}",
        "maxLength": lambda limit: f"at most {limit} characters",
    }
    must = " and ".join(need[keyword](limit) for keyword, limit in rule.require.items())
    return f"when {when}, {rule.key} must be {must}"


def build_schema() -> dict[str, Any]:
    properties = {name: property_for(name, q) for name, q in questions().items()}
    required = [name for name, question in questions().items() if "default" not in question]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "FastAPI Golden Path answers",
        "description": (
            "The answers file of `copier copy --trust --defaults --data-file`. "
            "Generated from copier.yml and extensions/rules.py by scripts/answers_schema.py; "
            "do not edit."
        ),
        "$comment": (
            "Every rule but the capacity plan (connection pools against the database's "
            "max_connections), which `uv run python -m scripts.check_answers answers.json` checks."
        ),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        "allOf": [rule_schema(rule) for rule in rules.RULES],
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def pinned_release() -> str:
    """The release the portal renders: the one this file ships in."""
    return str(tomllib.loads(RELEASES.read_text())["next"])


def form_field(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A question as a scaffolder form field: the schema's property, with Backstage's pickers."""
    field = {key: value for key, value in schema.items() if key != "$comment"}
    if name in FORM_CHOICES:
        field["oneOf"] = [c for c in field["oneOf"] if c["const"] in FORM_CHOICES[name]]
    # Backstage's own pickers; their entity refs (group:default/payments) suit the catalog.
    if name == "owner":
        field["ui:field"] = "OwnerPicker"
        field["ui:options"] = {"catalogFilter": {"kind": ["Group", "User"]}}
    if name == "system":
        field["ui:field"] = "EntityPicker"
        field["ui:options"] = {"catalogFilter": {"kind": ["System"]}}
    if name == "cors_origins":
        # A form's list widget needs one item type: "*" joins the pattern.
        field["items"] = {"type": "string", "pattern": f"^\\*$|{rules.ORIGIN_PATTERN.pattern}"}
    return field


def form_page(title: str, names: list[str], schema: dict[str, Any]) -> dict[str, Any]:
    """One page: its fields, the ones that depend on another shown only when they apply."""
    properties = schema["properties"]
    always = [name for name in names if name not in SHOWN_WHEN]
    page: dict[str, Any] = {
        "title": title,
        "type": "object",
        "properties": {name: form_field(name, properties[name]) for name in always},
    }
    required = [name for name in names if name in schema["required"]]
    if required:
        page["required"] = required
    controllers: dict[str, list[str]] = {}
    for name in names:
        if name in SHOWN_WHEN:
            controllers.setdefault(SHOWN_WHEN[name][0], []).append(name)
    dependencies = {}
    for controller, dependents in controllers.items():
        values = _controller_values(controller, properties[controller])
        branches = []
        for value in values:
            shown = [name for name in dependents if value in SHOWN_WHEN[name][1]]
            branch: dict[str, Any] = {"properties": {controller: {"const": value}}}
            branch["properties"] |= {name: form_field(name, properties[name]) for name in shown}
            branches.append(branch)
        dependencies[controller] = {"oneOf": branches}
    if dependencies:
        page["dependencies"] = dependencies
        page["ui:order"] = [*names, "*"]
    # The cross-question rules whose questions are all on this page and always
    # shown (rjsf would show a hidden field that a rule's `then` names); the
    # conditional fields follow theirs by showing up only where they apply, and
    # the rest (the slug's length on Kubernetes) the bootstrap's first step checks.
    on_page = [
        rule
        for rule in rules.RULES
        if set(rule.keys()) <= set(names) and rule.key not in SHOWN_WHEN
    ]
    if on_page:
        page["allOf"] = [_without_comment(rule_schema(rule)) for rule in on_page]
    return page


def _without_comment(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key != "$comment"}


def _controller_values(name: str, schema: dict[str, Any]) -> list[Any]:
    if schema["type"] == "boolean":
        return [True, False]
    return [choice["const"] for choice in schema["oneOf"]]


def build_backstage_template(schema: dict[str, Any]) -> dict[str, Any]:
    """A scaffolder Template that collects the answers and has Copier render them.

    The scaffolder has no built-in action that runs a program, so the
    `github:actions:dispatch` action (Backstage's GitHub module) starts this
    repository's .github/workflows/bootstrap.yml at the pinned release tag and
    returns the run's URL; that workflow checks the answers, runs Copier with
    --trust --defaults --data-file and pushes the new repository, whose
    catalog-info.yaml `catalog:register` adds to the catalog (the catalog reads
    it once the push lands).
    """
    properties = schema["properties"]
    placed = [name for names in PAGES.values() for name in names]
    missing = sorted(set(properties) - set(placed))
    if missing or len(placed) != len(set(placed)):
        raise SystemExit(f"place every question on exactly one page of PAGES: {missing}")
    pages = [form_page(title, names, schema) for title, names in PAGES.items()]
    pages.append(
        {
            "title": "Repository",
            "type": "object",
            "required": ["repoUrl"],
            "properties": {
                "repoUrl": {
                    "title": "Repository to create",
                    "description": "A new GitHub repository; the bootstrap workflow creates it.",
                    "type": "string",
                    "ui:field": "RepoUrlPicker",
                    "ui:options": {"allowedHosts": ["github.com"]},
                }
            },
        }
    )
    release = pinned_release()
    repo = "(parameters.repoUrl | parseRepoUrl)"
    repository = f"${{{{ {repo}.owner }}}}/${{{{ {repo}.repo }}}}"
    repository_url = f"https://${{{{ {repo}.host }}}}/{repository}"
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
                    "name": f"Check the answers, render release {release}, push the repository",
                    "action": "github:actions:dispatch",
                    "input": {
                        "repoUrl": TEMPLATE_REPO_URL,
                        "workflowId": "bootstrap.yml",
                        "branchOrTagName": release,
                        "returnWorkflowRunDetails": True,
                        "workflowInputs": {
                            # The form's answers, less the repository page.
                            "answers": "${{ parameters | dump }}",
                            "repository": repository,
                        },
                    },
                },
                {
                    "id": "register",
                    "name": "Register the service in the catalog",
                    "if": "${{ parameters.catalog !== false }}",
                    "action": "catalog:register",
                    "input": {
                        "catalogInfoUrl": f"{repository_url}/blob/main/catalog-info.yaml",
                        # The workflow pushes the file a minute or two after this step:
                        # the catalog keeps the location and reads it once it exists.
                        "optional": True,
                    },
                },
            ],
            "output": {
                "links": [
                    {
                        "title": "Bootstrap workflow run",
                        "icon": "github",
                        "url": "${{ steps.render.output.workflowRunHtmlUrl }}",
                    },
                    {"title": "Repository", "icon": "github", "url": repository_url},
                    {
                        "title": "Open in catalog",
                        "icon": "catalog",
                        "entityRef": "${{ steps.register.output.entityRef }}",
                    },
                ],
                "text": [
                    {
                        "title": "Next",
                        "content": (
                            f"The bootstrap workflow checks the answers (names, rules, the "
                            f"capacity plan), renders release {release} with Copier and pushes "
                            f"{repository_url}; a refused answer fails its first step with one "
                            "line per problem. The catalog lists the service once the push lands."
                        ),
                    }
                ],
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
