"""Where a test's cassette file is found: httpdeck's layout first, then
pytest-recording's, so a project moving over keeps its cassettes where they are.

httpdeck's layout is `<cassette_dir>/<module path from rootdir>/<test>.yaml`.
pytest-recording (0.13 to 0.15) writes `<vcr_cassette_dir>/<test>.yaml`, where
`vcr_cassette_dir` is `<test module's folder>/cassettes/<module file name
without .py>` unless a project overrides that fixture, and `<test>` is
`item.name` (with the parametrize id) prefixed by `Class.` for a test in a
class (the innermost class only), the characters `<>?%*:|"'/\\` replaced by
`-`, and a name too long for the file system cut and ended by its MD5 hash.

The lookup (first file that exists wins; none: httpdeck's layout, where a
recording then goes):

1. `<cassette_dir>/<module path>/<httpdeck test name>.yaml`
2. `<cassette_dir>/<module name>/<pytest-recording test name>.yaml`, then `.json`
3. only when no cassette dir is configured:
   `<test module's folder>/cassettes/<module name>/<pytest-recording name>.yaml`,
   then `.json` (pytest-recording's default place)

A named cassette (`httpdeck_cassette("extra")`, a relative path) is looked
up the same way with its own file name (`extra.yaml`), as pytest-recording
resolves `vcr("extra.yaml")` in `vcr_cassette_dir`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from pathlib import Path

import pytest

_FORBIDDEN = "<>?%*:|\"'/\\"


@functools.cache
def _max_name_length() -> int:
    try:  # what pytest-recording uses to decide that a name is too long
        return os.pathconf(".", "PC_NAME_MAX")
    except (AttributeError, ValueError, OSError):
        return 255


def recording_names(item: pytest.Item) -> list[str]:
    """The file names pytest-recording gives `item`'s default cassette
    (YAML, then its JSON serializer's)."""
    cls = getattr(item, "cls", None)
    name = f"{cls.__name__}.{item.name}" if cls is not None else item.name
    for char in _FORBIDDEN:
        name = name.replace(char, "-")
    names = []
    # pytest-recording measures a name against its serializer setting: ".yaml"
    # when unset, but "json" (no dot) for JSON. Same quirk, same names.
    for suffix, measured in ((".yaml", ".yaml"), (".json", "json")):
        base = name
        limit = _max_name_length()
        if len(base) + len(measured) > limit:
            import hashlib  # rarely needed: kept out of the plugin's start-up

            digest = hashlib.md5(base.encode()).hexdigest()  # as pytest-recording names it
            base = f"{base[: limit - len(measured) - len(digest) - 3]}...{digest}"
        names.append(base + suffix)
    return names


def recording_dirs(item: pytest.Item, cassette_dir: Path, *, configured: bool) -> list[Path]:
    """Where pytest-recording's cassettes of `item`'s module may be."""
    module = Path(str(item.path))
    dirs = [cassette_dir / module.stem]
    if not configured:
        dirs.append(module.parent / "cassettes" / module.stem)
    return dirs


def lookup(ours: Path, others: Iterable[Path]) -> tuple[Path, tuple[Path, ...]]:
    """(`first_existing(ours, others)`, every path looked at, in order)."""
    candidates = tuple(dict.fromkeys([ours, *others]))
    return first_existing(ours, candidates[1:]), candidates


def first_existing(ours: Path, others: Iterable[Path]) -> Path:
    """The first of `ours`, then `others`, that is a file; `ours` when none is."""
    if ours.is_file():
        return ours
    for path in others:
        if path.is_file():
            return path
    return ours
