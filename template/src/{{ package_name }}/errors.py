"""Errors as RFC 9457 problem details (application/problem+json), from one handler.

Routers and services raise DomainError subclasses and never build responses;
FastAPI's own HTTP and validation errors are rendered in the same shape, so a
client parses exactly one error format.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.routing import compile_path

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """Base of the errors the service raises on purpose; subclasses set status and title."""

    status: int = HTTPStatus.BAD_REQUEST
    title: str = "Bad Request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class NotFoundError(DomainError):
    status = HTTPStatus.NOT_FOUND
    title = "Not Found"


class ConflictError(DomainError):
    status = HTTPStatus.CONFLICT
    title = "Conflict"


class ServiceUnavailableError(DomainError):
    """A dependency cannot serve right now; the client may retry after ``retry_after`` s."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    title = "Service Unavailable"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


def describe(error: BaseException) -> str:
    """An error's cause in one line, for logs and /readyz: a driver's own words, never SQL.

    SQLAlchemy keeps the driver's exception as ``orig``; its own message adds
    the statement and its parameters, which may hold what a client sent.
    """
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    reason = f"{type(cause).__name__}: {lines[0]}" if lines else type(cause).__name__
    return reason[:300]


def problem_body(
    status: int,
    instance: str,
    detail: str | None = None,
    *,
    title: str | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "instance": instance,
        **extensions,
    }
    if detail:
        body["detail"] = detail
    return body


def problem_response(
    request: Request,
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = problem_body(status, request.url.path, detail, title=title, **extensions)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


async def handle_error(request: Request, exc: Exception) -> JSONResponse:
    """The one exception handler: every error the app returns is built here."""
    if isinstance(exc, DomainError):
        return problem_response(
            request, exc.status, exc.detail, title=exc.title, headers=exc.headers
        )
    if isinstance(exc, RequestValidationError):
        # Locations and messages only: echoing the rejected input could leak secrets.
        errors = [
            {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
            for error in exc.errors()
        ]
        return problem_response(
            request,
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "The request is not valid.",
            errors=jsonable_encoder(errors),
        )
    if isinstance(exc, HTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = exc.headers
        if exc.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
            # The router names the methods of the one route it tried; the path may take more.
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        return problem_response(request, exc.status_code, detail, headers=headers)
    raise exc  # not registered for other types; RequestContextMiddleware answers bugs


def allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at the request's path, HEAD wherever GET is."""
    path = request.scope["path"]
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        if route.path_format and route.methods and compile_path(route.path_format)[0].match(path):
            methods |= route.methods
    if "GET" in methods:
        methods.add("HEAD")  # RequestContextMiddleware answers it with the GET route
    return sorted(methods)


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An error response: RFC 9457 problem details, the shape of every error the API returns."""

    type: str = "about:blank"
    title: str
    status: int
    instance: str
    detail: str | None = None
    errors: list[ValidationIssue] | None = Field(
        default=None, description="On 422 only: each invalid input and where it is"
    )


# What any operation may answer, whatever its route does (document_problems).
GENERAL_PROBLEMS = {
    503: "A dependency is unavailable: retry after Retry-After seconds",
}
BODY_PROBLEMS = {
    400: "The body is not UTF-8 text",
    413: "The body exceeds MAX_REQUEST_BODY_BYTES",
    415: "The body is not JSON",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """What a route documents about the errors it answers itself, e.g. ``problems(404)``."""
    return {
        status: {"model": Problem, "description": HTTPStatus(status).phrase} for status in statuses
    }


def document_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Show every error in an OpenAPI document as the problem+json it is.

    FastAPI's own 422 body becomes a Problem; a route's ``problems(...)`` move
    to problem+json; and every operation gets the errors the service answers
    for any route: 503 (a dependency is down) and, where it takes a body, 400
    (not UTF-8 text, FastAPI's answer), 413 and 415 (RequestBodyRules).
    """
    if not document.get("paths"):
        return document  # no operations, no errors to show
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}), Problem=problem)
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    ours = {"$ref": "#/components/schemas/HTTPValidationError"}, problem_ref
    for operations in document["paths"].values():
        for operation in operations.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            general = GENERAL_PROBLEMS | (BODY_PROBLEMS if "requestBody" in operation else {})
            for code, description in general.items():
                responses.setdefault(str(code), {"description": description})
            for status, response in responses.items():
                if not status.startswith(("4", "5")):
                    continue
                body = response.get("content", {}).get("application/json", {})
                # A route's own error body, documented otherwise, is left as it is.
                if "content" not in response or body.get("schema") in ours:
                    response["content"] = {PROBLEM_JSON: {"schema": problem_ref}}
            operation["responses"] = dict(sorted(responses.items()))
    return document


def install_error_handlers(app: FastAPI) -> None:
    """Unhandled exceptions are bugs: RequestContextMiddleware logs them and answers 500."""
    for exc_type in (DomainError, RequestValidationError, HTTPException):
        app.add_exception_handler(exc_type, handle_error)
