"""The plugin's lookup of pytest-recording's cassette names and folders."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pytest_recording.plugin import get_default_cassette_name  # type: ignore[import-untyped]

from httpdeck.testing.cassettes._layout import first_existing, recording_dirs, recording_names


class TestOrders:
    pass


def item(name: str, cls: type | None = None, path: str = "/p/tests/test_api.py") -> Any:
    return SimpleNamespace(name=name, cls=cls, path=Path(path))


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("test_users", None),
        ("test_list", TestOrders),
        ("test_item[a/b: c]", None),
        ("test_q[<x>?%*|\"'\\]", TestOrders),
        ("test_unicode[caf\\xe9]", None),
    ],
)
def test_names_are_the_ones_pytest_recording_gives(name: str, cls: type | None) -> None:
    theirs = get_default_cassette_name(cls, name)
    assert recording_names(item(name, cls)) == [f"{theirs}.yaml", f"{theirs}.json"]


def test_a_name_too_long_for_a_file_is_cut_and_hashed_as_pytest_recording_does() -> None:
    name = "test_long[" + "x" * 300 + "]"
    digest = hashlib.md5(name.encode()).hexdigest()
    yaml_name, json_name = recording_names(item(name))
    assert yaml_name == f"{name[: 255 - 5 - 35]}...{digest}.yaml"
    assert json_name == f"{name[: 255 - 4 - 35]}...{digest}.json"
    assert len(yaml_name) == 255


def test_pytest_recording_default_folder_is_looked_at_only_without_a_configured_dir() -> None:
    test = item("test_users")
    root = Path("/p/tapes")
    assert recording_dirs(test, root, configured=True) == [root / "test_api"]
    assert recording_dirs(test, root, configured=False) == [
        root / "test_api",
        Path("/p/tests/cassettes/test_api"),
    ]


def test_the_first_existing_file_wins_and_ours_is_the_default(tmp_path: Path) -> None:
    ours, first, second = tmp_path / "ours.yaml", tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert first_existing(ours, [first, second]) == ours
    second.touch()
    assert first_existing(ours, [first, second]) == second
    first.touch()
    assert first_existing(ours, [first, second]) == first
    ours.touch()
    assert first_existing(ours, [first, second]) == ours
