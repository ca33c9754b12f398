"""Pages a person opens, loaded in headless Chromium with the network cut.

Every request that is not for loopback goes to a proxy on the discard port,
where nothing listens, so a page that needs a CDN renders as it would on a
network without internet access. `.ci/install-chromium` installs Debian's
Chromium.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from .chromium import FLAGS, chromium
from .conftest import ROOT, Project, each_variant
from .processes import free_port, started

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = (
    *FLAGS,
    # Only loopback answers: everything else meets a closed port.
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
    # The page's console messages (uncaught errors among them) on stderr.
    "--enable-logging=stderr",
    "--v=0",
    # Virtual time runs on while the page is idle: scripts settle, then the DOM is dumped.
    "--virtual-time-budget=15000",
)
CONSOLE_LINE = re.compile(r":CONSOLE[^\]]*\] (.*)$", re.MULTILINE)
# An operation of the API as Swagger UI renders it.
OPERATION = re.compile(r'class="opblock-summary-path" data-path="([^"]+)"')


@dataclass
class Page:
    dom: str
    console: list[str]


def load(url: str) -> Page:
    """The DOM of ``url`` after its scripts ran, and what it logged to the console."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        result = subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    return Page(result.stdout, CONSOLE_LINE.findall(result.stderr))


@contextlib.contextmanager
def static_site(directory: Path) -> Iterator[str]:
    """``directory`` served over HTTP on loopback (file:// pages may not start workers)."""
    handler = functools.partial(QuietHandler, directory=str(directory))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            thread.join()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No access log on the test's stderr."""


@contextlib.contextmanager
def uvicorn(project: Project, tmp_path: Path) -> Iterator[str]:
    """The service under a real uvicorn in development mode, where /docs is served."""
    project.sync()
    port = free_port()
    env = {"ENVIRONMENT": "development", "LOG_LEVEL": "WARNING"}
    if project.answers.get("database", "sqlite") == "sqlite":
        env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'docs.db'}"
    command = [
        *(project.bin("uvicorn"), "--factory", f"{project.package}.main:create_app"),
        *("--host", "127.0.0.1", "--port", str(port)),
    ]
    base_url = f"http://127.0.0.1:{port}"
    log = tmp_path / "uvicorn.log"
    with started(project, command, env, log) as process:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base_url}/livez", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield base_url


@pytest.mark.serve
@each_variant("default", "no-database")
def test_swagger_ui_renders_offline(project: Project, tmp_path: Path) -> None:
    with uvicorn(project, tmp_path) as base_url:
        page = load(f"{base_url}/docs")
    # The document's own title, rendered by Swagger UI from /openapi.json.
    assert '<h1 class="title">Orders API' in page.dom, page.dom[:2000]
    operations = set(OPERATION.findall(page.dom))
    if project.answers.get("database", "sqlite") == "none":
        # Its probes are not part of the API: the document has no operation.
        assert "No operations defined in spec!" in page.dom
    else:
        assert {"/api/v1/items", "/api/v1/items/{item_id}"} <= operations, operations
    assert not [line for line in page.console if "Uncaught" in line], page.console


@each_variant("no-database")
def test_fastapis_cdn_page_stays_blank_offline(project: Project, tmp_path: Path) -> None:
    """The control: the same browser really is offline, so the check above means something."""
    html = tmp_path / "cdn.html"
    cdn_page = (
        "import sys; from fastapi.openapi.docs import get_swagger_ui_html; "
        "sys.stdout.write(get_swagger_ui_html(openapi_url='/openapi.json', title='CDN')"
        ".body.decode())"
    )
    html.write_text(project.sync().run(project.bin("python"), "-c", cdn_page).stdout)
    assert "https://cdn." in html.read_text()
    with static_site(tmp_path) as base_url:
        loaded = load(f"{base_url}/cdn.html")
    assert not OPERATION.findall(loaded.dom)
    assert any("SwaggerUIBundle is not defined" in line for line in loaded.console), loaded


def test_docs_site_renders_offline(tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=120,
    )
    pages = sorted(path.relative_to(site).as_posix() for path in site.glob("**/index.html"))
    assert len(pages) == len(list((ROOT / "docs").glob("*.md")))
    with static_site(site) as base_url, ThreadPoolExecutor(max_workers=2) as browsers:
        loaded = dict(
            zip(pages, browsers.map(load, [f"{base_url}/{p}" for p in pages]), strict=True)
        )
    for path, page in loaded.items():
        # Uncaught errors (`hljs is not defined`) and failed loads would show here.
        errors = [line for line in page.console if "Lunr index" not in line]
        assert errors == [], (path, errors)
        # Code is highlighted (by Pygments, at build time) and styled by a local stylesheet.
        assert 'href="css/pygments.css"' in page.dom or "../css/pygments.css" in page.dom, path
    assert (
        '<div class="codehilite"><pre><span></span><code><span class=' in loaded["index.html"].dom
    )
