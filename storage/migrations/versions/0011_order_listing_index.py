"""order listing index: a customer's orders read for matching from the index alone

Matching a typed order number reads the id, number, date and last change of every order
a customer may see. The index on (customer_id, placed_at) found those orders, then each
row was read from the table; with the number and the last change in the index too, the
query reads the index alone on SQLite (the id is its row id). It replaces the old index,
whose columns lead the new one, so listings by date use it as before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 00:55:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_orders_customer_listing",
        "orders",
        ["customer_id", "placed_at", "number", "updated_at"],
    )
    op.drop_index("ix_orders_customer_placed", table_name="orders")


def downgrade() -> None:
    op.create_index("ix_orders_customer_placed", "orders", ["customer_id", "placed_at"])
    op.drop_index("ix_orders_customer_listing", table_name="orders")
