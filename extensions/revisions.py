"""Follow the template's renamed Alembic revisions in a service's own migrations.

Copier runs this after an update that crosses 0.3.0 (copier.yml, _migrations):
0.2.0 called the queue's revision ``0002``, 0.3.0 calls it ``golden_path_0002``
so it never collides with a team's own ``0002``. A team revision that revises
the template's (``down_revision = "0002"``) must name the new id, or Alembic
finds no revision ``0002`` to follow. The database's ``alembic_version`` is
renamed by the service itself, when it next migrates (migrations/env.py).

Run as ``python extensions/revisions.py migrations/versions`` in the service.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

# The template's renames, old id -> new id; the service's schema_version.RENAMED.
RENAMED = {"0002": "golden_path_0002"}
REFERENCES = ("down_revision", "depends_on")


def revision_of(source: str) -> str | None:
    """The id a migration file defines (its module-level ``revision``)."""
    for node in ast.parse(source).body:
        if _assigned_name(node) == "revision" and isinstance(node, ast.Assign | ast.AnnAssign):
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return value.value
    return None


def _assigned_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        if isinstance(target, ast.Name):
            return target.id
    return None


def follow_renames(source: str, renames: dict[str, str]) -> str:
    """``source`` with renamed ids replaced in its down_revision and depends_on."""
    lines = source.splitlines(keepends=True)
    replacements: list[tuple[int, int, int, str]] = []
    for node in ast.parse(source).body:
        if _assigned_name(node) not in REFERENCES:
            continue
        for constant in ast.walk(node):
            if (
                isinstance(constant, ast.Constant)
                and isinstance(constant.value, str)
                and constant.value in renames
                and constant.end_col_offset is not None
            ):
                quote = lines[constant.lineno - 1][constant.col_offset]
                new = f"{quote}{renames[constant.value]}{quote}"
                replacements.append(
                    (constant.lineno - 1, constant.col_offset, constant.end_col_offset, new)
                )
    # From the end, so earlier offsets on the same line stay valid.
    for line, start, end, new in sorted(replacements, reverse=True):
        lines[line] = lines[line][:start] + new + lines[line][end:]
    result = "".join(lines)
    if replacements:
        # The docstring's "Revises:" header, as Alembic writes it.
        for old, new in renames.items():
            result = re.sub(
                rf"^(Revises:.*?)\b{re.escape(old)}\b", rf"\g<1>{new}", result, flags=re.MULTILINE
            )
    return result


def follow_renamed_revisions(versions: Path) -> list[Path]:
    """Rewrite the migrations in ``versions`` that revise a renamed template revision.

    Nothing changes in a service that has a revision of its own under an old
    id: there the old id is that revision, not the template's.
    """
    if not versions.is_dir():
        return []
    sources = {path: path.read_text() for path in sorted(versions.glob("*.py"))}
    defined = {revision_of(source) for source in sources.values()}
    renames = {old: new for old, new in RENAMED.items() if old not in defined and new in defined}
    changed = []
    for path, source in sources.items():
        updated = follow_renames(source, renames)
        if updated != source:
            path.write_text(updated)
            changed.append(path)
    return changed


def main(argv: list[str]) -> int:
    [versions] = argv
    for path in follow_renamed_revisions(Path(versions)):
        renamed = ", ".join(f"{old} is now {new}" for old, new in RENAMED.items())
        print(f"{path}: follows the template's renamed revision ({renamed})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
