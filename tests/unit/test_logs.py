import json
import logging

from bot.logs import JsonFormatter, mask


def test_secrets_and_personal_data_are_masked() -> None:
    line = (
        "POST https://api.telegram.org/bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage "
        "from ann.lee@example.com phone +86 138 0013 8000 secret=abc123 chat=1234567890"
    )
    masked = mask(line)
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in masked
    assert "ann.lee@" not in masked
    assert "a***@example.com" in masked
    assert "138 0013" not in masked
    assert masked.count("8000") == 1
    assert "abc123" not in masked
    assert "chat=1234567890" in masked  # ids are kept: they are how operators find an update


def test_json_lines() -> None:
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "user %s", ("x@y.io",), None)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "INFO"
    assert entry["message"] == "user x***@y.io"
