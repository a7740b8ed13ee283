"""The group commit (storage.group_commit): many updates' late writes in one transaction,
kept through an outage, and a write that can never succeed holding back no other."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.wiring import AppDeps
from storage.group_commit import GroupCommit
from storage.uow import UnitOfWork


@dataclass(eq=False)
class Note:
    """A deferred write that records what was written, and fails when told to."""

    name: str
    broken: bool = False
    settled_times: int = 0
    written: ClassVar[list[list[str]]] = []
    """Each transaction's names."""
    database_away: ClassVar[bool] = False

    @classmethod
    async def write_all(cls, uow: UnitOfWork, items: Sequence[Note]) -> None:
        if cls.database_away:
            raise OperationalError("INSERT", None, ConnectionRefusedError("refused"))
        if any(item.broken for item in items):
            raise IntegrityError("INSERT", None, ValueError("never fits"))
        cls.written.append([item.name for item in items])

    def settled(self) -> None:
        self.settled_times += 1


@pytest.fixture
def group(deps: AppDeps) -> GroupCommit:
    Note.written, Note.database_away = [], False
    return GroupCommit(deps.session_factory, flush_after=60)  # flushed by hand below


async def test_many_writes_go_in_one_transaction_and_are_settled_once(group: GroupCommit) -> None:
    notes = [Note(f"n{i}") for i in range(5)]
    group.defer(notes[:2])
    group.defer(notes[2:])
    assert group.pending() == notes
    await group.flush()
    assert Note.written == [["n0", "n1", "n2", "n3", "n4"]]
    assert [note.settled_times for note in notes] == [1] * 5
    assert group.pending() == []
    await group.close()


async def test_an_outage_keeps_the_batch_for_the_next_try(group: GroupCommit) -> None:
    first = Note("first")
    group.defer([first])
    Note.database_away = True
    with pytest.raises(OperationalError):
        await group.flush()
    assert group.pending() == [first]
    assert first.settled_times == 0
    Note.database_away = False
    second = Note("second")
    group.defer([second])
    await group.close()  # a graceful stop writes what is left
    assert Note.written == [["first", "second"]]
    assert (first.settled_times, second.settled_times) == (1, 1)


async def test_a_write_that_can_never_succeed_holds_back_no_other(group: GroupCommit) -> None:
    good, bad, later = Note("good"), Note("bad", broken=True), Note("later")
    group.defer([good, bad, later])
    await group.flush()  # the batch fails, then each goes alone
    assert Note.written == [["good"], ["later"]]
    assert [note.settled_times for note in (good, bad, later)] == [1, 1, 1]
    assert group.pending() == []
    await group.close()
