"""DB_PGBOUNCER_PREPARED_STATEMENTS against a real PgBouncer that tracks prepared statements.

The shared PgBouncer on 6432 is Debian 12's 1.18, which predates them (1.21), so
these tests start one of their own, built by `.ci/build-pgbouncer`, on a free
port in front of the shared PostgreSQL: transaction mode, max_prepared_statements
set, and fewer server connections than the service opens, so that a statement
prepared on one server connection is met again on another.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Project, each_variant
from .processes import free_port

pytestmark = pytest.mark.slow

PGBOUNCER = Path(os.environ.get("PGBOUNCER_PREPARED_PREFIX", "/opt/pgbouncer-prepared"))
SERVER_CONNECTIONS = 2
CONFIG = """\
[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {directory}/userlist.txt
pool_mode = transaction
default_pool_size = {server_connections}
max_prepared_statements = 100
admin_users = postgres
"""

# Run in the project: queries through the service's own engine with the option
# on, more client connections at once than PgBouncer has server connections.
PROBE = """
import asyncio, sys
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.pool import QueuePool
from {package}.db import Database
from {package}.settings import Settings

async def one(database, n):
    async with database.engine.connect() as connection:
        value = (await connection.execute(text("SELECT CAST(:n AS integer) + 1"), {{"n": n}}))
        assert value.scalar_one() == n + 1
        raw = await connection.get_raw_connection()
        # SQLAlchemy's cache of asyncpg prepared statements on this connection.
        return len(raw.dbapi_connection._prepared_statement_cache)

async def main(url):
    settings = Settings(
        _env_file=None, database_url=SecretStr(url), db_pooler="pgbouncer",
        db_pgbouncer_prepared_statements=True, db_pool_size=4, db_max_overflow=0,
    )
    database = Database.from_settings(settings)
    try:
        assert isinstance(database.engine.pool, QueuePool), database.engine.pool
        for _ in range(5):
            cached = await asyncio.gather(*(one(database, n) for n in range(8)))
            assert min(cached) >= 1, cached
    finally:
        await database.dispose()

asyncio.run(main(sys.argv[1]))
"""


def pgbouncer_binary() -> Path:
    binary = PGBOUNCER / "bin" / "pgbouncer"
    if not binary.exists():
        pytest.fail(f"{binary} is missing: run .ci/build-pgbouncer")
    version = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    assert tuple(int(part) for part in version.split(".")[:2]) >= (1, 21), version
    return binary


def show(port: int, command: str) -> list[dict[str, str]]:
    """A SHOW command on the PgBouncer's admin console, as rows of named columns."""
    output = subprocess.run(
        [
            *("psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "pgbouncer"),
            *("--no-psqlrc", "-A", "-F", "\t", "-P", "footer=off", "-c", command),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.splitlines()
    header = output[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in output[1:]]


@contextlib.contextmanager
def private_pgbouncer() -> Iterator[int]:
    """A PgBouncer of this test's own (as postgres when run as root: it refuses root)."""
    binary = pgbouncer_binary()
    port = free_port()
    directory = Path(tempfile.mkdtemp(prefix="pgbouncer-prepared-"))
    directory.chmod(0o755)
    config = directory / "pgbouncer.ini"
    config.write_text(
        CONFIG.format(port=port, directory=directory, server_connections=SERVER_CONNECTIONS)
    )
    (directory / "userlist.txt").write_text('"postgres" ""\n')
    command = [str(binary), str(config)]
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
        for path in directory.iterdir():
            shutil.chown(path, "postgres")
        command = ["runuser", "-u", "postgres", "--", *command]
    log = directory / "pgbouncer.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def pgbouncer_port() -> Iterator[int]:
    with private_pgbouncer() as port:
        yield port


@each_variant("pgbouncer")
def test_statement_cache_works_behind_pgbouncer(project: Project, pgbouncer_port: int) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{pgbouncer_port}/postgres"
    project.sync().run(project.bin("python"), "-c", PROBE.format(package=project.package), url)
    servers = show(pgbouncer_port, "SHOW SERVERS")
    assert len(servers) == SERVER_CONNECTIONS
    # PgBouncer prepared the service's statements on each server connection it used.
    assert sum(int(server["prepared_statements"]) for server in servers) >= 1, servers


@each_variant("pgbouncer")
def test_the_services_suite_passes_with_prepared_statements(
    project: Project, pgbouncer_port: int
) -> None:
    env = {
        "TEST_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{pgbouncer_port}/postgres",
        "DB_PGBOUNCER_PREPARED_STATEMENTS": "true",
    }
    tests = ["tests/test_items.py", "tests/test_connection_settings.py", "tests/test_settings.py"]
    result = project.sync().run(
        project.bin("pytest"), "-q", "-p", "no:cacheprovider", *tests, env=env
    )
    summary = result.stdout.strip().splitlines()[-1]
    assert "passed" in summary
    assert "skipped" not in summary
