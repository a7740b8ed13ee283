"""Start-up: the process imports with the collector paused, and loads Redis only to use it."""

from __future__ import annotations

import gc
import subprocess
import sys

from bot.startup import collector_paused


def test_the_collector_is_paused_in_the_block_then_resumed_with_what_exists_frozen() -> None:
    assert gc.isenabled()
    frozen_before = gc.get_freeze_count()
    try:
        with collector_paused():
            assert not gc.isenabled()
            kept = [[index] for index in range(1_000)]  # tracked objects built meanwhile
        assert gc.isenabled()
        assert gc.get_freeze_count() >= frozen_before + len(kept)
    finally:
        gc.unfreeze()  # this test process goes on collecting as before


def test_a_nested_pause_leaves_the_collector_as_it_found_it() -> None:
    try:
        with collector_paused():
            with collector_paused():
                pass
            assert not gc.isenabled()  # the inner block did not resume it
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_without_redis_url_the_running_bot_never_imports_redis() -> None:
    """redis and aiogram's Redis storage (~7 MiB) load only when REDIS_URL is set."""
    probe = (
        "import sys\n"
        "import bot.api.app, bot.channels.telegram, bot.cli, bot.erasure, bot.wiring\n"
        "print(sorted(m for m in sys.modules if m == 'redis' or m.startswith('redis.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"
