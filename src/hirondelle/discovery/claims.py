"""Claims people write about their own accounts, read out of text: pure, no network.

Two directions, both strict (a claim is only a lead: it is checked by a
search or a resolution before anyone sees it, but a false lead still costs a
request, and a lenient reader would turn every ordinary mention into one):

- `addresses_in(text)`: the new addresses an X display name (or any X text)
  names: ``Alice 🦋 alice.bsky.social``, ``Bob @bob@piaille.fr``,
  ``https://piaille.fr/@bob``, ``https://bsky.app/profile/alice.bsky.social``,
  ``did:plc:…``. Each is the X side's own claim, kept with where it was read.
- `x_usernames_in(text)` and `x_usernames_in_fields(fields)`: the X accounts a
  profile on the new network says it is: ``x.com/USERNAME``,
  ``twitter.com/USERNAME``, ``@USERNAME on X``, ``X: @USERNAME``, a profile
  field named X or Twitter. X usernames are 1–15 characters of
  ``[A-Za-z0-9_]`` and compare case-insensitively.

Only ASCII spellings count: look-alike letters (``𝐚𝐥𝐢𝐜𝐞``, fullwidth ``＠``)
and invisible characters break a claim instead of being folded into one. Input
is capped at `MAX_TEXT` characters, so hostile text costs bounded time.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "MAX_TEXT",
    "AddressClaim",
    "ClaimNetwork",
    "XClaim",
    "addresses_in",
    "html_to_text",
    "is_x_username",
    "x_usernames_in",
    "x_usernames_in_fields",
]

#: Characters of one text that are read; the rest is ignored.
MAX_TEXT = 10_000


class ClaimNetwork(StrEnum):
    """Same values as `hirondelle.networks.base.Network`."""

    MASTODON = "mastodon"
    BLUESKY = "bluesky"


@dataclass(frozen=True, slots=True)
class AddressClaim:
    """An address on a new network named in a text.

    `address` is normalised: ``user@host`` (lower case) for the fediverse, a
    lower-case handle or a DID for Bluesky. `text` is the whole text it was
    read from and `start`/`end` the span of what was read, so a page can
    highlight it.
    """

    network: ClaimNetwork
    address: str
    text: str
    start: int
    end: int

    @property
    def is_did(self) -> bool:
        return self.address.startswith("did:")

    @property
    def fragment(self) -> str:
        return self.text[self.start : self.end]


@dataclass(frozen=True, slots=True)
class XClaim:
    """An X username a profile claims, as written; `key` is its comparison form."""

    username: str
    text: str
    start: int
    end: int

    @property
    def key(self) -> str:
        return self.username.lower()

    @property
    def fragment(self) -> str:
        return self.text[self.start : self.end]


# ------------------------------------------------------------------- building blocks

_F = re.ASCII
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TLD = r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})"
_HOST = rf"(?:{_LABEL}\.){{1,10}}{_TLD}"
#: The same, with a top-level domain written in lower case: for bare
#: handles in prose, where ``@bob.Great`` is a missing space, not a handle.
_HOST_LOWER_TLD = rf"(?:{_LABEL}\.){{1,10}}(?:[a-z]{{2,63}}|xn--[a-z0-9-]{{1,59}})"
_FEDI_USER = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?"
#: Nothing may continue an address: no word character, no `@`, no `.word`.
_END = r"(?![\w@/-]|\.[A-Za-z0-9]|:\d)"
_END_PATH = r"/?(?![\w@/%-]|\.[A-Za-z0-9])"
_START = r"(?<![\w@.+/:%-])"

_FEDI_HANDLE = re.compile(rf"{_START}@(?P<user>{_FEDI_USER})@(?P<host>{_HOST}){_END}", _F)
_FEDI_BARE = re.compile(rf"{_START}(?P<user>{_FEDI_USER})@(?P<host>{_HOST_LOWER_TLD}){_END}", _F)
_FEDI_URL = re.compile(
    rf"{_START}(?:https?://)?(?P<host>{_HOST})/@(?P<user>{_FEDI_USER})"
    rf"(?:@(?P<remote>{_HOST}))?{_END_PATH}",
    _F | re.IGNORECASE,
)
_DID = re.compile(r"(?<![\w:/-])did:(?:plc:[a-z2-7]{24}|web:" + _HOST + r")(?![\w:.%-])", _F)
_BSKY_URL = re.compile(
    rf"{_START}(?:https?://)?(?:www\.)?bsky\.app/profile/"
    rf"(?P<actor>did:plc:[a-z2-7]{{24}}|did:web:{_HOST}|{_HOST}){_END_PATH}",
    _F | re.IGNORECASE,
)
_AT_DOMAIN = re.compile(rf"{_START}@(?P<handle>{_HOST}){_END}", _F)
_BARE_DOMAIN = re.compile(rf"{_START}(?P<handle>{_HOST}){_END}", _F)

#: Words and signs by which people say "my Bluesky" or "my fediverse".
_BSKY_CUE = re.compile(r"🦋|\bbsky\b|\bbluesky\b|\bblue\s*sky\b", re.IGNORECASE)
_FEDI_CUE = re.compile(r"🐘|\bmasto(?:don)?\b|\bfedi(?:verse)?\b|\bpouet\b", re.IGNORECASE)
#: Server names that say "fediverse" by themselves (mastodon.social, piaille.fr…).
_FEDI_HOST = re.compile(
    r"masto|mstdn|\.social$|^social\.|toot|fedi|pouet|piaille|pleroma|akkoma|misskey|sharkey"
    r"|firefish|calckey|gotosocial|hachyderm|infosec\.exchange|eldritch\.cafe|framapiaf"
)

#: Sites whose `/@name` pages are not fediverse accounts.
_NOT_FEDIVERSE = frozenset(
    {
        "medium.com",
        "youtube.com",
        "tiktok.com",
        "substack.com",
        "x.com",
        "twitter.com",
        "bsky.app",
        "github.com",
        "instagram.com",
        "threads.com",
        "linkedin.com",
        "vimeo.com",
        "facebook.com",
        "pinterest.com",
        "twitch.tv",
        "soundcloud.com",
        "patreon.com",
        "ko-fi.com",
        "linktr.ee",
        "google.com",
    }
)
#: Domains that are never someone's handle, even next to a butterfly.
_NOT_HANDLES = _NOT_FEDIVERSE | {
    "bsky.social",
    "bsky.app",
    "t.co",
    "x.com",
    "twitter.com",
    "gmail.com",
    "blueskyweb.xyz",
    "joinmastodon.org",
    "mastodon.social",
}
#: Mail providers: ``name@gmail.com`` is an e-mail address, never an account.
_MAIL_HOSTS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "outlook.fr",
        "hotmail.com",
        "hotmail.fr",
        "live.com",
        "live.fr",
        "msn.com",
        "yahoo.com",
        "yahoo.fr",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "gmx.com",
        "gmx.de",
        "gmx.fr",
        "web.de",
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "sfr.fr",
        "laposte.net",
        "mail.ru",
        "yandex.ru",
        "tutanota.com",
        "fastmail.com",
    }
)
#: Top-level names the atproto handle rules refuse.
_BAD_TLDS = frozenset({"local", "arpa", "invalid", "localhost", "internal", "example", "onion"})
#: File names look like domains (``photo.jpg``): never handles.
_FILE_TLDS = frozenset(
    {"jpg", "jpeg", "png", "gif", "webp", "mp4", "mov", "pdf", "html", "htm", "php", "txt", "js"}
)


def _site(host: str) -> str:
    host = host.lower()
    for prefix in ("www.", "m.", "mobile."):
        if host.startswith(prefix):
            return host[len(prefix) :]
    return host


def _handle_ok(handle: str) -> bool:
    """A plausible Bluesky handle; in prose its top-level domain must be written in
    lower case (``@bob.Great`` is a missing space) unless it is ``*.bsky.social``."""
    written_tld = handle.rsplit(".", 1)[-1]
    handle = handle.lower()
    tld = handle.rsplit(".", 1)[-1]
    if written_tld != tld and not handle.endswith(".bsky.social"):
        return False
    return (
        len(handle) <= 253
        and tld not in _BAD_TLDS
        and tld not in _FILE_TLDS
        and _site(handle) not in _NOT_HANDLES
        and _site(handle) == handle
    )


def _fedi_host_ok(host: str) -> bool:
    tld = host.rsplit(".", 1)[-1]
    return (
        host not in _MAIL_HOSTS
        and _site(host) not in ("x.com", "twitter.com")
        and tld not in _BAD_TLDS
        and tld not in _FILE_TLDS
    )


def _clip(text: str) -> str:
    return text[:MAX_TEXT] if len(text) > MAX_TEXT else text


# ------------------------------------------------------------------- X side → new addresses


def addresses_in(text: str) -> list[AddressClaim]:
    """Every new-network address `text` names, in text order, each once.

    Strong forms always count (``@user@host``, a profile link, a DID, a
    ``*.bsky.social`` handle, ``@domain.tld``); weaker ones only next to a cue
    (``user@host`` beside 🐘/"mastodon" or on a server whose name says so,
    like ``mastodon.social``; a bare ``domain.tld`` beside 🦋/"bluesky"), and
    never a mail provider's address.
    """
    text = _clip(text or "")
    if not text or ("@" not in text and "." not in text and "did:" not in text):
        return []
    found: list[AddressClaim] = []
    taken: list[tuple[int, int]] = []

    def add(network: ClaimNetwork, address: str, start: int, end: int) -> None:
        if any(a < end and start < b for a, b in taken):
            return
        taken.append((start, end))
        found.append(AddressClaim(network, address, text, start, end))

    for m in _BSKY_URL.finditer(text):
        actor = m["actor"]
        if actor.lower().startswith("did:"):
            add(ClaimNetwork.BLUESKY, actor, m.start(), m.end())
        elif _handle_ok(actor.lower()):
            add(ClaimNetwork.BLUESKY, actor.lower(), m.start(), m.end())
    for m in _FEDI_URL.finditer(text):
        site = _site(m["host"])
        if site in _NOT_FEDIVERSE:
            continue
        host = (m["remote"] or m["host"]).lower()
        if not _fedi_host_ok(host):
            continue
        add(ClaimNetwork.MASTODON, f"{m['user'].lower()}@{host}", m.start(), m.end())
    for m in _DID.finditer(text):
        add(ClaimNetwork.BLUESKY, m.group(0), m.start(), m.end())
    for m in _FEDI_HANDLE.finditer(text):
        host = m["host"].lower()
        if not _fedi_host_ok(host):
            continue
        add(ClaimNetwork.MASTODON, f"{m['user'].lower()}@{host}", m.start(), m.end())
    fedi_cue = _FEDI_CUE.search(text) is not None
    for m in _FEDI_BARE.finditer(text):
        host = m["host"].lower()
        if _fedi_host_ok(host) and (fedi_cue or _FEDI_HOST.search(host)):
            add(ClaimNetwork.MASTODON, f"{m['user'].lower()}@{host}", m.start(), m.end())
    for m in _AT_DOMAIN.finditer(text):
        if _handle_ok(m["handle"]):
            add(ClaimNetwork.BLUESKY, m["handle"].lower(), m.start(), m.end())
    cue = _BSKY_CUE.search(text) is not None
    for m in _BARE_DOMAIN.finditer(text):
        handle = m["handle"].lower()
        if (cue or handle.endswith(".bsky.social")) and _handle_ok(handle):
            add(ClaimNetwork.BLUESKY, handle, m.start(), m.end())
    found.sort(key=lambda c: c.start)
    return found


# ------------------------------------------------------------------- new profile → X account

_X_USER = r"[A-Za-z0-9_]{1,15}"
_X_END = r"(?![A-Za-z0-9_@]|\.[A-Za-z0-9])"
_X_NAME = r"(?:X(?![\w-])|𝕏|(?i:twitter)(?![\w-]))"
_X_SITE = r"(?i:(?:https?://)?(?:(?:www|mobile|m)\.)?(?:x|twitter)\.com)"
#: Profile paths on X that are not accounts.
_X_RESERVED = frozenset(
    {
        "home",
        "i",
        "intent",
        "search",
        "hashtag",
        "explore",
        "settings",
        "share",
        "login",
        "logout",
        "signup",
        "tos",
        "privacy",
        "notifications",
        "messages",
        "compose",
        "about",
        "download",
        "jobs",
        "account",
        "help",
        "status",
        "statuses",
        "user",
        "users",
        "en",
        "fr",
        "who_to_follow",
        "following",
        "followers",
        "lists",
    }
)

_X_URL = re.compile(
    rf"(?<![\w.@/:%-]){_X_SITE}/(?:#!/)?@?(?P<u>{_X_USER})(?![A-Za-z0-9_])"
    r"/?(?:\?[\w=&%.-]*)?(?![\w/#@%-]|\.[A-Za-z0-9])",
    _F,
)
#: ``@bob@twitter.com``: how the fediverse used to spell X accounts (and bridges still do).
_X_FEDI_STYLE = re.compile(
    rf"(?<![\w@.+-])@(?P<u>{_X_USER})@(?i:(?:x|twitter)\.com){_END}",
    _F,
)
_X_ON = re.compile(
    rf"(?<![\w@.+/-])@(?P<u>{_X_USER}){_X_END}\s{{0,3}}"
    rf"(?:(?:(?i:on|sur|at|auf|en|in)\s{{1,3}}{_X_NAME})|\(\s{{0,3}}{_X_NAME}\s{{0,3}}\))",
    _F,
)
_X_LABEL = re.compile(
    rf"(?<![\w@])(?:{_X_NAME}(?:\s{{0,3}}/\s{{0,3}}{_X_NAME}|\s{{0,3}}\(\s{{0,3}}{_X_NAME}\s{{0,3}}\))?)"
    rf"\s{{0,3}}(?::|：|->|→|=>|–|—|-)\s{{0,3}}@(?P<u>{_X_USER}){_X_END}",
    _F,
)
_X_FIELD_NAMES = frozenset(
    {
        "x",
        "twitter",
        "xtwitter",
        "twitterx",
        "xcom",
        "twittercom",
        "extwitter",
        "xextwitter",
        "xformerlytwitter",
        "formerlytwitter",
        "oldtwitter",
        "birdsite",
        "𝕏",
    }
)
_FIELD_VALUE = re.compile(rf"^@?(?P<u>{_X_USER})$", _F)
_TAG = re.compile(r"<[^<>]{0,2000}>")
_NOT_NAME = re.compile(r"[^A-Za-z0-9𝕏]+")


def is_x_username(value: str) -> bool:
    """1–15 characters of ``[A-Za-z0-9_]``: what X accepts."""
    return bool(re.fullmatch(_X_USER, value or "", _F))


def html_to_text(value: str) -> str:
    """A Mastodon profile's HTML (note or field value) as plain text."""
    value = _clip(value or "")
    value = re.sub(r"<br\s*/?>|</p>", "\n", value, flags=re.IGNORECASE)
    return html.unescape(_TAG.sub("", value))


def x_usernames_in(text: str) -> list[XClaim]:
    """X usernames a profile text claims as its own, in text order, each once.

    Counts only ``x.com/NAME`` and ``twitter.com/NAME`` (a profile, not a
    post), ``@NAME on X`` / ``@NAME (Twitter)`` / ``@NAME sur X``,
    ``X: @NAME`` / ``Twitter: @NAME`` and ``@NAME@twitter.com``. An ordinary
    mention (``thanks @NAME``) is no claim.
    """
    text = _clip(text or "")
    low = text.lower()
    if not text or ("twitter" not in low and "x" not in low and "𝕏" not in text):
        return []
    found: list[XClaim] = []
    seen: set[str] = set()
    for pattern in (_X_URL, _X_FEDI_STYLE, _X_ON, _X_LABEL):
        for m in pattern.finditer(text):
            name = m["u"]
            if pattern is _X_URL and name.lower() in _X_RESERVED:
                continue
            if name.lower() in seen:
                continue
            seen.add(name.lower())
            found.append(XClaim(name, text, m.start(), m.end()))
    found.sort(key=lambda c: c.start)
    return found


def x_usernames_in_fields(fields: Iterable[tuple[str, str]]) -> list[XClaim]:
    """X usernames claimed by profile fields (name, value; HTML allowed).

    A field named X or Twitter (``X``, ``Twitter``, ``X/Twitter``, ``𝕏``…)
    whose value is just ``@NAME`` or ``NAME`` claims it; any field's value is
    also read as text (``x.com/NAME`` under "Links"). `text` of each claim is
    the field's value as plain text.
    """
    found: list[XClaim] = []
    seen: set[str] = set()
    for raw_name, raw_value in fields:
        name = _NOT_NAME.sub("", html_to_text(raw_name)).lower()
        value = html_to_text(raw_value).strip()
        claims = []
        m = _FIELD_VALUE.match(value)
        if m and name in _X_FIELD_NAMES:
            claims.append(XClaim(m["u"], value, 0, len(value)))
        else:
            claims.extend(x_usernames_in(value))
            if name in _X_FIELD_NAMES and not claims:
                claims.extend(_bare_x_url(value))
        for claim in claims:
            if claim.key not in seen:
                seen.add(claim.key)
                found.append(claim)
    return found


_X_URL_ANYWHERE = re.compile(
    rf"{_X_SITE}/(?:#!/)?@?(?P<u>{_X_USER})(?![A-Za-z0-9_])/?(?:\?[\w=&%.-]*)?$", _F
)


def _bare_x_url(value: str) -> list[XClaim]:
    """A field named X holding a link the text rules left (``https://x.com/bob?s=21``)."""
    m = _X_URL_ANYWHERE.search(value)
    if m and m["u"].lower() not in _X_RESERVED:
        return [XClaim(m["u"], value, m.start(), m.end())]
    return []
