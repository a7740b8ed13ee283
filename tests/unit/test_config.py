from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"


def test_defaults_work_without_any_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("BOT_TOKEN", "DATABASE_URL", "REDIS_URL", "WEBHOOK_URL", "DEFAULT_LOCALE"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.bot_token is None
    assert settings.database_url == "sqlite+aiosqlite:///cancelbot.db"
    assert settings.telegram_api_base == "https://api.telegram.org"


def test_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    (tmp_path / ".env").write_text(f"BOT_TOKEN={TOKEN}\nTELEGRAM_API_BASE=http://127.0.0.1:8081/\n")
    settings = load_settings()
    assert settings.bot_token is not None
    assert settings.bot_token.get_secret_value() == TOKEN
    assert settings.telegram_api_base == "http://127.0.0.1:8081"


def test_each_bad_value_gets_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "not-a-token")
    monkeypatch.setenv("API_PORT", "99999")
    monkeypatch.setenv("DATABASE_URL", "mysql://x")
    monkeypatch.setenv("WEBHOOK_SECRET", "has spaces")
    monkeypatch.setenv("TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("DEFAULT_LOCALE", "fr")
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    names = sorted(line.split(":", 1)[0] for line in caught.value.lines)
    assert names == [
        "API_PORT", "BOT_TOKEN", "DATABASE_URL", "DEFAULT_LOCALE", "TIMEZONE", "WEBHOOK_SECRET",
    ]  # fmt: skip
    assert all("\n" not in line for line in caught.value.lines)
    assert "not-a-token" not in str(caught.value)


def test_plain_urls_get_the_async_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    assert (
        load_settings(_env_file=None).database_url == "postgresql+asyncpg://postgres@127.0.0.1/test"
    )
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.db")
    assert load_settings(_env_file=None).database_url == "sqlite+aiosqlite:///x.db"


def test_the_watchdog_sweeps_every_five_minutes_unless_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WATCHDOG_INTERVAL_SECONDS", raising=False)
    assert load_settings(_env_file=None).watchdog_interval_seconds == 300
    monkeypatch.setenv("WATCHDOG_INTERVAL_SECONDS", "0")
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    assert caught.value.lines == ["WATCHDOG_INTERVAL_SECONDS: Input should be greater than 0"]


@pytest.mark.parametrize("name", ["LINK_SECRET", "MERCHANT_API_SECRET"])
def test_a_secret_shorter_than_32_bytes_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "s" * 31)
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    [line] = caught.value.lines
    assert line.startswith(f"{name}: ")
    assert "at least 32 bytes, this one has 31" in line
    assert "s" * 31 not in line  # the secret itself is never printed
    monkeypatch.setenv(name, "秘" * 11)  # 33 bytes in UTF-8
    assert load_settings(_env_file=None)


def test_times_are_shown_in_the_policys_zone_unless_timezone_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TIMEZONE", raising=False)
    assert load_settings(_env_file=None).timezone is None
    monkeypatch.setenv("TIMEZONE", "Europe/Paris")
    assert load_settings(_env_file=None).timezone == "Europe/Paris"
