"""no stacking: what an earlier offer gave is taken back by a later cancellation

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VOUCHER_FK = "fk_vouchers_taken_back_by_request_id_cancellation_requests"
_REFUND_FK = "fk_refunds_deducted_by_request_id_cancellation_requests"


def upgrade() -> None:
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("taken_back_at", storage.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("taken_back_by_request_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f(_VOUCHER_FK), "cancellation_requests", ["taken_back_by_request_id"], ["id"]
        )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deducted_by_request_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f(_REFUND_FK), "cancellation_requests", ["deducted_by_request_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(_REFUND_FK), type_="foreignkey")
        batch_op.drop_column("deducted_by_request_id")
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(_VOUCHER_FK), type_="foreignkey")
        batch_op.drop_column("taken_back_by_request_id")
        batch_op.drop_column("taken_back_at")
