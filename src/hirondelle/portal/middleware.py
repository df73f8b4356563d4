"""Security headers Django 5.2 does not set itself: a Content Security Policy
and a Permissions-Policy.

The policy allows scripts, styles and images from this site only: no inline
script, no CDN. The archive is read in the browser by our own script, so the
only things fetched are this site's own files.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse
from whitenoise.middleware import WhiteNoiseMiddleware

from hirondelle.migration.worker import web_activity

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "PageFirstMiddleware",
    "SecurityHeadersMiddleware",
    "StaticFilesMiddleware",
]

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # Charts are inline SVG in the page; avatars are never loaded from elsewhere.
        "img-src 'self' data:",
        "connect-src 'self'",
        # Signing in with Mastodon sends the browser on to the person's own
        # server, whatever it is: a form's redirect must be allowed to leave.
        "form-action 'self' https: http:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
        "worker-src 'self'",
    ]
)

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    """Adds CSP, Permissions-Policy and Cross-Origin-Opener-Policy to every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


class PageFirstMiddleware:
    """Counts requests in progress, for the worker inside `hirondelle serve`
    (see `hirondelle.migration.worker.web_activity`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        web_activity.enter()
        try:
            return self.get_response(request)
        finally:
            web_activity.leave()


_END = object()


async def _chunks(iterable: Iterable[bytes]) -> AsyncIterator[bytes]:
    """A synchronous iterator served asynchronously: each read in a worker thread."""
    iterator = iter(iterable)
    read = sync_to_async(next, thread_sensitive=False)
    while (chunk := await read(iterator, _END)) is not _END:
        yield chunk  # type: ignore[misc]


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, streaming files the way the server expects.

    WhiteNoise answers with a file iterator that is synchronous. Under ASGI
    (`hirondelle serve` runs uvicorn) Django then drains it in a thread and
    logs a warning for every file; an asynchronous iterator is what ASGI
    expects. Under WSGI the response is left as WhiteNoise made it.
    """

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = super().__call__(request)
        if (
            isinstance(request, ASGIRequest)
            and getattr(response, "streaming", False)
            and not getattr(response, "is_async", True)
        ):
            response.streaming_content = _chunks(response.streaming_content)  # type: ignore[attr-defined]
        return response
