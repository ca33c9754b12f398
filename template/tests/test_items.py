"""The example resource end to end: HTTP -> service -> repository -> the real database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from httpx import AsyncClient

ITEMS = "/api/v1/items"
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"


async def test_create_read_delete_round_trip(client: AsyncClient) -> None:
    created = await client.post(ITEMS, json={"name": "widget", "description": "blue"})
    assert created.status_code == 201
    item = created.json()
    assert item["name"] == "widget"
    assert item["created_at"].endswith(("Z", "+00:00"))
    assert created.headers["location"].endswith(f"{ITEMS}/{item['id']}")

    fetched = await client.get(f"{ITEMS}/{item['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == item

    assert (await client.delete(f"{ITEMS}/{item['id']}")).status_code == 204
    missing = await client.get(f"{ITEMS}/{item['id']}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM_JSON
    assert missing.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "instance": f"{ITEMS}/{item['id']}",
        "detail": f"Item {item['id']} does not exist.",
    }


async def test_pages_follow_next_after(client: AsyncClient) -> None:
    for index in range(5):
        assert (await client.post(ITEMS, json={"name": f"item-{index}"})).status_code == 201

    names: list[str] = []
    after: int | None = None
    pages = 0
    while True:
        params = {"limit": 2} | ({"after": after} if after is not None else {})
        page = (await client.get(ITEMS, params=params)).json()
        names += [item["name"] for item in page["items"]]
        pages += 1
        after = page["next_after"]
        if after is None:
            break
    assert names == [f"item-{index}" for index in range(5)]
    assert pages == 3


async def test_duplicate_name_is_a_conflict(client: AsyncClient) -> None:
    assert (await client.post(ITEMS, json={"name": "once"})).status_code == 201
    again = await client.post(ITEMS, json={"name": "once"})
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM_JSON
    assert again.json()["title"] == "Conflict"


async def test_invalid_input_is_a_422_problem(client: AsyncClient) -> None:
    response = await client.post(ITEMS, json={"name": "", "unexpected": 1})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["status"] == 422
    assert {tuple(error["loc"]) for error in body["errors"]} == {
        ("body", "name"),
        ("body", "unexpected"),
    }
    # The rejected input is not echoed back.
    assert all("input" not in error for error in body["errors"])


async def test_unknown_route_is_a_problem(client: AsyncClient) -> None:
    response = await client.get("/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON


BIGINT_MAX = 2**63 - 1


async def test_ids_beyond_what_the_column_holds_are_422_not_500(client: AsyncClient) -> None:
    for item_id in (2**31, 2**32, BIGINT_MAX):
        assert (await client.get(f"{ITEMS}/{item_id}")).status_code == 404
        assert (await client.delete(f"{ITEMS}/{item_id}")).status_code == 404
    for item_id in (0, -1, BIGINT_MAX + 1, 10**30):
        response = await client.get(f"{ITEMS}/{item_id}")
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM_JSON
        assert (await client.delete(f"{ITEMS}/{item_id}")).status_code == 422
    assert (await client.get(ITEMS, params={"after": BIGINT_MAX})).json()["items"] == []
    assert (await client.get(ITEMS, params={"after": 2**31})).status_code == 200
    assert (await client.get(ITEMS, params={"after": BIGINT_MAX + 1})).status_code == 422


async def test_text_no_database_can_store_is_422(client: AsyncClient) -> None:
    for payload in ({"name": "nul\u0000byte"}, {"name": "ok", "description": "nul\u0000byte"}):
        response = await client.post(ITEMS, json=payload)
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM_JSON
    assert (await client.get(ITEMS)).json()["items"] == []


async def test_a_body_that_is_not_json_is_415(client: AsyncClient) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"content-type": content_type} if content_type else {}
        response = await client.post(ITEMS, content=b'{"name": "typed"}', headers=headers)
        assert response.status_code == 415, content_type
        assert response.headers["content-type"] == PROBLEM_JSON
    # Any JSON media type is JSON, structured suffixes too.
    media_types = ("application/json; charset=utf-8", "application/vnd.api+json")
    for index, content_type in enumerate(media_types):
        body = json.dumps({"name": f"typed-{index}"}).encode()
        response = await client.post(ITEMS, content=body, headers={"content-type": content_type})
        assert response.status_code == 201, content_type


async def test_a_body_over_the_limit_is_413(client: AsyncClient) -> None:
    too_long = {"name": "big", "description": "x" * (1024 * 1024)}
    response = await client.post(ITEMS, json=too_long)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["connection"] == "close"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked
        yield b'{"name": "streamed", "description": "'
        for _ in range(2048):
            yield b"x" * 1024
        yield b'"}'

    response = await client.post(ITEMS, content=chunks(), headers={"content-type": JSON})
    assert response.status_code == 413
    assert (await client.get(ITEMS)).json()["items"] == []


async def test_head_is_answered_wherever_get_is(client: AsyncClient) -> None:
    created = (await client.post(ITEMS, json={"name": "headed"})).json()
    for path in (ITEMS, f"{ITEMS}/{created['id']}"):
        get = await client.get(path)
        head = await client.head(path)
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == get.headers["content-length"]
    assert (await client.head(f"{ITEMS}/{BIGINT_MAX}")).status_code == 404


async def test_405_allows_every_method_of_the_path(client: AsyncClient) -> None:
    collection = await client.put(ITEMS, json={"name": "put"})
    assert collection.status_code == 405
    assert collection.headers["content-type"] == PROBLEM_JSON
    assert collection.headers["allow"] == "GET, HEAD, POST"
    item = await client.patch(f"{ITEMS}/1", json={"name": "patched"})
    assert item.status_code == 405
    assert item.headers["allow"] == "DELETE, GET, HEAD"
