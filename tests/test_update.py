"""`copier update` loads the template's extensions again and merges around user edits."""

from __future__ import annotations

import subprocess
from pathlib import Path

from copier import run_update

from .conftest import REQUIRED, render

README_EDIT = "\n## Team notes\n\nOn call: #orders-oncall.\n"
NEW_ROUTER = '"""A router the team added."""\n'
TEMPLATE_CHANGE = "\n# Checked by the update test.\n"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_update_applies_template_changes_and_keeps_edits(
    copier_template: Path, tmp_path: Path
) -> None:
    template = tmp_path / "template"
    git(tmp_path, "clone", "--quiet", str(copier_template), str(template))
    project = tmp_path / "service"
    render(template, project, **REQUIRED)
    git(project, "init", "--quiet")
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "generated")

    # The team edits their service...
    with (project / "README.md").open("a") as readme:
        readme.write(README_EDIT)
    (project / "src/orders_api/api/reports.py").write_text(NEW_ROUTER)
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "our changes")

    # ...and the template releases a change to a file the team did not touch.
    health = template / "template/src/{{ package_name }}/health.py"
    health.write_text(health.read_text() + TEMPLATE_CHANGE)
    git(template, "commit", "--quiet", "-am", "template change")
    git(template, "tag", "99.99.100")

    run_update(project, defaults=True, unsafe=True, overwrite=True, quiet=True, vcs_ref="99.99.100")

    assert (project / "src/orders_api/health.py").read_text().endswith(TEMPLATE_CHANGE)
    assert (project / "README.md").read_text().endswith(README_EDIT)
    assert (project / "src/orders_api/api/reports.py").read_text() == NEW_ROUTER
    assert "_commit: 99.99.100" in (project / ".copier-answers.yml").read_text()
    assert list(project.rglob("*.rej")) == []
    status = git(project, "status", "--porcelain")
    assert "<<<<<<<" not in git(project, "diff")
    assert status.strip()  # the update left its changes for the team to review
