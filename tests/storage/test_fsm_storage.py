"""Conversation state survives a restart, in the database or in Redis; within an
update it is read with the sender, in one query."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import event

from bot.config import Settings
from bot.services.linking.identity import Sender
from bot.wiring import AppDeps, build_deps
from dialogs.states import LinkFlow
from storage.fsm import SqlAlchemyStorage
from storage.uow import UpdateUnitOfWork
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


async def test_a_private_chat_reads_its_state_and_its_sender_in_one_query(deps: AppDeps) -> None:
    """The FSM row comes with the account, its customer and conversation: the identity
    that follows costs no query of its own."""
    sender = Sender(user_id=KEY.user_id, chat_id=KEY.chat_id, first_name="Ann")
    async with UpdateUnitOfWork(deps.session_factory) as uow:
        await deps.services(uow).identity.resolve(sender)  # the account and conversation
        await uow.commit()
    storage = SqlAlchemyStorage(deps.session_factory)  # REDIS_URL may set another
    await storage.set_state(KEY, LinkFlow.guest_secret)

    with statements(deps) as seen:
        async with UpdateUnitOfWork(deps.session_factory) as uow:
            assert await storage.get_state(KEY) == LinkFlow.guest_secret.state
            identity = await deps.services(uow).identity.resolve(sender)
    assert identity.user_id == KEY.user_id
    assert len(seen) == 1
    assert "telegram_users" in seen[0]
    assert "fsm_states" in seen[0]


async def test_a_group_reads_its_state_alone(deps: AppDeps) -> None:
    in_group = StorageKey(bot_id=42, chat_id=-100_555, user_id=KEY.user_id)
    storage = SqlAlchemyStorage(deps.session_factory)
    await storage.set_state(in_group, "AgentFlow:replying")

    with statements(deps) as seen:
        async with UpdateUnitOfWork(deps.session_factory):
            assert await storage.get_state(in_group) == "AgentFlow:replying"
    assert len(seen) == 1
    assert "telegram_users" not in seen[0]


@contextlib.contextmanager
def statements(deps: AppDeps) -> Iterator[list[str]]:
    """The SQL statements run on the engine while inside."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA")):
            seen.append(statement)

    engine = deps.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
