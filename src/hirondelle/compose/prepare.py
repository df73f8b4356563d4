"""The entry point: one archive post in, the drafts one network takes out.

A draft is one post of the (usually one-post) thread that republishes an X
post: its final text, facets, date, media and references. References name X
post ids (`PartRef`), not network ids: they are resolved at publish time from
the mapping of what is already republished, so preparing stays pure and can
run ahead of publishing (dry runs, counts) or just before it.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo

import regex

from hirondelle.archive.records import Post
from hirondelle.compose.errors import ComposeError
from hirondelle.compose.facets import facets
from hirondelle.compose.limits import Limits, limits_for
from hirondelle.compose.media import MediaRef, pick_media
from hirondelle.compose.plan import Filters, date_line, plan, reply_line, thread_roots
from hirondelle.compose.split import split
from hirondelle.compose.text import MentionResolver, compose_text
from hirondelle.networks.base import Network, PublishedPost

__all__ = [
    "LAST",
    "Draft",
    "Options",
    "PartRef",
    "Prepared",
    "draft_key",
    "prepare",
    "prepare_many",
]

#: `PartRef.part` for "the last part of that post" (where a thread continues).
LAST = -1
VISIBILITIES = ("public", "unlisted", "private", "direct")
# X's codes that are not languages (undetermined, media only, hashtags only…).
_NOT_LANGUAGES = {"und", "zxx", "qme", "qam", "qct", "qht", "qst", "art", "mis"}
_RENAMED = {"in": "id", "iw": "he", "ji": "yi"}
_LANGUAGE = regex.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


@dataclass(frozen=True, slots=True)
class PartRef:
    """A part of a republished X post: `part` 0 is its first post, LAST its last."""

    post_id: str
    part: int = 0


@dataclass(frozen=True, slots=True)
class Options:
    """A person's choices for republishing.

    `language`: the person's language (date line; posts whose language X did
    not detect). `date_line`: where Mastodon posts state their original date,
    "first" (opening line), "last" (closing line) or "none".
    """

    visibility: str = "unlisted"
    language: str = "en"
    date_line: str = "last"
    date_template: str | None = None  # overrides the sentence; must contain "{date}"
    timezone: tzinfo | None = None  # for the date line; UTC by default
    numbering: bool = True  # " (1/3)" after each part of a split post
    shorten_links: bool = True  # Bluesky: show "example.com/path…", link to the full URL
    media: bool = True

    def __post_init__(self) -> None:
        if self.visibility not in VISIBILITIES:
            raise ComposeError(
                f"visibility {self.visibility!r} is not one of {', '.join(VISIBILITIES)}"
            )
        if self.date_line not in ("first", "last", "none"):
            raise ComposeError(f"date_line {self.date_line!r} must be first, last or none")


DEFAULT_OPTIONS = Options()


def draft_key(post_id: str, part: int, network: Network | str) -> str:
    """The idempotency key of one part: the same on every retry, every run."""
    return f"hirondelle:{Network(network).value}:x{post_id}:{part}"


@dataclass(frozen=True, slots=True)
class Draft:
    """One post, ready for a network except for ids known only at publish time."""

    key: str
    network: Network
    post_id: str  # the X post this part republishes
    part: int
    parts: int
    text: str
    created_at: datetime
    facets: tuple[dict, ...] = ()  # Bluesky only
    reply_to: PartRef | None = None
    thread_root: PartRef | None = None  # None with a reply_to: take the parent's root
    quote: PartRef | None = None  # Bluesky record embed of one's own republished post
    media: tuple[MediaRef, ...] = ()
    media_dropped: int = 0
    sensitive: bool = False
    language: str = ""
    visibility: str = "unlisted"  # Mastodon only
    #: The X post this reply answered, when that post is not republished (the
    #: first part opens with a line linking to it: see `plan.reply_line`).
    answers: str | None = None


def _language(post_lang: str, fallback: str) -> str:
    lang = (post_lang or "").strip().lower()
    lang = _RENAMED.get(lang, lang)
    if lang and lang not in _NOT_LANGUAGES and _LANGUAGE.fullmatch(lang):
        return lang
    return fallback


def prepare(
    post: Post,
    network: Network | str,
    *,
    limits: Limits | None = None,
    resolve_mention: MentionResolver | None = None,
    published: Mapping[str, PublishedPost] | None = None,
    pending: Container[str] = frozenset(),
    roots: Mapping[str, str] | None = None,
    options: Options = DEFAULT_OPTIONS,
) -> list[Draft]:
    """The drafts that republish `post` on `network`, in publishing order.

    `published`: X post id → its post already on this network (first part).
    `pending`: X ids being republished in this run, before this post (see
    `plan`): replies and Bluesky quotes may point at them. `roots`: the thread
    roots of this run (`plan.thread_roots`); without it, a reply whose X thread
    root is not republished leaves the root to the publisher.
    """
    network = Network(network)
    limits = limits or limits_for(network)
    if limits.network is not network:
        raise ComposeError(f"limits for {limits.network.value} given to prepare a {network} post")
    published = published or {}

    def known(post_id: str | None) -> bool:
        return bool(post_id) and (post_id in published or post_id in pending)

    answers = None if known(post.reply_to_post_id) else reply_line(post, options.language)
    composed = compose_text(
        replace(post, text=f"{answers}\n\n{post.text}") if answers else post,
        network,
        resolve_mention=resolve_mention,
        published=published,
        pending=pending,
        shorten_links=options.shorten_links,
    )
    choice = pick_media(post.id, post.media, limits) if options.media else None
    if (
        not composed.rich.text.strip()
        and not composed.quote_post_id
        and not (choice and choice.attach)
    ):
        raise ComposeError(
            f"X post {post.id} has no text and none of its media is in the archive: "
            "there is nothing to republish"
        )
    header = footer = ""
    if network is Network.MASTODON and options.date_line != "none":
        line = date_line(post.created_at, options.language, options.date_template, options.timezone)
        header, footer = (line, "") if options.date_line == "first" else ("", line)
    parts = split(composed.rich, limits, numbering=options.numbering, header=header, footer=footer)

    reply_to: PartRef | None = None
    root: PartRef | None = None
    parent = post.reply_to_post_id
    if parent and known(parent):
        reply_to = PartRef(parent, LAST)
        # This run's root (see plan.thread_roots), else the X thread's first post
        # if it was republished, possibly by an earlier run.
        run_root = roots.get(post.id) if roots is not None else None
        for root_id in (run_root, post.thread_root_id):
            if root_id and root_id != post.id and known(root_id):
                root = PartRef(root_id, 0)
                break
    language = _language(post.lang, options.language)
    quote = PartRef(composed.quote_post_id, 0) if composed.quote_post_id else None
    continues_a_thread = reply_to is not None
    drafts: list[Draft] = []
    for index, part in enumerate(parts):
        if index:
            reply_to = PartRef(post.id, index - 1)
            if not continues_a_thread:
                root = PartRef(post.id, 0)  # the split post starts its own thread
        drafts.append(
            Draft(
                key=draft_key(post.id, index, network),
                network=network,
                post_id=post.id,
                part=index,
                parts=len(parts),
                text=part.text,
                # Parts one millisecond apart keep their order where clients sort by date.
                created_at=post.created_at + timedelta(milliseconds=index),
                facets=tuple(facets(part.rich)) if network is Network.BLUESKY else (),
                reply_to=reply_to,
                thread_root=root if reply_to else None,
                quote=quote if index == 0 else None,
                media=choice.attach if choice and index == 0 else (),
                media_dropped=choice.dropped if choice and index == 0 else 0,
                sensitive=post.possibly_sensitive if index == 0 else False,
                language=language,
                visibility=options.visibility,
                answers=post.reply_to_post_id if answers and index == 0 else None,
            )
        )
    return drafts


@dataclass(frozen=True, slots=True)
class Prepared:
    post: Post
    drafts: list[Draft] = field(default_factory=list)
    error: ComposeError | None = None  # why this post cannot go (the others still do)


def prepare_many(
    posts: Iterable[Post],
    network: Network | str,
    *,
    filters: Filters | None = None,
    limits: Limits | None = None,
    resolve_mention: MentionResolver | None = None,
    published: Mapping[str, PublishedPost] | None = None,
    options: Options = DEFAULT_OPTIONS,
) -> Iterator[Prepared]:
    """Plan a whole archive and prepare every chosen post, in publishing order.

    For previews and counts (`--dry-run`), and for runs that publish in this
    order: every chosen post counts as pending for the ones after it.
    """
    network = Network(network)
    limits = limits or limits_for(network)
    ordered = plan(posts, filters)
    pending = {post.id for post in ordered}
    roots = thread_roots(ordered)
    for post in ordered:
        try:
            drafts = prepare(
                post,
                network,
                limits=limits,
                resolve_mention=resolve_mention,
                published=published,
                pending=pending,
                roots=roots,
                options=options,
            )
        except ComposeError as error:
            yield Prepared(post, [], error)
        else:
            yield Prepared(post, drafts)
