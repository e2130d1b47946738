"""The plugin's option and marker lists are written once: the docs tables,
the registered marker help and the cassette's record modes are kept equal to
the lists the plugin actually accepts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from httpdeck.testing.cassettes._cassette import RecordMode
from httpdeck.testing.plugin import _config as cfg
from httpdeck.testing.plugin import _markers as markers
from httpdeck.testing.plugin import _runtime as runtime

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "pytest-plugin.md").read_text()


def _row(first_cell: str) -> str:
    """The docs table row whose first cell starts with `first_cell` and whose
    second is an argument list (the markers table) or a flag's ini twin."""
    for line in DOCS.splitlines():
        cells = line.split("|")
        if line.startswith(f"| `{first_cell}") and cells[2].strip().startswith(("`(", "`httpdeck")):
            return line
    raise AssertionError(f"docs/pytest-plugin.md has no table row for {first_cell}")


def test_the_record_modes_are_one_list() -> None:
    assert get_args(RecordMode) == cfg.RECORD_MODES
    help_text = next(o.help for o in cfg.OPTIONS if o.ini == "httpdeck_record_mode")
    assert ", ".join(cfg.RECORD_MODES) in help_text
    documented = re.findall(r"`(\w+)`", _row("--httpdeck-record-mode").split("|")[4])
    assert tuple(documented) == cfg.RECORD_MODES


@pytest.mark.parametrize("option", cfg.OPTIONS, ids=lambda o: o.ini)
def test_every_option_and_its_ini_twin_is_documented(option: cfg.Option) -> None:
    rows = [line for line in DOCS.splitlines() if f"`{option.ini}`" in line]
    assert rows, f"{option.ini} is missing from the options table of docs/pytest-plugin.md"
    if option.flag is not None:
        assert any(option.flag in row for row in rows), option.flag


@pytest.mark.parametrize(
    ("marker", "accepted"),
    [
        ("httpdeck_cassette", ("name", *markers.CASSETTE_OPTIONS)),
        ("httpdeck_faults", runtime.FAULT_KEYWORDS),
        ("httpdeck_fake_data", runtime.FAKE_DATA_KEYWORDS),
        ("httpdeck_block_network", ("enabled", "allow_hosts")),
    ],
)
def test_marker_arguments_documented_are_the_ones_accepted(
    marker: str, accepted: tuple[str, ...]
) -> None:
    cell = _row(marker).split("|")[2]
    documented = {name for name in re.findall(r"(\w+)\s*(?:=|,|\))", cell) if name != "None"}
    documented -= {"True", "False", "call", "faults"}
    assert documented == set(accepted), f"{marker}: docs {sorted(documented)}"
    registered = markers.MARKERS[marker]
    missing = [name for name in accepted if name not in registered and name != "name"]
    if marker == "httpdeck_cassette":
        missing = []  # registered as **options: the docs table lists them
    assert not missing, f"the registered help of {marker} does not name {missing}"
