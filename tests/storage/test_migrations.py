"""The migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.wiring import AppDeps
from storage.migrate import current_revision, downgrade, head_revision, upgrade
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
