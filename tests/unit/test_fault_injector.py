"""The fault engine: rules, schedules, the log and the run report."""

from __future__ import annotations

import asyncio
import contextlib
import re

import pytest
from yarl import URL

from httpdeck.client import (
    ByteStream,
    Err,
    HTTPClient,
    HTTPConnectionError,
    HttpResponse,
    HTTPRetryExhaustedError,
    Ok,
    Request,
)
from httpdeck.testing import faults, schedules
from httpdeck.testing.faults._injector import (
    FaultInjectionInterceptor,
    FaultInjectionTransport,
    FaultInjector,
)


class Echo:
    """An in-memory transport answering 200 with the request path."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def send(self, request: Request) -> HttpResponse:
        self.seen.append(f"{request.method} {request.url.path}")
        return HttpResponse(200, stream=ByteStream(request.url.path.encode()), request=request)

    async def aclose(self) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def _ok(request: Request) -> HttpResponse:
    return HttpResponse(200, content=b"ok", request=request)


def _request(method: str = "GET", url: str = "http://api.test/items", attempt: int = 0) -> Request:
    return Request(method, URL(url), attempt=attempt)


async def _outcomes(injector: FaultInjector, requests: list[Request]) -> list[str]:
    outcomes = []
    for request in requests:
        try:
            response = await injector.handle(request, _ok)
            outcomes.append(str(response.status))
        except HTTPConnectionError:
            outcomes.append("reset")
    return outcomes


@pytest.mark.asyncio
async def test_per_route_rule_fires_on_its_first_calls_only() -> None:
    injector = FaultInjector()
    injector.on("POST", "*/orders").inject(faults.Timeout("read")).first(2)
    requests = [_request("POST", "http://api.test/orders") for _ in range(4)]
    requests.insert(1, _request("GET", "http://api.test/orders"))
    requests.insert(2, _request("POST", "http://api.test/users"))
    transport = FaultInjectionTransport(Echo(), injector=injector)
    kinds = []
    async with HTTPClient(transport=transport) as client:
        for request in requests:
            verb = client.post if request.method == "POST" else client.get
            kinds.append("fault" if isinstance(await verb(request.url), Err) else "ok")
    assert kinds == ["fault", "ok", "ok", "fault", "ok", "ok"]
    assert [(e.rule, e.call, e.kind, e.method, e.url) for e in injector.log] == [
        ("POST */orders", 0, "timeout.read", "POST", "http://api.test/orders"),
        ("POST */orders", 1, "timeout.read", "POST", "http://api.test/orders"),
    ]


@pytest.mark.asyncio
async def test_url_patterns_glob_without_the_query_or_use_a_regex() -> None:
    injector = FaultInjector()
    injector.on(["GET", "HEAD"], "http://api.test/items/*").inject(faults.Disconnect())
    injector.on("*", re.compile(r".*/v\d+/"), name="versioned").inject(faults.Status(502))
    assert await _outcomes(
        injector,
        [
            _request(url="http://api.test/items/7?expand=1"),
            _request("POST", "http://api.test/items/7"),
            _request(url="http://api.test/items"),
            _request("DELETE", "http://api.test/v2/things"),
        ],
    ) == ["reset", "200", "200", "502"]
    assert [e.rule for e in injector.log] == ["GET,HEAD http://api.test/items/*", "versioned"]


@pytest.mark.asyncio
async def test_rules_are_tried_in_order_and_a_call_taken_by_one_is_not_seen_by_the_next() -> None:
    injector = FaultInjector(faults=[faults.Status(503)], schedule=schedules.EveryNth(2))
    injector.on(url="*/a").inject(faults.Status(500)).every(3)
    paths = ["a", "a", "a", "b", "a", "a"]
    got = await _outcomes(injector, [_request(url=f"http://h/{p}") for p in paths])
    # "*/a" fires on its 3rd call; the global rule on every 2nd call that
    # "*/a" let through.
    assert got == ["200", "503", "500", "200", "503", "200"]
    assert [(e.rule, e.call) for e in injector.log] == [("*", 1), ("*/a", 2), ("*", 3)]
    assert [rule.calls for rule in injector.rules] == [5, 5]


@pytest.mark.asyncio
async def test_global_faults_take_a_schedule_and_a_seed_and_replay_identically() -> None:
    async def run(seed: int) -> list[tuple[int, str]]:
        injector = FaultInjector(
            faults=[faults.ConnectionReset(), faults.Status(503, retry_after=1)],
            schedule=schedules.Probability(0.2),
            seed=seed,
        )
        await _outcomes(injector, [_request(url=f"http://h/{i}") for i in range(300)])
        return [(e.call, e.kind) for e in injector.log]

    first = await run(7)
    assert first == await run(7)
    assert first != await run(8)
    assert 40 <= len(first) <= 80
    assert {kind for _, kind in first} == {"connection_reset", "status.503"}


@pytest.mark.asyncio
async def test_the_same_seed_gives_the_same_log_whatever_the_timing() -> None:
    async def run(delays: list[float]) -> list[tuple[int, str]]:
        injector = FaultInjector(
            faults=[faults.Disconnect()], schedule=schedules.Probability(0.3), seed=11
        )

        async def one(i: int) -> None:
            await asyncio.sleep(delays[i])
            with contextlib.suppress(HTTPConnectionError):
                await injector.handle(_request(url=f"http://h/{i}"), _ok)

        await asyncio.gather(*(one(i) for i in range(len(delays))))
        return sorted((e.call, e.kind) for e in injector.log)

    forwards = [i / 10_000 for i in range(60)]
    assert await run(forwards) == await run(forwards[::-1])


@pytest.mark.asyncio
async def test_deciding_per_request_pins_each_request_s_fate() -> None:
    async def fates(order: list[int]) -> dict[str, bool]:
        injector = FaultInjector(
            faults=[faults.Disconnect()],
            schedule=schedules.Probability(0.5),
            seed=5,
            decide_by="request",
        )
        await _outcomes(injector, [_request(url=f"http://h/{i}") for i in order])
        failed = {e.url for e in injector.log}
        return {f"http://h/{i}": f"http://h/{i}" in failed for i in order}

    assert await fates(list(range(50))) == await fates(list(range(49, -1, -1)))


@pytest.mark.asyncio
async def test_retries_are_new_attempts_and_on_attempts_targets_them() -> None:
    injector = FaultInjector()
    injector.on().inject(faults.Status(503)).on_attempts(0)
    assert await _outcomes(injector, [_request(attempt=0), _request(attempt=1)]) == ["503", "200"]
    assert [e.attempt for e in injector.log] == [0]


@pytest.mark.asyncio
async def test_times_caps_the_injections_and_sequence_scripts_them() -> None:
    injector = FaultInjector()
    injector.on(name="capped").inject(faults.Status(500)).times(2)
    assert await _outcomes(injector, [_request() for _ in range(4)]) == ["500", "500", "200", "200"]
    scripted = FaultInjector()
    scripted.on().inject(faults.Status(503)).sequence("fail", "fail", "ok")
    got = await _outcomes(scripted, [_request() for _ in range(4)])
    assert got == ["503", "503", "200", "200"]


@pytest.mark.asyncio
async def test_builder_conditions_combine_with_and() -> None:
    injector = FaultInjector()
    rule = injector.on().inject(faults.Status(500)).first(4).every(2)
    assert repr(rule.schedule) == "(First(n=4) & EveryNth(n=2, offset=0))"
    assert await _outcomes(injector, [_request() for _ in range(6)]) == [
        "200",
        "500",
        "200",
        "500",
        "200",
        "200",
    ]


@pytest.mark.asyncio
async def test_time_window_follows_the_injected_clock() -> None:
    clock = Clock()
    injector = FaultInjector(clock=clock)
    injector.on().inject(faults.Status(503)).during(10, 20)
    got = []
    for now in (105.0, 110.0, 119.0, 121.0):
        clock.now = now
        got += await _outcomes(injector, [_request()])
    assert got == ["200", "503", "503", "200"]
    assert [e.at for e in injector.log] == [10.0, 19.0]


@pytest.mark.asyncio
async def test_weights_pick_among_several_faults_deterministically() -> None:
    injector = FaultInjector(seed=3)
    injector.on().inject(faults.Status(500), faults.Status(503), weights=[1, 3])
    await _outcomes(injector, [_request() for _ in range(400)])
    picked = [e.kind for e in injector.log]
    assert 70 <= picked.count("status.500") <= 130
    again = FaultInjector(seed=3)
    again.on().inject(faults.Status(500), faults.Status(503), weights=[1, 3])
    await _outcomes(again, [_request() for _ in range(400)])
    assert [e.kind for e in again.log] == picked


@pytest.mark.asyncio
async def test_paused_and_reset() -> None:
    injector = FaultInjector(faults=[faults.Status(503)], schedule=schedules.First(1))
    with injector.paused():
        assert await _outcomes(injector, [_request()]) == ["200"]
    assert await _outcomes(injector, [_request(), _request()]) == ["503", "200"]
    injector.reset()
    assert injector.log == []
    assert await _outcomes(injector, [_request()]) == ["503"]


@pytest.mark.asyncio
async def test_interceptor_and_transport_share_one_engine() -> None:
    injector = FaultInjector()
    injector.on().inject(faults.Status(503)).first(1)
    interceptor = FaultInjectionInterceptor(injector=injector)
    echo = Echo()
    async with HTTPClient(transport=echo, interceptors=[interceptor]) as client:
        first = await client.get("http://h/x")
        second = await client.get("http://h/x")
    assert isinstance(first, Err)
    assert isinstance(second, Ok)
    assert echo.seen == ["GET /x"]
    assert interceptor.log is injector.log
    assert len(injector.log) == 1


@pytest.mark.asyncio
async def test_report_counts_requests_retries_faults_transitions_and_outcomes() -> None:
    injector = FaultInjector(faults=[faults.Disconnect()], schedule=schedules.OnAttempt(0, 1))

    class Retry:
        async def execute(self, request: Request, send: object) -> HttpResponse:
            errors: list[HttpResponse | HTTPConnectionError] = []
            for attempt in range(3):
                request.attempt = attempt
                try:
                    return await send(request)  # type: ignore[operator, no-any-return]
                except HTTPConnectionError as exc:
                    errors.append(exc)
            raise HTTPRetryExhaustedError("gave up", request=request, attempts=list(errors))

    async with HTTPClient(
        transport=FaultInjectionTransport(Echo(), injector=injector), retry_policy=Retry()
    ) as client:
        for path in ("a", "b"):
            injector.run.outcome(await client.get(f"http://h/{path}"))
    injector.run.transition("closed", "open", breaker="h")
    injector.run.outcome(HTTPRetryExhaustedError("x", attempts=[]))
    report = injector.report()
    assert (report.requests, report.attempts, report.retries) == (2, 6, 4)
    assert report.faults == {"disconnect": 4}
    assert report.by_rule == {"*": 4}
    assert report.outcomes == {"200": 2, "HTTPRetryExhaustedError": 1}
    assert [(t.breaker, t.old, t.new) for t in report.transitions] == [("h", "closed", "open")]
    text = str(report)
    assert "2 requests, 6 attempts (4 retries), 4 faults injected" in text
    assert "disconnect" in text
    assert "h: closed -> open" in text


def test_record_outcome_rejects_what_it_cannot_classify() -> None:
    with pytest.raises(TypeError, match="pass a Result, a response or an exception"):
        FaultInjector().run.outcome("fine")


def test_misuse_is_reported_plainly() -> None:
    with pytest.raises(ValueError, match="schedule but no faults"):
        FaultInjector(schedule=schedules.First(1))
    with pytest.raises(ValueError, match='decide_by must be "call" or "request"'):
        FaultInjector(decide_by="time")  # type: ignore[arg-type]
    injector = FaultInjector()
    injector.on("GET", "*/a")
    with pytest.raises(ValueError, match="named 'GET \\*/a' exists already"):
        injector.on("GET", "*/a")
    with pytest.raises(TypeError, match="is not a fault"):
        injector.on("GET", "*/b").inject("reset")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="is not a schedule"):
        injector.on("GET", "*/c").when(0.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one non-negative number per fault"):
        injector.on("GET", "*/d").inject(faults.Disconnect(), weights=[1, 2])
    with pytest.raises(ValueError, match=r"either injector= or its options \(seed\)"):
        FaultInjectionTransport(Echo(), injector=injector, seed=4)


@pytest.mark.asyncio
async def test_probability_and_burst_builders_and_counting_by_kind() -> None:
    injector = FaultInjector(seed=9)
    rule = injector.on(name="flaky").inject(faults.Status(502)).burst(1, 2).probability(1.0)
    injector.on(name="never").inject(faults.Status(500)).when(schedules.Never())
    assert repr(rule) == (
        "<FaultRule 'flaky' faults=[Status(status=502, retry_after=None, body=None, headers={})]"
        " schedule=(Burst(start=1, length=2, every=None) & Probability(p=1.0))>"
    )
    assert await _outcomes(injector, [_request() for _ in range(4)]) == ["200", "502", "502", "200"]
    assert injector.count() == injector.count("status.502") == injector.count(rule="flaky") == 2
    assert injector.count("status.500") == 0
    assert [r.calls for r in injector.rules] == [4, 2]


@pytest.mark.asyncio
async def test_an_interceptor_with_nothing_to_inject_counts_and_calls_through() -> None:
    interceptor = FaultInjectionInterceptor()
    echo = Echo()
    async with HTTPClient(transport=echo, interceptors=[interceptor]) as client:
        assert isinstance(await client.get("http://h/x"), Ok)
    assert echo.seen == ["GET /x"]
    assert interceptor.injector.report().attempts == 1


class _EveryOtherSecond(schedules.Schedule):
    """A schedule of a user's own: it implements fires() only."""

    def fires(self, tick: schedules.Tick) -> bool:
        return int(tick.elapsed) % 2 == 1 and tick.rule == "mine"


@pytest.mark.asyncio
async def test_a_schedule_of_your_own_sees_every_field_of_its_tick() -> None:
    clock = Clock()
    injector = FaultInjector(clock=clock)
    injector.on(name="mine").inject(faults.Status(503)).when(_EveryOtherSecond())
    got = []
    for now in (100.0, 101.0, 102.5, 103.2):
        clock.now = now
        got += await _outcomes(injector, [_request()])
    assert got == ["200", "503", "200", "503"]
    assert [(e.call, e.at) for e in injector.log] == [(1, 1.0), (3, pytest.approx(3.2))]


@pytest.mark.asyncio
async def test_a_rule_follows_a_new_schedule_and_a_new_seed() -> None:
    injector = FaultInjector(seed=1)
    rule = injector.on().inject(faults.Status(503)).first(1)
    assert await _outcomes(injector, [_request(), _request()]) == ["503", "200"]
    rule.when(schedules.Always())
    assert await _outcomes(injector, [_request()]) == ["503"]
    rule.when(schedules.Probability(0.5))
    runs = []
    for seed in (1, 2):
        injector.seed = seed
        injector.reset()
        expected = [
            "503" if rule.schedule.fires(schedules.Tick(i, seed=seed, rule="*")) else "200"
            for i in range(40)
        ]
        assert await _outcomes(injector, [_request() for _ in range(40)]) == expected
        runs.append(expected)
    assert runs[0] != runs[1]


@pytest.mark.asyncio
async def test_a_url_regex_ends_where_the_query_starts() -> None:
    injector = FaultInjector()
    injector.on(url=re.compile(r".*/items$"), name="items").inject(faults.Status(502))
    injector.on(url="*/users", name="users").inject(faults.Status(500))
    urls = ["http://h/items?page=2", "http://h/items/7", "http://h/users?id=1", "http://h/users/1"]
    got = await _outcomes(injector, [_request(url=url) for url in urls])
    assert got == ["502", "200", "500", "200"]


@pytest.mark.asyncio
async def test_time_windows_inside_or_and_not_follow_the_clock() -> None:
    clock = Clock()
    injector = FaultInjector(clock=clock)
    injector.on(name="early-or-window").inject(faults.Status(503)).when(
        schedules.First(1) | schedules.TimeWindow(10, 20)
    )
    injector.on(name="after-window").inject(faults.Status(500)).when(~schedules.TimeWindow(0, 30))
    got = []
    for now in (100.0, 105.0, 115.0, 125.0, 135.0):
        clock.now = now
        got += await _outcomes(injector, [_request()])
    assert got == ["503", "200", "503", "200", "500"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "schedule",
    [
        schedules.Probability(0.3),
        schedules.EveryNth(3) & schedules.Probability(0.5),
        schedules.EveryNth(70) & schedules.Probability(0.5),
        ~schedules.Probability(0.9),
    ],
    ids=repr,
)
async def test_the_engine_decides_as_the_schedule_s_own_fires(schedule: schedules.Schedule) -> None:
    # The engine draws 64 calls at a time; gaps and block edges must not show.
    injector = FaultInjector(seed=11)
    injector.on().inject(faults.Status(503)).when(schedule)
    got = await _outcomes(injector, [_request() for _ in range(300)])
    tick = schedules.Tick
    expected = ["503" if schedule.fires(tick(i, seed=11, rule="*")) else "200" for i in range(300)]
    assert got == expected


@pytest.mark.asyncio
async def test_deciding_per_request_draws_from_the_request_s_key() -> None:
    injector = FaultInjector(seed=11, decide_by="request")
    rule = injector.on().inject(faults.Status(503)).probability(0.5)
    requests = [_request(url=f"http://h/items/{i}?page=2") for i in range(100)]
    got = await _outcomes(injector, requests)
    keys = [f"GET /items/{i}?page=2 #0" for i in range(100)]
    expected = [
        "503" if rule.schedule.fires(schedules.Tick(0, seed=11, rule="*", key=key)) else "200"
        for key in keys
    ]
    assert got == expected
