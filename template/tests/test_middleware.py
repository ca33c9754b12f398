"""Request ids, the access log, and the last-resort 500."""

from __future__ import annotations

import json

import pytest
import structlog
from fastapi import FastAPI
from httpx import AsyncClient


def log_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


async def test_request_id_is_generated_and_returned(client: AsyncClient) -> None:
    first = await client.get("/livez")
    second = await client.get("/livez")
    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_callers_request_id_is_kept(client: AsyncClient) -> None:
    response = await client.get("/livez", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


async def test_unsafe_request_id_is_replaced(client: AsyncClient) -> None:
    response = await client.get("/livez", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response.headers["x-request-id"] != "bad id\twith spaces"


async def test_every_log_line_of_a_request_carries_its_id(
    app: FastAPI, client: AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    @app.get("/speak")
    async def speak() -> dict[str, str]:
        structlog.stdlib.get_logger("test").info("inside the handler")
        return {"ok": "yes"}

    capsys.readouterr()
    response = await client.get("/speak", headers={"X-Request-ID": "req-42"})
    lines = log_lines(capsys.readouterr().out)
    assert {line["event"] for line in lines} >= {"inside the handler", "request"}
    assert all(line["request_id"] == "req-42" for line in lines)
    access = next(line for line in lines if line["event"] == "request")
    assert access["route"] == "/speak"
    assert access["status"] == response.status_code == 200
    assert isinstance(access["duration_ms"], float)


async def test_unhandled_error_is_a_500_problem_logged_once(
    app: FastAPI, client: AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    capsys.readouterr()
    response = await client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret internals" not in response.text
    request_id = response.headers["x-request-id"]

    lines = log_lines(capsys.readouterr().out)
    errors = [line for line in lines if line["event"] == "unhandled error"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == request_id
    assert "secret internals" in str(errors[0]["exception"])
