"""The API's OpenAPI document, committed as openapi.json for the catalog and clients.

    python -m <package>.openapi           rewrite openapi.json (`make openapi`)
    python -m <package>.openapi --check   exit 1 if openapi.json is stale

The document is the one the service serves at /openapi.json, taken from the
app itself; building the app does no I/O, so this needs no database or broker.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .main import create_app
from .settings import Settings

DEFAULT_PATH = Path("openapi.json")


def build_document() -> dict[str, Any]:
    # Settings only decide what the app serves around the API (docs pages,
    # /metrics), never the document itself; WARNING keeps startup lines out.
    return create_app(Settings(log_level="WARNING")).openapi()


def render(document: dict[str, Any]) -> str:
    """Stable text: key order as FastAPI builds it, so diffs follow the code."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the API's OpenAPI document.")
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    args = parser.parse_args(argv)

    text = render(build_document())
    current = args.path.read_text(encoding="utf-8") if args.path.exists() else None
    if args.check:
        if current is None or json.loads(current) != json.loads(text):
            print(f"{args.path} is stale: run `make openapi` and commit it", file=sys.stderr)
            return 1
        return 0
    if current != text:
        args.path.write_text(text, encoding="utf-8")
        print(f"wrote {args.path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
