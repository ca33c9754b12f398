"""The Backstage form in a real browser: rjsf renders its pages in headless Chromium.

tests/js/form.jsx renders one page of portal/backstage-template.yaml the way
Backstage's scaffolder does (@rjsf/core with @rjsf/validator-ajv8, ui:* keys split
off into the uiSchema), then picks a choice like a user and reports which fields
are shown. esbuild bundles it once per session; Chromium loads it from a file.
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.answers_schema import BACKSTAGE_TEMPLATE

from .chromium import FLAGS
from .chromium import chromium as browser
from .conftest import JS, node_tool

PAGE_FLAGS = (
    *FLAGS,
    # Lets the page's timers run before the DOM is dumped or the screenshot taken.
    "--virtual-time-budget=5000",
)
RUNTIME_PAGE = 1

pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    browser()  # fails clearly without the browser
    node_tool("answers", {"schema": {}, "instances": []})  # fails clearly without npm ci
    out = tmp_path_factory.mktemp("form") / "form.js"
    subprocess.run(
        [
            str(JS / "node_modules/.bin/esbuild"),
            str(JS / "form.jsx"),
            "--bundle",
            "--format=iife",
            "--jsx=automatic",
            "--define:process.env.NODE_ENV='production'",
            "--log-level=warning",
            f"--outfile={out}",
        ],
        check=True,
        timeout=120,
    )
    return out


def page_for(bundle: Path, name: str, page: int, *choices: tuple[str, str]) -> Path:
    template = yaml.safe_load(BACKSTAGE_TEMPLATE.read_text())
    settings = (
        f"window.TEMPLATE={json.dumps(template)};window.PAGE={page};"
        f"window.CHOICE={json.dumps([{'field': f, 'label': label} for f, label in choices])};"
    )
    html = bundle.parent / f"{name}.html"
    html.write_text(
        "<!doctype html><html><head><meta charset=utf-8><title>form</title>"
        "<style>body{font-family:sans-serif;max-width:60em}</style></head>"
        f'<body><div id="form"></div><pre id="report"></pre><script>{settings}</script>'
        f'<script src="{bundle.name}"></script></body></html>'
    )
    return html


def chromium(html: Path, *options: str) -> subprocess.CompletedProcess[str]:
    profile = html.with_suffix(".profile")  # a fresh profile for every run
    return subprocess.run(
        [browser(), *PAGE_FLAGS, f"--user-data-dir={profile}", *options, html.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def report(html: Path) -> dict[str, Any]:
    dom = chromium(html, "--dump-dom").stdout
    match = re.search(r'<pre id="report">(.*?)</pre>', dom, re.DOTALL)
    assert match, dom[-2000:]
    return dict(json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&")))


def png_pixels(path: Path) -> tuple[int, int, set[bytes]]:
    """Width, height and the distinct pixels of an 8-bit RGB(A) PNG (Chromium's screenshots)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, color = struct.unpack(">IIBB", data[16:26])
    assert depth == 8
    assert color in (2, 6)
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        if data[offset + 4 : offset + 8] == b"IDAT":
            chunks.append(data[offset + 8 : offset + 8 + length])
        offset += 12 + length
    raw = zlib.decompress(b"".join(chunks))
    size = 3 if color == 2 else 4
    stride = width * size
    pixels: set[bytes] = set()
    previous = bytearray(stride)
    for row in range(height):
        kind = raw[row * (stride + 1)]
        line = bytearray(raw[row * (stride + 1) + 1 : (row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - size] if i >= size else 0
            up = previous[i]
            corner = previous[i - size] if i >= size else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        pixels.update(bytes(line[i : i + size]) for i in range(0, stride, size * 7))
        previous = line
    return width, height, pixels


def test_the_broker_question_appears_only_after_choosing_celery(bundle: Path) -> None:
    html = page_for(bundle, "celery", RUNTIME_PAGE, ("queue", "Celery"))
    loaded, chosen = report(html)["steps"]
    assert "queue" in loaded["fields"]
    for conditional in ("broker", "worker_processes", "worker_concurrency", "db_pooler"):
        assert conditional not in loaded["fields"]
    assert {"broker", "worker_processes", "worker_concurrency"} <= set(chosen["fields"])
    # A screenshot of the page after the choice: a real render, not a blank page.
    screenshot = html.with_suffix(".png")
    chromium(html, "--window-size=900,1400", f"--screenshot={screenshot}")
    width, height, pixels = png_pixels(screenshot)
    assert (width, height) == (900, 1400)
    assert len(pixels) > 10


def test_postgresql_brings_the_pooler_and_the_connection_budget(bundle: Path) -> None:
    html = page_for(bundle, "postgresql", RUNTIME_PAGE, ("database", "PostgreSQL (asyncpg)"))
    loaded, chosen = report(html)["steps"]
    assert "db_max_connections" not in loaded["fields"]  # sqlite, the default, has no server
    assert {"db_pooler", "db_max_connections", "db_reserved_connections"} <= set(chosen["fields"])


def test_web_processes_are_asked_only_on_gunicorn(bundle: Path) -> None:
    html = page_for(
        bundle,
        "kubernetes",
        RUNTIME_PAGE,
        ("database", "PostgreSQL (asyncpg)"),
        ("deploy_target", "Kubernetes (Kustomize)"),
    )
    loaded, _, chosen = report(html)["steps"]
    assert "web_processes" in loaded["fields"]  # gunicorn, the default
    assert "web_processes" not in chosen["fields"]


def test_every_page_renders(bundle: Path) -> None:
    template = yaml.safe_load(BACKSTAGE_TEMPLATE.read_text())
    for index, page in enumerate(template["spec"]["parameters"]):
        html = page_for(bundle, f"page{index}", index)
        (loaded,) = report(html)["steps"]
        assert set(page["properties"]) <= set(loaded["fields"]), page["title"]
