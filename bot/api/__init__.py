"""The HTTP side of the process: health, the Telegram webhook and the merchant API."""
