"""lookup indexes: a request's or an offer's order, a Telegram user's conversations,
the requests naming an order item

The first three are looked up on the conversation's path (is the order already being
cancelled, what was given for it, whose conversations a contact links), the last when
an import drops an order's item (and by PostgreSQL's check of the foreign key). None had
an index of its own, so every lookup read the whole table: its cost grew with the
shop's history.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 13:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = (
    ("ix_cancellation_requests_order_id", "cancellation_requests", "order_id"),
    ("ix_offers_order_id", "offers", "order_id"),
    ("ix_conversations_telegram_user_id", "conversations", "telegram_user_id"),
    ("ix_cancellation_items_order_item_id", "cancellation_items", "order_item_id"),
)


def upgrade() -> None:
    for name, table, column in _INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
