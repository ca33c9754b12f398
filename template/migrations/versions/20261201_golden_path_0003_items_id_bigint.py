"""items.id as a 64-bit integer on PostgreSQL and MySQL/MariaDB

SQLite's INTEGER PRIMARY KEY is the 64-bit rowid already, so nothing changes
there. Columns of other tables that reference items.id follow it, so an id
above 2**31 fits wherever it is stored (MySQL requires both sides of a foreign
key to match, and refuses to change either while the key exists, so the key is
dropped and made again around the change).

PostgreSQL and MySQL rewrite the table under an exclusive lock while the type
changes: quick for a small table; run it in a quiet hour when items is large.

Revision ID: golden_path_0003
Revises: 0001
Create Date: 2026-12-01 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "golden_path_0003"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    change_id_type(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    change_id_type(sa.BigInteger(), sa.Integer())


def change_id_type(old: sa.Integer, new: sa.Integer) -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    # SQLite's rowid is 64-bit; a service that dropped the example table has nothing to change.
    if bind.dialect.name == "sqlite" or not inspector.has_table("items"):
        return
    references = [
        (table, key)
        for table in inspector.get_table_names()
        for key in inspector.get_foreign_keys(table)
        if key["referred_table"] == "items" and key["referred_columns"] == ["id"]
    ]
    is_mysql = bind.dialect.name in ("mysql", "mariadb")
    if is_mysql:
        for table, key in references:
            op.drop_constraint(str(key["name"]), table, type_="foreignkey")
    op.alter_column(
        "items",
        "id",
        existing_type=old,
        type_=new,
        existing_nullable=False,
        # MySQL drops AUTO_INCREMENT unless the new column definition repeats it.
        autoincrement=True if is_mysql else None,
    )
    if bind.dialect.name == "postgresql":
        # A serial column's sequence has a type of its own, and stops at its maximum.
        sequence = bind.scalar(sa.text("SELECT pg_get_serial_sequence('items', 'id')"))
        if sequence:
            op.execute(f"ALTER SEQUENCE {sequence} AS {new.compile(dialect=bind.dialect)}")
    for table, key in references:
        [column] = key["constrained_columns"]
        [nullable] = [c["nullable"] for c in inspector.get_columns(table) if c["name"] == column]
        op.alter_column(table, column, existing_type=old, type_=new, existing_nullable=nullable)
    if is_mysql:
        for table, key in references:
            columns = key["constrained_columns"]
            options = key.get("options", {})
            op.create_foreign_key(key["name"], table, "items", columns, ["id"], **options)
