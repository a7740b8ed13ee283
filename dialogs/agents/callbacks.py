"""Callback data of the case card's buttons: ids only, handled in the agents' group only.

Whoever presses, the handler checks they are an agent (bot.channels.agent_group) and the
service loads the case and the refund again: a button from an old card, or tampered
data, changes nothing it should not.
"""

from aiogram.filters.callback_data import CallbackData

from bot.services.handoff.card import CardButton


class AgentCallback(CallbackData, prefix="ag1"):
    handoff_id: int
    action: CardButton
    refund_id: int = 0
