"""voided vouchers: an unused voucher is taken back when its order is cancelled after all

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("voided_at", storage.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("voided_by_request_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_vouchers_voided_by_request_id_cancellation_requests"),
            "cancellation_requests",
            ["voided_by_request_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_vouchers_voided_by_request_id_cancellation_requests"),
            type_="foreignkey",
        )
        batch_op.drop_column("voided_by_request_id")
        batch_op.drop_column("voided_at")
