"""Whether the database has every migration this code was written for.

/readyz asks it until the answer is yes: a pod of a new release that starts
before its migrations ran (or where nobody ran them) takes no traffic. The
answer is read from Alembic's version table and compared with the code's
heads; once the schema is current it can only move forward, so it is not
asked again. A database that carries a revision this code does not know was
migrated by a newer release (mid-rollout, the old pods still serve): ready.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection

# Template revisions that were renamed, old id -> new id. 0.2.0 called the
# queue's revision "0002", an id a team's own migration may well have.
RENAMED = {"0002": "golden_path_0002"}


def alembic_ini() -> Path:
    """alembic.ini: ALEMBIC_CONFIG, or the working directory's (the image's /app)."""
    return Path(os.environ.get("ALEMBIC_CONFIG", "alembic.ini"))


class SchemaBehindError(Exception):
    """The database lacks migrations this code needs."""


def renamed(known: Collection[str]) -> dict[str, str]:
    """The renames that apply to a project whose revisions are ``known``.

    A project with a revision of its own under the old id keeps it: then the
    old id in the database is that revision, not the template's.
    """
    return {old: new for old, new in RENAMED.items() if old not in known and new in known}


def adopt_renamed_revisions(connection: Connection, known: Collection[str]) -> None:
    """Rewrite renamed template revisions in the version table (migrations/env.py)."""
    renames = renamed(known)
    if not renames or not inspect(connection).has_table("alembic_version"):
        return
    for old, new in renames.items():
        connection.execute(
            text("UPDATE alembic_version SET version_num = :new WHERE version_num = :old"),
            {"old": old, "new": new},
        )


def _current_heads(connection: Connection) -> tuple[str, ...]:
    return MigrationContext.configure(connection).get_current_heads()


@dataclass
class SchemaVersion:
    """The code's Alembic heads, and what the database was last found at."""

    heads: frozenset[str]
    known: frozenset[str]
    # "current" or "ahead" once seen; None until then.
    state: str | None = None

    @classmethod
    def of_project(cls, alembic_ini: Path) -> SchemaVersion:
        """Read the revisions from disk (imports every migration): once, off the event loop."""
        if not alembic_ini.is_file():
            raise FileNotFoundError(
                f"{alembic_ini} not found: run from the project directory or set ALEMBIC_CONFIG"
            )
        script = ScriptDirectory.from_config(Config(alembic_ini))
        known = frozenset(revision.revision for revision in script.walk_revisions())
        return cls(frozenset(script.get_heads()), known)

    def compare(self, database_heads: Iterable[str]) -> str:
        """Current or ahead (of this code); raises SchemaBehindError when migrations are missing."""
        renames = renamed(self.known)
        found = frozenset(renames.get(head, head) for head in database_heads)
        if found - self.known:
            return "ahead"
        if found == self.heads:
            return "current"
        raise SchemaBehindError(
            f"the database is at {', '.join(sorted(found)) or 'no revision'}, this code needs "
            f"{', '.join(sorted(self.heads - found))}: run python -m {__package__}.migrate"
        )

    async def check(self, connection: AsyncConnection) -> str:
        if self.state is None:
            self.state = self.compare(await connection.run_sync(_current_heads))
        return self.state
