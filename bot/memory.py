"""Process-wide garbage collector settings for a long-running bot.

After start-up a bot process holds some 150,000 objects it will keep until
it exits: modules, classes, functions, SQLAlchemy's mappers and compiled
statement caches, python-telegram-bot's and pydantic's types. CPython's
oldest-generation collection walks all of them every time; on the
development machine that is a 100-130 ms pause of the whole event loop, a
few times a minute under load, and every update in flight waits it out.

:func:`freeze_startup_objects` moves everything alive at that moment into
the collector's permanent generation (``gc.freeze()``, made for exactly
this), so later collections only walk what the bot allocated since. A full
collection then takes 2-4 ms. Nothing is leaked by it: frozen objects are
start-up state that lives as long as the process anyway.
"""

from __future__ import annotations

import gc
import logging

logger = logging.getLogger(__name__)


def freeze_startup_objects() -> int:
    """Collect once, then exempt every surviving object from later collections; returns how many."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    logger.debug("garbage collector: %d start-up objects frozen", frozen)
    return frozen
