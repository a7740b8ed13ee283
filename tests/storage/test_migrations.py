"""The migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.wiring import AppDeps
from storage import migrate
from storage.migrate import HEAD, current_revision, downgrade, head_revision, upgrade
from storage.models import Base


async def test_migrated_schema_matches_the_models(deps: AppDeps) -> None:
    def differences(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
        return compare_metadata(context, Base.metadata)

    async with deps.engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == []
    assert await current_revision(deps.engine) == head_revision()


async def test_downgrade_to_base_and_up_again(deps: AppDeps) -> None:
    await downgrade(deps.engine, "base")
    assert await current_revision(deps.engine) is None
    await upgrade(deps.engine)
    assert await current_revision(deps.engine) == head_revision()


async def test_upgrade_is_idempotent(deps: AppDeps) -> None:
    await upgrade(deps.engine)
    await upgrade(deps.engine)
    assert await current_revision(deps.engine) == head_revision()


def test_the_head_start_up_checks_for_is_alembics_head() -> None:
    """`upgrade` skips Alembic on a database at `HEAD`: a new migration must move it."""
    assert head_revision() == HEAD


async def test_a_database_at_the_head_is_not_migrated_again(
    deps: AppDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_migration(*_: object) -> None:
        raise AssertionError("Alembic ran on a database already at the head")

    monkeypatch.setattr(migrate, "_run", no_migration)
    await upgrade(deps.engine)  # at the head already: one query, no Alembic
    monkeypatch.undo()

    await downgrade(deps.engine, "0007")
    await upgrade(deps.engine)  # one revision behind: migrated
    assert await current_revision(deps.engine) == HEAD
