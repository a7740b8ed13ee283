"""What every API method handler works with: the fake's state and its options."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .clock import FakeClock
from .params import Params
from .recording import CallLog
from .updates import UpdateQueue
from .webhook import Webhook
from .world import World


@dataclass
class Backend:
    """The fake Telegram behind the HTTP layer."""

    world: World
    updates: UpdateQueue
    webhook: Webhook
    clock: FakeClock
    log: CallLog
    strict_html: bool = True


Handler = Callable[[Backend, Params], Awaitable[Any]]
"""An API method: validates its parameters, changes state, returns the `result`."""
