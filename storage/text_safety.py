"""What is sent to the database never holds a NUL character, and errors never show values.

PostgreSQL refuses text containing U+0000 ("invalid byte sequence"), so a customer who
sends one (Telegram allows it) would lose a transcript line and a merchant would get a
500. Every string parameter is cleaned here, once, for every statement and both
databases, whatever path the text took (Telegram, the merchant API, an import file).

`hide_parameters` keeps SQL parameters (customer text, phone numbers) out of the
messages of SQLAlchemy's exceptions, and so out of logged tracebacks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

NUL = "\x00"


def without_nul(value: Any) -> Any:
    if isinstance(value, str) and NUL in value:
        return value.replace(NUL, "")
    return value


def _clean_row(row: Any) -> Any:
    """One statement's parameters, copied only when a string holds a NUL.

    The drivers here pass tuples (or dicts), so those are tested before the Mapping ABC.
    """
    if row is None:
        return row
    if isinstance(row, tuple | list):
        if any(isinstance(value, str) and NUL in value for value in row):
            return type(row)(without_nul(value) for value in row)
        return row
    named = isinstance(row, dict | Mapping)  # dict first: no walk for the common case
    if named and any(isinstance(value, str) and NUL in value for value in row.values()):
        return {key: without_nul(value) for key, value in row.items()}
    return row


def _clean(parameters: Any) -> Any:
    """A statement's parameters: one row, or several (a driver's executemany).

    Told apart by shape: SQLAlchemy's batched INSERT passes `executemany` with one flat
    row. The rows of an executemany are tuples or dicts with every driver here.
    """
    if isinstance(parameters, tuple | list) and any(
        isinstance(value, tuple | list | dict) for value in parameters
    ):
        rows = [_clean_row(row) for row in parameters]
        if all(new is old for new, old in zip(rows, parameters, strict=True)):
            return parameters
        return type(parameters)(rows)
    return _clean_row(parameters)


def strip_nul_characters(engine: AsyncEngine) -> None:
    """Install the cleaning on `engine` (storage.db.create_engine does it)."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute", retval=True)
    def _before(
        connection: Any,
        cursor: Any,
        statement: str,
        parameters: Sequence[Any] | Mapping[str, Any] | None,
        context: Any,
        executemany: bool,
    ) -> tuple[str, Any]:
        return statement, _clean(parameters)
