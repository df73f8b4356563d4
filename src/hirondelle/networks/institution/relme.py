"""Mastodon's rel=me link verification, ported, and the page that passes it.

A port of mastodon app/services/verify_link_service.rb and the `verifiable?`
rule of app/models/account/field.rb: Mastodon marks a profile field verified
when the field's value is an https link (no user:password@, no
internationalised host, under 512 characters) whose page, fetched with GET
(200, body read up to 1 MB, at most 3 redirects), holds an `<a>` or `<link>`
whose `rel` includes `me` and whose `href` equals the profile's URL,
compared case-insensitively; failing that, when rel=me links exist, the
first one may redirect (HEAD, not followed) to the profile URL. No script
runs: the link must be in the HTML as served.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx

from hirondelle.networks import guard
from hirondelle.networks.institution._http import http_client

__all__ = [
    "MAX_BODY",
    "MAX_REDIRECTS",
    "RelMeEntry",
    "field_verifiable",
    "link_back_present",
    "render_page",
    "verify_link",
]

MAX_BODY = 1_048_576
MAX_REDIRECTS = 3
_MAX_FIELD = 512


def field_verifiable(value: str) -> bool:
    """Account::Field#verifiable?: an https URL without userinfo and with an ASCII host."""
    if not value or len(value) > _MAX_FIELD:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    host = parts.hostname or ""
    return (
        parts.scheme == "https"
        and bool(host)
        and parts.username is None
        and parts.password is None
        and host.isascii()
        and not host.startswith("xn--")
        and ".xn--" not in host
    )


class _RelMeLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("a", "link"):
            return
        values = dict(attrs)
        rel = values.get("rel")
        if rel is None:
            return
        if "me" in rel.lower().split():
            self.hrefs.append(values.get("href"))

    handle_startendtag = handle_starttag


def _rel_me_hrefs(body: str) -> list[str | None]:
    parser = _RelMeLinks()
    parser.feed(body)
    parser.close()
    return parser.hrefs


def link_back_present(body: str, link_back: str) -> tuple[bool, str | None]:
    """(verified, first rel=me href to try as a redirect when not verified)."""
    if not body.strip():
        return False, None
    hrefs = _rel_me_hrefs(body)
    if any(h is not None and h.lower() == link_back.lower() for h in hrefs):
        return True, None
    if not hrefs:
        return False, None
    return False, hrefs[0]


def verify_link(url: str, link_back: str, *, transport: httpx.BaseTransport | None = None) -> bool:
    """True when Mastodon would mark `url` verified for the profile at `link_back`."""
    if not field_verifiable(url):
        return False
    # Mastodon reads 1 MB and drops the rest; the guard's cap sits just above it.
    policy = guard.default_policy().with_(max_bytes=MAX_BODY + (1 << 17), deadline=30.0)
    kwargs: dict = {
        "policy": policy,
        "follow_redirects": True,
        "max_redirects": MAX_REDIRECTS,
        "timeout": httpx.Timeout(10.0, connect=5.0),
        "headers": {"accept": "text/html"},
    }
    if transport is not None:
        kwargs["transport"] = transport
    try:
        with http_client(**kwargs) as client, client.stream("GET", url) as response:
            if response.status_code != 200:
                return False
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= MAX_BODY:
                    break
            body = b"".join(chunks)[:MAX_BODY].decode(response.encoding or "utf-8", "replace")
            ok, test_url = link_back_present(body, link_back)
            if ok:
                return True
            if not test_url:
                return False
            head = client.head(test_url, follow_redirects=False)
            return head.headers.get("location") == link_back
    except (httpx.HTTPError, ValueError, guard.GuardError):
        return False


@dataclass(frozen=True)
class RelMeEntry:
    name: str
    group: str
    profile_url: str  # the fediverse profile (rel=me target)
    address: str  # @user@domain
    bluesky_handle: str = ""


def render_page(title: str, intro: str, entries: Iterable[RelMeEntry], *, lang: str = "fr") -> str:
    """One static HTML page (no script, no external resource) verifying every profile."""
    esc = html.escape
    rows = []
    for e in entries:
        bluesky = (
            f' · <a href="https://bsky.app/profile/{esc(e.bluesky_handle)}">'
            f"@{esc(e.bluesky_handle)}</a>"
            if e.bluesky_handle
            else ""
        )
        rows.append(
            f"<li><strong>{esc(e.name)}</strong>"
            + (f" <span>({esc(e.group)})</span>" if e.group else "")
            + f' — <a rel="me" href="{esc(e.profile_url)}">{esc(e.address)}</a>{bluesky}</li>'
        )
    return (
        f'<!doctype html>\n<html lang="{esc(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n"
        "<style>body{font:1rem/1.5 system-ui,sans-serif;max-width:48rem;margin:auto;"
        "padding:1rem}li{margin:.4rem 0;overflow-wrap:anywhere}</style>\n</head>\n<body>\n"
        f"<h1>{esc(title)}</h1>\n<p>{esc(intro)}</p>\n<ul>\n"
        + "\n".join(rows)
        + "\n</ul>\n</body>\n</html>\n"
    )
