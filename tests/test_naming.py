"""Unit tests of extensions/naming.py."""

from __future__ import annotations

import pytest

from extensions.naming import (
    entity_ref_error,
    package_name_error,
    package_name_for,
    slug_error,
    slugify,
)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Orders API", "orders-api"),
        ("  Orders -- API v2 ", "orders-api-v2"),
        ("Café Crème", "cafe-creme"),
        ("already-a-slug", "already-a-slug"),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


@pytest.mark.parametrize("slug", ["orders-api", "ab", "svc2", "a-b-c"])
def test_valid_slugs(slug: str) -> None:
    assert slug_error(slug) is None


@pytest.mark.parametrize(
    ("slug", "reason"),
    [
        ("Orders", "not a valid slug"),
        ("2fast", "not a valid slug"),
        ("trailing-", "not a valid slug"),
        ("x", "not a valid slug"),
        ("snake_case", "not a valid slug"),
        ("double--dash", "'--' is not allowed"),
        ("a" * 64, "too long"),
    ],
)
def test_invalid_slugs(slug: str, reason: str) -> None:
    error = slug_error(slug)
    assert error is not None
    assert reason in error
    assert "\n" not in error


def test_package_name_for_slug() -> None:
    assert package_name_for("orders-api") == "orders_api"


@pytest.mark.parametrize("name", ["orders_api", "billing", "svc2", "_private"])
def test_valid_package_names(name: str) -> None:
    assert package_name_error(name) is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Orders", "not a valid package name"),
        ("2fast", "not a valid package name"),
        ("orders-api", "not a valid package name"),
        ("class", "keyword"),
        ("match", "keyword"),
        ("json", "standard library"),
        ("asyncio", "standard library"),
        ("fastapi", "depends on"),
        ("sqlalchemy", "depends on"),
        ("tests", "depends on"),
        ("migrations", "depends on"),
    ],
)
def test_invalid_package_names(name: str, reason: str) -> None:
    error = package_name_error(name)
    assert error is not None
    assert reason in error


@pytest.mark.parametrize(
    "ref", ["payments", "group:payments", "group:default/payments", "Group:team-a.b_c", "user:jdoe"]
)
def test_valid_owner_refs(ref: str) -> None:
    assert entity_ref_error(ref, ("group", "user")) is None


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        ("Payments Team", "not a catalog entity reference"),
        ("group:", "not a catalog entity reference"),
        ("group:payments-", "not a catalog entity reference"),
        ("group:Default/payments", "not a catalog entity reference"),
        (" group:payments", "not a catalog entity reference"),
        ("system:payments", "must name a group or user entity"),
        ("group:" + "a" * 64, "too long"),
        ("group:" + "a" * 64 + "/payments", "too long"),
    ],
)
def test_invalid_owner_refs(ref: str, reason: str) -> None:
    error = entity_ref_error(ref, ("group", "user"))
    assert error is not None
    assert reason in error
    assert "\n" not in error


def test_a_system_ref_names_a_system() -> None:
    assert entity_ref_error("commerce", ("system",)) is None
    assert entity_ref_error("system:default/commerce", ("system",)) is None
    assert "must name a system entity" in str(entity_ref_error("group:commerce", ("system",)))
