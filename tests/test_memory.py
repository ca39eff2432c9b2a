"""Freezing start-up objects: later collections no longer walk them."""

from __future__ import annotations

import gc

from bot.memory import freeze_startup_objects


def test_freeze_startup_objects__takes_what_is_alive_out_of_later_collections() -> None:
    startup_state = [["unit", index] for index in range(1_000)]  # lists: always tracked by the collector
    try:
        frozen = freeze_startup_objects()
        assert frozen == gc.get_freeze_count() >= len(startup_state)
        walked = {id(item) for item in gc.get_objects()}
        assert not any(id(item) in walked for item in startup_state)
        created_later = ["unit", "new"]
        assert id(created_later) in {id(item) for item in gc.get_objects()}
    finally:
        gc.unfreeze()
