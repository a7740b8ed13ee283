"""the language a person writes in; voucher redemptions; indexes for the merchant's feeds

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("telegram_users") as batch:
        batch.add_column(sa.Column("written_locale", sa.String(length=8), nullable=True))
    with op.batch_alter_table("vouchers") as batch:
        batch.add_column(sa.Column("redeem_event_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("redeemed_for", sa.String(length=64), nullable=True))
    op.create_index("uq_vouchers_redeem_event_id", "vouchers", ["redeem_event_id"], unique=True)
    op.create_index("ix_vouchers_created", "vouchers", ["created_at", "id"])
    op.create_index(
        "ix_cancellation_requests_updated", "cancellation_requests", ["updated_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_cancellation_requests_updated", table_name="cancellation_requests")
    op.drop_index("ix_vouchers_created", table_name="vouchers")
    op.drop_index("uq_vouchers_redeem_event_id", table_name="vouchers")
    with op.batch_alter_table("vouchers") as batch:
        batch.drop_column("redeemed_for")
        batch.drop_column("redeem_event_id")
    with op.batch_alter_table("telegram_users") as batch:
        batch.drop_column("written_locale")
