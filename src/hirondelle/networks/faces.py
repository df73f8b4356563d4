"""Faces of accounts found through the directory: a clean display name and a small avatar.

Everything here comes from other servers and is hostile until checked:

- `clean_display_name` drops control, format and bidi-override characters
  (U+202E turns "moc.elgoog" into "google.com" on a page), collapses
  whitespace and caps the length. Emoji shortcodes (``:blobcat:``) stay as
  text: custom emoji images would be remote images. Templates still escape.
- `fetch_avatar` reads an avatar through the request guard (public addresses
  only, every redirect checked, `AVATAR_MAX_BYTES`, a short deadline),
  accepts only PNG, JPEG, GIF and WebP by their magic bytes (never the
  Content-Type: SVG and HTML served as ``image/png`` are refused), checks the
  pixel count before decoding, and re-encodes the first frame with Pillow to
  a small square WebP (`AVATAR_SIZE` px): no metadata, no script, no
  animation, and a few kilobytes to store and serve from our own origin.
- `MastodonLookup` reads a fediverse profile from the account's own server
  (``GET /api/v1/accounts/lookup``, public, no sign-in).

Pure: no Django.
"""

from __future__ import annotations

import io
import unicodedata
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
from PIL import Image, ImageOps

from hirondelle.networks import guard
from hirondelle.networks.errors import InvalidResponse, NotFound, Refused, Unavailable
from hirondelle.networks.mastodon.adapter import parse_handle
from hirondelle.networks.search._client import USER_AGENT
from hirondelle.networks.search.mastodon import profile_from_account
from hirondelle.networks.search.profiles import PublicProfile

__all__ = [
    "AVATAR_DEADLINE",
    "AVATAR_MAX_BYTES",
    "AVATAR_MAX_PIXELS",
    "AVATAR_SIZE",
    "DISPLAY_NAME_MAX",
    "AvatarRefused",
    "MastodonLookup",
    "avatar_client",
    "clean_display_name",
    "fetch_avatar",
    "https_server",
    "is_special_use",
    "reencode",
    "sniff",
]

#: characters of a display name kept (Mastodon allows 30, Bluesky 64 graphemes)
DISPLAY_NAME_MAX = 100
#: bytes of an avatar read at most (Mastodon's own upload limit is 2 MB;
#: `avatar_static` and Bluesky's CDN images are far smaller)
AVATAR_MAX_BYTES = 2 * 1024 * 1024
#: seconds for one avatar, redirects and bytes included
AVATAR_DEADLINE = 15.0
#: pixels decoded at most (a 1 kB PNG can claim 50,000 × 50,000)
AVATAR_MAX_PIXELS = 16_000_000
#: the side of the stored square, in pixels (shown at 44-48 CSS px: 2x screens)
AVATAR_SIZE = 96

#: Unicode categories dropped: controls, format (bidi overrides and
#: isolates, zero-width joiners except inside emoji), surrogates, private use,
#: unassigned; line and paragraph separators become spaces.
_DROP = {"Cc", "Cf", "Cs", "Co", "Cn"}
_SPACES = {"Zl", "Zp", "Zs"}
#: kept although "Cf": they build emoji (👩‍💻) and flags
_KEEP = {"\u200d", "\ufe0f"}
#: combining marks kept on one letter (more only pile up over the lines: "Zalgo")
MAX_MARKS = 3


def clean_display_name(value: Any, limit: int = DISPLAY_NAME_MAX) -> str:
    """A display name safe to show as text: no controls or direction overrides,
    one space between words, at most `limit` characters (cut at a character)."""
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFC", value[: limit * 8])
    out: list[str] = []
    marks = 0
    for char in text:
        category = unicodedata.category(char)
        marks = marks + 1 if category == "Mn" else 0
        if category in _SPACES or char in "\t\n\r":
            out.append(" ")
        elif (category in _DROP and char not in _KEEP) or marks > MAX_MARKS:
            continue
        else:
            out.append(char)
    cleaned = " ".join("".join(out).split())
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned


class AvatarRefused(InvalidResponse):
    """The answer is not an avatar we show: `reason` says why (for the log)."""

    def __init__(self, message: str, *, reason: str, status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.reason = reason


_FORMATS = {
    "PNG": (b"\x89PNG\r\n\x1a\n",),
    "JPEG": (b"\xff\xd8\xff",),
    "GIF": (b"GIF87a", b"GIF89a"),
}


def sniff(data: bytes) -> str | None:
    """The image format the first bytes prove (PNG, JPEG, GIF, WEBP), or None."""
    for name, magics in _FORMATS.items():
        if data.startswith(magics):
            return name
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def reencode(data: bytes, size: int = AVATAR_SIZE) -> bytes:
    """The image in `data` as a `size`-pixel square WebP (first frame, centre crop).

    Raises `AvatarRefused` for anything that is not a readable PNG, JPEG,
    GIF or WebP of at most `AVATAR_MAX_PIXELS` pixels."""
    kind = sniff(data)
    if kind is None:
        raise AvatarRefused("This is not a picture Hirondelle shows.", reason="not-image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as image:
                width, height = image.size
                if width < 1 or height < 1 or width * height > AVATAR_MAX_PIXELS:
                    raise AvatarRefused(
                        f"The picture is {width}×{height} pixels: too large to read.",
                        reason="pixels",
                    )
                image.draft("RGB", (size * 2, size * 2))  # JPEG: decode smaller, faster
                image.seek(0)
                frame = image.convert("RGBA")
    except AvatarRefused:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning) as exc:
        raise AvatarRefused("The picture cannot be read.", reason="unreadable") from exc
    square = ImageOps.fit(frame, (size, size), method=Image.Resampling.LANCZOS)
    out = io.BytesIO()
    square.save(out, format="WEBP", quality=80, method=4)
    return out.getvalue()


#: Special-use names (RFC 6761, 6762, 7686) that no public server can have:
#: asking the DNS about them only tells the resolver what we looked for.
SPECIAL_USE = ("example", "invalid", "local", "localhost", "onion", "test")


def is_special_use(host: str) -> bool:
    """A name under a special-use top-level domain (``mock.local``, ``a.example``)."""
    name = host.rstrip(".").lower().rsplit(":", 1)[0] if "]" not in host else ""
    return name.rsplit(".", 1)[-1] in SPECIAL_USE


def _refuse_special_use(request: httpx.Request) -> None:
    """Every request and redirect hop: no special-use name reaches the resolver."""
    if is_special_use(request.url.host):
        raise guard.AddressRefused(
            f"“{request.url.host}” is a reserved name, not a public server.", reason="name"
        )


def _client(policy: guard.Policy, **kwargs: Any) -> httpx.Client:
    return guard.httpx_client(
        policy=policy,
        headers={"User-Agent": USER_AGENT},
        event_hooks={"request": [_refuse_special_use]},
        **kwargs,
    )


def avatar_client(*, policy: guard.Policy | None = None) -> httpx.Client:
    """A guarded client with an avatar's limits (size, deadline), following redirects
    (each hop checked again by the guard)."""
    policy = (policy or guard.default_policy()).with_(
        max_bytes=AVATAR_MAX_BYTES, deadline=AVATAR_DEADLINE
    )
    return _client(policy, follow_redirects=True)


def fetch_avatar(url: str, client: httpx.Client, size: int = AVATAR_SIZE) -> bytes:
    """The avatar at `url`, re-encoded (`reencode`); raises a `NetworkError`
    (the guard's refusals, `AvatarRefused`, `Unavailable`) when it cannot."""
    try:
        response = client.get(url)
    except guard.GuardError:
        raise
    except httpx.HTTPError as exc:
        refused = guard.guard_error(exc)
        if refused is not None:
            raise refused from exc
        raise Unavailable("The avatar's server could not be reached.") from exc
    if response.status_code == 404 or response.status_code == 410:
        raise NotFound("The avatar is gone.", status=response.status_code)
    if response.status_code >= 500:
        raise Unavailable("The avatar's server is having trouble.", status=response.status_code)
    if response.status_code != 200:
        raise Refused("The avatar's server refused.", status=response.status_code)
    return reencode(response.content, size)


def https_server(host: str) -> str:
    """``https://host``: where a fediverse account's server answers its API."""
    return f"https://{host}"


class MastodonLookup:
    """Public profiles read from each account's own server, no sign-in.

    `server_url(host)` gives the server's base URL (https; tests point it at
    a local peer). The server is the actor URI's host when it is known (a
    handle's domain may only serve WebFinger), else the handle's.
    """

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        server_url: Callable[[str], str] = https_server,
    ) -> None:
        self._owns = client is None
        self.client = client or _client(guard.default_policy())
        self.server_url = server_url
        #: actor URI per address, when known (its host is the server to ask)
        self.servers: dict[str, str] = {}
        self.requests: dict[str, int] = {}

    def close(self) -> None:
        if self._owns:
            self.client.close()

    def __enter__(self) -> MastodonLookup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lookup(self, handle: str) -> PublicProfile | None:
        """The profile of ``user@host`` (None when the server does not know it)."""
        user, host = parse_handle(handle)
        uri = self.servers.get(handle.lower(), "")
        server = (urlsplit(uri).netloc.lower() if uri.startswith("https://") else "") or host
        acct = user if server == host else f"{user}@{host}"
        self.requests["lookup"] = self.requests.get("lookup", 0) + 1
        try:
            response = self.client.get(
                f"{self.server_url(server).rstrip('/')}/api/v1/accounts/lookup",
                params={"acct": acct},
            )
        except guard.GuardError:
            raise
        except httpx.HTTPError as exc:
            refused = guard.guard_error(exc)
            if refused is not None:
                raise refused from exc
            raise Unavailable(f"The server {server} could not be reached.") from exc
        if response.status_code in (404, 410):
            return None
        if response.status_code >= 500 or response.status_code == 429:
            raise Unavailable(
                f"The server {server} is having trouble.", status=response.status_code
            )
        if response.status_code != 200:
            raise Refused(f"The server {server} refused.", status=response.status_code)
        try:
            data = response.json()
        except ValueError as exc:
            raise InvalidResponse(f"The server {server} answered no JSON.") from exc
        found = profile_from_account(data, host if server == host else server)
        if found is None:
            return None
        wanted = f"{user}@{host}".lower()
        # The server may name its own accounts with its own domain: trust the acct it gives.
        if found.handle != wanted and found.handle.split("@")[0] != user.lower():
            return None
        return found
