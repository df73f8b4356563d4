"""Rate limits in views: the `rate_limited` decorator, and the one 429 answer."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext

from hirondelle.config import get_settings
from hirondelle.portal.services.ratelimit import check, client_address, parse_rates
from hirondelle.portal.views._json import error


def minutes_to_wait(wait: float) -> int:
    return max(1, math.ceil(wait / 60))


def too_many(request: HttpRequest, wait: float, message: str, *, json: bool = False):
    """429 with `Retry-After`: a page, or the portal's JSON error shape."""
    if json:
        response = error(message, status=429)
    else:
        response = render(request, "portal/limited.html", {"message": message}, status=429)
    response["Retry-After"] = str(math.ceil(wait))
    return response


def rate_limited(scope: str, *, json: bool = False) -> Callable:
    """Answer 429, in the person's language, past `<scope>_rate` per address
    (`json` for the views the page script calls)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            rates = parse_rates(getattr(get_settings(), f"{scope}_rate"))
            wait = check(scope, client_address(request), rates) if rates else 0
            if not wait:
                return view(request, *args, **kwargs)
            n = minutes_to_wait(wait)
            message = ngettext(
                "Too many attempts from your connection. Try again in %(n)s minute: "
                "nothing you did so far is lost.",
                "Too many attempts from your connection. Try again in %(n)s minutes: "
                "nothing you did so far is lost.",
                n,
            ) % {"n": n}
            return too_many(request, wait, message, json=json)

        wrapper.rate_limit_scope = scope  # type: ignore[attr-defined]
        return wrapper

    return decorate
