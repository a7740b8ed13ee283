"""Conversation state survives a restart, in the database or in Redis."""

from __future__ import annotations

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.config import Settings
from bot.wiring import AppDeps, build_deps
from dialogs.states import LinkFlow
from tests.conftest import NOW

KEY = StorageKey(bot_id=42, chat_id=1001, user_id=1001)
OTHER = StorageKey(bot_id=42, chat_id=1002, user_id=1002)


async def test_state_and_data_survive_a_new_process(deps: AppDeps, settings: Settings) -> None:
    await deps.fsm_storage.set_state(KEY, LinkFlow.guest_secret)
    await deps.fsm_storage.set_data(KEY, {"guest_order": "SO-1", "n": 3, "nested": {"a": [1]}})

    restarted = build_deps(settings)
    try:
        assert await restarted.fsm_storage.get_state(KEY) == LinkFlow.guest_secret.state
        assert await restarted.fsm_storage.get_data(KEY) == {
            "guest_order": "SO-1",
            "n": 3,
            "nested": {"a": [1]},
        }
        assert await restarted.fsm_storage.get_state(OTHER) is None
        assert await restarted.fsm_storage.get_data(OTHER) == {}
    finally:
        await restarted.close()


async def test_clearing(deps: AppDeps) -> None:
    await deps.fsm_storage.set_state(KEY, "LinkFlow:guest_order_number")
    await deps.fsm_storage.set_data(KEY, {"x": 1})
    await deps.fsm_storage.set_state(KEY, None)
    await deps.fsm_storage.set_data(KEY, {})
    assert await deps.fsm_storage.get_state(KEY) is None
    assert await deps.fsm_storage.get_data(KEY) == {}


async def test_data_that_is_not_json_is_refused(deps: AppDeps) -> None:
    with pytest.raises(TypeError):
        await deps.fsm_storage.set_data(KEY, {"when": NOW})


async def test_update_data_merges(deps: AppDeps) -> None:
    await deps.fsm_storage.set_data(KEY, {"a": 1})
    merged = await deps.fsm_storage.update_data(KEY, {"b": 2})
    assert merged == {"a": 1, "b": 2}
    assert await deps.fsm_storage.get_data(KEY) == {"a": 1, "b": 2}
