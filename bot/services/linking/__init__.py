"""Who is writing: linking a Telegram account to a customer (contact, signed link, guest check)."""
