"""The cassette file: vcrpy's format, malformed files, the parse cache, atomic writes, locking."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest
import yaml
from cassette_writers import crash_while_writing, record_many

from httpdeck.testing import MalformedCassetteError
from httpdeck.testing.cassettes._format import dump, parse, read_cassette, write_cassette

GOOD = """interactions:
- request:
    body: null
    headers: {}
    method: GET
    uri: http://api.test/a
  response:
    body: {string: ok}
    headers: {}
    status: {code: 200, message: OK}
version: 1
"""


def interaction(uri: str, body: object = "ok") -> dict[str, object]:
    return {
        "request": {"body": None, "headers": {"Accept": ["*/*"]}, "method": "GET", "uri": uri},
        "response": {
            "body": {"string": body},
            "headers": {"Content-Type": ["text/plain"]},
            "status": {"code": 200, "message": "OK"},
        },
    }


def test_invalid_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("    method: GET", "    method: [GET"))
    with pytest.raises(MalformedCassetteError) as info:
        read_cassette(path, "yaml", cache_dir=None)
    assert info.value.line is not None
    assert 5 <= info.value.line <= 7
    assert f"{path}, line {info.value.line}" in str(info.value)
    assert "record_mode='rewrite'" in str(info.value)


def test_an_interaction_of_the_wrong_shape_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    second = GOOD.split("- request:", 1)[1].split("version:", 1)[0]
    broken = second.replace("status: {code: 200, message: OK}", "status: {code: two hundred}")
    path.write_text(GOOD.replace("version: 1", "- request:" + broken + "version: 1"))
    with pytest.raises(MalformedCassetteError, match="interaction #2") as info:
        read_cassette(path, "yaml", cache_dir=None)
    assert info.value.line == 11


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "version": 1,\n  "interactions": [\n    {"request": }\n  ]\n}\n')
    with pytest.raises(MalformedCassetteError, match="invalid JSON") as info:
        read_cassette(path, "json", cache_dir=None)
    assert info.value.line == 4


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(GOOD.encode().replace(b"string: ok", b"string: \xff\xfe"))
    with pytest.raises(MalformedCassetteError, match="not UTF-8") as info:
        read_cassette(path, "yaml", cache_dir=None)
    assert info.value.line == 8


def test_a_missing_or_empty_file_is_an_empty_cassette(tmp_path: Path) -> None:
    assert not read_cassette(tmp_path / "none.yaml", "yaml", cache_dir=None).exists
    (tmp_path / "empty.yaml").write_text("\n")
    assert not read_cassette(tmp_path / "empty.yaml", "yaml", cache_dir=None).exists


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_dump_then_parse_is_the_identity_so_the_cache_matches_the_file(
    tmp_path: Path, fmt: str
) -> None:
    bodies: list[object] = [
        "plain",
        "line\r\nbreaks\rand\ttabs",
        "unicode: é ✓ \u2028 \x85 \ufeff",
        "",
        "123",
        "null",
        "- looks: [like, yaml]",
    ]
    if fmt == "yaml":
        bodies.append(bytes(range(256)))
    data = [interaction(f"http://api.test/{i}", body) for i, body in enumerate(bodies)]
    parsed, _ = parse(dump(data, fmt), fmt, tmp_path / f"c.{fmt}")  # type: ignore[arg-type]
    assert parsed == data


def test_our_yaml_is_byte_identical_to_vcrpys(tmp_path: Path) -> None:
    from vcr.serializers import yamlserializer  # type: ignore[import-untyped]

    data = [interaction("http://api.test/a")]
    expected = yamlserializer.serialize({"interactions": data, "version": 1})
    assert dump(data, "yaml").decode() == expected


def test_the_parse_cache_is_used_for_an_unchanged_file_and_missed_for_a_changed_one(
    tmp_path: Path,
) -> None:
    path, cache = tmp_path / "c.yaml", tmp_path / "cache"
    path.write_text(GOOD)
    first = read_cassette(path, "yaml", cache_dir=cache)
    second = read_cassette(path, "yaml", cache_dir=cache)
    assert (first.from_cache, second.from_cache) == (False, True)
    assert second.interactions == first.interactions
    path.write_text(GOOD.replace("string: ok", "string: changed"))
    third = read_cassette(path, "yaml", cache_dir=cache)
    assert not third.from_cache
    assert third.interactions[0]["response"]["body"]["string"] == "changed"


def test_a_corrupt_cache_entry_is_ignored(tmp_path: Path) -> None:
    path, cache = tmp_path / "c.yaml", tmp_path / "cache"
    path.write_text(GOOD)
    read_cassette(path, "yaml", cache_dir=cache)
    (entry,) = cache.iterdir()
    entry.write_bytes(entry.read_bytes()[:-5] + b"XXXXX")
    again = read_cassette(path, "yaml", cache_dir=cache)
    assert not again.from_cache
    assert again.interactions[0]["request"]["uri"] == "http://api.test/a"


def test_saving_fills_the_cache(tmp_path: Path) -> None:
    path, cache = tmp_path / "c.yaml", tmp_path / "cache"
    write_cassette(path, [interaction("http://api.test/a")], "yaml", cache_dir=cache)
    assert read_cassette(path, "yaml", cache_dir=cache).from_cache


def test_a_failed_write_leaves_the_old_cassette_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD)

    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_cassette(path, [interaction("http://api.test/b")], "yaml", cache_dir=None)
    assert path.read_text() == GOOD
    assert os.listdir(tmp_path) == ["c.yaml"]


def test_a_crash_mid_write_leaves_the_old_cassette_whole(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD)
    context = multiprocessing.get_context("spawn")
    process = context.Process(target=crash_while_writing, args=(str(path), 5000))
    process.start()
    process.join()
    assert process.exitcode == 17  # it died in the middle of writing
    assert path.read_text() == GOOD
    leftovers = [p for p in tmp_path.iterdir() if p.name != "c.yaml"]
    assert len(leftovers) == 1
    assert leftovers[0].stat().st_size == 5000  # the half-written temporary file
    assert read_cassette(path, "yaml", cache_dir=None).interactions[0]["request"]["uri"]


def test_parallel_processes_recording_into_one_cassette_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.yaml"
    workers, each = 4, 6
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    processes = [
        context.Process(target=record_many, args=(str(path), w, each, barrier))
        for w in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    assert [p.exitcode for p in processes] == [0] * workers
    uris = [i["request"]["uri"] for i in yaml.safe_load(path.read_text())["interactions"]]
    expected = {f"http://api.test/w{w}/{n}" for w in range(workers) for n in range(each)}
    assert sorted(uris) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- request: {method: GET, uri: x}\n  response: {}\n", "before 1.0"),
        ("version: 1\n", "an `interactions` list"),
        ("just text\n", "an `interactions` list"),
    ],
)
def test_files_that_are_not_cassettes_say_what_a_cassette_is(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text)
    with pytest.raises(MalformedCassetteError, match=problem):
        read_cassette(path, "yaml", cache_dir=None)


def test_the_cache_keeps_only_the_newest_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpdeck.testing.cassettes._format as fmt

    monkeypatch.setattr(fmt, "_CACHE_MAX_ENTRIES", 2)
    cache = tmp_path / "cache"
    for number in range(4):
        path = tmp_path / f"c{number}.yaml"
        path.write_text(GOOD.replace("string: ok", f"string: ok{number}"))
        os.utime(path)
        read_cassette(path, "yaml", cache_dir=cache)
    assert len(list(cache.iterdir())) == 2
    assert read_cassette(tmp_path / "c3.yaml", "yaml", cache_dir=cache).from_cache
