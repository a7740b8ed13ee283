"""The shipped deployment files agree with the code: .env.example and the README list every
setting (with its real default), compose.yaml sets only real settings and wires the
services as the README says, the image runs as a non-root user with a health check, and
the systemd units start the commands that exist.

`docker compose config` needs a Compose client; .ci/run runs it when one is installed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import build_parser
from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {name.upper(): field for name, field in Settings.model_fields.items()}
COMPOSE_ONLY = {"POSTGRES_PASSWORD"}
_LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def env_example() -> dict[str, tuple[bool, str]]:
    """NAME → (commented out, value) for every setting line of .env.example."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    found = {}
    for line in lines:
        match = _LINE.match(line.strip())
        if match:
            found[match[2]] = (bool(match[1]), match[3])
    return found


def test_env_example_names_every_setting_and_nothing_else() -> None:
    assert set(env_example()) == set(SETTINGS) | COMPOSE_ONLY


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_a_commented_setting_shows_its_real_default(name: str) -> None:
    commented, value = env_example()[name]
    if not commented:
        return  # a value to fill in, checked by the next test
    default = SETTINGS[name].default
    if value == "" and default is None:
        return  # unset, as the setting's default is
    parsed = Settings(_env_file=None, **{name.lower(): value})  # type: ignore[call-arg]
    assert getattr(parsed, name.lower()) == default


def test_the_values_to_fill_in_are_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    assert settings.webhook_url == "https://bot.example.com"
    assert settings.bot_token is not None


def test_the_readme_configuration_table_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    assert set(SETTINGS) <= listed, sorted(set(SETTINGS) - listed)


def compose() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(document, dict)
    return document


def test_compose_runs_the_bot_on_postgres_and_redis_with_a_separate_worker() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "bot", "worker"}
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"]
    bot, worker = services["bot"], services["worker"]
    assert bot["command"] == ["run", "--workers", "2"]
    assert worker["command"] == ["worker"]
    assert bot["environment"]["BACKGROUND_JOBS"] == "false"  # the worker runs the jobs
    for service in (bot, worker):
        assert service["image"] == "cancelbot:latest"
        assert set(service["environment"]) <= set(SETTINGS), service["environment"]
        assert service["environment"]["DATABASE_URL"].startswith("postgresql://")
        assert service["environment"]["REDIS_URL"].startswith("redis://redis:")
        conditions = {dep: spec["condition"] for dep, spec in service["depends_on"].items()}
        assert conditions == {"postgres": "service_healthy", "redis": "service_healthy"}
    assert worker["healthcheck"] == {"disable": True}  # it serves no HTTP
    assert "${POSTGRES_PASSWORD:?" in (ROOT / "compose.yaml").read_text()


def test_the_image_runs_as_a_user_and_checks_its_health() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users
    assert users[-1] not in ("root", "0")
    healthcheck = re.search(r"^HEALTHCHECK .*?/healthz", dockerfile, re.MULTILINE | re.DOTALL)
    assert healthcheck
    assert 'ENTRYPOINT ["cancelbot"]' in dockerfile


def unit(name: str) -> dict[str, str]:
    values = {}
    for line in (ROOT / "deploy" / "systemd" / name).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values.setdefault(key, value)
    return values


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("cancelbot.service", ["run", "--workers", "2"]),
        ("cancelbot@.service", ["run"]),
        ("cancelbot-worker.service", ["worker"]),
    ],
)
def test_the_systemd_units_start_commands_that_exist(name: str, args: list[str]) -> None:
    values = unit(name)
    command = values["ExecStart"].split()
    assert command[0].endswith("/cancelbot")
    assert command[1:] == args
    build_parser().parse_args(command[1:])  # the command line accepts it
    assert values["User"] == "cancelbot"
    assert values["Restart"] == "on-failure"
    assert values["EnvironmentFile"] == "/etc/cancelbot/env"
