"""misunderstood from the transcript: drop the case's counter

Two misunderstandings in a row are read from the transcript now (each message the bot
could not read is marked on its own line), at every step and with no case at all, so the
per-case counter is gone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ALTER TABLE (SQLite 3.35+ drops a column in place): batch mode would copy
    # the table, and dropping the old one fails while offers and tickets point at it.
    op.drop_column("support_cases", "misunderstood")


def downgrade() -> None:
    op.add_column(
        "support_cases",
        sa.Column("misunderstood", sa.Integer(), nullable=False, server_default="0"),
    )
