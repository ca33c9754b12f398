"""Answers as they reach the template: a data file, ``-d``, or a service's .copier-answers.yml.

``check(given, recorded)`` is the whole verdict on a set of answers, before
Copier parses any of them: the keys and types against copier.yml, the
questions left without an answer, and every rule of extensions/rules.py
applied to the answers Copier will end up with (``resolve``: the given ones,
and each other question's default, rendered as Copier renders it). The
context hook runs it first thing, and scripts/check_answers.py runs it on a
portal's answers file, so both refuse the same answers with the same words.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import yaml

from . import derived, naming, rules
from .rules import Problem

COPIER_YML = Path(__file__).resolve().parents[1] / "copier.yml"
ANSWERS_FILE = ".copier-answers.yml"

# The words Copier reads as booleans (copier's cast_to_bool), and nothing else:
# "maybe" is not silently true.
TRUE_WORDS = frozenset({"y", "yes", "t", "true", "on", "1"})
FALSE_WORDS = frozenset({"n", "no", "f", "false", "off", "0"})
EXPECTED = {"str": "a string", "int": "an integer", "bool": "true or false", "yaml": "YAML"}


@functools.cache
def questions(copier_yml: Path = COPIER_YML) -> dict[str, dict[str, Any]]:
    """copier.yml's questions, in order, without the template settings (``_...``)."""
    config = yaml.safe_load(copier_yml.read_text(encoding="utf-8"))
    return {key: value for key, value in config.items() if not key.startswith("_")}


def choices(question: Mapping[str, Any]) -> list[Any]:
    """The values of a question's choices (Copier accepts a list or a mapping)."""
    raw = question.get("choices") or []
    if isinstance(raw, list):
        return list(raw)
    return [item["value"] if isinstance(item, dict) else item for item in raw.values()]


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, (list, dict)):
        return f"a {'list' if isinstance(value, list) else 'mapping'}"
    return repr(value)


def typed(key: str, value: Any) -> tuple[Any, str | None]:
    """``value`` as Copier will read it for question ``key``, or why it cannot be."""
    question = questions()[key]
    kind = question.get("type", "str")
    wrong = f"expected {EXPECTED.get(kind, kind)}, got {_describe(value)}"
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            result: Any = value
        elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
            result = int(value)
        else:
            return None, wrong
    elif kind == "bool":
        if isinstance(value, bool):
            result = value
        elif isinstance(value, (str, int)) and str(value).strip().lower() in TRUE_WORDS:
            result = True
        elif isinstance(value, (str, int)) and str(value).strip().lower() in FALSE_WORDS:
            result = False
        else:
            return None, wrong
    elif kind == "yaml":
        try:
            result = yaml.safe_load(value) if isinstance(value, str) else value
        except yaml.YAMLError as error:
            return None, f"expected YAML, got {value!r}: {' '.join(str(error).split())}"
    elif isinstance(value, str):
        result = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        result = str(value)  # YAML's 3.12 is Copier's "3.12"
    else:
        return None, wrong
    values = choices(question)
    if values and result not in values:
        listed = ", ".join(str(choice) for choice in values)
        return None, f"{result!r} is not one of the choices: {listed}"
    return result, None


def unknown_key(key: str) -> str:
    close = difflib.get_close_matches(key, list(questions()), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"{key!r} is not a question of this template{hint}; docs/questions.md lists them"


def _render(env: jinja2.Environment, value: Any, context: Mapping[str, Any]) -> Any:
    return env.from_string(value).render(context) if is_template(value) else value


def resolve(given: Mapping[str, Any]) -> dict[str, Any]:
    """The answers Copier ends up with: ``given`` (already typed), and every other default.

    Defaults are rendered in questionnaire order with the answers before them
    and ``derived``, as Copier renders them; a question with no default and no
    answer is left out.
    """
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)  # noqa: S701 - no HTML
    answers: dict[str, Any] = {}
    for key, question in questions().items():
        if key in given:
            answers[key] = given[key]
            continue
        if "default" not in question:
            continue
        rendered = _render(
            env, question["default"], {**answers, "derived": derived.derive(answers)}
        )
        value, _ = typed(key, rendered)
        answers[key] = rendered if value is None else value
    return answers


def _asked(key: str, answers: Mapping[str, Any]) -> bool:
    """Whether Copier asks ``key`` for these answers (its ``when``)."""
    when = questions()[key].get("when", True)
    if not is_template(when):
        return bool(when)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)  # noqa: S701 - no HTML
    return env.from_string(when).render(answers).strip().lower() not in ("false", "", "0", "none")


def release_of(commit: Any) -> str | None:
    """The release a service's ``_commit`` names (``0.1.0`` or ``0.1.0-3-gabc1234``)."""
    match = re.match(r"v?([0-9]+(?:\.[0-9]+)*)", str(commit or ""))
    return match.group(1) if match else None


def _version(release: str) -> tuple[int, ...]:
    return tuple(int(part) for part in release.split("."))


def suggestion(key: str, value: Any) -> str:
    """A value that passes the rule ``value`` broke, for the "how to fix it" part."""
    if key == "owner":
        candidate = "group:" + naming.slugify(str(value))
        if naming.entity_ref_error(candidate, rules.OWNER_KINDS) is None:
            return candidate
    if key == "system":
        candidate = naming.slugify(str(value))
        if candidate and naming.entity_ref_error(candidate, rules.SYSTEM_KINDS) is None:
            return candidate
    if key == "project_slug":
        return naming.slugify(str(value))
    if key == "package_name":
        return naming.package_name_for(str(value))
    if key in rules.BOUNDS and isinstance(value, int):
        bound = rules.BOUNDS[key]
        return str(min(max(value, bound.minimum), bound.maximum))
    return "..."


def _from_the_answers_file(problem: Problem, value: Any, old_release: str | None) -> Problem:
    """A refused answer the service recorded: what changed, and how to set it anew."""
    fix = f"copier update --trust -d {problem.key}={suggestion(problem.key, value)}"
    if old_release and _version(problem.since) > _version(old_release):
        message = (
            f"{value!r} in {ANSWERS_FILE} was accepted by {old_release}, but {problem.since} "
            f"changed the rule: {problem.message}; answer anew: {fix}"
        )
    else:
        message = f"{value!r} in {ANSWERS_FILE}: {problem.message}; fix it there, or: {fix}"
    return Problem(problem.key, message, problem.since, problem.involves)


def check(
    given: Mapping[str, Any],
    recorded: Mapping[str, Any] | None = None,
    *,
    interactive: bool = False,
) -> list[Problem]:
    """Every problem with these answers, each under its question, in questionnaire order.

    ``given`` are this run's answers (a data file, ``-d``); ``recorded`` those of
    the service's .copier-answers.yml, which ``given`` overrides. Interactive runs
    ask for what is missing and check the rest question by question, so only the
    keys and types of ``given`` are checked here.
    """
    old_release = release_of((recorded or {}).get("_commit"))
    recorded = {k: v for k, v in (recorded or {}).items() if not str(k).startswith("_")}
    raw = {**recorded, **{k: v for k, v in given.items() if not str(k).startswith("_")}}
    found: list[Problem] = []
    values: dict[str, Any] = {}
    for key, value in raw.items():
        where = "" if key in given else f" (in {ANSWERS_FILE})"
        if key not in questions():
            found.append(Problem(key, unknown_key(key) + where))
            continue
        result, error = typed(key, value)
        if error is not None:
            found.append(Problem(key, error + where))
        else:
            values[key] = result
    if interactive:
        return _ordered(found)
    resolved = resolve(values)
    for key in questions():
        if key not in resolved and key not in raw and _asked(key, resolved):
            example = " (e.g. group:payments)" if key == "owner" else ""
            found.append(
                Problem(key, f"required: this question has no default; answer it{example}")
            )
    plan_answers = set(rules.plan_keys(resolved))
    chosen = [key for key in given if key in plan_answers] or list(recorded)
    _, broken = rules.problems(resolved, chosen=chosen)
    mistyped = {problem.key for problem in found}
    answered = {problem.key for problem in broken if problem.key in raw}
    for problem in broken:
        if mistyped & {problem.key, *problem.involves}:
            continue  # a rule read a default in place of the mistyped answer
        if answered and problem.key not in raw:
            continue  # a default follows the answers: fixing those fixes it
        if problem.key in recorded and problem.key not in given:
            problem = _from_the_answers_file(problem, recorded[problem.key], old_release)
        found.append(problem)
    return _ordered(found)


def _ordered(found: list[Problem]) -> list[Problem]:
    order = {key: index for index, key in enumerate(questions())}
    return sorted(found, key=lambda problem: order.get(problem.key, len(order)))


def lines(found: list[Problem]) -> str:
    """The problems as a terminal or a portal log shows them: one line each."""
    return "\n".join(f"error: {problem.line()}" for problem in found)


def recorded_answers(destination: Path, answers_file: str = ANSWERS_FILE) -> dict[str, Any]:
    """A service's recorded answers, or nothing when it has none (a new copy)."""
    path = destination / answers_file
    if not path.is_file():
        return {}
    # Copier itself reads it first and stops on a file that is not YAML.
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    return dict(loaded) if isinstance(loaded, dict) else {}
