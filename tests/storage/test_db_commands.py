"""`cancelbot db upgrade|current|downgrade` on a new SQLite file, as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage.migrate import head_revision


def cancelbot(database: Path, *args: str) -> str:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))},
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "db", *args],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return done.stdout.strip()


@pytest.mark.slow  # a whole process of its own
def test_upgrade_current_and_downgrade(tmp_path: Path) -> None:
    database = tmp_path / "ops.db"
    head = head_revision()
    assert cancelbot(database, "current") == f"applied: none; newest: {head}"
    assert cancelbot(database, "upgrade") == f"database at revision {head}"
    assert cancelbot(database, "current") == f"applied: {head}; newest: {head}"
    assert cancelbot(database, "downgrade", "base") == "database at revision none"
    assert cancelbot(database, "current") == f"applied: none; newest: {head}"
