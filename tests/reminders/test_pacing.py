"""The pacer on a virtual clock: even spacing, per-chat turns, flood waits and recovery."""

from __future__ import annotations

import pytest

from bot.pacing import RATE_DECREASE, Pacer, PacingPolicy


class VirtualTime:
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def pacer(clock: VirtualTime, rate: float = 28.0) -> Pacer:
    return Pacer(rate=rate, per_chat_interval=1.1, monotonic=clock.monotonic, sleep=clock.sleep)


async def test_slots__are_evenly_spaced_so_no_second_holds_more_than_the_rate_plus_one() -> None:
    clock = VirtualTime()
    subject = pacer(clock)
    times = []
    for _ in range(200):
        await subject.slot()
        times.append(clock.now)
    gaps = {round(b - a, 6) for a, b in zip(times, times[1:], strict=False)}
    assert gaps == {round(1 / 28, 6)}
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) == 28


async def test_chat_turn__one_chat_waits_its_interval_and_says_it_waited() -> None:
    clock = VirtualTime()
    subject = pacer(clock)
    assert await subject.chat_turn(7) is False
    assert await subject.chat_turn(8) is False
    start = clock.now
    assert await subject.chat_turn(7) is True
    assert abs(clock.now - start - 1.1) < 1e-9


async def test_pause__holds_every_slot_slows_down_once_per_flood_wait_then_recovers() -> None:
    clock = VirtualTime()
    subject = pacer(clock)
    await subject.slot()
    subject.pause(1.0)
    subject.pause(1.0)  # a sibling 429 of the same burst: no second slowdown
    paused_at = clock.now
    await subject.slot()
    assert clock.now >= paused_at + 1.0
    assert subject.rate() == 28 * RATE_DECREASE
    clock.now += 20  # twenty quiet seconds
    assert subject.rate() == 28


async def test_policy__a_pacer_for_a_channels_policy_keeps_its_per_recipient_interval() -> None:
    clock = VirtualTime()
    subject = Pacer.for_policy(
        PacingPolicy(rate=100.0, per_recipient_interval=2.0), monotonic=clock.monotonic, sleep=clock.sleep
    )  # WeCom-like: 30 a minute to one member
    await subject.turn("zhangsan")
    start = clock.now
    await subject.turn("lisi")
    assert clock.now - start < 0.1  # another member: only the overall spacing
    await subject.turn("zhangsan")
    assert abs(clock.now - start - 2.0) < 0.02
    with pytest.raises(ValueError, match="pacing rate 0: must be positive"):
        PacingPolicy(rate=0, per_recipient_interval=1.0)
