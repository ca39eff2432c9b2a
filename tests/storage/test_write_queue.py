"""The writers' queue: urgent writers first, arrival order within a lane, and no writer lost to a cancellation."""

from __future__ import annotations

import asyncio

import pytest

from storage.write_queue import MAX_URGENT_IN_A_ROW, WriteQueue


async def test_urgent_writers_go_before_the_ordinary_ones_waiting_in_arrival_order() -> None:
    queue = WriteQueue()
    order: list[str] = []

    async def writer(name: str, *, urgent: bool) -> None:
        async with queue.urgent() if urgent else queue:
            order.append(name)
            await asyncio.sleep(0)

    await queue.acquire()
    tasks = [asyncio.create_task(writer(name, urgent=name.startswith("u"))) for name in ("a", "b", "u1", "c", "u2")]
    await asyncio.sleep(0.01)
    assert queue.waiting == 5
    queue.release()
    await asyncio.gather(*tasks)
    assert order == ["u1", "u2", "a", "b", "c"]
    assert not queue.locked()


async def test_a_writer_cancelled_while_waiting_leaves_the_queue_to_the_next() -> None:
    queue = WriteQueue()
    await queue.acquire()
    cancelled = asyncio.create_task(queue.acquire())
    after = asyncio.create_task(queue.acquire())
    await asyncio.sleep(0.01)
    cancelled.cancel()
    await asyncio.sleep(0)
    queue.release()
    await asyncio.wait_for(after, timeout=1)
    assert cancelled.cancelled() and queue.locked() and queue.waiting == 0
    queue.release()
    assert not queue.locked()


async def test_a_writer_cancelled_after_being_handed_the_queue_passes_it_on() -> None:
    queue = WriteQueue()
    await queue.acquire()
    handed = asyncio.create_task(queue.acquire())
    after = asyncio.create_task(queue.acquire())
    await asyncio.sleep(0.01)
    queue.release()  # handed to the first waiter, which has not run yet...
    handed.cancel()  # ...and is cancelled before it does
    with pytest.raises(asyncio.CancelledError):
        await handed
    await asyncio.wait_for(after, timeout=1)  # the queue went on to the next writer
    queue.release()
    assert not queue.locked()


async def test_release_without_a_holder_is_a_bug() -> None:
    with pytest.raises(RuntimeError, match="without a holder"):
        WriteQueue().release()


async def test_a_burst_of_urgent_writers_lets_a_waiting_ordinary_one_through_every_few() -> None:
    queue = WriteQueue()
    order: list[str] = []

    async def writer(name: str, *, urgent: bool) -> None:
        async with queue.urgent() if urgent else queue:
            order.append(name)

    await queue.acquire()
    tasks = [asyncio.create_task(writer("step", urgent=False))]
    tasks += [asyncio.create_task(writer(f"u{i}", urgent=True)) for i in range(MAX_URGENT_IN_A_ROW + 2)]
    await asyncio.sleep(0.01)
    queue.release()
    await asyncio.gather(*tasks)
    urgent_first = [f"u{i}" for i in range(MAX_URGENT_IN_A_ROW)]
    assert order == [*urgent_first, "step", f"u{MAX_URGENT_IN_A_ROW}", f"u{MAX_URGENT_IN_A_ROW + 1}"]
