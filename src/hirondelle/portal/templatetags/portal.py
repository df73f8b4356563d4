"""Small template helpers for the portal's pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def get(mapping, key):
    """`{{ mapping|get:key }}`: a dict lookup with a variable key."""
    try:
        return mapping.get(key, key)
    except AttributeError:
        return key


def http_url(value: object) -> str | None:
    """`value` if it is an absolute http(s) address, else None.

    Addresses from an archive or a profile are hostile: `javascript:`,
    `data:` and the like must never become links. Whitespace or control
    characters anywhere (browsers drop some of them inside a scheme) refuse it.
    """
    text = str(value or "")
    if not text or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return text


@register.filter
def external_link(value: object) -> str:
    """`{{ url|external_link }}`: a link when `url` is http(s), plain text otherwise.

    Every address that came from outside (archive lists, profile websites)
    goes through this filter, never into an `href` directly.
    """
    url = http_url(value)
    if url is None:
        return format_html("{}", value or "")
    return format_html('<a href="{}" rel="noopener noreferrer nofollow">{}</a>', url, url)
