"""uv.lock from the first commit: Copier's lock task, and what it says when it cannot lock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import REQUIRED


def test_without_uv_the_copy_stays_and_says_how_to_lock(
    copier_template: Path, tmp_path: Path
) -> None:
    service = tmp_path / "service"
    # git and a shell for Copier, but no uv on PATH (Copier runs from its own path).
    path = os.pathsep.join(["/usr/bin", "/bin"])
    assert not any(Path(folder, "uv").exists() for folder in path.split(os.pathsep))
    result = subprocess.run(
        [
            *(sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--quiet"),
            *("--vcs-ref", "HEAD"),
            *(arg for key, value in REQUIRED.items() for arg in ("-d", f"{key}={value}")),
            *(str(copier_template), str(service)),
        ],
        env={**os.environ, "PATH": path},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (
        f"uv.lock not written: run 'uv lock' in {service} before the first commit"
        in result.stdout.splitlines()
    )
    assert (service / "pyproject.toml").is_file()
    assert not (service / "uv.lock").exists()
