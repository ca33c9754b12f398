"""Apply the database migrations: `python -m <package>.migrate`.

The release step of a deploy (a Kubernetes Job, a CI stage, systemd's
ExecStartPre): run it once per release, before the new code serves.
ALEMBIC_CONFIG points at alembic.ini when it is not in the working directory.
"""

from __future__ import annotations

import os

from alembic import command
from alembic.config import Config


def main() -> None:
    command.upgrade(Config(os.environ.get("ALEMBIC_CONFIG", "alembic.ini")), "head")


if __name__ == "__main__":
    main()
