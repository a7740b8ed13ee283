"""What differs between SQLite and PostgreSQL in statements and schema, in one place.

PostgreSQL's dialect package imports all of its driver modules (~2 MiB resident): it is
imported here only for a PostgreSQL database, so a bot on SQLite never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData
from sqlalchemy.dialects import sqlite

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql


def conflict_insert(dialect: str, entity: Any) -> sqlite.Insert | postgresql.Insert:
    """An INSERT into `entity` that can say what to do on a conflict (`ON CONFLICT`)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        return insert(entity)
    return sqlite.insert(entity)


def partial_indexes_on_postgresql(metadata: MetaData) -> None:
    """Give PostgreSQL the `WHERE` of every partial index: the models state it for SQLite
    only (`sqlite_where`), since naming PostgreSQL's option imports its dialect. Called
    before a PostgreSQL engine is used (`storage.db.create_engine`); repeating it is
    harmless."""
    for table in metadata.tables.values():
        for index in table.indexes:
            where = index.dialect_options["sqlite"]["where"]
            if where is not None:
                index.dialect_options["postgresql"]["where"] = where
