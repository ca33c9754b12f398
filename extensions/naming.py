"""Names of the generated service: the slug, the Python package, catalog references.

Plain functions, so the questionnaire's rules can be unit-tested without Copier.
Each ``*_error`` function returns a one-line message, or ``None`` when the name
is acceptable.
"""

from __future__ import annotations

import keyword
import re
import sys
import unicodedata

# Kubernetes object names, image names and Backstage entity names all accept
# this shape; 63 is the DNS label limit that the strictest of them enforces.
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
SLUG_MAX_LENGTH = 63

PACKAGE_PATTERN = re.compile(r"^[a-z_][a-z0-9_]*$")

# A Backstage entity reference, `[kind:][namespace/]name`, with the catalog's own
# rules for each part. No named groups: a JSON Schema pattern is ECMA-262.
ENTITY_REF_PATTERN = re.compile(
    r"^(?:[A-Za-z][A-Za-z0-9]*:)?(?:[a-z0-9]+(?:-+[a-z0-9]+)*/)?"
    r"[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
ENTITY_PART_MAX_LENGTH = 63

# Top-level modules the generated project depends on, or that its layout
# already uses: a package with one of these names would shadow it on import.
RESERVED_MODULES = frozenset(
    {
        "aiosqlite",
        "alembic",
        "anyio",
        "arq",
        "asgi_lifespan",
        "asyncmy",
        "asyncpg",
        "celery",
        "click",
        "dramatiq",
        "fastapi",
        "greenlet",
        "gunicorn",
        "h11",
        "httptools",
        "httpx",
        "kombu",
        "locust",
        "mako",
        "mangum",
        "migrations",
        "mypy",
        "opentelemetry",
        "pika",
        "prometheus_client",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "pytest",
        "redis",
        "ruff",
        "sqlalchemy",
        "src",
        "starlette",
        "structlog",
        "tests",
        "typing_extensions",
        "uvicorn",
        "uvicorn_worker",
        "uvloop",
        "watchfiles",
        "websockets",
        "yaml",
    }
)


def slugify(name: str) -> str:
    """Turn a human project name into a slug: ``"Orders API v2"`` -> ``"orders-api-v2"``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def package_name_for(slug: str) -> str:
    """The default import name for a slug: ``"orders-api"`` -> ``"orders_api"``."""
    return slug.replace("-", "_")


def slug_error(slug: str) -> str | None:
    """Why ``slug`` cannot name images, Kubernetes objects and catalog entities."""
    if not SLUG_PATTERN.match(slug):
        return (
            f"{slug!r} is not a valid slug: use lowercase letters, digits and '-', "
            "starting with a letter and not ending with '-'"
        )
    if "--" in slug:
        return f"{slug!r} is not a valid slug: '--' is not allowed"
    if len(slug) > SLUG_MAX_LENGTH:
        return f"{slug!r} is too long: a slug has at most {SLUG_MAX_LENGTH} characters"
    return None


def package_name_error(name: str) -> str | None:
    """Why ``name`` cannot be the service's top-level Python package."""
    if not PACKAGE_PATTERN.match(name):
        return (
            f"{name!r} is not a valid package name: use lowercase letters, digits and '_', "
            "not starting with a digit"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"{name!r} is a Python keyword and cannot be imported as a package"
    if name in sys.stdlib_module_names:
        return f"{name!r} would shadow the standard library module of the same name"
    if name in RESERVED_MODULES:
        return f"{name!r} would shadow a module the generated service depends on"
    return None


def entity_ref_error(ref: str, kinds: tuple[str, ...]) -> str | None:
    """Why ``ref`` cannot name a catalog entity of one of ``kinds`` (lowercase)."""
    example = f"{kinds[0]}:payments"
    if not ENTITY_REF_PATTERN.match(ref):
        return (
            f"{ref!r} is not a catalog entity reference: use [kind:][namespace/]name "
            f"with letters, digits, '-', '_' or '.' in the name, e.g. {example}"
        )
    kind, _, rest = ref.rpartition(":")
    if kind and kind.lower() not in kinds:
        return f"{ref!r} must name a {' or '.join(kinds)} entity, e.g. {example}"
    if any(len(part) > ENTITY_PART_MAX_LENGTH for part in rest.split("/")):
        return (
            f"{ref!r} is too long: a catalog name or namespace has at most "
            f"{ENTITY_PART_MAX_LENGTH} characters"
        )
    return None
