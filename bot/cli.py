"""`cancelbot` command line: parsing and wiring only; the work is done by services.

Every command that touches the database first brings its schema up to date, so a
fresh machine needs no separate migration step (`cancelbot db upgrade` does only that).
Heavy modules (aiogram, SQLAlchemy) are imported inside the commands that need them,
so `cancelbot --help` answers at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import os
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging
from bot.services.policy import PolicyError
from bot.startup import collector_paused
from storage.enums import ItemCondition, ReasonCode, RefundStatus

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.wiring import AppDeps

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]
EXIT_BROKEN_PIPE = 141  # what a shell reports for a command its reader stopped (128 + SIGPIPE)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cancelbot",
        description="Telegram support bot for order cancellations and refunds.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="serve Telegram (polling or webhook) and the HTTP API")
    run.add_argument(
        "--workers",
        type=_positive,
        default=1,
        metavar="N",
        help="N worker processes sharing API_PORT (webhook mode, PostgreSQL and Redis)",
    )
    run.add_argument("--worker-index", type=int, default=None, help=argparse.SUPPRESS)
    run.set_defaults(handler=_run)

    worker = commands.add_parser(
        "worker", help="run only the outbox notifier and the overdue watchdog"
    )
    worker.set_defaults(handler=_worker)

    forget = commands.add_parser(
        "forget", help="erase a customer's personal data; orders and refunds stay, anonymised"
    )
    forget.add_argument("customer_id", help="the merchant's customer id")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    forget.set_defaults(handler=_forget)

    shell = commands.add_parser("shell", help="chat with the bot offline, in this terminal")
    shell.add_argument("--as", dest="customer_id", metavar="CUSTOMER_ID", help="play this customer")
    shell.add_argument("--lang", choices=("en", "zh"), help="the simulated Telegram language")
    shell.add_argument(
        "--agent",
        action="store_true",
        help="play the agents' side (run a customer shell on the same database next to it)",
    )
    shell.add_argument("--name", default="Agent", help="the agent's name with --agent")
    shell.set_defaults(handler=_shell)

    load = commands.add_parser("import", help="load customers and orders from JSON or CSV")
    load.add_argument("file", type=Path, nargs="?", help="a .json or .csv file")
    load.add_argument(
        "--skip-invalid",
        action="store_true",
        help="load the valid records and report the others (default: load nothing if any is bad)",
    )
    load.add_argument("--schema", action="store_true", help="print the JSON Schema of the file")
    load.set_defaults(handler=_import)

    seed = commands.add_parser("seed-demo", help="load the built-in demo customers and orders")
    seed.set_defaults(handler=_seed_demo)

    policy = commands.add_parser("policy", help="the cancellation policy (POLICY_FILE)")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    check = policy_commands.add_parser(
        "check", help="what the policy decides for an order; changes nothing"
    )
    check.add_argument("order_number")
    check.add_argument("--reason", required=True, choices=[code.value for code in ReasonCode])
    check.add_argument("--condition", choices=[c.value for c in ItemCondition])
    check.add_argument(
        "--at", type=_aware_datetime, help="decide as at this ISO time (default: now)"
    )
    check.add_argument("--no-photo", action="store_true", help="as if the customer sent no photo")
    check.add_argument("--json", action="store_true", help="one JSON object")
    check.set_defaults(handler=_policy_check)
    explain = policy_commands.add_parser("explain", help="print the loaded policy as a table")
    explain.set_defaults(handler=_policy_explain)

    link = commands.add_parser("link", help="print a t.me link that links a customer's account")
    link.add_argument("customer_id", help="the merchant's customer id")
    link.add_argument("--days", type=int, help="validity in days (default LINK_TTL_DAYS)")
    link.set_defaults(handler=_link)

    refund_event = commands.add_parser(
        "refund-event", help="record what happened to a refund, as the merchant API does"
    )
    refund_event.add_argument("refund_id", type=int)
    refund_event.add_argument(
        "status", choices=[s.value for s in RefundStatus if s is not RefundStatus.PENDING_REVIEW]
    )
    refund_event.add_argument("--note", help="shown to the customer with rejected and cancelled")
    refund_event.add_argument(
        "--event-id",
        type=_event_id,
        help="your id for this event; giving it again changes nothing (default: a new id)",
    )
    refund_event.set_defaults(handler=_refund_event)

    report = commands.add_parser(
        "report", help="the merchant's figures: kept orders, refunds, satisfaction"
    )
    report.add_argument("--since", help="a date (in TIMEZONE) or ISO time; default 30 days ago")
    report.add_argument("--until", help="a date (the whole day) or ISO time; default now")
    report.add_argument("--reason", choices=[code.value for code in ReasonCode])
    report.add_argument("--format", choices=("table", "json", "csv"), default="table")
    report.set_defaults(handler=_report)

    tickets = commands.add_parser(
        "tickets", help="open requests for a person (what the agents' group has, or not)"
    )
    tickets.add_argument("--json", action="store_true", help="one JSON object per line")
    tickets.set_defaults(handler=_tickets)

    webhooks = commands.add_parser(
        "webhooks", help="events the merchant's webhook gave up on, and sending them again"
    )
    webhook_commands = webhooks.add_subparsers(
        dest="webhooks_command", required=True, metavar="ACTION"
    )
    failed = webhook_commands.add_parser("failed", help="list failed events, newest first")
    failed.add_argument("--limit", type=int, default=100)
    failed.add_argument("--json", action="store_true", help="one JSON object per line")
    failed.set_defaults(handler=_webhooks_failed)
    retry = webhook_commands.add_parser(
        "retry", help="queue failed events again (same event id and payload)"
    )
    retry.add_argument("event_ids", nargs="*", metavar="EVENT_ID")
    retry.add_argument("--all", action="store_true", help="every failed event")
    retry.set_defaults(handler=_webhooks_retry)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="apply migrations (default: to the newest)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(handler=_db_upgrade)
    downgrade = db_commands.add_parser("downgrade", help="revert migrations down to REVISION")
    downgrade.add_argument("revision")
    downgrade.set_defaults(handler=_db_downgrade)
    current = db_commands.add_parser("current", help="show the applied and the newest revision")
    current.set_defaults(handler=_db_current)
    revision = db_commands.add_parser("revision", help="autogenerate a migration (developers)")
    revision.add_argument("-m", "--message", required=True)
    revision.set_defaults(handler=_db_revision)
    return parser


def _aware_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date-time") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, e.g. 2026-11-23T10:00:00+08:00")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("give a number of workers from 1 to 64")
    return value


def _event_id(text: str) -> str:
    if not 1 <= len(text) <= 64 or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError("an event id is 1 to 64 characters, no spaces")
    return text


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        for line in error.lines:
            print(f"configuration error: {line}", file=sys.stderr)
        raise SystemExit(2) from None
    quiet = args.command in ("shell",)
    configure_logging(settings.log_format, "WARNING" if quiet else settings.log_level)
    handler: Command = args.handler
    try:
        code = asyncio.run(handler(args, settings))
    except PolicyError as error:
        for line in error.problems:
            print(f"policy error: {line}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        # The reader left (`cancelbot import --schema | head`): not a failure of ours.
        # What is still buffered would raise again at exit, so it goes nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_BROKEN_PIPE
    except NoDatabase as missing:
        print(str(missing), file=sys.stderr)
        code = 1
    raise SystemExit(code)


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    with collector_paused():  # the bot's own modules: imported only to run it
        from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError

        from bot.channels.telegram import BotServer
        from bot.wiring import build_bot

    if settings.bot_token is None:
        print(
            "BOT_TOKEN is not set. Get one from @BotFather, or try the bot offline with "
            "`cancelbot shell`.",
            file=sys.stderr,
        )
        return 2
    if args.workers > 1:
        return await _run_workers(args, settings)
    try:
        async with _ready(settings) as deps:
            server = BotServer(deps, build_bot(settings), worker_index=args.worker_index)
            await server.run_until_signal()
    except _Unavailable:
        return 1
    except TelegramUnauthorizedError:
        print("Telegram refused BOT_TOKEN: get a valid one from @BotFather.", file=sys.stderr)
        return 2
    except TelegramNetworkError as error:
        print(
            f"cannot reach Telegram at {settings.telegram_api_base}: {_reason(error.message)} "
            "(check the network, or TELEGRAM_API_BASE)",
            file=sys.stderr,
        )
        return 1
    except OSError as error:
        where = f"{settings.api_host}:{settings.api_port}"
        why = "address already in use" if error.errno == errno.EADDRINUSE else str(error)
        print(
            f"cannot serve HTTP on {where}: {why} (set API_HOST/API_PORT, or stop what uses it)",
            file=sys.stderr,
        )
        return 1
    return 0


async def _run_workers(args: argparse.Namespace, settings: Settings) -> int:
    from bot.channels.workers import refusal, supervise

    problem = refusal(settings)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    try:
        async with _ready(settings):
            pass  # the schema is brought up to date once, before the workers start
    except _Unavailable:
        return 1
    return await supervise(args.workers)


async def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from bot.channels.background import run_background_jobs
    from bot.wiring import build_bot

    if settings.bot_token is None:
        print("BOT_TOKEN is not set: the notifier sends through the bot.", file=sys.stderr)
        return 2
    try:
        async with _ready(settings) as deps:
            await run_background_jobs(deps, build_bot(settings))
    except _Unavailable:
        return 1
    return 0


async def _forget(args: argparse.Namespace, settings: Settings) -> int:
    from bot.erasure import forget_customer
    from bot.services.erasure import UnknownCustomer

    if not args.yes:
        if not sys.stdin.isatty():
            print("cancelbot forget: add --yes to erase without a question", file=sys.stderr)
            return 2
        answer = await asyncio.to_thread(
            input, f"Erase the personal data of customer {args.customer_id}? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing erased")
            return 1
    try:
        async with _ready(settings) as deps:
            result = await forget_customer(deps, args.customer_id, requested_by="cli")
    except _Unavailable:
        return 1
    except UnknownCustomer:
        print(f"no customer with id {args.customer_id!r}", file=sys.stderr)
        return 1
    when = result.erased_at.isoformat(timespec="seconds")
    if result.repeated:
        print(f"customer {result.customer_id} was erased on {when}; nothing changed")
    else:
        print(
            f"customer {result.customer_id} erased on {when}: {result.rows_changed} records "
            f"changed, {result.telegram_accounts} Telegram account(s) forgotten; orders, "
            "refunds and amounts kept"
        )
    return 0


class _Unavailable(Exception):
    """The database or Redis did not answer at start; said on stderr already."""


@contextlib.asynccontextmanager
async def _ready(settings: Settings) -> AsyncIterator[AppDeps]:
    """The process's dependencies, once the database and Redis answered and the schema is
    up to date; one line for each that does not answer, then _Unavailable."""
    from bot.channels.outages import unavailable
    from bot.channels.redis_optional import redis_of
    from bot.wiring import build_deps

    deps = build_deps(settings)
    try:
        redis = redis_of(deps.fsm_storage)
        problems = await unavailable(deps.engine, redis, settings.database_url, settings.redis_url)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            raise _Unavailable
        await _ensure_schema(deps.engine)
        yield deps
    finally:
        await deps.close()


async def _shell(args: argparse.Namespace, settings: Settings) -> int:
    from bot.channels.console import run_shell
    from bot.channels.console_agent import run_agent_shell
    from bot.wiring import build_deps

    deps = build_deps(settings)
    try:
        await _ensure_schema(deps.engine)
        if args.agent:
            return await run_agent_shell(deps, name=args.name)
        return await run_shell(deps, customer_id=args.customer_id, language=args.lang)
    finally:
        await deps.close()


async def _import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_output import print_import_report, progress_bar
    from bot.services.imports.importer import Importer, ImportFileError, read_import_file
    from bot.services.imports.schema import import_json_schema

    if args.schema:
        print(json.dumps(import_json_schema(), indent=2, ensure_ascii=False))
        return 0
    if args.file is None:
        print("cancelbot import: give a FILE, or --schema", file=sys.stderr)
        return 2
    try:
        source = read_import_file(args.file)
    except ImportFileError as error:
        print(f"{args.file}: {error}", file=sys.stderr)
        return 1
    async with _existing_database(settings) as deps:
        with progress_bar("Importing") as progress:
            report = await Importer(deps.session_factory, deps.clock).load(
                source, skip_invalid=args.skip_invalid, progress=progress
            )
    print_import_report(report)
    return 1 if report.errors and not args.skip_invalid else 0


async def _seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_output import print_import_report
    from bot.demo_data import seed_demo, seed_demo_history
    from bot.wiring import build_deps

    deps = build_deps(settings)
    try:
        await _ensure_schema(deps.engine)
        report = await seed_demo(deps.session_factory, deps.clock)
        cases = await seed_demo_history(deps.session_factory, deps.clock)
    finally:
        await deps.close()
    print_import_report(report)
    if cases:
        print(f"demo history: {cases} past conversations (see `cancelbot report`)")
    return 0


async def _policy_check(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_output import print_policy_check
    from bot.services.policy.check import UnknownOrder, check_order

    try:
        async with _existing_database(settings) as deps, deps.uow() as uow:
            result = await check_order(
                uow,
                deps.service_config.policy,
                args.order_number,
                ReasonCode(args.reason),
                condition=ItemCondition(args.condition) if args.condition else None,
                at=args.at or deps.clock.now(),
                has_photo=not args.no_photo,
            )
    except UnknownOrder:
        print(f"no order {args.order_number!r}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        print_policy_check(result)
    return 2 if result.decision.needs_condition else 0  # nothing decided yet: say more


async def _policy_explain(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_output import print_policy_explain
    from bot.services.policy import explain_rows, load_policy

    print_policy_explain(explain_rows(load_policy(settings.policy_file)))
    return 0


async def _link(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.linking.deep_links import default_expiry

    if settings.link_secret is None:
        print("LINK_SECRET is not set: deep links cannot be signed.", file=sys.stderr)
        return 2
    if settings.bot_username is None:
        print("BOT_USERNAME is not set: it is needed to build the t.me link.", file=sys.stderr)
        return 2
    async with _existing_database(settings) as deps, deps.uow() as uow:
        customer = await uow.customers.by_external_id(args.customer_id)
    if customer is None:
        print(f"no customer with id {args.customer_id!r}", file=sys.stderr)
        return 1
    tokens = deps.service_config.link_tokens
    assert tokens is not None
    expires = default_expiry(deps.clock.now(), args.days or settings.link_ttl_days)
    print(tokens.deep_link(settings.bot_username, tokens.issue(customer.external_id, expires)))
    return 0


async def _refund_event(args: argparse.Namespace, settings: Settings) -> int:
    import uuid

    from bot.services.merchant.errors import MerchantRequestError
    from bot.services.refunds.states import IllegalTransition
    from bot.services.refunds.updates import Notice

    try:
        async with _existing_database(settings) as deps, deps.uow() as uow:
            update = await deps.services(uow).refund_updates.apply(
                args.refund_id,
                RefundStatus(args.status),
                actor="cli",
                event_id=args.event_id or f"cli-{uuid.uuid4().hex}",
                occurred_at=deps.clock.now(),
                note=args.note,
            )
    except (MerchantRequestError, IllegalTransition) as error:
        print(f"refund {args.refund_id}: {error}", file=sys.stderr)
        return 1
    told = {
        Notice.QUEUED: "the customer is told in Telegram",
        Notice.NOT_LINKED: "the customer has no linked Telegram account to tell",
        Notice.NOT_SHOWN: "customers are not told about this status",
    }[update.notice]
    again = " (recorded before: nothing changed)" if update.replayed else ""
    print(
        f"refund {update.refund_id}: {update.from_status} → {update.status} "
        f"(event {update.event_id}){again}; {told}"
    )
    return 0


async def _report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_output import stdout
    from bot.cli_report import print_report
    from bot.services.insights.export import report_csv, report_json
    from bot.services.insights.periods import PeriodError, parse_period

    try:
        async with _existing_database(settings) as deps:
            period = parse_period(
                args.since, args.until, now=deps.clock.now(), timezone=deps.timezone
            )
            async with deps.uow() as uow:
                figures = await deps.insights(uow).report(
                    period, ReasonCode(args.reason) if args.reason else None
                )
    except PeriodError as error:
        print(f"cancelbot report: {error}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(report_json(figures), ensure_ascii=False, indent=2))
    elif args.format == "csv":
        sys.stdout.write(report_csv(figures))
    else:
        print_report(figures, stdout)
    return 0


async def _tickets(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_output import print_tickets

    async with _existing_database(settings) as deps, deps.uow() as uow:
        listed = await deps.services(uow).tickets.open_tickets()
        desk = await uow.handoffs.desk()
    if args.json:
        for ticket in listed:
            print(json.dumps(ticket_json(ticket), ensure_ascii=False))
        return 0
    agents = desk is not None and desk.ready
    print_tickets(listed, agents=agents, problem=desk.problem if desk else None)
    return 0


async def _webhooks_failed(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_output import print_failed_webhook_events

    async with _existing_database(settings) as deps, deps.uow() as uow:
        failed = await deps.services(uow).webhook_operations.failed(args.limit)
    if args.json:
        for event in failed:
            print(json.dumps({**asdict(event), "created_at": event.created_at.isoformat()}))
        return 0
    print_failed_webhook_events(failed, configured=settings.merchant_webhook_url is not None)
    return 0


async def _webhooks_retry(args: argparse.Namespace, settings: Settings) -> int:
    if args.all == bool(args.event_ids):
        print("name the events to retry, or give --all (not both)", file=sys.stderr)
        return 2
    async with _existing_database(settings) as deps, deps.uow() as uow:
        operations = deps.services(uow).webhook_operations
        done = await operations.retry(None if args.all else args.event_ids)
    for event_id in done.not_failed:
        print(f"{event_id}: not a failed event (unknown, pending or delivered)", file=sys.stderr)
    print(f"{done.count} event(s) queued again for the merchant's webhook")
    return 1 if done.not_failed else 0


def ticket_json(ticket: Any) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "opened_at": ticket.opened_at.isoformat(),
        "reason": ticket.reason.value,
        "customer_id": ticket.customer_id,
        "customer_name": ticket.customer_name,
        "contact": ticket.contact,
        "telegram_user_id": ticket.telegram_user_id,
        "telegram_name": ticket.telegram_name,
        "username": ticket.username,
        "order_number": ticket.order_number,
        "with_agents": ticket.with_agents.value if ticket.with_agents else None,
        "taken_by": ticket.taken_by,
    }


@contextlib.asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine for one `cancelbot db` command, disposed of when it is done."""
    from storage.db import create_engine

    engine = create_engine(settings.database_url, schema=settings.database_schema)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from storage.migrate import current_revision, upgrade

    async with _database(settings) as engine:
        await upgrade(engine, args.revision)
        print(f"database at revision {await current_revision(engine) or 'none'}")
    return 0


async def _db_downgrade(args: argparse.Namespace, settings: Settings) -> int:
    from storage.migrate import current_revision, downgrade

    _refuse_missing_file(settings)
    async with _database(settings) as engine:
        await downgrade(engine, args.revision)
        print(f"database at revision {await current_revision(engine) or 'none'}")
    return 0


async def _db_current(args: argparse.Namespace, settings: Settings) -> int:
    from storage.migrate import current_revision, head_revision

    if _missing_file(settings) is not None:  # none, and connecting would create the file
        print(f"applied: none; newest: {head_revision()}")
        return 0
    async with _database(settings) as engine:
        current = await current_revision(engine)
    print(f"applied: {current or 'none'}; newest: {head_revision()}")
    return 0


async def _db_revision(args: argparse.Namespace, settings: Settings) -> int:
    from storage.migrate import autogenerate

    _refuse_missing_file(settings)
    async with _database(settings) as engine:
        await autogenerate(engine, args.message)
    return 0


async def _ensure_schema(engine: AsyncEngine) -> None:
    """run, shell and seed-demo: an empty database (or none yet) gets the schema."""
    from storage.migrate import upgrade

    await upgrade(engine)


class NoDatabase(Exception):
    """A command that needs the shop's data found no database: it says so, creates none."""

    def __init__(self, where: str) -> None:
        super().__init__(
            f"there is no cancelbot database at {where} yet: create it with "
            "`cancelbot db upgrade` (empty) or `cancelbot seed-demo` (the demo shop), or set "
            "DATABASE_URL"
        )


def _missing_file(settings: Settings) -> str | None:
    """The SQLite file DATABASE_URL names, when it does not exist (connecting would make it)."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database)
    return None if path.exists() else str(path)


def _refuse_missing_file(settings: Settings) -> None:
    if (missing := _missing_file(settings)) is not None:
        raise NoDatabase(missing)


@contextlib.asynccontextmanager
async def _existing_database(settings: Settings) -> AsyncIterator[AppDeps]:
    """The dependencies of a command that works on an existing database, brought up to
    date first; closed when the command is done."""
    from bot.wiring import build_deps

    _refuse_missing_file(settings)
    deps = build_deps(settings)
    try:
        await _upgrade_existing(deps.engine)
        yield deps
    finally:
        await deps.close()


async def _upgrade_existing(engine: AsyncEngine) -> None:
    """Bring an existing schema up to date; one with no cancelbot tables is not made here."""
    from storage.migrate import current_revision, upgrade

    if await current_revision(engine) is None:
        raise NoDatabase(engine.url.render_as_string(hide_password=True))
    await upgrade(engine)


def _reason(message: str) -> str:
    """aiogram's "HTTP Client says - ClientConnectorError: Cannot connect to host …" without
    the layers: the part a person acts on."""
    return message.rsplit(": ", 1)[-1].strip() or message
