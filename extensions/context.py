"""The context hook that hands ``derived`` to every template Copier renders, and our filters.

Copier loads this file by its path (``extensions/context.py:DerivedContext``),
outside any package. The sibling modules are therefore loaded as a package
under a name unique to this directory: ``copier update`` renders the old and
the new template version in one process, and each must see its own code.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from copier.errors import UserMessageError
from copier_template_extensions import ContextHook
from jinja2 import Environment
from jinja2.ext import Extension


def _load_sibling(name: str) -> ModuleType:
    here = Path(__file__).resolve().parent
    package = "_fastapi_golden_path_" + hashlib.sha256(str(here).encode()).hexdigest()[:12]
    if package not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            package, here / "__init__.py", submodule_search_locations=[str(here)]
        )
        if spec is None or spec.loader is None:  # pragma: no cover - the file is right here
            raise ImportError(f"cannot load the template extensions from {here}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[package] = module
        spec.loader.exec_module(module)
    return importlib.import_module(f"{package}.{name}")


_derived = _load_sibling("derived")
_answers = _load_sibling("answers")


class AnswersRefused(BaseException):
    """The answers break rules: one line per problem, printed instead of a traceback.

    A BaseException, not an Exception: Copier turns an Exception raised while it
    validates a recorded answer into "delete that answer and use the default",
    which would replace the service's answer silently or end in a misleading
    'Question "owner" is required'.
    """

    def __init__(self, lines: str) -> None:
        super().__init__(lines)
        # Read by name: `copier update` loads two releases, each its own class.
        self.answer_lines = lines


def _print_answer_errors_as_one_line(previous: Any) -> Any:
    """Copier's CLI lets a rejected --data/--defaults answer escape as a traceback.

    A portal log or a terminal should show one line per answer and why;
    every other exception keeps its traceback.
    """

    def excepthook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        if isinstance(lines := getattr(exc, "answer_lines", None), str):
            print(lines, file=sys.stderr)
            return
        line = _derived.answer_error_line(exc)
        if line is None:
            previous(exc_type, exc, tb)
        else:
            print(f"error: {line}", file=sys.stderr)

    excepthook.prints_answer_errors = True  # type: ignore[attr-defined]
    return excepthook


# On top of any hook an older release installed (an update loads both).
if not getattr(sys.excepthook, "prints_answer_errors", False):
    sys.excepthook = _print_answer_errors_as_one_line(sys.excepthook)

# Answer sets already checked in this process (Copier renders hundreds of strings).
_checked: set[str] = set()


def check_before_copier_reads(context: dict[str, Any]) -> None:
    """Refuse bad answers, all at once, before Copier parses the first of them.

    The first string Copier renders while it asks is a validator or a default,
    so this runs before Copier would trip over ``max_replicas: many`` with a
    traceback, or report only the first broken rule. In a replay of a service's
    answers (``copier update`` re-rendering the old release) the data are the
    recorded answers.
    """
    conf = context.get("_copier_conf") or {}
    data = dict(conf.get("data") or {})
    destination = Path(str(conf.get("dst_path", ".")))
    # While Copier asks, _copier_conf.answers_file may be empty: copier.yml names it.
    answers_file = str(conf.get("answers_file") or _answers.ANSWERS_FILE)
    recorded = _answers.recorded_answers(destination, answers_file)
    if "_commit" in data:
        data, recorded = {}, data
    interactive = not conf.get("defaults", False)
    key = json.dumps([str(destination), data, recorded, interactive], default=str, sort_keys=True)
    if key in _checked:
        return
    _checked.add(key)
    problems = _answers.check(data, recorded, interactive=interactive)
    if problems:
        raise AnswersRefused(_answers.lines(problems))


class DerivedContext(ContextHook):
    """Adds ``derived`` to the context; refuses impossible answers before any file is written."""

    def hook(self, context: dict[str, Any]) -> None:
        if context.get("_copier_phase") == "prompt":
            check_before_copier_reads(context)
        derived = _derived.derive(context)
        context["derived"] = derived
        # Validators report errors question by question while prompting. Answers
        # that skipped their validator are caught here, when the first path is
        # rendered: before a single file exists.
        if derived["problems"] and context.get("_copier_phase") == "render":
            raise UserMessageError(_answers.lines(derived["problems"]))


class Filters(Extension):
    """String literals: ``quoted`` for JSON, TOML and YAML, ``python_string`` for Python."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["quoted"] = _derived.quoted
        environment.filters["python_string"] = _derived.python_string
