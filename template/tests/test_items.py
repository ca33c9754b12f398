"""The example resource end to end: HTTP -> service -> repository -> the real database."""

from __future__ import annotations

from httpx import AsyncClient

ITEMS = "/api/v1/items"
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
