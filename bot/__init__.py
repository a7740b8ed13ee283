"""Telegram customer-support bot for order cancellations and refunds."""
