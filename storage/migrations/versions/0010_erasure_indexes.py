"""erasure indexes: what an erasure finds by customer or by Telegram account

Erasing a customer finds their rows by customer id or by each Telegram account they
used, in conversations, tickets, cases, topics, relayed messages, surveys, the outbox,
link-token uses and guest access; deleting the account makes the database check the
cases and tickets that name it. Those columns had no index, so one erasure read each of
those tables in full: its time, and the write lock it holds meanwhile, grew with every
conversation the shop ever had.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 15:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = (
    ("ix_conversations_customer_id", "conversations", "customer_id"),
    ("ix_tickets_customer_id", "tickets", "customer_id"),
    ("ix_tickets_telegram_user_id", "tickets", "telegram_user_id"),
    ("ix_support_cases_telegram_user_id", "support_cases", "telegram_user_id"),
    ("ix_guest_access_order_id", "guest_access", "order_id"),
    ("ix_agent_topics_chat_id", "agent_topics", "chat_id"),
    ("ix_relayed_messages_copy_chat_id", "relayed_messages", "copy_chat_id"),
    ("ix_surveys_chat_id", "surveys", "chat_id"),
    ("ix_outbox_chat_id", "outbox", "chat_id"),
    ("ix_outbox_customer_id", "outbox", "customer_id"),
    ("ix_link_token_uses_telegram_user_id", "link_token_uses", "telegram_user_id"),
)


def upgrade() -> None:
    for name, table, column in _INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
