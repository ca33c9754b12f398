"""Apply the database migrations: `python -m <package>.migrate`.

The release step of a deploy (a Kubernetes Job, a CI stage, systemd's
ExecStartPre): run it once per release, before the new code serves.
ALEMBIC_CONFIG points at alembic.ini when it is not in the working directory.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from .schema_version import alembic_ini


def alembic_config() -> Config:
    return Config(alembic_ini())


def main() -> None:
    # Every head, not "head": the template's revisions are a branch of their own
    # beside the team's (README.md, "Migrations"), and each branch is applied.
    command.upgrade(alembic_config(), "heads")


if __name__ == "__main__":
    main()
