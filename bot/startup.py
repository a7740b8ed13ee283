"""Start-up with the garbage collector paused, and what it built frozen.

Importing aiogram, SQLAlchemy and the bot creates some 380,000 objects that live as long
as the process (classes, pydantic and SQL schemas). With the collector on, Python walks
them in several full collections while they are being built (about a quarter of the
bot's start on the benchmark machine, `BENCHMARKS.md`), and again in every later full
collection (one over them took ~0.3 s there, the event loop stopped meanwhile). So the
process's imports run with the collector paused, and what they built is then frozen
(`gc.freeze`): later collections skip it. What the imports leave as garbage is small
(~2,300 objects when measured) and stays.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the collector for the block; then freeze what exists and resume it.

    Nested or with the collector already off, it leaves the collector as it found it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()
