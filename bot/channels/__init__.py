"""Ways the outside world reaches the dispatcher: Telegram (polling, webhook) and the console."""
