"""Per-update plumbing: logging, the unit of work, who is writing, the transcript."""

from bot.middlewares.identity import IdentityMiddleware
from bot.middlewares.transcript import OutgoingTranscript, TranscriptMiddleware
from bot.middlewares.unit_of_work import UnitOfWorkMiddleware, UpdateCommitMiddleware
from bot.middlewares.update_log import HandlerTraceMiddleware, UpdateLogMiddleware, UpdateTrace

__all__ = [
    "HandlerTraceMiddleware",
    "IdentityMiddleware",
    "OutgoingTranscript",
    "TranscriptMiddleware",
    "UnitOfWorkMiddleware",
    "UpdateCommitMiddleware",
    "UpdateLogMiddleware",
    "UpdateTrace",
]
