"""A faithful fake of the Telegram Bot API plus simulated people, for end-to-end bot tests.

Start it, point a real aiogram Bot at it, and act as the people the bot talks to::

    async with FakeTelegram() as fake, fake.bot() as bot:
        ann = fake.user(1001, "Ann", phone="+31600000001")
        ...  # run the dispatcher: polling on `bot`, or a webhook app + bot.set_webhook()
        await ann.send("/start")
        menu = await ann.next_message()
        await ann.press("Cancel order")
        done = await ann.expect("cancelled")

`fake.bot()` is `Bot(fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(
fake.base_url)))` with a session that closes without aiogram's TLS grace sleep.

- Reading: `next_message()` / `expect()` consume a per-conversation cursor over the bot's
  sends and edits (see conversation.py); `inbox`, `last` and `unread` only look.
- Waiting: never sleep in tests; `await fake.wait_for(lambda: ...)` re-checks after every
  API call or simulated action and fails with a dump of the recent calls.
- Faults: `fail_next`, `server_errors`, `block`, `RateLimits`, `fake.clock` (advance/freeze),
  `VirtualTime` (rate windows on the time a bot's limiter sleeps, for flood tests).
- Groups: `fake.group()` (a forum the bot administers), `fake.agent()`, `group.remove()`,
  `agent.delete_topic()` / `close_topic()`, getChatMember, copyMessages, albums, edits.
- Records: `fake.calls`, `calls_to()`, `sent_messages()`, `webhook_deliveries`,
  `unimplemented_calls`, `too_many_requests`, `dropped_updates`.
"""

from .client import LoopbackSession
from .clock import FakeClock, VirtualTime
from .conversation import Conversation
from .faults import RateLimits
from .html import TelegramHtmlError, parse_html
from .people import FakeAgent, FakeGroup, FakeUser
from .records import ApiCall, CallbackAnswer, Press, SentMessage, Topic, WebhookDelivery
from .server import CONFIGURED_SECRET, DEFAULT_TOKEN, FakeTelegram
from .webhook import DeliveryPolicy

__all__ = [
    "CONFIGURED_SECRET",
    "DEFAULT_TOKEN",
    "ApiCall",
    "CallbackAnswer",
    "Conversation",
    "DeliveryPolicy",
    "FakeAgent",
    "FakeClock",
    "FakeGroup",
    "FakeTelegram",
    "FakeUser",
    "LoopbackSession",
    "Press",
    "RateLimits",
    "SentMessage",
    "TelegramHtmlError",
    "Topic",
    "VirtualTime",
    "WebhookDelivery",
    "parse_html",
]
