"""The command line at its edges, as an operator meets them: each ends with one clear line,
never a traceback, and nothing but `run`, `shell`, `seed-demo` and `db upgrade` creates
a database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import NOW, TEST_TOKEN

CANCELBOT = [sys.executable, "-m", "bot"]


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This test's own database file and nothing from the caller's configuration."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DATABASE_", "REDIS_", "WEBHOOK_", "LINK_", "MERCHANT_", "BOT_"))
        and name not in ("TELEGRAM_API_BASE", "API_PORT", "API_HOST", "TIMEZONE")
    }
    return {
        **kept,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def cancelbot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`cancelbot ARGS` as a separate process, as an operator runs it."""
    return subprocess.run(
        [*CANCELBOT, *args],
        env=environment(tmp_path, **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`cancelbot ARGS` in this process (the same `main`, without a second interpreter's
    start-up): exit code, stdout and stderr, as from a process."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("bot.cli.configure_logging", lambda *args: None)

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        with monkeypatch.context() as scoped:
            for name in set(os.environ) - set(environment(tmp_path)):
                scoped.delenv(name)
            for name, value in environment(tmp_path, **env).items():
                scoped.setenv(name, value)
            with pytest.raises(SystemExit) as ended:
                main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, int(ended.value.code or 0), out, err)

    return run


def one_line(process: subprocess.CompletedProcess[str]) -> str:
    """The whole of stderr, which must be one line and no traceback."""
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1, process.stderr
    assert "Traceback" not in process.stderr
    return lines[0]


# -- cancelbot run ---------------------------------------------------------------------------------


@pytest.mark.slow  # a whole process of its own
def test_run_with_telegram_unreachable_ends_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nobody = closed.getsockname()[1]  # free again once closed: nothing listens there
    done = cancelbot(
        tmp_path,
        "run",
        BOT_TOKEN=TEST_TOKEN,
        TELEGRAM_API_BASE=f"http://127.0.0.1:{nobody}",
        API_PORT="0",
    )
    assert done.returncode == 1
    assert one_line(done).startswith(f"cannot reach Telegram at http://127.0.0.1:{nobody}: ")


def test_run_with_the_port_taken_ends_with_one_line(
    tmp_path: Path, command: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = command("run", BOT_TOKEN=TEST_TOKEN, API_HOST="127.0.0.1", API_PORT=str(port))
    assert done.returncode == 1
    assert one_line(done) == (
        f"cannot serve HTTP on 127.0.0.1:{port}: address already in use "
        "(set API_HOST/API_PORT, or stop what uses it)"
    )


# -- output into a pipe ----------------------------------------------------------------------------


@pytest.mark.slow  # a whole process of its own
def test_the_schema_into_head_ends_quietly(tmp_path: Path) -> None:
    done = subprocess.run(
        f"{sys.executable} -m bot import --schema | head -n 2",
        shell=True,
        env=environment(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout.splitlines()[0] == "{"
    assert done.stderr == ""  # no BrokenPipeError, no "Exception ignored"


# -- no database created by accident ---------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("import", "shop.json"),
        ("policy", "check", "SO-1", "--reason", "changed_mind"),
        ("link", "C1"),
        ("refund-event", "1", "processing"),
        ("db", "downgrade", "base"),
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_commands_that_need_the_shop_say_there_is_none_and_create_none(
    tmp_path: Path,
    args: tuple[str, ...],
    command: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    (tmp_path / "shop.json").write_text('{"customers": []}', encoding="utf-8")
    env = {"LINK_SECRET": "l" * 32, "BOT_USERNAME": "shop_bot"}
    done = command(*args, **env)
    assert done.returncode == 1
    assert one_line(done).startswith(f"there is no cancelbot database at {tmp_path / 'shop.db'}")
    assert not (tmp_path / "shop.db").exists()


def test_db_current_says_none_and_db_upgrade_creates_it(
    tmp_path: Path, command: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    current = command("db", "current")
    assert (current.returncode, current.stdout.startswith("applied: none;")) == (0, True)
    assert not (tmp_path / "shop.db").exists()
    assert command("db", "upgrade").returncode == 0
    assert (tmp_path / "shop.db").exists()
    # An existing database, empty or not, is the shop's: the others may use it now.
    assert command("import", "shop.json").returncode != 0  # no such file: 1 line
    (tmp_path / "shop.json").write_text('{"customers": []}', encoding="utf-8")
    assert command("import", "shop.json").returncode == 0


def test_a_short_secret_stops_every_command_at_start(
    tmp_path: Path, command: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    done = command("db", "current", MERCHANT_API_SECRET="too-short")
    assert done.returncode == 2
    assert one_line(done).startswith("configuration error: MERCHANT_API_SECRET: ")
    assert "too-short" not in done.stderr


# -- import reports every problem at once ----------------------------------------------------------


def test_import_reports_every_error_of_the_file_in_one_run(
    tmp_path: Path, command: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    placed = NOW.isoformat()
    document = {
        "customers": [{"id": "C1", "name": "Ann", "phone": "12345"}],
        "orders": [
            {
                "number": "SO-1",
                "customer_id": "C1",
                "status": "paid",
                "currency": "CNY",
                "payment_method": "card",
                "shipping_fee": 1.5,
                "placed_at": placed,
                "paid_at": placed,
                "items": [
                    {
                        "sku": "A",
                        "name": "A",
                        "category": "home",
                        "quantity": 1,
                        "unit_price": "1.999",
                    }
                ],
            }
        ],
        "orderz": [],
    }
    (tmp_path / "shop.json").write_text(json.dumps(document), encoding="utf-8")
    assert command("db", "upgrade").returncode == 0
    done = command("import", "shop.json")
    assert done.returncode == 1
    assert [line.split(":", 1)[0] for line in done.stderr.strip().splitlines()] == [
        "error 'orderz'",
        "error customers[0] (C1).phone",
        "error orders[0] (SO-1).shipping_fee",
        "error orders[0] (SO-1).items[0].unit_price",
        "error orders[0] (SO-1).customer_id",
    ]


# -- policy check ----------------------------------------------------------------------------------


def test_policy_check_asks_for_the_condition_and_prints_no_approval_for_a_refusal(
    tmp_path: Path, command: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    delivered = NOW - timedelta(days=2)
    document = {
        "customers": [{"id": "C1", "name": "Ann", "phone": "+86 138 0000 0001"}],
        "orders": [
            {
                "number": "SO-1002345",
                "customer_id": "C1",
                "status": "delivered",
                "currency": "CNY",
                "payment_method": "card",
                "placed_at": (delivered - timedelta(days=2)).isoformat(),
                "paid_at": (delivered - timedelta(days=2)).isoformat(),
                "shipped_at": (delivered - timedelta(days=1)).isoformat(),
                "delivered_at": delivered.isoformat(),
                "items": [
                    {
                        "sku": "L",
                        "name": "Lamp",
                        "category": "home",
                        "quantity": 1,
                        "unit_price": "120.00",
                    }
                ],
            }
        ],
    }
    (tmp_path / "shop.json").write_text(json.dumps(document), encoding="utf-8")
    assert command("db", "upgrade").returncode == 0
    assert command("import", "shop.json").returncode == 0
    at = ("--at", NOW.isoformat())

    asked = command("policy", "check", "so1002345", "--reason", "changed_mind", *at)
    assert asked.returncode == 2
    assert asked.stdout.strip() == (
        "SO-1002345: the item's condition decides (rule delivered_unopened); "
        "give --condition (unopened, opened, damaged)"
    )

    refused = command("policy", "check", "SO 1002345", "--reason", "changed_mind",
        "--condition", "opened", *at,
    )  # fmt: skip
    assert refused.returncode == 0
    assert refused.stdout.strip() == "SO-1002345: not eligible (rule delivered_opened)"

    granted = command("policy", "check", "#SOIOO2345", "--reason", "changed_mind",
        "--condition", "unopened", *at,
    )  # fmt: skip
    assert "approval: automatic" in granted.stdout
    assert "eligible (rule delivered_unopened)" in granted.stdout


def test_policy_check_names_what_a_mixed_order_leaves_out(
    tmp_path: Path, command: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """A kettle may go back, strawberries may not: the kettle is refunded, and the check
    says the strawberries are left out and by which rule."""
    delivered = NOW - timedelta(days=2)
    line = {"category": "home", "quantity": 1, "unit_price": "199.00"}
    document = {
        "customers": [{"id": "C1", "name": "Ann", "phone": "+86 138 0000 0001"}],
        "orders": [
            {
                "number": "SO-1002351",
                "customer_id": "C1",
                "status": "delivered",
                "currency": "CNY",
                "payment_method": "card",
                "placed_at": (delivered - timedelta(days=2)).isoformat(),
                "paid_at": (delivered - timedelta(days=2)).isoformat(),
                "shipped_at": (delivered - timedelta(days=1)).isoformat(),
                "delivered_at": delivered.isoformat(),
                "items": [
                    {**line, "sku": "EK-17", "name": "Electric Kettle"},
                    {**line, "sku": "FD-STRAW", "name": "Strawberries", "quantity": 2,
                     "category": "food_perishable", "unit_price": "39.90"},
                ],
            }
        ],
    }  # fmt: skip
    (tmp_path / "shop.json").write_text(json.dumps(document), encoding="utf-8")
    assert command("db", "upgrade").returncode == 0
    assert command("import", "shop.json").returncode == 0

    checked = command("policy", "check", "SO-1002351", "--reason", "changed_mind",
        "--condition", "unopened", "--at", NOW.isoformat(),
    )  # fmt: skip
    assert checked.returncode == 0
    lines = checked.stdout.splitlines()
    assert lines[:2] == [
        "SO-1002351: eligible (rule delivered_unopened)",
        "left out (rule non_returnable): FD-STRAW ×2",
    ]
    assert "199.00" in checked.stdout
