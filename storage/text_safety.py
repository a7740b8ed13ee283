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


def _clean(parameters: Any) -> Any:
    if isinstance(parameters, Mapping):
        if any(isinstance(v, str) and NUL in v for v in parameters.values()):
            return {key: without_nul(value) for key, value in parameters.items()}
        return parameters
    if isinstance(parameters, tuple | list):
        if any(isinstance(v, tuple | list | Mapping) for v in parameters):  # executemany
            return type(parameters)(_clean(row) for row in parameters)
        if any(isinstance(v, str) and NUL in v for v in parameters):
            return type(parameters)(without_nul(value) for value in parameters)
    return parameters


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
