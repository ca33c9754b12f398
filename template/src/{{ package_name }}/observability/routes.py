"""Route templates ("/api/v1/items/{item_id}") for logs and metrics.

The template, not the path, labels a request: it groups requests for dashboards
and keeps label cardinality bounded, since arbitrary URLs all map to None.
"""

from __future__ import annotations

from fastapi.routing import iter_route_contexts
from starlette.types import Scope


class RouteTemplates:
    """Full templates by route object: an included router's route knows only its own part."""

    def __init__(self) -> None:
        self._templates: dict[int, str] = {}

    def __call__(self, scope: Scope) -> str | None:
        route = scope.get("route")
        if route is None:
            return None
        if id(route) not in self._templates:  # first request, or routes added since
            self._templates = {
                id(context.original_route): context.path_format
                for context in iter_route_contexts(scope["app"].routes)
                if context.path_format
            }
        return self._templates.get(id(route), getattr(route, "path", None))
