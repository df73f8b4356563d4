"""The `rate_limited` decorator: views stay one line longer, no more."""

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


def rate_limited(scope: str, *, json: bool = False) -> Callable:
    """Answer 429, in the person's language, past `<scope>_rate` per address
    (a page, or the portal's JSON error shape for the views the page script calls)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            rates = parse_rates(getattr(get_settings(), f"{scope}_rate"))
            wait = check(scope, client_address(request), rates) if rates else 0
            if not wait:
                return view(request, *args, **kwargs)
            minutes = max(1, math.ceil(wait / 60))
            message = ngettext(
                "Too many attempts from your connection. Try again in %(n)s minute: "
                "nothing you did so far is lost.",
                "Too many attempts from your connection. Try again in %(n)s minutes: "
                "nothing you did so far is lost.",
                minutes,
            ) % {"n": minutes}
            if json:
                response = error(message, status=429)
            else:
                response = render(request, "portal/limited.html", {"message": message}, status=429)
            response["Retry-After"] = str(math.ceil(wait))
            return response

        wrapper.rate_limit_scope = scope  # type: ignore[attr-defined]
        return wrapper

    return decorate
