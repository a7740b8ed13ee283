"""The merchant's dashboard at /dashboard: the report's figures as charts and tables, and
each case's timeline. Server-rendered HTML (templates/dashboard/), SVG charts, no script.

Access: DASHBOARD_TOKEN (open `/dashboard?token=…` once: a cookie keeps the session, and
the address loses the token) or `Authorization: Bearer …`; or DASHBOARD_USER and
DASHBOARD_PASSWORD (HTTP basic auth). With neither set the dashboard is off and says so.
Pages only read; answers are never cached and forbid framing and outside resources.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.api.charts import columns, horizontal_bars, line_chart
from bot.api.keys import DEPS
from bot.config import Settings
from bot.services.domain.money import Money
from bot.services.insights import Dimension, Report
from bot.services.insights.export import format_amounts, format_duration
from bot.services.insights.figures import NONE, TIME_BUCKETS, Period
from bot.services.insights.periods import PeriodError, parse_period
from bot.texts import Renderer, templates_dir
from storage.enums import ReasonCode

log = logging.getLogger(__name__)

PREFIX = "/dashboard"
COOKIE = "cancelbot_dashboard"
PERIODS = (7, 30, 90)
# Names the customer-facing labels (templates/en/labels.j2) already give.
_SHARED_LABELS = frozenset(
    {"reason", "order_status", "refund_status", "request_status", "payment_method"}
)
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


class _Templates:
    """The dashboard's Jinja environment, built on the first page asked for: compiling it
    costs start-up (and every bot a test builds) ~25 ms that most processes never use."""

    def __init__(self, renderer: Renderer) -> None:
        self._renderer = renderer
        self._env: Environment | None = None

    @property
    def env(self) -> Environment:
        if self._env is None:
            self._env = _environment(self._renderer)
        return self._env


TEMPLATES = web.AppKey("dashboard_templates", _Templates)


class Access(StrEnum):
    OFF = "off"
    GRANTED = "granted"
    REFUSED = "refused"


def add_dashboard_routes(app: web.Application) -> None:
    app[TEMPLATES] = _Templates(app[DEPS].renderer)
    app.router.add_get(PREFIX, overview)
    app.router.add_get(PREFIX + "/", overview)
    app.router.add_get(PREFIX + "/cases/{case_id:[0-9]{1,18}}", case_page)
    app.router.add_get(PREFIX + "/style.css", stylesheet)


def _environment(renderer: Renderer) -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir() / "dashboard"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
        auto_reload=False,
    )
    own = env.get_template("_labels.html").module

    def label(kind: str, code: object) -> str:
        value = getattr(code, "value", code)
        if value is None or value == NONE:
            return str(own.none_label(kind)).strip()  # type: ignore[attr-defined]
        if kind in _SHARED_LABELS:
            return renderer.macro("en", "labels", kind, value)
        return str(own.label(kind, value)).strip()  # type: ignore[attr-defined]

    env.globals["label"] = label
    env.filters.update(
        money=lambda value: "—" if value is None else Money.format(value),
        amounts=format_amounts,
        duration=format_duration,
        when=lambda at: at.astimezone(renderer.timezone).strftime("%Y-%m-%d %H:%M"),
    )
    env.globals["timezone"] = str(renderer.timezone)
    return env


# -- access ------------------------------------------------------------------------------------


def session_value(settings: Settings) -> str | None:
    """What the cookie holds: derived from the token, so the token itself is not stored."""
    if settings.dashboard_token is None:
        return None
    key = settings.dashboard_token.get_secret_value().encode()
    return hmac.new(key, b"cancelbot dashboard session", hashlib.sha256).hexdigest()


def check_access(request: web.Request, settings: Settings) -> Access:
    token, user = settings.dashboard_token, settings.dashboard_user
    if token is None and user is None:
        return Access.OFF
    header = request.headers.get("Authorization", "")
    if token is not None:
        secret = token.get_secret_value()
        cookie = request.cookies.get(COOKIE, "")
        session = session_value(settings) or ""
        if _same(request.query.get("token", ""), secret) or _same(cookie, session):
            return Access.GRANTED
        if header.startswith("Bearer ") and _same(header.removeprefix("Bearer "), secret):
            return Access.GRANTED
    if user is not None and settings.dashboard_password is not None and header.startswith("Basic "):
        try:
            given = base64.b64decode(header.removeprefix("Basic "), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return Access.REFUSED
        name, _, password = given.partition(":")
        wanted = settings.dashboard_password.get_secret_value()
        if _same(name, user) & _same(password, wanted):
            return Access.GRANTED
    return Access.REFUSED


def _same(given: str, wanted: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), wanted.encode())


def _page(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    env = request.app[TEMPLATES].env
    body = env.get_template(template).render(prefix=PREFIX, **context)
    response = web.Response(text=body, status=status, content_type="text/html")
    response.headers.update(_SECURITY_HEADERS)
    return response


def _guarded(
    handler: Callable[[web.Request], Any],
) -> Callable[[web.Request], Any]:
    async def guarded(request: web.Request) -> web.StreamResponse:
        settings = request.app[DEPS].settings
        access = check_access(request, settings)
        if access is Access.OFF:
            return _page(request, "off.html", status=404)
        if access is Access.REFUSED:
            response = _page(request, "refused.html", status=401)
            if settings.dashboard_user is not None:
                response.headers["WWW-Authenticate"] = 'Basic realm="cancelbot dashboard"'
            return response
        if "token" in request.query:
            # Keep the session in a cookie and take the token out of the address bar.
            rest = {k: v for k, v in request.query.items() if k != "token"}
            return _with_cookie(str(request.rel_url.with_query(rest)), request)
        page: web.StreamResponse = await handler(request)
        return page

    return guarded


def _with_cookie(location: str, request: web.Request) -> web.Response:
    session = session_value(request.app[DEPS].settings)
    assert session is not None
    response = web.Response(status=303, headers={"Location": location})
    response.set_cookie(
        COOKIE,
        session,
        path=PREFIX,
        httponly=True,
        samesite="Strict",
        secure=request.secure,
        max_age=12 * 3600,
    )
    response.headers.update(_SECURITY_HEADERS)
    return response


# -- pages -------------------------------------------------------------------------------------


async def _overview(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    query = request.query
    reason = _reason(query.get("reason"))
    days = int(query["days"]) if query.get("days", "").isdigit() else 30
    error = None
    try:
        period = parse_period(
            query.get("since") or None,
            query.get("until") or None,
            now=deps.clock.now(),
            timezone=deps.timezone,
            days=days if days in PERIODS else 30,
        )
    except PeriodError as problem:
        error = str(problem)
        period = Period.last(30, deps.clock.now())
    async with deps.uow() as uow:
        report = await deps.insights(uow).report(period, reason)
    env = request.app[TEMPLATES].env
    label = env.globals["label"]
    assert callable(label)
    return _page(
        request,
        "overview.html",
        status=400 if error else 200,
        report=report,
        error=error,
        filters={
            "days": days if days in PERIODS else None,
            "since": query.get("since", ""),
            "until": query.get("until", ""),
            "reason": reason.value if reason else "",
        },
        periods=PERIODS,
        reasons=list(ReasonCode),
        dimensions=list(Dimension),
        charts=_charts(report, label),
    )


def _charts(report: Report, label: Callable[[str, object], str]) -> dict[str, Any]:
    reasons = [
        (label("reason", row.group), row.intents, str(row.intents))
        for row in report.splits[Dimension.REASON]
        if row.intents
    ]
    offers = [
        (
            label("offer", offer.type),
            float(offer.acceptance_rate.percent or 0),
            f"{offer.acceptance_rate} of {offer.shown}",
        )
        for offer in report.kept.offers
        if offer.shown
    ]
    times = [
        (label("bucket", key), count.count, str(count.count))
        for (key, _), count in zip(TIME_BUCKETS, report.refunds.time_buckets, strict=True)
    ]
    stars = [
        (f"{n}★", count, str(count)) for n, count in enumerate(report.satisfaction.stars, start=1)
    ]
    days = [f"{day.day:%d %b}" for day in report.trend]
    return {
        "reasons": horizontal_bars(reasons),
        "offers": horizontal_bars(offers, scale=100),
        "refund_times": columns(times),
        "stars": columns(stars),
        "trend": line_chart(
            days,
            [
                ("intents", [day.intents for day in report.trend]),
                ("kept", [day.kept for day in report.trend]),
                ("refunds_paid", [day.refunds_paid for day in report.trend]),
            ],
        ),
    }


async def _case(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    async with deps.uow() as uow:
        timeline = await deps.insights(uow).timeline(int(request.match_info["case_id"]))
    if timeline is None:
        return _page(request, "not_found.html", status=404)
    return _page(request, "case.html", timeline=timeline)


def _reason(raw: str | None) -> ReasonCode | None:
    try:
        return ReasonCode(raw) if raw else None
    except ValueError:
        return None


async def _stylesheet(request: web.Request) -> web.Response:
    css = (templates_dir() / "dashboard" / "style.css").read_text(encoding="utf-8")
    response = web.Response(text=css, content_type="text/css")
    response.headers["Cache-Control"] = "max-age=3600"
    return response


overview = _guarded(_overview)
case_page = _guarded(_case)
stylesheet = _stylesheet
