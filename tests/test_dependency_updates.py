"""Each service keeps its lock current: Dependabot on GitHub, Renovate on GitLab, one weekly update.

Both files are checked against the schemas check-jsonschema vendors (SchemaStore's).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from .conftest import Project, each_variant, variants_where


def validate(path: Path, schema: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@each_variant("default")
def test_dependabot_relocks_weekly_in_one_group(project: Project) -> None:
    config_file = project.path / ".github" / "dependabot.yml"
    validate(config_file, "vendor.dependabot")
    updates = {
        update["package-ecosystem"]: update
        for update in yaml.safe_load(config_file.read_text())["updates"]
    }
    assert set(updates) == {"uv", "github-actions"}
    for update in updates.values():
        assert update["directory"] == "/"
        assert update["schedule"]["interval"] == "weekly"
        # One group matching every dependency: one pull request per ecosystem.
        assert [group["patterns"] for group in update["groups"].values()] == [["*"]]
    assert not (project.path / "renovate.json").exists()


@each_variant(*variants_where(ci="gitlab"))
def test_renovate_relocks_weekly(project: Project) -> None:
    config_file = project.path / "renovate.json"
    validate(config_file, "vendor.renovate")
    config = json.loads(config_file.read_text())
    assert config["lockFileMaintenance"] == {"enabled": True, "schedule": config["schedule"]}
    # Minor and patch releases come through that relock, not one merge request each.
    pep621 = [rule for rule in config["packageRules"] if rule["matchManagers"] == ["pep621"]]
    assert {"matchUpdateTypes": ["minor", "patch"], "enabled": False}.items() <= pep621[0].items()
    assert not (project.path / ".github").exists()


@each_variant(*variants_where(ci="none"))
def test_no_update_bot_without_ci(project: Project) -> None:
    assert not (project.path / "renovate.json").exists()
    assert not (project.path / ".github").exists()
