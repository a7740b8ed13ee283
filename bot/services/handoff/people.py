"""Plain values the handoff services take from the channels: a message, an agent."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RelayMessage:
    """A message to copy between a customer's chat and their topic, as Telegram gave it.

    `html` is the text or caption as Telegram HTML (aiogram's `Message.html_text`): the
    bot needs it only to sign an agent's message with their alias, and for the digest.
    """

    chat_id: int
    message_id: int
    kind: str
    text: str | None = None
    html: str | None = None
    media_group_id: str | None = None


@dataclass(frozen=True, slots=True)
class AgentRef:
    """A member of the agents' group acting now: their Telegram id and name."""

    user_id: int
    name: str

    @property
    def actor(self) -> str:
        """How refund events name them (bot.services.refunds.service.AGENT_ACTOR)."""
        return f"agent:{self.user_id}"
