"""Rate limits per client address, counted in Django's cache.

Fixed windows: simple, and the cache entry expires with its window, so
nothing is kept about anyone longer than the window. IPv6 addresses count
by /64, since one home or phone is handed a whole /64.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest

from hirondelle.config import get_settings

__all__ = ["Rate", "check", "client_address", "parse_rates"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    count: int
    period: int  # seconds


def parse_rates(text: str) -> list[Rate]:
    """ "10/m,60/h" → two rates; ValueError naming what is wrong."""
    rates = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        count, _, unit = part.partition("/")
        if not count.isdigit() or unit not in _UNITS:
            raise ValueError(f"{part!r} is not a rate: write it as 10/m (s, m, h or d).")
        rates.append(Rate(int(count), _UNITS[unit]))
    return rates


def client_address(request: HttpRequest) -> str:
    """The address to count: the peer, or the one the trusted proxies saw."""
    address = request.META.get("REMOTE_ADDR", "")
    hops = get_settings().trusted_proxies
    if hops:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def check(scope: str, key: str, rates: list[Rate], *, now: float | None = None) -> float:
    """Count one attempt; 0 if allowed, else the seconds until one is."""
    now = time.time() if now is None else now
    wait = 0.0
    for rate in rates:
        window = int(now // rate.period)
        name = f"ratelimit:{scope}:{rate.period}:{window}:{key}"
        if cache.add(name, 1, timeout=rate.period + 1):
            count = 1
        else:
            try:
                count = cache.incr(name)
            except ValueError:  # expired between add and incr
                cache.add(name, 1, timeout=rate.period + 1)
                count = 1
        if count > rate.count:
            wait = max(wait, (window + 1) * rate.period - now)
    return wait
