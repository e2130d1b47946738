"""The API reference: every public name has a docstring and a place in docs/api/.

The reference pages are mkdocstrings blocks (`::: httpdeck.HTTPClient`); `make
docs` renders them from the docstrings with warnings as errors. These tests
fail when a name is exported without a docstring or without its block, and
when a page still names something that is no longer exported.
"""

from __future__ import annotations

import inspect
import re
import types
from pathlib import Path

import pytest

import httpdeck
import httpdeck.testing

DOCS = Path(__file__).resolve().parents[1] / "docs"
CLIENT_PAGE = DOCS / "api" / "client.md"
TESTING_PAGE = DOCS / "api" / "testing.md"
BLOCK = re.compile(r"^::: (\S+)\s*$", re.MULTILINE)

CLIENT_NAMES = [name for name in httpdeck.__all__ if name != "__version__"]
TESTING_NAMES = list(httpdeck.testing.__all__)


def _blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text())


def _own_docstring(value: object) -> str | None:
    if isinstance(value, types.ModuleType) or inspect.isfunction(value):
        return value.__doc__
    if inspect.isclass(value):
        return vars(value).get("__doc__")
    return None


@pytest.mark.parametrize("name", CLIENT_NAMES)
def test_every_client_name_has_a_block_in_the_api_reference(name: str) -> None:
    assert f"httpdeck.{name}" in _blocks(CLIENT_PAGE), (
        f"httpdeck.{name} is exported but docs/api/client.md has no `::: httpdeck.{name}` block"
    )


@pytest.mark.parametrize("name", TESTING_NAMES)
def test_every_testing_name_has_a_block_in_the_api_reference(name: str) -> None:
    assert f"httpdeck.testing.{name}" in _blocks(TESTING_PAGE), (
        f"httpdeck.testing.{name} is exported but docs/api/testing.md has no "
        f"`::: httpdeck.testing.{name}` block"
    )


@pytest.mark.parametrize("name", TESTING_NAMES)
def test_every_testing_name_has_its_own_docstring(name: str) -> None:
    # The client's names are checked the same way in tests/test_exports.py.
    doc = _own_docstring(getattr(httpdeck.testing, name))
    assert doc, f"httpdeck.testing.{name} has no docstring of its own"
    assert len(doc.strip()) > 15, f"httpdeck.testing.{name}'s docstring says too little: {doc!r}"


def test_the_version_is_mentioned_on_the_client_page() -> None:
    assert "httpdeck.__version__" in CLIENT_PAGE.read_text()


@pytest.mark.parametrize(
    ("page", "prefix", "names"),
    [(CLIENT_PAGE, "httpdeck.", CLIENT_NAMES), (TESTING_PAGE, "httpdeck.testing.", TESTING_NAMES)],
)
def test_the_api_pages_name_only_exported_names_once_each(
    page: Path, prefix: str, names: list[str]
) -> None:
    blocks = _blocks(page)
    assert len(blocks) == len(set(blocks)), f"{page.name} documents a name twice"
    stale = [block for block in blocks if block.removeprefix(prefix) not in names]
    assert not stale, f"{page.name} documents names that are not exported: {stale}"
