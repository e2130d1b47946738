"""The Result type: Ok / Err, their helpers and pattern matching."""

from __future__ import annotations

import dataclasses

import pytest

from httpdeck import Err, HttpResponse, HTTPStatusError, Ok, Result, UnwrapError


def _describe(result: Result[int, Exception]) -> str:
    match result:
        case Ok(value):
            return f"ok {value}"
        case Err(ValueError() as error):
            return f"value error {error}"
        case Err(error):
            return f"other {type(error).__name__}"
    return "unreachable"  # pragma: no cover - mypy cannot see the match is exhaustive


def test_ok_holds_a_value() -> None:
    result: Result[int, Exception] = Ok(3)
    assert result.is_ok()
    assert not result.is_err()
    assert result.unwrap() == 3
    assert result.unwrap_or(0) == 3
    assert isinstance(result, Ok)
    assert result.value == 3


def test_err_holds_an_error() -> None:
    error = ValueError("nope")
    result: Result[int, ValueError] = Err(error)
    assert result.is_err()
    assert not result.is_ok()
    assert result.unwrap_err() is error
    assert result.unwrap_or(7) == 7
    assert isinstance(result, Err)
    assert result.error is error


def test_pattern_matching_by_variant_and_error_type() -> None:
    assert _describe(Ok(1)) == "ok 1"
    assert _describe(Err(ValueError("bad"))) == "value error bad"
    assert _describe(Err(KeyError("k"))) == "other KeyError"


def test_match_on_status_error_reaches_the_response() -> None:
    response = HttpResponse(503, content=b"busy")
    with pytest.raises(HTTPStatusError) as info:
        response.raise_for_status()
    match Err(info.value):
        case Err(HTTPStatusError(response=HttpResponse(status=status))):
            assert status == 503
        case _:
            pytest.fail("the status error did not match")


def test_unwrap_on_err_raises_unwrap_error_chained_to_the_error() -> None:
    error = ValueError("connection refused")
    with pytest.raises(
        UnwrapError, match="Called unwrap\\(\\) on an Err result: connection refused"
    ) as info:
        Err(error).unwrap()
    assert info.value.__cause__ is error


def test_unwrap_on_err_holding_a_non_exception() -> None:
    with pytest.raises(UnwrapError, match="Called unwrap\\(\\) on an Err result: 'text'") as info:
        Err("text").unwrap()
    assert info.value.__cause__ is None


def test_unwrap_err_on_ok_raises() -> None:
    with pytest.raises(UnwrapError, match="Called unwrap_err\\(\\) on an Ok result: 5"):
        Ok(5).unwrap_err()


def test_map_transforms_only_ok() -> None:
    assert Ok(2).map(lambda v: v * 10) == Ok(20)
    err: Err[ValueError] = Err(ValueError("x"))
    assert err.map(lambda v: v) is err


def test_map_err_transforms_only_err() -> None:
    ok = Ok(1)
    assert ok.map_err(lambda e: e) is ok
    assert Err(3).map_err(lambda e: e + 1) == Err(4)


def test_results_compare_by_value_and_are_frozen() -> None:
    assert Ok(1) == Ok(1)
    assert Ok(1) != Err(1)  # type: ignore[comparison-overlap]
    assert hash(Ok("a")) == hash(Ok("a"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        Ok(1).value = 2  # type: ignore[misc]
