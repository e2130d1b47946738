"""`httpdeck cassette lint`: bodies checked against their Content-Encoding and
Content-Type. The cassettes are written with vcrpy's own YAML serializer, so
compressed bodies are stored as vcrpy stores them (`!!binary`, base64)."""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import brotlicffi  # type: ignore[import-untyped]
import pytest
from vcr.serializers import yamlserializer  # type: ignore[import-untyped]

from httpdeck.cli import main

PAYLOAD = json.dumps({"id": 1, "name": "ann", "tags": ["a", "b"]}).encode()


def cassette(
    tmp_path: Path,
    body: bytes,
    headers: dict[str, list[str]],
    *,
    name: str = "c.yaml",
) -> Path:
    path = tmp_path / name
    interaction = {
        "request": {"body": None, "headers": {}, "method": "GET", "uri": "http://api.test/x"},
        "response": {
            "body": {"string": body},
            "headers": headers,
            "status": {"code": 200, "message": "OK"},
        },
    }
    path.write_text(yamlserializer.serialize({"interactions": [interaction], "version": 1}))
    return path


def lint(path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = main(["cassette", "lint", *args, str(path)])
    return code, capsys.readouterr().out.splitlines()


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        ("gzip", gzip.compress(PAYLOAD)),
        ("x-gzip", gzip.compress(PAYLOAD)),
        ("gzip", gzip.compress(PAYLOAD[:10]) + gzip.compress(PAYLOAD[10:])),  # two members
        ("deflate", zlib.compress(PAYLOAD)),
        ("deflate", raw_deflate(PAYLOAD)),
        ("br", brotlicffi.compress(PAYLOAD)),
        ("gzip, br", brotlicffi.compress(gzip.compress(PAYLOAD))),
    ],
    ids=["gzip", "x-gzip", "gzip-members", "deflate-zlib", "deflate-raw", "br", "gzip-then-br"],
)
def test_a_compressed_json_body_is_decoded_before_the_json_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], coding: str, body: bytes
) -> None:
    path = cassette(
        tmp_path, body, {"Content-Type": ["application/json"], "Content-Encoding": [coding]}
    )
    assert "!!binary" in path.read_text()
    assert lint(path, capsys) == (0, [f"{path}: ok (1 interactions)"])


def test_a_gzip_text_body_is_decoded_before_the_charset_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "Grüße aus Köln\n".encode()
    path = cassette(
        tmp_path,
        gzip.compress(text),
        {"Content-Type": ["text/plain; charset=utf-8"], "Content-Encoding": ["gzip"]},
    )
    assert lint(path, capsys) == (0, [f"{path}: ok (1 interactions)"])


def test_invalid_json_inside_gzip_is_reported_as_decoded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cassette(
        tmp_path,
        gzip.compress(b"<html>oops</html>"),
        {"Content-Type": ["application/json"], "Content-Encoding": ["gzip"]},
    )
    code, lines = lint(path, capsys)
    assert code == 1
    assert lines == [
        f"{path}: interaction #1 (GET http://api.test/x): the response body (gzip-decoded) "
        "is not valid JSON as its Content-Type application/json says "
        "(Expecting value: line 1 column 1 (char 0))"
    ]


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        ("gzip", gzip.compress(PAYLOAD * 50)[:-30]),
        ("gzip", b"\x1f\x8b" + b"not gzip at all"),
        ("deflate", zlib.compress(PAYLOAD * 50)[:-30]),
        ("br", brotlicffi.compress(PAYLOAD * 50)[:-5]),
    ],
    ids=["gzip-truncated", "gzip-garbage", "deflate-truncated", "br-truncated"],
)
def test_a_body_that_does_not_decompress_is_reported_as_such(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], coding: str, body: bytes
) -> None:
    path = cassette(
        tmp_path, body, {"Content-Type": ["application/json"], "Content-Encoding": [coding]}
    )
    code, lines = lint(path, capsys)
    assert code == 1
    assert len(lines) == 1
    assert (
        f"the response body does not decompress as its Content-Encoding {coding} says ("
        in (lines[0])
    )
    assert "not valid JSON" not in lines[0]


def test_a_decompression_bomb_is_stopped_at_the_bound_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bomb = gzip.compress(b"\0" * (8 << 20))  # 8 MiB of zeros in about 8 KiB
    assert len(bomb) < 10_000
    path = cassette(
        tmp_path, bomb, {"Content-Type": ["application/json"], "Content-Encoding": ["gzip"]}
    )
    code, lines = lint(path, capsys, "--max-inflated-bytes", "65536")
    assert code == 1
    assert lines == [
        f"{path}: interaction #1 (GET http://api.test/x): the response body inflates past "
        "65536 bytes as gzip (a decompression bomb?); not checked further. Raise the bound "
        "with --max-inflated-bytes if the body is meant to be that large"
    ]


def test_max_inflated_bytes_must_be_a_positive_count(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["cassette", "lint", "--max-inflated-bytes", "lots", "c.yaml"])
    assert "'lots' is not a byte count" in capsys.readouterr().err


def test_a_body_stored_decoded_under_its_content_encoding_is_checked_as_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """vcrpy's aiohttp stub (and httpdeck with decode_compressed_response=False)
    store the body aiohttp already inflated and keep the header."""
    for coding in ("gzip", "deflate", "br"):
        path = cassette(
            tmp_path,
            PAYLOAD,
            {"Content-Type": ["application/json"], "Content-Encoding": [coding]},
            name=f"{coding}.yaml",
        )
        assert lint(path, capsys) == (0, [f"{path}: ok (1 interactions)"])
    broken = cassette(
        tmp_path,
        b"{oops",
        {"Content-Type": ["application/json"], "Content-Encoding": ["deflate"]},
    )
    code, lines = lint(broken, capsys)
    assert code == 1
    assert "is not valid JSON as its Content-Type application/json says" in lines[0]
    assert "nor does it decompress as its Content-Encoding deflate says" in lines[0]


def test_an_unknown_content_encoding_leaves_the_body_unchecked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cassette(
        tmp_path,
        b"\x28\xb5\x2f\xfd binary zstd frame",
        {"Content-Type": ["application/json"], "Content-Encoding": ["zstd"]},
    )
    assert lint(path, capsys) == (0, [f"{path}: ok (1 interactions)"])


NDJSON = b'{"id": 1}\n{"id": 2}\n\n{"id": 3}\n'


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-ndjson", NDJSON),
        ("application/ndjson", NDJSON),
        ("application/jsonl", NDJSON),
        ("application/x-jsonlines", NDJSON.replace(b"\n", b"\r\n")),
        ("application/stream+json", NDJSON),
        ("application/json-seq", b'\x1e{"id": 1}\n\x1e[2, 3]\n'),
        ("application/geo+json-seq", b'\x1e{"type": "Point", "coordinates": [1, 2]}\n'),
        ("application/json", NDJSON),  # Docker's API streams JSON lines as application/json
        ("application/problem+json", b'{"type": "about:blank", "status": 404}'),
        ("application/vnd.api+json", b'{"data": []}'),
        ("application/x-amz-json-1.1", b'{"TableNames": []}'),
        ("text/event-stream", b'event: update\ndata: {"id": 1}\n\ndata: [DONE]\n\n'),
        ("text/html; charset=ISO-8859-1", "<p>Caf\u00e9</p>".encode("latin-1")),
        ("text/html", "<p>Caf\u00e9</p>".encode("cp1252")),  # no charset: not checked
        ("text/csv; charset=binary", b"\xff\xfe"),  # a charset Python has no codec for
        ("application/octet-stream", b"{not json"),
        ("application/json; charset=utf-16", '{"a": "\u00e9"}'.encode("utf-16")),
        ("application/json; charset=utf-8", b'\xef\xbb\xbf{"a": 1}'),  # with a BOM
        ("application/json; charset=iso-8859-1", '{"a": "\u00e9"}'.encode("latin-1")),
    ],
)
def test_bodies_that_match_their_content_type_lint_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content_type: str, body: bytes
) -> None:
    path = cassette(tmp_path, body, {"Content-Type": [content_type]})
    assert lint(path, capsys) == (0, [f"{path}: ok (1 interactions)"])


@pytest.mark.parametrize(
    ("content_type", "body", "problem"),
    [
        (
            "application/x-ndjson",
            b'{"id": 1}\n{"id": \n{"id": 3}\n',
            "is not valid JSON at line 2, as its Content-Type application/x-ndjson says",
        ),
        (
            "application/json-seq",
            b'\x1e{"id": 1}\n\x1e{"id"\n',
            "is not valid JSON at record 2, as its Content-Type application/json-seq says",
        ),
        (
            "application/problem+json",
            b"<html>Not Found</html>",
            "is not valid JSON as its Content-Type application/problem+json says",
        ),
        (
            "application/json",
            b'{"id": 1}\n{"id": 2',
            "is not valid JSON as its Content-Type application/json says",
        ),
        (
            "text/event-stream",
            b"data: caf\xe9\n\n",
            "is not utf-8 text as its Content-Type text/event-stream says",
        ),
        (
            "text/plain; charset=utf-8",
            b"caf\xe9",
            "is not utf-8 text as its Content-Type text/plain says",
        ),
    ],
)
def test_bodies_that_contradict_their_content_type_are_reported(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content_type: str,
    body: bytes,
    problem: str,
) -> None:
    path = cassette(tmp_path, body, {"Content-Type": [content_type]})
    code, lines = lint(path, capsys)
    assert code == 1
    assert len(lines) == 1
    assert f"interaction #1 (GET http://api.test/x): the response body {problem} (" in lines[0]
