"""`httpdeck demo` runs end to end on this machine and prints every part of its report."""

from __future__ import annotations

import io
import re

import pytest

from conftest import Serve
from httpdeck._demo import demo_app
from httpdeck._demo_chaos import REQUESTS, run_chaos
from httpdeck._demo_report import ProgressBar, table
from httpdeck.cli import main
from httpdeck.client import HTTPClientConfig


def test_the_demo_prints_every_part_of_its_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    headings = re.findall(r"^(\d)\. (\w+)", out, flags=re.MULTILINE)
    assert headings == [
        ("1", "Real"),
        ("2", "Record"),
        ("3", "Replay"),
        ("4", "Chaos"),
        ("5", "Summary"),
    ]
    assert "\x1b[" not in out  # no colour when the output is not a terminal
    assert "200 Ok over a pool of 10 connections" in out
    assert "4 interactions written to demo.yaml" in out
    assert "the bearer token is redacted on disk" in out
    assert "a live GET /users gets Err HTTPConnectionError (refused)" in out
    assert out.count("| yes         |") == 4  # every replayed call as recorded
    assert "Cannot play back GET" in out  # a call the cassette does not hold
    assert f"] {REQUESTS}/{REQUESTS}  ok " in out  # the finished progress bar
    assert "the breaker opened during the outage and closed after it" in out
    assert "4 replayed with no server, identical to the recording" in out
    assert out.rstrip().endswith("done.")


@pytest.mark.asyncio
async def test_the_chaos_run_gives_the_same_report_for_the_same_seed(serve: Serve) -> None:
    url = await serve(demo_app())
    first, second = io.StringIO(), io.StringIO()
    one = await run_chaos(first, url, HTTPClientConfig())
    two = await run_chaos(second, url, HTTPClientConfig())
    assert one.report == two.report
    assert first.getvalue() == second.getvalue()
    assert one.ok + one.refused + one.gave_up == REQUESTS
    assert one.refused > 0  # the outage opened the breaker
    assert one.report.retries > 0
    states = [(t.old, t.new) for t in one.report.transitions]
    assert states[0] == ("closed", "open")
    assert states[-1] == ("half_open", "closed")


def test_the_progress_bar_redraws_in_place_only_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    piped, terminal = io.StringIO(), Terminal()
    for out in (piped, terminal):
        bar = ProgressBar(out, 4, width=8)
        for done in range(1, 5):
            bar.update(done, f"step {done}")
        bar.finish()
    assert piped.getvalue() == "  [########] 4/4  step 4\n"
    assert terminal.getvalue().count("\r") == 5
    assert terminal.getvalue().endswith("  [########] 4/4  step 4\n")
    assert ProgressBar(piped, 4, width=8).render(1) == "  [##......] 1/4"


def test_tables_align_their_columns() -> None:
    text = table(["name", "n"], [["a", "1"], ["bbb", "22"]], align="lr")
    assert text.splitlines() == [
        "+------+----+",
        "| name |  n |",
        "+------+----+",
        "| a    |  1 |",
        "| bbb  | 22 |",
        "+------+----+",
    ]
