"""The interactive API docs (Swagger UI at /docs), served from the service's own files.

FastAPI's built-in page loads Swagger UI's JavaScript and CSS from a CDN, so on
a network without internet access (common for internal services) it stays
blank. These routes serve the same page with its assets from package data.

The assets come from fastapi-offline, chosen among the packages that ship them:
it is maintained (its assets track Swagger UI 5 and ReDoc 2 releases), small
(under 1 MB, no source maps), MIT-licensed, depends on FastAPI alone and ships
the files as a plain directory, which Starlette serves as it is. Its own entry
point builds a plain FastAPI, so only the files are used here. The others:
swagger-ui-bundle (Swagger UI 4, unreleased since 2023), swagger-ui-bundle-v2
(a 3 MB fork with source maps, one release), fastapi-swagger (current, but its
routes read the 1.6 MB bundle from disk on the event loop on every request)
and swagger-ui-py (a 7 MB wheel that bundles the Swagger editor too).
"""

from __future__ import annotations

import mimetypes

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = f"{DOCS_URL}/oauth2-redirect"
ASSETS_URL = f"{DOCS_URL}/assets"
# fastapi-offline's package data: swagger-ui-bundle.js, swagger-ui.css, favicon.png.
ASSETS_PACKAGE = ("fastapi_offline", "static")


def install_docs(app: FastAPI) -> None:
    """Serve Swagger UI at /docs; the app is built with FastAPI's own docs_url=None."""
    # StaticFiles reads files in a worker thread, never on the event loop; the
    # MIME types it answers with are read from disk once, here, rather than on
    # the loop at the first request.
    mimetypes.init()
    app.mount(ASSETS_URL, StaticFiles(packages=[ASSETS_PACKAGE]), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        # Behind a proxy that strips a prefix, every URL the page loads keeps it.
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT_URL}",
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
