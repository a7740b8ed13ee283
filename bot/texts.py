"""Every sentence the bot says comes from `templates/<locale>/…`; this module renders them.

Message templates are autoescaped for Telegram's HTML parse mode, so a product
called `<b>Tom & Jerry</b>` arrives as written. Button labels (`buttons.j2`) are
plain text, because Telegram shows button text verbatim.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import BytecodeCache, Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.bccache import Bucket
from jinja2.runtime import Context, Macro
from markupsafe import Markup

from bot.services.cancellation.variants import default_variant_words
from bot.services.domain.locales import LOCALES
from bot.services.domain.money import Money

__all__ = ["LOCALES", "Renderer", "Texts", "templates_dir"]

# Telegram shows these verbatim (buttons, alerts, command menus): no HTML escaping.
PLAIN_TEXT_TEMPLATES = ("buttons.j2", "plain/")


def templates_dir() -> Path:
    """`bot/templates` inside an installed wheel, else `templates/` beside the checkout's `bot/`."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "en").is_dir():
            return candidate
    raise FileNotFoundError("templates/ not found next to the bot package")


def _is_html(name: str | None) -> bool:
    return bool(name) and not any(part in name for part in PLAIN_TEXT_TEMPLATES)  # type: ignore[operator]


@pass_context
def _format_money(context: Context, value: Money | None) -> str:
    return "—" if value is None else value.format()


def _format_percent(value: Decimal | int) -> str:
    """50, 12.5: a percent as the merchant wrote it, without trailing zeros."""
    return f"{Decimal(value).normalize():f}"


@pass_context
def _format_date(context: Context, value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(context["tz"]).date()
    if context["locale"] == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {value:%b %Y}"


@pass_context
def _format_datetime(context: Context, value: datetime | None) -> str:
    """A moment in the shop's time zone, which it names: "23 Nov 2026, 18:00 (UTC+8)"."""
    if value is None:
        return "—"
    local = value.astimezone(context["tz"])
    zone = _zone_label(local)
    if context["locale"] == "zh":
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}（{zone}）"
    return f"{local.day} {local:%b %Y, %H:%M} ({zone})"


@pass_context
def _format_time(context: Context, value: datetime) -> str:
    """The time of day in the shop's zone, next to a date the same text shows: "18:05"."""
    return f"{value.astimezone(context['tz']):%H:%M}"


@pass_context
def _format_variant(
    context: Context, value: str | Mapping[str, str] | None, locale: str | None = None
) -> str:
    """A variant's values ("blue / L", or its attributes) in the reader's language, from
    `bot/data/variants.toml`: "蓝色 / L码" in Chinese. Macros imported without context
    (labels.j2) name their locale: `|variant("zh")`."""
    if not value:
        return ""
    return default_variant_words().show(value, locale or context["locale"])


def _zone_label(moment: datetime) -> str:
    """UTC, UTC+8, UTC-3:30: the offset a reader anywhere can convert from."""
    minutes = int((moment.utcoffset() or timedelta(0)).total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'+' if minutes > 0 else '-'}{hours}" + (f":{rest:02d}" if rest else "")


class _CompiledTemplates(BytecodeCache):
    """Compiled templates kept for the whole process, shared by every Renderer in it: a
    process that builds several (the tests build one per bot) compiles each template
    once. Keys carry the source's checksum, so an edited template is compiled again."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


class Renderer:
    """Holds the one Jinja2 Environment; compiled templates are cached for the process."""

    def __init__(
        self, directory: Path | None = None, timezone: str = "UTC", default_locale: str = "en"
    ) -> None:
        self.directory = directory or templates_dir()
        self.default_locale = default_locale
        self.timezone = ZoneInfo(timezone)
        self.env = Environment(
            loader=FileSystemLoader(self.directory),
            autoescape=_is_html,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=StrictUndefined,
            auto_reload=False,
            cache_size=-1,
            bytecode_cache=_COMPILED,
        )
        self.env.filters.update(
            money=_format_money,
            percent=_format_percent,
            date=_format_date,
            datetime=_format_datetime,
            time=_format_time,
            variant=_format_variant,
        )

    def render(self, locale: str, template: str, /, **context: Any) -> str:
        """The text; HTML templates return `Markup`, so it can go into another message as is."""
        compiled = self.env.get_template(f"{locale}/{template}.j2")
        text = compiled.render(locale=locale, tz=self.timezone, **context).strip()
        return Markup(text) if _is_html(template) else text

    def macro(self, locale: str, module: str, name: str, *args: Any) -> str:
        """Call macro `name` of `<locale>/<module>.j2` (button labels, command descriptions)."""
        return str(self._macros(locale, module)[name](*args)).strip()

    def button(self, locale: str, name: str, *args: Any) -> str:
        return self.macro(locale, "buttons", name, *args)

    def for_locale(self, locale: str) -> Texts:
        return Texts(self, locale)

    def template_names(self, locale: str) -> list[str]:
        prefix = f"{locale}/"
        return sorted(
            name.removeprefix(prefix).removesuffix(".j2")
            for name in self.env.list_templates(extensions=["j2"])
            if name.startswith(prefix)
        )

    @lru_cache(maxsize=32)  # noqa: B019 - one Renderer per process; the cache lives as long
    def _macros(self, locale: str, module: str) -> dict[str, Callable[..., str]]:
        # Macros may use the money/date filters, which read the locale and time zone.
        exported = self.env.get_template(f"{locale}/{module}.j2").make_module(
            vars={"locale": locale, "tz": self.timezone}
        )
        return {name: value for name, value in vars(exported).items() if isinstance(value, Macro)}


class Texts:
    """A renderer bound to one reader's locale: `t("start/welcome", name=…)`, `t.button("back")`."""

    __slots__ = ("locale", "renderer")

    def __init__(self, renderer: Renderer, locale: str) -> None:
        self.renderer = renderer
        self.locale = locale

    def __call__(self, template: str, /, **context: Any) -> str:
        return self.renderer.render(self.locale, template, **context)

    def button(self, name: str, *args: Any) -> str:
        return self.renderer.button(self.locale, name, *args)

    def macro(self, module: str, name: str, *args: Any) -> str:
        return self.renderer.macro(self.locale, module, name, *args)
