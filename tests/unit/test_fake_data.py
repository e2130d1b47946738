"""Faker-backed fake data: templates, seeds and response factories."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from httpdeck.client import Ok
from httpdeck.testing import Const, FakeDataFactory, FakeHTTPClient, FakeResponse, Field, ListOf

USER = {
    "id": "uuid4",
    "name": "name",
    "email": "email",
    "joined": "iso8601",
    "age": Field("pyint", min_value=18, max_value=90),
    "role": Const("admin"),
    "tags": ListOf("word", 3),
    "address": {"city": "city", "zip": "postcode"},
}


def test_a_template_builds_a_json_ready_object() -> None:
    user = FakeDataFactory(seed=1).build(USER)
    assert set(user) == set(USER)
    uuid.UUID(user["id"])
    assert "@" in user["email"]
    assert dt.datetime.fromisoformat(user["joined"]) <= dt.datetime(2025, 1, 1)
    assert 18 <= user["age"] <= 90
    assert user["role"] == "admin"
    assert len(user["tags"]) == 3
    assert all(isinstance(tag, str) for tag in user["tags"])
    assert set(user["address"]) == {"city", "zip"}
    json.dumps(user)


def test_the_same_seed_gives_the_same_bodies() -> None:
    first, second = FakeDataFactory(seed=42), FakeDataFactory(seed=42)
    assert first.build(USER, n=5) == second.build(USER, n=5)
    assert first.build(USER) == second.build(USER)  # and so does what follows


def test_different_seeds_give_different_bodies() -> None:
    assert FakeDataFactory(seed=1).build(USER, n=3) != FakeDataFactory(seed=2).build(USER, n=3)


def test_values_do_not_depend_on_today() -> None:
    # Golden values: time providers end at reference_date, not at "now", so
    # these stay the same whatever day the test runs on.
    data = FakeDataFactory(seed=1234)
    assert data.build({"id": "uuid4", "at": "iso8601"}) == {
        "id": "1de9ea66-70d3-4a1f-8735-df5ef7697fb9",
        "at": "1970-05-31T11:54:26.669401",
    }


def test_reference_date_bounds_time_providers() -> None:
    data = FakeDataFactory(seed=3, reference_date=dt.datetime(2000, 1, 1))
    stamps = data.build("iso8601", n=50)
    assert max(dt.datetime.fromisoformat(s) for s in stamps) <= dt.datetime(2000, 1, 1)


def test_reseed_restarts_the_sequence() -> None:
    data = FakeDataFactory(seed=7)
    first = data.build(USER)
    data.build(USER)
    data.reseed(7)
    assert data.build(USER) == first
    assert data.seed == 7


def test_derive_seed_is_stable_and_distinct_per_name() -> None:
    a = FakeDataFactory.derive_seed(1, "tests/test_x.py::test_a")
    assert a == FakeDataFactory.derive_seed(1, "tests/test_x.py::test_a")
    assert a != FakeDataFactory.derive_seed(1, "tests/test_x.py::test_b")
    assert a != FakeDataFactory.derive_seed(2, "tests/test_x.py::test_a")
    assert a == 12218391087467361467  # the same in every process and run (_seeds.derive_seed)


def test_list_of_a_range_and_nested_lists() -> None:
    data = FakeDataFactory(seed=5)
    sizes = {len(data.build(ListOf("word", (1, 3)))) for _ in range(30)}
    assert sizes == {1, 2, 3}
    page = data.build({"items": ListOf({"id": "uuid4", "tags": ListOf("word", 2)}, 4)})
    assert len(page["items"]) == 4
    assert all(len(item["tags"]) == 2 for item in page["items"])


def test_callables_constants_and_conversions() -> None:
    data = FakeDataFactory(seed=9)
    value = data.build(
        {
            "upper": lambda faker: faker.word().upper(),
            "n": 3,
            "flag": True,
            "nothing": None,
            "price": "pydecimal",
            "day": "date_object",
            "raw": Field("binary", length=3),
        }
    )
    assert value["upper"].isupper()
    assert (value["n"], value["flag"], value["nothing"]) == (3, True, None)
    assert isinstance(value["price"], float)
    dt.date.fromisoformat(value["day"])
    assert isinstance(value["raw"], str)  # base64


def test_unknown_provider_suggests_close_names() -> None:
    data = FakeDataFactory()
    with pytest.raises(ValueError, match=r"'emial' is not a Faker provider\. Did you mean 'email'"):
        data.build({"contact": {"address": "emial"}})
    with pytest.raises(ValueError, match="Const"):
        data.build("_private")


def test_bad_templates_and_arguments() -> None:
    data = FakeDataFactory()
    with pytest.raises(TypeError, match="Cannot build fake data from"):
        data.build([1, 2])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="A fake data seed is an int"):
        data.reseed("1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ListOf needs"):
        ListOf("word", (3, 1))


def test_locale() -> None:
    data = FakeDataFactory(seed=1, locale="fr_FR")
    assert data.faker.locales == ["fr_FR"]
    assert isinstance(data.build("city"), str)


def test_reprs() -> None:
    assert repr(Field("pyint", max_value=3)) == "Field('pyint', max_value=3)"
    assert repr(ListOf("word", 2)) == "ListOf('word', 2)"
    assert repr(ListOf("word", (1, 2))) == "ListOf('word', (1, 2))"
    assert repr(Const("x")) == "Const('x')"
    assert repr(FakeDataFactory(seed=4)) == "<FakeDataFactory seed=4>"


@pytest.mark.asyncio
async def test_response_is_built_once_and_responder_per_call() -> None:
    data = FakeDataFactory(seed=11)
    fixed = data.response(USER, n=2, headers={"X-Total": "2"})
    assert isinstance(fixed, FakeResponse)
    async with FakeHTTPClient() as fake:
        fake.route("GET", "https://api.example.com/users").respond_with(fixed)
        fake.route("GET", "https://api.example.com/me").respond_with(
            data.responder(USER, status=201)
        )
        users = [await fake.get("https://api.example.com/users") for _ in range(2)]
        mes = [await fake.get("https://api.example.com/me") for _ in range(2)]
    assert all(isinstance(r, Ok) for r in users + mes)
    bodies = [r.unwrap().json() for r in users]
    assert bodies[0] == bodies[1]
    assert len(bodies[0]) == 2
    assert users[0].unwrap().headers["X-Total"] == "2"
    me_bodies = [r.unwrap().json() for r in mes]
    assert me_bodies[0] != me_bodies[1]
    assert mes[0].unwrap().status == 201


def test_nested_values_from_callables_are_json_ready() -> None:
    value = FakeDataFactory().build(
        lambda faker: {"at": dt.time(1, 2), "ids": (uuid.UUID(int=1),), "set": {2}, 3: "x"}
    )
    assert value == {
        "at": "01:02:00",
        "ids": ["00000000-0000-0000-0000-000000000001"],
        "set": [2],
        "3": "x",
    }
