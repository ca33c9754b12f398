"""`copier update` loads the template's extensions again and merges around user edits."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from copier import run_update
from pre_commit_hooks.check_merge_conflict import main as check_merge_conflict_main

from .conftest import REQUIRED, ROOT, TEST_DATABASE_URLS, Project, render
from .test_deploy import immutable_changes, kustomize_directory, release_overlay
from .test_interactive import ESCAPES, Terminal
from .workflows import failed, github_job, gitlab_job

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


# ---------------------------------------------------------------------------
# Updates between real releases
# ---------------------------------------------------------------------------
RELEASES = tomllib.loads((Path(__file__).parent / "releases.toml").read_text())
RELEASED: dict[str, str] = RELEASES["released"]
NEXT: str = RELEASES["next"]
# What a release is made of: copier.yml and what it points at.
TEMPLATE_PATHS = ("copier.yml", "extensions", "template")
# The update tests' answer sets: the defaults and a server database.
UPDATE_VARIANTS = {"default": {}, "postgresql": {"database": "postgresql"}}


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template repository tagged with every release, the working tree as ``next``."""
    repo = tmp_path_factory.mktemp("releases") / "template"
    repo.mkdir()
    git(repo, "init", "--quiet")
    for version, commit in RELEASED.items():
        archive = subprocess.run(
            ["git", "archive", commit, *TEMPLATE_PATHS],
            cwd=ROOT,
            capture_output=True,
            check=False,
        )
        if archive.returncode != 0:
            pytest.fail(
                f"release {version} is commit {commit}, which this clone lacks: "
                f"`git fetch --unshallow` first\n{archive.stderr.decode()}"
            )
        clear(repo)
        subprocess.run(["tar", "-x", "-C", str(repo)], input=archive.stdout, check=True)
        git(repo, "add", "-A")
        git(repo, "commit", "--quiet", "-m", f"release {version}")
        git(repo, "tag", version)
    clear(repo)
    for name in TEMPLATE_PATHS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, repo / name)
    git(repo, "add", "-A")
    # --allow-empty: right after a release is cut, the working tree is that release.
    git(repo, "commit", "--quiet", "--allow-empty", "-m", f"release {NEXT}")
    git(repo, "tag", NEXT)
    return repo


def clear(repo: Path) -> None:
    for name in TEMPLATE_PATHS:
        path = repo / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def generate(releases: Path, project: Path, version: str, **answers: Any) -> Path:
    """A service generated from ``version`` and committed, as a team starts out."""
    render(releases, project, version, **REQUIRED, **answers)
    if not (project / "uv.lock").exists():
        # Releases before 0.3.0 rendered no lock: the team's first `uv sync` wrote one.
        Project(project, answers).uv("lock", "--quiet")
    git(project, "init", "--quiet")
    commit_all(project, f"generated from {version}")
    return project


def commit_all(project: Path, message: str) -> None:
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "--no-verify", "-m", message)


def update(project: Path, conflict: Literal["inline", "rej"] = "inline") -> None:
    run_update(
        project,
        defaults=True,
        unsafe=True,
        overwrite=True,
        quiet=True,
        vcs_ref=NEXT,
        conflict=conflict,
    )


def tree(project: Path) -> dict[str, bytes]:
    """Every file of a project but git's own, by path."""
    return {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(project).parts
    }


def conflicts(project: Path) -> list[str]:
    """Files with conflict markers, and .rej files: what an update could not merge."""
    found = []
    for name, content in tree(project).items():
        lines = content.splitlines()
        if name.endswith(".rej") or any(
            line.startswith((b"<<<<<<< ", b">>>>>>> ")) for line in lines
        ):
            found.append(name)
    return found


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer contains {old!r}: choose another edit"
    path.write_text(text.replace(old, new, 1))


update_variants = pytest.mark.parametrize(
    "answers", list(UPDATE_VARIANTS.values()), ids=list(UPDATE_VARIANTS)
)


@pytest.mark.parametrize("version", list(RELEASED))
@update_variants
def test_untouched_project_updates_to_a_fresh_copy(
    releases: Path, tmp_path: Path, version: str, answers: dict[str, Any]
) -> None:
    project = generate(releases, tmp_path / "updated", version, **answers)
    update(project)
    fresh = tmp_path / "fresh"
    render(releases, fresh, NEXT, **REQUIRED, **answers)

    updated, expected = tree(project), tree(fresh)
    assert sorted(updated) == sorted(expected)
    assert [name for name in expected if updated[name] != expected[name]] == []


ROUTER = '''"""Reports the team added after generating the service."""

from fastapi import APIRouter

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("")
async def list_reports() -> list[str]:
    return []
'''
TEAM_NOTES = "\n## Team notes\n\nOn call: #orders-oncall. Dashboards: grafana/orders.\n"


@pytest.mark.parametrize("version", list(RELEASED))
@update_variants
def test_edited_project_keeps_its_edits(
    releases: Path, tmp_path: Path, version: str, answers: dict[str, Any]
) -> None:
    project = generate(releases, tmp_path / "service", version, **answers)
    package = project / "src/orders_api"
    # What teams do in their first weeks: a router of their own, a setting
    # tuned, notes in the README.
    (package / "api/reports.py").write_text(ROUTER)
    edit(
        package / "api/__init__.py",
        "from .items.router import router as items_router\n",
        "from .items.router import router as items_router\n"
        "from .reports import router as reports_router\n",
    )
    with (package / "api/__init__.py").open("a") as api_module:
        api_module.write("api_router.include_router(reports_router)\n")
    edit(
        package / "settings.py",
        "http_timeout: float = Field(default=10.0, gt=0)",
        "http_timeout: float = Field(default=30.0, gt=0)",
    )
    with (project / "README.md").open("a") as readme:
        readme.write(TEAM_NOTES)
    commit_all(project, "our changes")
    fresh = tmp_path / "fresh"
    render(releases, fresh, NEXT, **REQUIRED, **answers)

    update(project)

    assert conflicts(project) == []
    assert (package / "api/reports.py").read_text() == ROUTER
    api = (package / "api/__init__.py").read_text()
    assert "from .reports import router as reports_router\n" in api
    assert api.endswith("api_router.include_router(reports_router)\n")
    settings = (package / "settings.py").read_text()
    assert "http_timeout: float = Field(default=30.0, gt=0)" in settings
    assert (project / "README.md").read_text().endswith(TEAM_NOTES)
    # Every file the team left alone is exactly the new release's.
    edited = {
        "src/orders_api/api/reports.py",
        "src/orders_api/api/__init__.py",
        "src/orders_api/settings.py",
        "README.md",
    }
    updated, expected = tree(project), tree(fresh)
    assert sorted(set(updated) - edited) == sorted(set(expected) - edited)
    assert [name for name in set(expected) - edited if updated[name] != expected[name]] == []
    # The edited files took the release's changes too, around the team's.
    assert_merged(project / "README.md", fresh / "README.md", TEAM_NOTES)
    assert_merged(
        package / "settings.py",
        fresh / "src/orders_api/settings.py",
        "http_timeout: float = Field(default=30.0, gt=0)",
        "http_timeout: float = Field(default=10.0, gt=0)",
    )


def assert_merged(path: Path, fresh: Path, ours: str, theirs: str = "") -> None:
    """``path`` is the release's ``fresh`` file with only the team's edit on top."""
    assert path.read_text().replace(ours, theirs) == fresh.read_text()


def test_a_real_conflict_is_marked_inline_and_the_hook_refuses_it(
    releases: Path, tmp_path: Path
) -> None:
    version = next(iter(RELEASED))
    project = generate(releases, tmp_path / "service", version)
    settings = project / "src/orders_api/settings.py"
    # The release changed this very line (5.0 became 5).
    edit(settings, "Field(default=5.0, ge=0)", "Field(default=8.0, ge=0)")
    commit_all(project, "a longer drain")

    update(project)

    assert conflicts(project) == ["src/orders_api/settings.py"]
    text = settings.read_text()
    assert "<<<<<<< before updating" in text
    assert "Field(default=8.0, ge=0)" in text  # the team's line is still there
    check_merge_conflict = hook(project, "check-merge-conflict")
    assert check_merge_conflict_main([*check_merge_conflict.get("args", []), str(settings)]) == 1


def test_rejected_hunks_are_refused_by_the_rej_hook(releases: Path, tmp_path: Path) -> None:
    version = next(iter(RELEASED))
    project = generate(releases, tmp_path / "service", version)
    settings = project / "src/orders_api/settings.py"
    edit(settings, "Field(default=5.0, ge=0)", "Field(default=8.0, ge=0)")
    commit_all(project, "a longer drain")

    update(project, conflict="rej")

    assert conflicts(project) == ["src/orders_api/settings.py.rej"]
    # As docs/releases.md says: the file is the release's, and the .rej holds
    # the team's edit that could not be applied (deleting it unread loses it).
    assert "Field(default=8.0, ge=0)" not in settings.read_text()
    rejected = (project / "src/orders_api/settings.py.rej").read_text()
    assert "+    shutdown_drain_seconds: float = Field(default=8.0, ge=0)" in rejected
    # The generated config's own hook, run by pre-commit itself; the other
    # hooks are left out because they would be fetched from GitHub.
    config = tmp_path / "pre-commit-config.yaml"
    config.write_text(
        yaml.safe_dump({"repos": [{"repo": "local", "hooks": [hook(project, "no-rej-files")]}]})
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "run",
            "--config",
            str(config),
            "--files",
            "src/orders_api/settings.py.rej",
        ],
        cwd=project,
        env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "no .rej files left by copier update" in result.stdout
    assert "Failed" in result.stdout


def hook(project: Path, hook_id: str) -> dict[str, Any]:
    """A hook of the generated project's .pre-commit-config.yaml, by id."""
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"] if hook["id"] == hook_id]
    assert len(hooks) == 1, f"the generated pre-commit config has no {hook_id} hook"
    return dict(hooks[0])


def test_a_deleted_starter_file_stays_deleted(releases: Path, tmp_path: Path) -> None:
    version = next(iter(RELEASED))
    project = generate(releases, tmp_path / "service", version)
    # The team replaces the example resource with their own.
    shutil.rmtree(project / "src/orders_api/api/items")
    (project / "tests/test_items.py").unlink()
    api = project / "src/orders_api/api/__init__.py"
    edit(api, "from .items.router import router as items_router\n", "")
    edit(api, "api_router.include_router(items_router)\n", "")
    commit_all(project, "drop the example")

    update(project)

    assert not (project / "src/orders_api/api/items").exists()
    assert not (project / "tests/test_items.py").exists()
    assert "items" not in api.read_text()
    assert conflicts(project) == []


def test_check_update_tells_an_old_project_from_a_current_one(
    releases: Path, tmp_path: Path
) -> None:
    """The command the generated scheduled CI job runs: exit status 2 means a newer release."""
    project = generate(releases, tmp_path / "service", next(iter(RELEASED)))

    def check_update() -> int:
        command = [sys.executable, "-m", "copier", "check-update", "--quiet"]
        return subprocess.run(command, cwd=project, capture_output=True, check=False).returncode

    assert check_update() == 2
    update(project)
    commit_all(project, f"update to {NEXT}")
    assert check_update() == 0


def test_update_relocks_the_service(releases: Path, tmp_path: Path) -> None:
    """The team's committed uv.lock, stale once the release changes pyproject.toml, is relocked."""
    version = list(RELEASED)[-1]
    project = generate(releases, tmp_path / "service", version)
    uv = Project(project, {})
    locked = (project / "uv.lock").read_text()

    update(project)

    # Copier's after-update migration (copier.yml) locked the merged pyproject.toml.
    assert (project / "uv.lock").read_text() != locked
    uv.uv("lock", "--check", "--quiet")


# ---------------------------------------------------------------------------
# The scheduled job: the update proposed as a pull request / merge request
# ---------------------------------------------------------------------------
TEAM_HEALTH_NOTE = "\n# The team's note on the probes.\n"
# Records the push options a push carried, as GitLab reads them.
POST_RECEIVE = r"""#!/bin/sh
i=0
while [ "$i" -lt "${GIT_PUSH_OPTION_COUNT:-0}" ]; do
    eval "value=\$GIT_PUSH_OPTION_$i"
    printf '%s\n' "$value" >> push-options.txt
    i=$((i + 1))
done
"""


@pytest.mark.slow
@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_the_scheduled_job_pushes_the_update_with_its_conflicts_listed(
    releases: Path, tmp_path: Path, ci: str
) -> None:
    """Its steps up to the pull request (GitHub's API), against a bare repository as origin."""
    template = tmp_path / "template"
    git(tmp_path, "clone", "--quiet", str(releases), str(template))
    project = tmp_path / "service"
    render(template, project, NEXT, **REQUIRED, ci=ci)
    git(project, "init", "--quiet", "--initial-branch", "main")
    commit_all(project, f"generated from {NEXT}")
    health = project / "src/orders_api/health.py"
    health.write_text(health.read_text() + TEAM_HEALTH_NOTE)
    commit_all(project, "a note of ours")
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", str(origin))
    git(origin, "config", "receive.advertisePushOptions", "true")
    (origin / "hooks/post-receive").write_text(POST_RECEIVE)
    (origin / "hooks/post-receive").chmod(0o755)
    git(project, "remote", "add", "origin", str(origin))
    git(project, "push", "--quiet", "origin", "main")

    # The template releases a change to the very lines the team added to.
    template_health = template / "template/src/{{ package_name }}/health.py"
    template_health.write_text(template_health.read_text() + TEMPLATE_CHANGE)
    git(template, "commit", "--quiet", "-am", "template change")
    git(template, "tag", "99.99.0")

    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    env = Project(project, {}).env
    if ci == "github":
        job = github_job(project / ".github/workflows/template-update.yml", "update")
        results = job.run(project, env, until="Open or refresh the pull request", temp=runner_temp)
        description = (runner_temp / "pr-body.md").read_text()
    else:
        job = gitlab_job(project / ".gitlab-ci.yml", "template-update")
        # GitLab's push URL, with the job's token, is the bare repository here.
        push_url = "https://template-update:glpat-test@gitlab.example.com/team/service.git"
        env |= {
            "TEMPLATE_UPDATE_TOKEN": "glpat-test",
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"url.{origin}.insteadOf",
            "GIT_CONFIG_VALUE_0": push_url,
        }
        results = job.run(project, env, temp=runner_temp)
        options = (origin / "push-options.txt").read_text().splitlines()
        assert "merge_request.create" in options
        assert "merge_request.target=main" in options
        assert "merge_request.title=Update to template release 99.99.0" in options
        [description] = [o for o in options if o.startswith("merge_request.description=")]
    assert failed(results) == ""

    branch = "template-update"
    answers = git(origin, "show", f"{branch}:.copier-answers.yml")
    assert "_commit: 99.99.0" in answers
    pushed_health = git(origin, "show", f"{branch}:src/orders_api/health.py")
    assert "<<<<<<< before updating" in pushed_health
    assert TEAM_HEALTH_NOTE.strip() in pushed_health
    assert TEMPLATE_CHANGE.strip() in pushed_health
    assert "src/orders_api/health.py" in description
    assert "99.99.0" in description
    # The branch is locked: its uv.lock is the one `uv lock` keeps.
    checkout = tmp_path / "proposed"
    git(tmp_path, "clone", "--quiet", "--branch", branch, str(origin), str(checkout))
    Project(checkout, {}).uv("lock", "--check", "--quiet")

    def next_week() -> None:
        git(project, "switch", "--quiet", "main")
        if ci == "github":
            again = job.run(
                project, env, until="Open or refresh the pull request", temp=runner_temp
            )
        else:
            again = job.run(project, env, temp=runner_temp)
        assert failed(again) == ""

    # Next week, the same release: the branch (and what the team merged on it) stays.
    proposed = git(origin, "rev-parse", branch)
    next_week()
    assert git(origin, "rev-parse", branch) == proposed
    # A newer release refreshes it.
    template_health.write_text(template_health.read_text() + "# And one more.\n")
    git(template, "commit", "--quiet", "-am", "another template change")
    git(template, "tag", "99.99.1")
    next_week()
    assert "_commit: 99.99.1" in git(origin, "show", f"{branch}:.copier-answers.yml")


# ---------------------------------------------------------------------------
# The README's quick start, and the generated README's update command, as written
# ---------------------------------------------------------------------------
def sh_block(markdown: str, heading: str) -> list[str]:
    """The commands of the first ```sh block under ``heading``, continuation lines joined."""
    section = markdown.split(f"\n{heading}\n", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=Project(cwd, {}).env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def at_a_terminal_with_every_default(command: str, cwd: Path) -> tuple[int, str]:
    """Run ``command`` on a pseudo-terminal, pressing Enter at each of Copier's prompts."""
    terminal = Terminal("bash", "-c", command, cwd=cwd)
    answered = 0
    try:
        while True:
            ready, _, _ = select.select([terminal.master], [], [], 300)
            if not ready:
                pytest.fail(f"{command} stopped responding:\n{terminal.screen[-3000:]}")
            try:
                terminal.raw += os.read(terminal.master, 65536)
            except OSError:  # the program exited and closed the terminal
                break
            terminal.screen = ESCAPES.sub(b"", terminal.raw).decode(errors="replace")
            # Copier marks each question with 🎤; Enter keeps the recorded answer.
            while answered < terminal.screen.count("🎤"):
                terminal.type("\r")
                answered += 1
        return terminal.process.wait(timeout=60), terminal.screen
    finally:
        terminal.close()


@pytest.mark.slow
def test_the_quick_start_makes_a_service_that_updates_as_its_readme_says(
    releases: Path, tmp_path: Path
) -> None:
    clone = tmp_path / "fastapi-golden-path"  # "from a clone of this repository"
    git(tmp_path, "clone", "--quiet", str(releases), str(clone))
    [quick_start] = sh_block((ROOT / "README.md").read_text(), "## Quick start")
    copy, separator, rest = quick_start.partition(" && cd ../orders-api && ")
    assert separator
    assert rest == "uv sync && make run"  # make run serves until stopped: not run here
    copied = shell(copy, clone)
    assert copied.returncode == 0, copied.stderr
    service = tmp_path / "orders-api"
    answers = yaml.safe_load((service / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == str(clone)
    assert answers["_commit"] == NEXT
    synced = shell("uv sync --locked", service)  # its lock came with it
    assert synced.returncode == 0, synced.stderr
    git(service, "init", "--quiet")
    commit_all(service, "generated")

    check_update, update_line = sh_block(
        (service / "README.md").read_text(), "## Keeping up with the template"
    )
    assert check_update.endswith("copier check-update")
    assert shell(check_update, service).returncode == 0
    assert "up-to-date" in shell(check_update, service).stdout

    health = clone / "template/src/{{ package_name }}/health.py"
    health.write_text(health.read_text() + TEMPLATE_CHANGE)
    git(clone, "commit", "--quiet", "-am", "template change")
    git(clone, "tag", "99.99.0")
    assert "latest version is 99.99.0" in shell(check_update, service).stdout

    assert update_line.endswith("copier update --trust")
    status, screen = at_a_terminal_with_every_default(update_line, service)
    assert status == 0, screen[-3000:]
    assert "_commit: 99.99.0" in (service / ".copier-answers.yml").read_text()
    assert (service / "src/orders_api/health.py").read_text().endswith(TEMPLATE_CHANGE)
    assert conflicts(service) == []
    assert shell("uv lock --check", service).returncode == 0


# ---------------------------------------------------------------------------
# Answers a service recorded: refused in one line each, with what changed
# ---------------------------------------------------------------------------
def update_cli(project: Path, *data: str) -> subprocess.CompletedProcess[str]:
    """`copier update` as a team runs it, non-interactively, to the working tree's release."""
    return subprocess.run(
        [sys.executable, "-m", "copier", "update", "--trust", "--defaults", "--quiet"]
        + ["--vcs-ref", NEXT]
        + [arg for pair in data for arg in ("-d", pair)],
        cwd=project,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_an_answer_an_older_release_accepted_says_what_changed(
    releases: Path, tmp_path: Path
) -> None:
    """0.1.0 took any owner; 0.2.0 wants a catalog reference. Not 'Question "owner" is required'."""
    project = tmp_path / "service"
    render(releases, project, "0.1.0", project_name="Orders API", owner="Payments Team")
    git(project, "init", "--quiet")
    commit_all(project, "generated from 0.1.0")

    refused = update_cli(project)
    assert refused.returncode != 0
    assert refused.stderr.strip().splitlines()[-1] == (
        "error: owner: 'Payments Team' in .copier-answers.yml was accepted by 0.1.0, but 0.2.0 "
        "changed the rule: 'Payments Team' is not a catalog entity reference "
        "([kind:][namespace/]name): the name 'Payments Team' must be letters, digits, '-', '_' "
        "or '.', starting and ending with a letter or digit; e.g. group:payments; "
        "answer anew: copier update --trust -d owner=group:payments-team"
    )
    assert "required" not in refused.stderr
    assert git(project, "status", "--porcelain") == ""  # nothing changed

    fixed = update_cli(project, "owner=group:payments-team")
    assert fixed.returncode == 0, fixed.stderr
    assert "owner: group:payments-team" in (project / ".copier-answers.yml").read_text()


def test_a_malformed_answers_file_is_refused_in_one_line_per_answer(
    releases: Path, tmp_path: Path
) -> None:
    """From this release on, a hand-edited answers file gets the key and the expected type."""
    project = generate(releases, tmp_path / "service", NEXT)
    answers_file = project / ".copier-answers.yml"
    recorded = yaml.safe_load(answers_file.read_text())
    recorded |= {"max_replicas": "many", "metrics": "maybe", "metricz": False}
    answers_file.write_text(yaml.safe_dump(recorded))
    commit_all(project, "edited by hand")

    result = update_cli(project)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: max_replicas: expected an integer, got 'many' (in .copier-answers.yml)",
        "error: metrics: expected true or false, got 'maybe' (in .copier-answers.yml)",
        (
            "error: metricz: 'metricz' is not a question of this template (did you mean "
            "metrics?); docs/questions.md lists them (in .copier-answers.yml)"
        ),
    ]
    assert git(project, "status", "--porcelain") == ""


# The databases of services generated from earlier releases
# ---------------------------------------------------------------------------
# Runs statements with the project's own driver and prints each result's rows.
SQL_SCRIPT = """
import asyncio, json, sys
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

async def main(url, statements):
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    results = []
    try:
        async with engine.connect() as connection:
            for statement in statements:
                result = await connection.execute(text(statement))
                results.append([list(row) for row in result] if result.returns_rows else None)
    finally:
        await engine.dispose()
    print(json.dumps(results, default=str))

asyncio.run(main(sys.argv[1], sys.argv[2:]))
"""
ABOVE_32_BITS = 2**31 + 7


@dataclass
class ServiceDatabase:
    """A real database of a generated service, reached through the service's own driver."""

    project: Project
    url: str

    def sql(self, *statements: str) -> list[Any]:
        result = self.project.run(
            self.project.bin("python"), "-c", SQL_SCRIPT, self.url, *statements
        )
        return list(json.loads(result.stdout))

    def migrate(self) -> None:
        self.project.run(
            self.project.bin("python"),
            *("-m", f"{self.project.package}.migrate"),
            env={"DATABASE_URL": self.url},
        )


@contextmanager
def service_database(project: Project, tmp_path: Path) -> Iterator[ServiceDatabase]:
    """An empty database of the project's kind (a file for SQLite), removed at the end."""
    database = project.answers.get("database", "sqlite")
    if database == "sqlite":
        yield ServiceDatabase(project, f"sqlite+aiosqlite:///{tmp_path / 'service.db'}")
        return
    server = ServiceDatabase(project, TEST_DATABASE_URLS[database])
    name = f"update_{uuid.uuid4().hex[:12]}"
    server.sql(f"CREATE DATABASE {name}")
    try:
        yield ServiceDatabase(project, f"{server.url.rsplit('/', 1)[0]}/{name}")
    finally:
        force = " WITH (FORCE)" if database == "postgresql" else ""
        server.sql(f"DROP DATABASE IF EXISTS {name}{force}")


def add_items(database: ServiceDatabase, *names: str) -> list[list[Any]]:
    database.sql(
        *(
            f"INSERT INTO items (name, created_at) VALUES ('{name}', CURRENT_TIMESTAMP)"  # noqa: S608 - our own literals
            for name in names
        )
    )
    [rows] = database.sql("SELECT id, name FROM items ORDER BY id")
    return list(rows)


def assert_ids_above_32_bits(database: ServiceDatabase) -> None:
    """A row past 2**31, and the id counter (sequence, AUTO_INCREMENT, rowid) going on from it."""
    database.sql(
        f"INSERT INTO items (id, name, created_at) VALUES ({ABOVE_32_BITS}, 'big', CURRENT_TIMESTAMP)"  # noqa: S608
    )
    if database.project.answers["database"] == "postgresql":
        database.sql(f"SELECT setval(pg_get_serial_sequence('items', 'id'), {ABOVE_32_BITS})")
    database.sql("INSERT INTO items (name, created_at) VALUES ('bigger', CURRENT_TIMESTAMP)")
    [rows] = database.sql(f"SELECT id, name FROM items WHERE id >= {ABOVE_32_BITS} ORDER BY id")  # noqa: S608
    assert rows == [[ABOVE_32_BITS, "big"], [ABOVE_32_BITS + 1, "bigger"]]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("version", "answers"),
    [
        ("0.1.0", {"database": "postgresql"}),
        ("0.1.0", {"database": "mysql"}),
        ("0.2.0", {"database": "mysql"}),
        ("0.2.0", {"database": "postgresql", "queue": "arq"}),
    ],
    ids=["0.1.0-postgresql", "0.1.0-mysql", "0.2.0-mysql", "0.2.0-postgresql-arq"],
)
def test_ids_become_64_bit_and_rows_stay(
    releases: Path, tmp_path: Path, version: str, answers: dict[str, Any]
) -> None:
    project = Project(generate(releases, tmp_path / "service", version, **answers), answers)
    with service_database(project.sync(), tmp_path) as database:
        database.migrate()
        rows = add_items(database, "first", "second")

        update(project.path)
        project.synced = False
        database.project = project.sync()
        database.migrate()

        [kept] = database.sql("SELECT id, name FROM items ORDER BY id")
        assert kept == rows
        assert_ids_above_32_bits(database)


# ---------------------------------------------------------------------------
# A team's own migrations, then the template's: one chain, every head applied
# ---------------------------------------------------------------------------
NOTES_MODEL = '''"""Notes: a table the team added after generating the service."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))
'''


def add_notes_model(project: Project) -> None:
    package = project.path / "src" / project.package
    (package / "notes.py").write_text(NOTES_MODEL)
    models = package / "models.py"
    edit(models, "from .db import Base\n", "from .db import Base\nfrom .notes import Note\n")
    edit(models, '__all__ = ["Base", "Item"]', '__all__ = ["Base", "Item", "Note"]')


def alembic(project: Project, url: str, *args: str) -> str:
    result = project.run(project.bin("alembic"), *args, env={"DATABASE_URL": url})
    return result.stdout


def version_table(database: ServiceDatabase) -> list[str]:
    [rows] = database.sql("SELECT version_num FROM alembic_version ORDER BY version_num")
    return [row[0] for row in rows]


def code_heads(project: Project, url: str) -> list[str]:
    output = alembic(project, url, "heads")
    return sorted(line.split()[0] for line in output.splitlines() if line.strip())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("version", "answers", "queue", "team_revision"),
    [
        ("0.2.0", {"database": "postgresql"}, {"queue": "arq"}, "0002"),
        (NEXT, {}, {"queue": "dramatiq", "broker": "redis"}, None),
    ],
    ids=["0.2.0-postgresql-own-0002", "next-sqlite-random-id"],
)
def test_a_team_migration_and_the_queue_s_migrations_all_apply(
    releases: Path,
    tmp_path: Path,
    version: str,
    answers: dict[str, Any],
    queue: dict[str, str],
    team_revision: str | None,
) -> None:
    """The team's revision (id 0002, or Alembic's random one), then a queue by `copier update`."""
    project = Project(generate(releases, tmp_path / "service", version, **answers), answers)
    with service_database(project.sync(), tmp_path) as database:
        database.migrate()
        add_notes_model(project)
        if team_revision:
            # As a team numbering its own revisions would: the id the queue's had in 0.2.0.
            alembic(
                project, database.url, "revision", "--autogenerate",
                "--rev-id", team_revision, "-m", "add notes",
            )  # fmt: skip
        else:
            project.run("make", "revision", "m=add notes", env={"DATABASE_URL": database.url})
        [team_file] = (project.path / "migrations/versions").glob("*_add_notes.py")
        database.migrate()
        commit_all(project.path, "notes")

        run_update(
            project.path,
            data=queue,
            defaults=True,
            unsafe=True,
            overwrite=True,
            quiet=True,
            vcs_ref=NEXT,
        )
        assert conflicts(project.path) == []
        assert team_file.exists()
        assert (
            project.path / "migrations/versions/20260102_golden_path_0002_add_items_processed_at.py"
        ).exists()
        project.answers = {**answers, **queue}
        project.synced = False
        database.project = project.sync()
        database.migrate()

        heads = code_heads(project, database.url)
        assert len(heads) > 1  # the team's and the template's, side by side
        assert version_table(database) == heads
        if team_revision:
            assert team_revision in heads
        # The service's own suite, its migration tests (check, downgrade, upgrade) included.
        suite = project.run(project.bin("pytest"), "-q", "-p", "no:cacheprovider", timeout=900)
        assert " passed" in suite.stdout
        assert "skipped" not in suite.stdout


@pytest.mark.slow
def test_a_team_revision_on_the_0_2_0_queue_revision_follows_its_new_id(
    releases: Path, tmp_path: Path
) -> None:
    """0.2.0's queue revision was 0002: the team's revision on it and the database follow."""
    answers = {"database": "postgresql", "queue": "arq"}
    project = Project(generate(releases, tmp_path / "service", "0.2.0", **answers), answers)
    with service_database(project.sync(), tmp_path) as database:
        database.migrate()
        assert version_table(database) == ["0002"]
        add_notes_model(project)
        alembic(project, database.url, "revision", "--autogenerate", "-m", "add notes")
        [team_file] = (project.path / "migrations/versions").glob("*_add_notes.py")
        assert "down_revision: str | Sequence[str] | None = '0002'" in team_file.read_text()
        database.migrate()
        commit_all(project.path, "notes")

        update(project.path)
        assert conflicts(project.path) == []
        team = team_file.read_text()
        assert "down_revision: str | Sequence[str] | None = 'golden_path_0002'" in team
        assert "Revises: golden_path_0002\n" in team
        assert not (
            project.path / "migrations/versions/20260102_0002_add_items_processed_at.py"
        ).exists()
        project.synced = False
        database.project = project.sync()
        database.migrate()

        assert "0002" not in version_table(database)
        assert version_table(database) == code_heads(project, database.url)
        checked = project.run(
            project.bin("pytest"), "-q", "-p", "no:cacheprovider", "tests/test_migrations.py"
        )
        assert " passed" in checked.stdout


# ---------------------------------------------------------------------------
# Deploying again: the next release's manifests apply over the last one's
# ---------------------------------------------------------------------------
def test_the_next_release_s_overlay_applies_over_0_2_0_s(releases: Path, tmp_path: Path) -> None:
    """Over what 0.2.0 deployed, and then over itself with a new image: nothing immutable changes.

    0.2.0's fixed-name migration Job could not take a new image: the check names it.
    """
    answers = {"database": "postgresql", "queue": "celery", "deploy_target": "kubernetes"}
    old = generate(releases, tmp_path / "old", "0.2.0", **answers)
    new = generate(releases, tmp_path / "new", NEXT, **answers)
    prod = "deploy/k8s/overlays/prod"
    deployed = kustomize_directory(old / prod)
    old_again = kustomize_directory(release_overlay(old, tmp_path / "old-k8s", "0.1.1"))
    assert immutable_changes(deployed, old_again) == ["Job/orders-api-migrate: spec.template"]

    following = kustomize_directory(new / prod)
    assert immutable_changes(deployed, following) == []
    again = kustomize_directory(release_overlay(new, tmp_path / "new-k8s", "0.1.1"))
    assert immutable_changes(following, again) == []
