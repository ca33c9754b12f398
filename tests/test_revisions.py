"""extensions/revisions.py: a team's migrations follow the template's renamed revisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from extensions.revisions import follow_renamed_revisions, main, revision_of

QUOTES = "\"'"
TEMPLATE_QUEUE = '''"""add items.processed_at

Revision ID: golden_path_0002
Revises: 0001
"""

revision: str = "golden_path_0002"
down_revision: str | None = "0001"
'''


def team_revision(revision: str, down: str, header: str | None = None) -> str:
    return (
        f'"""add orders\n\nRevision ID: {revision}\nRevises: {header or down.strip(QUOTES)}\n"""\n\n'
        f'revision: str = "{revision}"\ndown_revision: str | tuple[str, ...] | None = {down}\n'
        "branch_labels = None\ndepends_on = None\n"
    )


def versions(tmp_path: Path, **files: str) -> Path:
    directory = tmp_path / "versions"
    directory.mkdir()
    for name, source in files.items():
        (directory / f"{name}.py").write_text(source)
    return directory


def test_a_team_revision_on_the_old_id_follows_the_new_one(tmp_path: Path) -> None:
    directory = versions(
        tmp_path,
        queue=TEMPLATE_QUEUE,
        orders=team_revision("a1b2c3", '"0002"'),
        merge=team_revision("d4e5f6", "('0002', \"a1b2c3\")", header="0002, a1b2c3"),
    )
    changed = follow_renamed_revisions(directory)
    assert sorted(path.name for path in changed) == ["merge.py", "orders.py"]
    orders = (directory / "orders.py").read_text()
    assert orders == team_revision("a1b2c3", '"golden_path_0002"', header="golden_path_0002")
    merge = (directory / "merge.py").read_text()
    assert "= ('golden_path_0002', \"a1b2c3\")\n" in merge
    assert "Revises: golden_path_0002, a1b2c3\n" in merge
    assert (directory / "queue.py").read_text() == TEMPLATE_QUEUE
    assert follow_renamed_revisions(directory) == []  # nothing left to do


def test_a_team_with_its_own_0002_keeps_it(tmp_path: Path) -> None:
    """There "0002" is the team's revision, not the template's."""
    own = team_revision("0002", '"0001"')
    on_top = team_revision("0003", '"0002"')
    directory = versions(tmp_path, queue=TEMPLATE_QUEUE, own=own, on_top=on_top)
    assert follow_renamed_revisions(directory) == []
    assert (directory / "on_top.py").read_text() == on_top


def test_nothing_changes_without_the_template_revision(tmp_path: Path) -> None:
    """No queue any more: the old id cannot be followed, and is left for Alembic to report."""
    orders = team_revision("a1b2c3", '"0002"')
    directory = versions(tmp_path, orders=orders)
    assert follow_renamed_revisions(directory) == []
    assert follow_renamed_revisions(tmp_path / "missing") == []


def test_revision_of_reads_plain_and_annotated_assignments() -> None:
    assert revision_of(TEMPLATE_QUEUE) == "golden_path_0002"
    assert revision_of('revision = "abc"\n') == "abc"
    assert revision_of("x = 1\n") is None


def test_main_names_each_file_it_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = versions(tmp_path, queue=TEMPLATE_QUEUE, orders=team_revision("a1", '"0002"'))
    assert main([str(directory)]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"{directory / 'orders.py'}: follows the template's renamed revision "
        "(0002 is now golden_path_0002)\n"
    )
