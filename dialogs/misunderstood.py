"""Not understood: whatever the step (or none), the second message in a row the bot could
not read offers a person.

"In a row" is read from the transcript (`TranscriptService.misunderstood_before`): each
message not understood is marked on its own line, so anything understood in between (a
word, a button, a command) starts the count again, with no counter to reset anywhere.
"""

from __future__ import annotations

from aiogram.types import Message

from bot.services.container import Services
from bot.services.conversation.transcript import TranscriptBuffer
from bot.services.linking.identity import Identity
from bot.texts import Texts
from dialogs.cancellation.screens import offer_person


async def not_understood_again(
    message: Message,
    services: Services,
    identity: Identity,
    transcript: TranscriptBuffer,
    t: Texts,
    case_id: int = 0,
) -> None:
    """Mark this message as not understood (after answering it); if the one before was not
    understood either, offer a person (`case_id` 0: no case under way)."""
    transcript.mark_misunderstood()
    if await services.transcript.misunderstood_before(identity.conversation_id):
        await offer_person(message, t, case_id, misunderstood=True)
