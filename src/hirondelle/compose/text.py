"""From an archive post's text to the text a network shows, with its entities.

The archive reader has already expanded t.co links and unescaped entities.
Here: mentions of people found in the directory become their new handles,
the others become links to their X profile; hashtags and links are kept and
located (Bluesky needs them as facets); a quote of one's own republished post
becomes a quote (Bluesky) or a link to the new post (Mastodon).

Offsets in a `Span` are code-point indices into `RichText.text` (Python
string indices); `facets.py` turns them into UTF-8 byte offsets.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from enum import StrEnum

from hirondelle.archive.records import Post
from hirondelle.compose._patterns import GRAPHEME, HASHTAG, STATUS_URL, URL, X_MENTION, trim_url
from hirondelle.networks.base import Network, PublishedPost, RemoteAccount

__all__ = [
    "Composed",
    "MentionResolver",
    "RichText",
    "Span",
    "SpanKind",
    "compose_text",
    "display_url",
    "x_profile_url",
]

#: X screen name → the person's account on the target network, or None.
MentionResolver = Callable[[str], RemoteAccount | None]

#: Bluesky's limits for one tag facet (app.bsky.richtext.facet#tag).
_TAG_MAX_GRAPHEMES = 64
_TAG_MAX_BYTES = 640
#: Longest link text shown on Bluesky before it is cut with "…".
_DISPLAY_URL_MAX = 30


class SpanKind(StrEnum):
    LINK = "link"  # value: the full URL
    MENTION = "mention"  # value: DID (Bluesky) or actor URI (Mastodon)
    TAG = "tag"  # value: the tag without "#"


@dataclass(frozen=True, slots=True)
class Span:
    """An entity in the text: `text[start:end]` is what the reader sees."""

    start: int
    end: int
    kind: SpanKind
    value: str


@dataclass(frozen=True, slots=True)
class RichText:
    text: str
    spans: tuple[Span, ...] = ()

    def span_text(self, span: Span) -> str:
        return self.text[span.start : span.end]


@dataclass(frozen=True, slots=True)
class Composed:
    """A post's text made ready for one network, before any split."""

    rich: RichText
    quote_post_id: str | None = None  # X id of one's own republished post to embed (Bluesky)


def x_profile_url(screen_name: str) -> str:
    return f"https://x.com/{screen_name}"


def display_url(url: str, max_graphemes: int = _DISPLAY_URL_MAX) -> str:
    """A link as Bluesky's app shows it: no scheme, no "www.", cut with "…"."""
    shown = url.split("://", 1)[-1]
    if shown.lower().startswith("www."):
        shown = shown[4:]
    shown = shown.rstrip("/") or shown
    if shown.isascii():
        if len(shown) <= max_graphemes:
            return shown
        return shown[: max_graphemes - 1] + "…"
    clusters = GRAPHEME.findall(shown)
    if len(clusters) <= max_graphemes:
        return shown
    return "".join(clusters[: max_graphemes - 1]) + "…"


def _replace_quote(
    text: str,
    post: Post,
    network: Network,
    published: Mapping[str, PublishedPost],
    pending: Container[str],
) -> tuple[str, str | None]:
    """Turn the link to a quoted post into a quote or a link to the new post."""
    quoted = post.quoted_post_id
    if not quoted:
        return text, None
    match = None
    for candidate in STATUS_URL.finditer(text):
        if candidate.group(2) == quoted:
            match = candidate
    if network is Network.BLUESKY and (quoted in published or quoted in pending):
        if match is not None:
            start, end = match.start(), match.start() + len(trim_url(match.group(0)))
            text = (text[:start].rstrip() + " " + text[end:].lstrip()).strip()
        return text, quoted
    if quoted not in published:
        return text, None  # others' posts and unpublished ones stay links to X
    target = published[quoted]
    link = target.url or target.uri
    if not link.startswith(("https://", "http://")):
        return text, None
    if match is None:
        return (text + "\n\n" + link).strip(), None
    start, end = match.start(), match.start() + len(trim_url(match.group(0)))
    return text[:start] + link + text[end:], None


def _entities(text: str, hashtags: tuple[str, ...]) -> list[tuple[int, int, SpanKind, str]]:
    """Links, X mentions and hashtags of `text`, in order, never overlapping."""
    found: list[tuple[int, int, SpanKind, str]] = []
    taken: list[tuple[int, int]] = []
    for match in URL.finditer(text):
        url = trim_url(match.group(0))
        if "://" not in url or url.endswith("://"):
            continue
        found.append((match.start(), match.start() + len(url), SpanKind.LINK, url))
        taken.append((match.start(), match.start() + len(url)))

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    for match in X_MENTION.finditer(text):
        if free(match.start(), match.end()):
            found.append((match.start(), match.end(), SpanKind.MENTION, match.group(1)))
    wanted = {tag.casefold() for tag in hashtags}
    for match in HASHTAG.finditer(text):
        tag = match.group(1)
        if wanted and tag.casefold() not in wanted:
            continue
        if free(match.start(), match.end()):
            found.append((match.start(), match.end(), SpanKind.TAG, tag))
    found.sort()
    return found


def _tag_fits(tag: str) -> bool:
    return (
        len(tag.encode("utf-8")) <= _TAG_MAX_BYTES
        and len(GRAPHEME.findall(tag)) <= _TAG_MAX_GRAPHEMES
    )


def compose_text(
    post: Post,
    network: Network | str,
    *,
    resolve_mention: MentionResolver | None = None,
    published: Mapping[str, PublishedPost] | None = None,
    pending: Container[str] = frozenset(),
    shorten_links: bool = True,
) -> Composed:
    """The post's text for `network`, with links, mentions and tags located.

    `published` maps X post ids to posts already republished on this network:
    a quote of one of them becomes a real quote on Bluesky and a link to the
    new post on Mastodon; quotes of anything else stay links to X. On
    Bluesky a quote may also point at a post of `pending` (X ids republished
    earlier in the same run), since the quote is resolved at publish time.
    """
    network = Network(network)
    text = post.text.replace("\r\n", "\n").strip()
    text, quote_id = _replace_quote(text, post, network, published or {}, pending)
    accounts: dict[str, RemoteAccount | None] = {}
    pieces: list[str] = []
    spans: list[Span] = []
    out = 0  # code points written so far
    cursor = 0
    for start, end, kind, value in _entities(text, post.hashtags):
        plain = text[cursor:start]
        pieces.append(plain)
        out += len(plain)
        cursor = end
        shown = text[start:end]
        span_kind, span_value = kind, value
        if kind is SpanKind.LINK:
            if network is Network.BLUESKY and shorten_links:
                shown = display_url(value)
        elif kind is SpanKind.MENTION:
            key = value.casefold()
            if key not in accounts:
                accounts[key] = resolve_mention(value) if resolve_mention else None
            account = accounts[key]
            handle = account.handle.lstrip("@") if account else ""
            if network is Network.BLUESKY and account and not account.id.startswith("did:"):
                account = None  # a Bluesky mention needs a DID
            if account is not None and handle and account.id:
                shown, span_value = "@" + handle, account.id
            else:
                span_kind, span_value = SpanKind.LINK, x_profile_url(value)
                if network is Network.MASTODON:
                    shown = span_value  # a bare "@name" would mention someone local
        elif kind is SpanKind.TAG and not _tag_fits(value):
            pieces.append(shown)
            out += len(shown)
            continue
        pieces.append(shown)
        spans.append(Span(out, out + len(shown), span_kind, span_value))
        out += len(shown)
    pieces.append(text[cursor:])
    return Composed(RichText("".join(pieces), tuple(spans)), quote_id)
