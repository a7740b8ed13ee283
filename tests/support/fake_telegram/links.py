"""URL checks Telegram applies to links in buttons and `<a href>` (a simplified LinkManager)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_HOST_LABEL = re.compile(r"^[A-Za-z0-9\u00a1-\uffff_-]+$")
_TLD = re.compile(r"^[A-Za-z\u00a1-\uffff]{2,}$|^xn--[A-Za-z0-9-]+$")
_TG_SCHEMES = frozenset({"tg", "ton", "tonsite"})


class InvalidUrlError(ValueError):
    """Why Telegram rejects a URL, worded like the Bot API ("Wrong HTTP URL", ...)."""


def check_url(url: str) -> str:
    """Return the URL as Telegram stores it, or raise InvalidUrlError with Telegram's reason.

    Like Telegram, a URL without a scheme is taken as http:// and an empty path becomes "/".
    """
    url = url.strip()
    if not url:
        raise InvalidUrlError("URL host is empty")
    match = _SCHEME.match(url)
    scheme = match.group(1).lower() if match else ""
    if scheme in _TG_SCHEMES:
        return url
    if scheme and scheme not in {"http", "https"} and "//" in url:
        raise InvalidUrlError("Unsupported URL protocol")
    if not scheme or scheme not in {"http", "https"}:
        url = f"http://{url}"
    return _normalized_http_url(url)


def _normalized_http_url(url: str) -> str:
    """Validate the host of an http(s) URL and add the "/" path Telegram adds."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host:
        raise InvalidUrlError("URL host is empty")
    if not _is_valid_host(host):
        raise InvalidUrlError("Wrong HTTP URL")
    path = parts.path or "/"
    rebuilt = f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"
    if parts.query:
        rebuilt += f"?{parts.query}"
    if parts.fragment:
        rebuilt += f"#{parts.fragment}"
    return rebuilt


def _is_valid_host(host: str) -> bool:
    """A dotted domain with a plausible top-level domain, or an IP address."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    labels = host.split(".")
    if len(labels) < 2 or not all(_HOST_LABEL.match(label) for label in labels):
        return False
    return bool(_TLD.match(labels[-1]))
