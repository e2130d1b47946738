"""Deadline and DeadlineSlots: asyncio.timeout's contract on shared loop timers."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest
from fake_loop import FakeLoop

from httpdeck.client._deadlines import Deadline, DeadlineSlots


class Mark:
    def __init__(self) -> None:
        self.expired = False

    def _expire(self) -> None:
        self.expired = True


def _slots() -> tuple[FakeLoop, DeadlineSlots]:
    loop = FakeLoop()
    return loop, DeadlineSlots(cast(asyncio.AbstractEventLoop, loop))


def test_deadlines_in_one_slot_share_one_timer_and_fire_at_most_one_percent_late() -> None:
    loop, slots = _slots()
    marks = [Mark() for _ in range(100)]
    for mark in marks:
        slots.add(mark, 30.0)
    assert len(loop.timers) == 1
    loop.advance(29.999)
    assert not any(mark.expired for mark in marks)
    loop.advance(0.301)
    assert all(mark.expired for mark in marks)


def test_a_removed_deadline_never_fires_and_its_slot_timer_is_reused() -> None:
    loop, slots = _slots()
    first, second = Mark(), Mark()
    slot = slots.add(first, 1.0)
    slots.remove(first, slot)
    assert slots.add(second, 1.0) == slot
    assert len(loop.timers) == 1
    loop.advance(1.02)
    assert (first.expired, second.expired) == (False, True)


async def _hang() -> None:
    await asyncio.Event().wait()


@pytest.mark.asyncio
async def test_a_deadline_cancels_its_task_into_a_timeout_error() -> None:
    deadline = Deadline(0.01)
    with pytest.raises(TimeoutError), deadline:
        await _hang()
    assert deadline.expired
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0


@pytest.mark.asyncio
async def test_a_cancel_from_outside_stays_a_cancel() -> None:
    entered = asyncio.Event()

    async def guarded() -> None:
        with Deadline(60.0):
            entered.set()
            await _hang()

    task = asyncio.create_task(guarded())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.asyncio
async def test_nested_deadlines_the_outer_one_expiring_raises_from_the_outer_block() -> None:
    outer, inner = Deadline(0.01), Deadline(60.0)
    with pytest.raises(TimeoutError), outer, inner:
        await _hang()
    assert (outer.expired, inner.expired) == (True, False)


@pytest.mark.asyncio
async def test_a_deadline_left_in_time_changes_nothing() -> None:
    with Deadline(60.0) as deadline:
        await asyncio.sleep(0)
    assert not deadline.expired
