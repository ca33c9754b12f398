"""Check an answers file the way Copier will, capacity plan included, with no network.

    uv run python -m scripts.check_answers answers.json          # or .yml; "-" reads stdin
    uv run python -m scripts.check_answers --ignore repoUrl -    # a Backstage form's JSON

The JSON Schema (portal/answers.schema.json) states every rule but the
capacity plan; this states them all, with the template's own code
(extensions/answers.py, the checks Copier's context hook runs before it reads
an answer). Exit 0 and no output when Copier would accept the answers;
otherwise one line per problem on stderr, each under its question, and exit 1.
The bootstrap workflow runs it before anything is created.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from extensions import answers


def load(source: str) -> Any:
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    return yaml.safe_load(text)  # JSON is YAML


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="check_answers", description=__doc__.split("\n\n")[0])
    parser.add_argument("answers", help="the answers file (JSON or YAML), or - for stdin")
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="KEY",
        help="a key that is not a question (a form's repoUrl); may repeat",
    )
    args = parser.parse_args(argv)
    try:
        data = load(args.answers)
    except (OSError, yaml.YAMLError) as error:
        print(f"error: {args.answers}: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    if not isinstance(data, dict):
        print(f"error: {args.answers}: expected a mapping of question: answer", file=sys.stderr)
        return 1
    given = {key: value for key, value in data.items() if key not in args.ignore}
    problems = answers.check(given)
    if problems:
        print(answers.lines(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
