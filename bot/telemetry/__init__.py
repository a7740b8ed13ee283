"""The bot's own health: Prometheus metrics (`/metrics`) and readiness (`/readyz`)."""

from bot.telemetry.metrics import Telemetry

__all__ = ["Telemetry"]
