"""Fault schedules are pure: tested without an event loop."""

from __future__ import annotations

import pytest

from httpdeck.testing.schedules import (
    Always,
    Burst,
    EveryNth,
    First,
    Never,
    OnAttempt,
    Probability,
    Schedule,
    Sequence,
    Tick,
    TimeWindow,
)


def fired(schedule: Schedule, calls: int = 12, **tick: object) -> list[int]:
    """The call indexes (0-based) on which `schedule` fires."""
    return [i for i in range(calls) if schedule.fires(Tick(i, **tick))]  # type: ignore[arg-type]


def test_always_and_never() -> None:
    assert fired(Always(), 3) == [0, 1, 2]
    assert fired(Never(), 3) == []


def test_first_n_fires_on_the_first_calls_only() -> None:
    assert fired(First(2)) == [0, 1]
    assert fired(First(0)) == []


def test_every_nth_counts_from_one_and_takes_an_offset() -> None:
    assert fired(EveryNth(3)) == [2, 5, 8, 11]
    assert fired(EveryNth(3, offset=1)) == [0, 3, 6, 9]
    assert fired(EveryNth(1), 3) == [0, 1, 2]


def test_burst_fires_a_window_of_calls_and_can_repeat() -> None:
    assert fired(Burst(2, 3)) == [2, 3, 4]
    assert fired(Burst(1, 2, every=5)) == [1, 2, 6, 7, 11]


def test_time_window_reads_elapsed_time_from_the_tick() -> None:
    window = TimeWindow(10.0, 20.0)
    assert [
        t for t in (0.0, 9.99, 10.0, 15.0, 19.99, 20.0) if window.fires(Tick(0, elapsed=t))
    ] == [
        10.0,
        15.0,
        19.99,
    ]
    assert TimeWindow(5.0).fires(Tick(0, elapsed=1e9))


def test_sequence_follows_its_script_then_stays_quiet_or_cycles() -> None:
    assert fired(Sequence("fail", "fail", "ok"), 6) == [0, 1]
    assert fired(Sequence("ok", "fail", cycle=True), 6) == [1, 3, 5]
    assert repr(Sequence("fail", "ok", cycle=True)) == 'Sequence("fail", "ok", cycle=True)'


def test_on_attempt_reads_the_request_attempt() -> None:
    schedule = OnAttempt(0, 2)
    assert [a for a in range(4) if schedule.fires(Tick(7, attempt=a))] == [0, 2]


def test_probability_is_a_pure_function_of_seed_rule_and_call() -> None:
    schedule = Probability(0.3)
    first = fired(schedule, 500, seed=7, rule="orders")
    # The same seed gives the same calls, whatever order they are asked in.
    backwards = [i for i in reversed(range(500)) if schedule.fires(Tick(i, seed=7, rule="orders"))]
    assert first == sorted(backwards)
    assert first != fired(schedule, 500, seed=8, rule="orders")
    assert first != fired(schedule, 500, seed=7, rule="users")
    assert 120 <= len(first) <= 180  # 30 % of 500, give or take the draw


def test_probability_draws_are_pinned_so_a_seed_replays_after_an_upgrade() -> None:
    # The values httpdeck 0.1 drew: a changed hash would change every seeded test's faults.
    assert fired(Probability(0.3), 40, seed=7, rule="orders") == [1, 6, 8, 15, 23, 38]
    keyed = [i for i in range(40) if Probability(0.3).fires(Tick(i, seed=7, rule="o", key=f"k{i}"))]
    assert keyed == [3, 8, 12, 13, 17, 22, 25, 27, 29, 30, 33, 37]
    both = fired(Probability(0.5) & ~Probability(0.5), 40, seed=3, rule="r")
    assert both == [0, 1, 4, 6, 9, 13, 25, 27, 32]


def test_probability_keyed_per_request_ignores_the_call_index() -> None:
    schedule = Probability(0.5)
    keys = [f"GET http://h/items/{i} #0" for i in range(200)]
    decisions = [schedule.fires(Tick(i, key=key, seed=1)) for i, key in enumerate(keys)]
    shuffled = [schedule.fires(Tick(999 - i, key=key, seed=1)) for i, key in enumerate(keys)]
    assert decisions == shuffled


def test_probability_edges_and_bad_values() -> None:
    assert fired(Probability(0.0), 50) == []
    assert fired(Probability(1.0), 5) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match=r"0 <= p <= 1, got 1.5"):
        Probability(1.5)
    with pytest.raises(TypeError, match="between 0 and 1"):
        Probability("0.5")  # type: ignore[arg-type]


def test_schedules_compose_with_and_or_not() -> None:
    assert fired(First(4) & EveryNth(2)) == [1, 3]
    assert fired(First(2) | EveryNth(5)) == [0, 1, 4, 9]
    assert fired(~First(10)) == [10, 11]
    assert repr(First(1) & ~EveryNth(2)) == "(First(n=1) & ~EveryNth(n=2, offset=0))"
    assert repr(First(1) | Never()) == "(First(n=1) | Never())"


def test_both_sides_of_a_composition_draw_independently() -> None:
    both = fired(Probability(0.5) & Probability(0.5), 2000, seed=3)
    # Correlated draws would fire on ~50 % of calls; independent ones on ~25 %.
    assert 400 <= len(both) <= 600


def test_combining_with_a_non_schedule_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="both sides must be schedules"):
        First(1) & 3  # type: ignore[operator]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: First(-1), r"First\(n\) must be an integer >= 0, got -1"),
        (lambda: EveryNth(0), r"EveryNth\(n\) must be an integer >= 1, got 0"),
        (lambda: EveryNth(3, offset=3), "smaller than n=3"),
        (lambda: Burst(0, 3, every=2), r"Burst\(every\) must be an integer >= 3"),
        (lambda: TimeWindow(5, 5), "start < end"),
        (lambda: Sequence(), "at least one step"),
        (lambda: Sequence("fail", "boom"), "got 'boom'"),
        (lambda: OnAttempt(), "at least one attempt"),
    ],
)
def test_bad_schedule_arguments_say_what_is_wrong(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


def test_a_composition_gives_each_side_its_own_branch_of_the_tick() -> None:
    left, right = Probability(0.5), Probability(0.5)
    for call in range(50):
        tick = Tick(call, seed=4, rule="r")
        both = left.fires(tick.branch("L")) and right.fires(tick.branch("R"))
        assert (left & right).fires(tick) == both
