"""case stage: where within a step the case stands, kept on the case instead of the FSM

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column: SQLite adds it in place, no table copy.
    op.add_column("support_cases", sa.Column("stage", sa.String(length=24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("support_cases", schema=None) as batch_op:
        batch_op.drop_column("stage")
