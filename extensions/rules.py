"""Every rule an answer must follow, stated once.

Copier's validators (through extensions/derived.py), the answers checker
(scripts/check_answers.py) and the portal's JSON Schema
(scripts/answers_schema.py) all read the rules from here:

- ``BOUNDS``: the integer range of every capacity question;
- ``RULES``: the rules that span questions, each stated as the answers that
  make it apply (``when``) and the JSON Schema keywords (``enum``, ``maximum``,
  ``maxLength``) that the question it is reported under must then satisfy;
- the naming rules of extensions/naming.py;
- the capacity plan of extensions/capacity.py, the one rule a JSON Schema
  cannot state.

``problems(answers)`` applies all of them to whatever answers exist so far and
returns every failure, each under the question it concerns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import capacity, naming

CAPACITY_KEYS = (
    "db_max_connections",
    "db_reserved_connections",
    "max_replicas",
    "web_processes",
    "worker_processes",
    "worker_concurrency",
)

# What a catalog-info.yaml reference may point at: spec.owner and spec.system.
OWNER_KINDS = ("group", "user")
SYSTEM_KINDS = ("system",)

ORIGIN_PATTERN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")

QUEUES = ("arq", "celery", "dramatiq")


@dataclass(frozen=True)
class Problem:
    """One rule an answer breaks: the question it concerns and the sentence that says why."""

    key: str
    message: str
    # The release whose rules first refused this (for answers an older one recorded).
    since: str = "0.1.0"
    # Every question the rule reads: an interactive prompt for any of them reports it.
    involves: tuple[str, ...] = ()

    def line(self) -> str:
        return f"{self.key}: {self.message}"


@dataclass(frozen=True)
class Bound:
    """The range of an integer answer, and why each end is where it is."""

    minimum: int
    maximum: int
    below: str
    above: str
    since: str = "0.3.0"


BOUNDS: dict[str, Bound] = {
    "db_max_connections": Bound(
        1,
        262_143,
        "a database server accepts at least one connection",
        "PostgreSQL allows at most 262143 (MAX_BACKENDS)",
    ),
    "db_reserved_connections": Bound(
        0,
        262_142,
        "0 keeps nothing back",
        "it must stay below db_max_connections",
    ),
    "max_replicas": Bound(
        1,
        10_000,
        "at least one copy of the service must run",
        "the planner's ceiling: past it, run several deployments (Kubernetes and "
        "Lambda quotas rarely allow more in one)",
    ),
    "web_processes": Bound(
        1,
        512,
        "a replica runs at least one server process",
        "gunicorn's rule of 2 x cores + 1 tops out there on the largest hosts",
    ),
    "worker_processes": Bound(
        1,
        10_000,
        "a queue needs at least one worker process, or its jobs never run",
        "the planner's ceiling, as for max_replicas",
    ),
    "worker_concurrency": Bound(
        1,
        1_000,
        "a worker process runs at least one job at a time",
        "each job holds a database connection and a thread or task; past 1000 a "
        "process spends its time switching",
    ),
}


@dataclass(frozen=True)
class Rule:
    """A rule across questions: when the ``when`` answers hold, ``key`` must satisfy ``require``.

    ``when`` maps questions to the values that make the rule apply; ``require``
    holds JSON Schema keywords (``enum``, ``maximum``, ``maxLength``) that Python
    checks here and the schema states as ``if``/``then``. ``message`` is formatted
    with the answers.
    """

    key: str
    when: Mapping[str, tuple[Any, ...]]
    require: Mapping[str, Any]
    message: str
    since: str = "0.1.0"

    def applies(self, answers: Mapping[str, Any]) -> bool:
        return all(answers.get(k) in values for k, values in self.when.items())

    def keys(self) -> tuple[str, ...]:
        """Every question the rule reads."""
        return (*self.when, self.key)


RULES: tuple[Rule, ...] = (
    Rule(
        "deploy_target",
        {"database": ("sqlite",)},
        {"enum": ["gunicorn"]},
        "sqlite cannot run on {deploy_target}: a SQLite file lives on one host; "
        "pick postgresql or mysql, or deploy_target=gunicorn",
    ),
    Rule(
        "deploy_target",
        {"queue": QUEUES},
        {"enum": ["gunicorn", "kubernetes"]},
        "queue={queue} needs a long-running worker process, which Lambda has no place for; "
        "pick deploy_target=kubernetes or gunicorn, or queue=none",
        since="0.2.0",
    ),
    Rule(
        "max_replicas",
        {"database": ("sqlite",)},
        {"maximum": 1},
        "sqlite serves from one host, so max_replicas must be 1 (got {max_replicas}); "
        "pick postgresql or mysql to run on more hosts",
    ),
    Rule(
        "web_processes",
        {"deploy_target": ("kubernetes", "lambda")},
        {"maximum": 1},
        "{deploy_target} runs one process per replica (got web_processes={web_processes}); "
        "scale with max_replicas instead",
        since="0.2.0",
    ),
    Rule(
        "db_pooler",
        {"database": ("sqlite", "mysql", "none")},
        {"enum": ["none"]},
        "db_pooler={db_pooler} applies to postgresql only; use none",
    ),
    Rule(
        "queue",
        {"database": ("none",)},
        {"enum": ["none"]},
        "queue={queue} needs a database: its worker records each job's effect there "
        "(the example task); pick a database, or queue=none",
        since="0.2.0",
    ),
    Rule(
        "broker",
        {"queue": ("arq",)},
        {"enum": ["redis"]},
        "arq runs on redis only; use broker=redis or queue=celery or dramatiq",
        since="0.2.0",
    ),
    Rule(
        "project_slug",
        {"deploy_target": ("kubernetes",)},
        {"maxLength": naming.KUBERNETES_SLUG_MAX_LENGTH},
        "{project_slug!r} is too long for Kubernetes ({slug_length} characters): "
        "<slug>-config plus kustomize's hash must fit a 63-character name, so a slug has at "
        f"most {naming.KUBERNETES_SLUG_MAX_LENGTH} there; pick a shorter project_slug",
        since="0.3.0",
    ),
    Rule(
        "db_max_connections",
        {"database": ("mysql",)},
        {"maximum": 100_000},
        "MySQL and MariaDB accept at most 100000 connections (got {db_max_connections})",
        since="0.3.0",
    ),
)


def satisfies(value: Any, require: Mapping[str, Any]) -> bool:
    """Whether ``value`` meets the JSON Schema keywords of a rule (the subset RULES use)."""
    for keyword, limit in require.items():
        if keyword == "enum" and value not in limit:
            return False
        if keyword == "maximum" and isinstance(value, int) and value > limit:
            return False
        if keyword == "maxLength" and isinstance(value, str) and len(value) > limit:
            return False
    return True


def as_int(answers: Mapping[str, Any], key: str) -> int | None:
    """An integer answer, or None while it is missing or not a number yet."""
    value = answers.get(key)
    if isinstance(value, bool):
        return None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def cors_origins_error(origins: Any) -> str | None:
    """Why ``origins`` is not a list of browser origins (or ``["*"]``)."""
    if not isinstance(origins, list):
        return "cors_origins must be a YAML list, e.g. [https://app.example.com]"
    for origin in origins:
        if origin == "*":
            continue
        if not isinstance(origin, str) or not ORIGIN_PATTERN.match(origin):
            return (
                f"{origin!r} is not an origin: use scheme://host[:port] with no path, "
                "e.g. https://app.example.com"
            )
    return None


def name_problems(answers: Mapping[str, Any]) -> list[Problem]:
    """The naming rules: project name, slug, package, catalog references, origins."""
    found = []
    if "project_name" in answers:
        name = str(answers["project_name"])
        if not name.strip():
            found.append(Problem("project_name", "project_name cannot be empty"))
        elif not any(c.isalnum() for c in name):
            found.append(
                Problem(
                    "project_name",
                    f"{name!r} has no letter or digit to make a slug from; "
                    "name the service in words, e.g. Orders API",
                )
            )
    if "project_slug" in answers and (error := naming.slug_error(str(answers["project_slug"]))):
        found.append(Problem("project_slug", error))
    if "package_name" in answers and (
        error := naming.package_name_error(str(answers["package_name"]))
    ):
        found.append(Problem("package_name", error))
    if "owner" in answers:
        owner = str(answers["owner"])
        if not owner.strip():
            found.append(Problem("owner", "owner cannot be empty", since="0.2.0"))
        elif error := naming.entity_ref_error(owner, OWNER_KINDS):
            found.append(Problem("owner", error, since="0.2.0"))
    if answers.get("system") and (
        error := naming.entity_ref_error(str(answers["system"]), SYSTEM_KINDS)
    ):
        found.append(Problem("system", error, since="0.2.0"))
    if "cors_origins" in answers and (error := cors_origins_error(answers["cors_origins"])):
        found.append(Problem("cors_origins", error))
    return found


def bound_problems(answers: Mapping[str, Any]) -> list[Problem]:
    found = []
    for key, bound in BOUNDS.items():
        value = as_int(answers, key)
        if value is None:
            continue
        if value < bound.minimum:
            message = f"{key} must be at least {bound.minimum} (got {value}): {bound.below}"
        elif value > bound.maximum:
            message = f"{key} must be at most {bound.maximum} (got {value}): {bound.above}"
        else:
            continue
        found.append(Problem(key, message, since=bound.since))
    return found


def rule_problems(answers: Mapping[str, Any]) -> list[Problem]:
    found = []
    for rule in RULES:
        if rule.key not in answers or not rule.applies(answers):
            continue
        value = answers[rule.key]
        if rule.key in CAPACITY_KEYS:
            value = as_int(answers, rule.key)
        if value is None or satisfies(value, rule.require):
            continue
        slug = str(answers.get("project_slug", ""))
        message = rule.message.format(**answers, slug_length=len(slug))
        found.append(Problem(rule.key, message, since=rule.since, involves=rule.keys()))
    return found


# Questions whose answers decide whether the plan can be made at all.
PLAN_DEPENDS_ON = ("database", "db_pooler", "queue", "deploy_target", *CAPACITY_KEYS)


def per_process_cap(database: str, target: str) -> int:
    """Most connections one server process can use."""
    if target == "lambda":
        return capacity.LAMBDA_CONNECTIONS_PER_PROCESS
    if database == "sqlite":
        return capacity.SQLITE_CONNECTIONS_PER_PROCESS
    return capacity.MAX_CONNECTIONS_PER_PROCESS


def plan_keys(answers: Mapping[str, Any]) -> list[str]:
    """The capacity questions the plan reads for these answers, in questionnaire order."""
    keys = []
    if answers.get("database") in ("postgresql", "mysql"):
        keys += ["db_max_connections", "db_reserved_connections"]
    keys += ["max_replicas", "web_processes"]
    if answers.get("queue") not in (None, "none"):
        keys += ["worker_processes", "worker_concurrency"]
    return keys


def capacity_inputs(answers: Mapping[str, Any]) -> capacity.CapacityInputs | None:
    """The planner's inputs, or None while any of them is still unanswered."""
    database, target, queue = (answers.get(k) for k in ("database", "deploy_target", "queue"))
    if database is None or queue is None or target not in capacity.SURGE_FRACTION:
        return None
    values = {key: as_int(answers, key) for key in plan_keys(answers)}
    if None in values.values():
        return None
    numbers: dict[str, int] = {key: value for key, value in values.items() if value is not None}
    return capacity.CapacityInputs(
        deploy_target=str(target),
        max_replicas=numbers["max_replicas"],
        web_processes=numbers["web_processes"],
        max_connections=numbers.get("db_max_connections"),
        reserved_connections=numbers.get("db_reserved_connections", 0),
        worker_processes=numbers.get("worker_processes", 0),
        worker_concurrency=numbers.get("worker_concurrency", 0),
        per_process_cap=per_process_cap(str(database), str(target)),
        pooler=str(answers.get("db_pooler") or "none") if database == "postgresql" else "none",
    )


def plan(
    answers: Mapping[str, Any], chosen: Iterable[str] = ()
) -> tuple[capacity.CapacityPlan | None, list[Problem]]:
    """The capacity plan, or the problem that keeps it from fitting.

    The plan is made only from answers every other rule accepts: a plan of
    web_processes=4 on Lambda would only add a misleading second message. A
    refusal is reported under the last plan question in ``chosen`` (the answers
    the user gave, rather than took by default), else under the last one asked.
    """
    inputs = capacity_inputs(answers)
    if inputs is None:
        return None, []
    try:
        return capacity.plan_capacity(inputs), []
    except capacity.CapacityError as error:
        message = str(error)
    keys = plan_keys(answers)
    if message.startswith("db_reserved_connections"):
        pair = ("db_max_connections", "db_reserved_connections")
        return None, [Problem("db_reserved_connections", message, involves=pair)]
    picked = [key for key in keys if key in set(chosen)] or keys
    involves = ("database", "db_pooler", "queue", "deploy_target", *keys)
    return None, [Problem(picked[-1], message, involves=involves)]


def problems(
    answers: Mapping[str, Any], chosen: Iterable[str] = ()
) -> tuple[capacity.CapacityPlan | None, list[Problem]]:
    """Every rule ``answers`` break (and the plan, when it can be made).

    Rules run only once their inputs exist, so a half-answered questionnaire
    reports what it can. ``chosen`` names the answers the user gave; the
    capacity refusal is reported under one of them.
    """
    found = [*name_problems(answers), *bound_problems(answers), *rule_problems(answers)]
    if any(problem.key in PLAN_DEPENDS_ON for problem in found):
        return None, found
    capacity_plan, refused = plan(answers, chosen)
    return capacity_plan, [*found, *refused]


def involving(found: Iterable[Problem], key: str) -> list[Problem]:
    """What an interactive prompt for ``key`` reports: its own problems, and the rules it feeds."""
    return [problem for problem in found if key == problem.key or key in problem.involves]
