"""`httpdeck cassette show|lint|redact|stats`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from httpdeck.cli import main
from httpdeck.testing.cassettes._format import dump

TOKEN = "ghp_abcdefghijklmnop"


def interaction(
    uri: str,
    *,
    request_headers: dict[str, list[str]] | None = None,
    body: str = '{"ok": true}',
    content_type: str = "application/json",
    status: int = 200,
) -> dict[str, object]:
    return {
        "request": {"body": None, "headers": request_headers or {}, "method": "GET", "uri": uri},
        "response": {
            "body": {"string": body},
            "headers": {"Content-Type": [content_type]},
            "status": {"code": status, "message": "OK"},
        },
    }


def write(path: Path, interactions: list[dict[str, object]]) -> Path:
    path.write_bytes(dump(interactions, "json" if path.suffix == ".json" else "yaml"))  # type: ignore[arg-type]
    return path


def leaky() -> list[dict[str, object]]:
    return [
        interaction("http://api.test/clean"),
        interaction(f"http://api.test/search?q=x&access_token={TOKEN}"),
        interaction("http://api.test/me", request_headers={"Authorization": [f"token {TOKEN}"]}),
        interaction("http://api.test/login", body=f'{{"token": "{TOKEN}"}}'),
        interaction("http://api.test/broken", body="<html>not json</html>"),
        interaction("http://api.test/clean"),
    ]


def test_lint_reports_every_problem_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "leaky.yaml", leaky())
    assert main(["cassette", "lint", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert (
        f"{path}: interaction #2 (GET http://api.test/search?q=x&access_token=REDACTED): unredacted secret in the URL query"
        in lines
    )
    assert any("#3" in line and "request header Authorization" in line for line in lines)
    assert any("#4" in line and "response body" in line for line in lines)
    assert any("#5" in line and "not valid JSON" in line for line in lines)
    assert any("#6" in line and "duplicates interaction #1" in line for line in lines)
    assert len(lines) == 5
    assert TOKEN not in "\n".join(lines)


def test_lint_of_a_clean_cassette_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "clean.json", [interaction("http://api.test/a")])
    assert main(["cassette", "lint", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: ok (1 interactions)\n"


def test_lint_names_the_line_of_invalid_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("interactions:\n- request: {method: GET\nversion: 1\n")
    assert main(["cassette", "lint", str(path)]) == 1
    assert f"{path}, line 3" in capsys.readouterr().out


def test_redact_rewrites_in_place_and_leaves_clean_interactions_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    interactions = leaky()
    interactions[0]["response"]["vendor_key"] = "kept"  # type: ignore[index]
    path = write(tmp_path / "leaky.yaml", interactions)
    assert main(["cassette", "redact", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: redacted 3 of 6 interactions\n"
    text = path.read_text()
    assert TOKEN not in text
    stored = yaml.safe_load(text)["interactions"]
    assert stored[0] == interactions[0]
    assert stored[2]["request"]["headers"]["Authorization"] == ["token REDACTED"]
    assert [p.name for p in tmp_path.iterdir()] == ["leaky.yaml"]
    assert main(["cassette", "redact", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: redacted 0 of 6 interactions\n"
    assert main(["cassette", "lint", str(path)]) == 1  # still: invalid JSON, duplicate
    assert "unredacted" not in capsys.readouterr().out


def test_redact_accepts_extra_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path / "c.yaml",
        [interaction("http://api.test/x?sig=abcdef123", request_headers={"X-Sig": ["abcdef123"]})],
    )
    assert main(["cassette", "redact", "--field", "sig", "--header", "X-Sig", str(path)]) == 0
    assert "abcdef123" not in path.read_text()


def test_show_prints_a_table_with_redacted_urls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "leaky.yaml", leaky())
    assert main(["cassette", "show", str(path)]) == 0
    out = capsys.readouterr().out
    assert TOKEN not in out
    lines = out.splitlines()
    assert lines[0] == f"{path} (6 interactions)"
    assert lines[1].split() == ["#", "METHOD", "URL", "STATUS", "TYPE", "BYTES", "NOTES"]
    assert lines[3].split()[:4] == [
        "2",
        "GET",
        "http://api.test/search?q=x&access_token=REDACTED",
        "200",
    ]


def test_stats_counts_methods_statuses_and_hosts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path / "c.yaml",
        [
            interaction("http://a.test/1"),
            interaction("http://b.test/2", status=404),
            interaction("http://a.test/3"),
        ],
    )
    assert main(["cassette", "stats", str(path)]) == 0
    out = capsys.readouterr().out
    assert "interactions: 3" in out
    assert "statuses: 2xx 2, 4xx 1" in out
    assert "hosts: a.test 2, b.test 1" in out


def test_a_missing_file_is_reported_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cassette", "stats", str(tmp_path / "nope.yaml")]) == 1
    assert "No such file" in capsys.readouterr().out


PASSWORD = "pw-canary-31337"


def with_response_headers(uri: str, headers: dict[str, list[str]]) -> dict[str, object]:
    item = interaction(uri)
    item["response"]["headers"] = headers  # type: ignore[index]
    return item


def test_lint_flags_userinfo_and_auth_token_headers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path / "leaky.yaml",
        [
            interaction(f"http://ann:{PASSWORD}@api.test/a"),
            interaction("http://api.test/b", request_headers={"X-Auth-Token": [TOKEN]}),
            with_response_headers(
                "http://api.test/c", {"Content-Type": ["text/plain"], "x-auth-token": [TOKEN]}
            ),
        ],
    )
    assert main(["cassette", "lint", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{path}: interaction #1 (GET http://ann:REDACTED@api.test/a): "
        "unredacted credentials in the URL userinfo (user:password@)",
        f"{path}: interaction #2 (GET http://api.test/b): "
        "unredacted secret in request header X-Auth-Token",
        f"{path}: interaction #3 (GET http://api.test/c): "
        "unredacted secret in response header x-auth-token",
    ]


def test_show_hides_the_userinfo_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "c.yaml", [interaction(f"http://ann:{PASSWORD}@api.test/a")])
    assert main(["cassette", "show", str(path)]) == 0
    out = capsys.readouterr().out
    assert PASSWORD not in out
    assert "http://ann:REDACTED@api.test/a" in out


def test_redact_counts_only_replaced_values_and_keeps_header_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean = with_response_headers(
        "http://api.test/a", {"content-type": ["text/plain"], "location": ["/next?page=2"]}
    )
    path = write(tmp_path / "c.yaml", [clean])
    before = path.read_bytes()
    assert main(["cassette", "redact", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: redacted 0 of 1 interactions\n"
    assert path.read_bytes() == before
    secret = with_response_headers(
        "http://api.test/b", {"content-type": ["text/plain"], "x-auth-token": [TOKEN]}
    )
    write(path, [clean, secret])
    assert main(["cassette", "redact", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: redacted 1 of 2 interactions\n"
    stored = yaml.safe_load(path.read_text())["interactions"]
    assert stored[0] == clean
    assert stored[1]["response"]["headers"] == {
        "content-type": ["text/plain"],
        "x-auth-token": ["REDACTED"],
    }
