"""Unit tests of extensions/naming.py: names that never dead-end, and exactly the rule that failed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from extensions.naming import (
    ENTITY_REF_PATTERN,
    KUBERNETES_NAME_MAX_LENGTH,
    KUBERNETES_NAME_SUFFIXES,
    KUBERNETES_SLUG_MAX_LENGTH,
    KUSTOMIZE_HASH_LENGTH,
    PACKAGE_PATTERN,
    RESERVED_PACKAGE_NAMES,
    SLUG_PATTERN,
    STDLIB_MODULES,
    entity_ref_error,
    entity_ref_pattern,
    package_name_error,
    package_name_for,
    slug_error,
    slugify,
)

from .conftest import ROOT, python_for


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Orders API", "orders-api"),
        ("  Orders -- API v2 ", "orders-api-v2"),
        ("Café Crème", "cafe-creme"),
        ("already-a-slug", "already-a-slug"),
        ("Joe's Café API", "joes-cafe-api"),
        ("Joe\u2019s API", "joes-api"),
        ("Straße & Ørsted", "strasse-orsted"),
        # Too short or starting with a digit: a prefix makes it a slug.
        ("X", "svc-x"),
        ("123 API", "svc-123-api"),
        ("7", "svc-7"),
        # Nothing Latin to transliterate: the Punycode of the name.
        ("日本", "wgv71a"),
        ("Заказы", "j0a4ca2an8h"),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


NAMES = [
    "X",
    "x",
    "1",
    "123 API",
    "日本",
    "日本 API",
    "サービス 2",
    "Ελληνικά",
    "مرحبا",
    "Joe's Café API",
    "_private_",
    "a-",
    "class",
    "JSON",
    "tests",
    "Fastapi",
    "9" * 80,
    "The " + "very " * 30 + "long service name",
    "ß",
    "ǅ",
]


@pytest.mark.parametrize("name", NAMES)
def test_every_name_with_a_letter_or_digit_gets_valid_defaults(name: str) -> None:
    """The default slug and package pass their rules on every target: no dead end."""
    slug = slugify(name)
    assert slug_error(slug, max_length=KUBERNETES_SLUG_MAX_LENGTH) is None, slug
    assert package_name_error(package_name_for(slug)) is None, package_name_for(slug)


@pytest.mark.parametrize(
    ("slug", "package"),
    [
        ("orders-api", "orders_api"),
        ("json", "json_service"),
        ("class", "class_service"),
        ("fastapi", "fastapi_service"),
        ("tests", "tests_service"),
        ("Orders_API", "orders_api"),
    ],
)
def test_package_name_for_slug(slug: str, package: str) -> None:
    assert package_name_for(slug) == package


@pytest.mark.parametrize("slug", ["orders-api", "ab", "svc2", "a-b-c", "svc-x"])
def test_valid_slugs(slug: str) -> None:
    assert slug_error(slug) is None
    assert slugify(slug) == slug  # a valid slug is its own slug


@pytest.mark.parametrize(
    ("slug", "reasons"),
    [
        ("Orders", ["'O' not allowed", "must start with a lowercase letter"]),
        ("2fast", ["must start with a lowercase letter"]),
        ("trailing-", ["must end with a letter or digit"]),
        ("x", ["at least 2 characters"]),
        ("snake_case", ["'_' not allowed"]),
        ("double--dash", ["'--' is not allowed"]),
        ("a" * 64, ["too long: 64 characters, at most 63"]),
        ("", ["empty"]),
        ("-Bad_", ["'B', '_' not allowed", "start with a lowercase letter", "end with a letter"]),
    ],
)
def test_invalid_slugs_name_every_rule_they_break(slug: str, reasons: list[str]) -> None:
    error = slug_error(slug)
    assert error is not None
    assert all(reason in error for reason in reasons), error
    assert "\n" not in error


def test_the_slug_pattern_and_the_rules_agree() -> None:
    samples = ["ab", "a", "a-", "a--b", "a-b", "A", "ab1", "1ab", "a_b", "abc" * 30]
    for slug in samples:
        pattern_ok = bool(SLUG_PATTERN.match(slug)) and "--" not in slug and len(slug) <= 63
        assert pattern_ok == (slug_error(slug) is None), slug


@pytest.mark.parametrize("name", ["orders_api", "billing", "svc2", "_private"])
def test_valid_package_names(name: str) -> None:
    assert package_name_error(name) is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Orders", "'O' not allowed"),
        ("2fast", "must not start with a digit"),
        ("orders-api", "'-' not allowed"),
        ("class", "keyword"),
        ("match", "keyword"),
        ("type", "keyword"),
        ("json", "standard library"),
        ("os", "standard library"),
        ("asyncio", "standard library"),
        ("distutils", "standard library"),
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
    assert name in RESERVED_PACKAGE_NAMES or not PACKAGE_PATTERN.match(name)


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13"])
def test_reserved_names_cover_every_supported_standard_library(version: str) -> None:
    names = subprocess.run(
        [python_for(version), "-c", "import sys; print(*sys.stdlib_module_names)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    missing = {name.lower() for name in names} - STDLIB_MODULES
    assert missing == set()


@pytest.mark.parametrize(
    "ref", ["payments", "group:payments", "group:default/payments", "Group:team-a.b_c", "user:jdoe"]
)
def test_valid_owner_refs(ref: str) -> None:
    assert entity_ref_error(ref, ("group", "user")) is None


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        ("Payments Team", "the name 'Payments Team' must be letters, digits"),
        ("group:", "the name '' must be"),
        ("group:payments-", "the name 'payments-' must be"),
        ("group:Default/payments", "the namespace 'Default' must be lowercase"),
        (" group:payments", "the kind ' group' must be letters and digits"),
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


REFS = [
    "payments",
    "group:payments",
    "GROUP:payments",
    "user:default/jdoe",
    "system:payments",
    "Payments Team",
    "group:",
    "group:a-",
    "group:Default/x",
    "group:" + "a" * 63,
    "group:" + "a" * 64,
    "a" * 63 + "/x",
    "a" * 64 + "/x",
    "group:a--b/c.d_e",
    "component:x",
    "grou:x",
]


@pytest.mark.parametrize("kinds", [("group", "user"), ("system",)])
def test_the_entity_ref_pattern_and_the_rules_agree(kinds: tuple[str, ...]) -> None:
    """The schema's pattern is the rule: one verdict for every reference."""
    pattern = re.compile(entity_ref_pattern(kinds))
    for ref in REFS:
        assert bool(pattern.match(ref)) == (entity_ref_error(ref, kinds) is None), ref
    assert ENTITY_REF_PATTERN.match("component:x")


def test_kubernetes_names_fit_for_the_longest_slug() -> None:
    longest = max(len(suffix) + extra for suffix, extra in KUBERNETES_NAME_SUFFIXES.items())
    assert KUBERNETES_SLUG_MAX_LENGTH + longest == KUBERNETES_NAME_MAX_LENGTH
    assert KUBERNETES_NAME_SUFFIXES["-config"] == KUSTOMIZE_HASH_LENGTH


def test_the_suffix_table_lists_every_name_the_kubernetes_files_make() -> None:
    """Each `{{ project_slug }}-x` in deploy/k8s is in the table the slug's limit is made from."""
    k8s = ROOT / "template/deploy/k8s"
    used = {
        match
        for path in k8s.rglob("*")
        if path.is_file()
        for match in re.findall(r"\{\{ project_slug \}\}(-[a-z-]*[a-z])", path.read_text())
    }
    assert used, "no names found: has the template changed how it spells the slug?"
    assert used <= set(KUBERNETES_NAME_SUFFIXES), sorted(used - set(KUBERNETES_NAME_SUFFIXES))
    # Generated names (configMapGenerator, secretGenerator) get kustomize's hash.
    generated = re.findall(
        r"Generator:\s*\n\s*- name: \{\{ project_slug \}\}(-[a-z-]+)",
        "\n".join(p.read_text() for p in k8s.rglob("kustomization.yaml.jinja")),
    )
    assert generated
    assert all(KUBERNETES_NAME_SUFFIXES[suffix] == KUSTOMIZE_HASH_LENGTH for suffix in generated)


def test_documented_limits_match(tmp_path: Path) -> None:
    questions = (ROOT / "docs/questions.md").read_text()
    assert f"at most {KUBERNETES_SLUG_MAX_LENGTH} characters on Kubernetes" in questions
