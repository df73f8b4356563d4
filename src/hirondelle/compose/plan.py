"""Which posts to republish, and in which order.

Order matters because references are resolved at publish time: a reply needs
its parent's new id, a quote its target's. So a thread's parents come before
their replies and a quoted post before the posts quoting it; everything else
goes oldest first, so a person's history reads in order.

Mastodon cannot backdate a post: `date_line` writes the original date into
the text instead, in the person's language.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from hirondelle.archive.records import Post
from hirondelle.compose.errors import ComposeError

__all__ = [
    "DATE_LINES",
    "REPLY_LINES",
    "Filters",
    "date_line",
    "format_date",
    "keep",
    "order",
    "plan",
    "reply_line",
    "thread_roots",
]

#: The original-date line, per language ("{date}" is replaced).
DATE_LINES = {
    "en": "Originally posted on X on {date}",
    "fr": "Publié à l’origine sur X le {date}",
}
#: The line that opens a reply whose parent is not republished, per language
#: ("{url}" is the parent on X). See `reply_line`.
REPLY_LINES = {
    "en": ("Replying to a post on X: {url}", "Continuing an earlier post on X: {url}"),
    "fr": ("En réponse à un message sur X : {url}", "Suite d’un message précédent sur X : {url}"),
}
_MONTHS = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
}


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _start(bound: date | datetime) -> datetime:
    if isinstance(bound, datetime):
        return _utc(bound)
    return datetime(bound.year, bound.month, bound.day, tzinfo=UTC)


def _end(bound: date | datetime) -> datetime:
    """Exclusive end: a date includes its whole day (UTC)."""
    if isinstance(bound, datetime):
        return _utc(bound)
    return _start(bound) + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Filters:
    """What a person chose to republish.

    Dates are inclusive and read in UTC; a `datetime` bound is exact (its end
    exclusive). `ids`, when given, selects exactly those posts, whatever the
    other filters say: naming a post is a clear enough wish.
    """

    since: date | datetime | None = None
    until: date | datetime | None = None
    exclude: tuple[tuple[date | datetime, date | datetime], ...] = ()  # ranges to leave out
    include_replies: bool = False  # replies to others (and the threads that continue them)
    include_retweets: bool = False
    ids: frozenset[str] | None = None
    media_only: bool = False

    def __post_init__(self) -> None:
        if (
            self.since is not None
            and self.until is not None
            and _start(self.since) >= _end(self.until)
        ):
            raise ComposeError(f"the date range is empty: {self.since} is not before {self.until}")
        for low, high in self.exclude:
            if _start(low) >= _end(high):
                raise ComposeError(f"excluded range {low}–{high} is empty: swap its ends?")


def keep(post: Post, filters: Filters) -> bool:
    """Whether one post passes the filters (threads are handled by `plan`)."""
    if filters.ids is not None:
        return post.id in filters.ids
    if post.is_retweet and not filters.include_retweets:
        return False
    if post.is_reply_to_others and not filters.include_replies:
        return False
    if filters.media_only and not any(m.path for m in post.media):
        return False
    moment = _utc(post.created_at)
    if filters.since is not None and moment < _start(filters.since):
        return False
    if filters.until is not None and moment >= _end(filters.until):
        return False
    return not any(_start(low) <= moment < _end(high) for low, high in filters.exclude)


def _key(post: Post) -> tuple[datetime, int, str]:
    # Decimal ids compare as numbers by (length, text) without int() of junk.
    return (_utc(post.created_at), len(post.id), post.id)


def order(posts: Iterable[Post]) -> list[Post]:
    """Oldest first, except that parents and quoted posts come before what points at them."""
    by_id: dict[str, Post] = {}
    for post in posts:
        by_id[post.id] = post  # an id seen twice keeps its last record
    waiting: dict[str, int] = {}
    children: defaultdict[str, list[str]] = defaultdict(list)
    for post in by_id.values():
        needs = {
            target
            for target in (post.reply_to_post_id, post.quoted_post_id)
            if target and target != post.id and target in by_id
        }
        waiting[post.id] = len(needs)
        for target in needs:
            children[target].append(post.id)
    heap = [(_key(post), post.id) for post in by_id.values() if not waiting[post.id]]
    heapq.heapify(heap)
    result: list[Post] = []
    while len(result) < len(by_id):
        if not heap:
            # A cycle (corrupt ids): release its oldest post and carry on.
            stuck = min((_key(by_id[i]), i) for i, count in waiting.items() if count > 0)
            waiting[stuck[1]] = 0
            heap.append(stuck)
        _, post_id = heapq.heappop(heap)
        if waiting[post_id] < 0:
            continue
        waiting[post_id] = -1
        result.append(by_id[post_id])
        for child in children.get(post_id, ()):
            if waiting[child] > 0:
                waiting[child] -= 1
                if waiting[child] == 0:
                    heapq.heappush(heap, (_key(by_id[child]), child))
    return result


def plan(posts: Iterable[Post], filters: Filters | None = None) -> list[Post]:
    """The posts to republish, filtered and in publishing order.

    Without `include_replies`, a thread that starts as a reply to someone else
    is left out whole: its continuations make no more sense than its start.
    """
    filters = filters or Filters()
    everything = list(posts)
    chosen = [post for post in everything if keep(post, filters)]
    ordered = order(chosen)
    if filters.ids is not None or filters.include_replies:
        return ordered
    # Parents come first, so one pass carries the exclusion down each thread.
    without_context = {post.id for post in everything if post.is_reply_to_others}
    kept: list[Post] = []
    for post in ordered:
        if post.reply_to_post_id in without_context or post.thread_root_id in without_context:
            without_context.add(post.id)
        else:
            kept.append(post)
    return kept


def thread_roots(ordered: Iterable[Post]) -> dict[str, str]:
    """The first republished post of each republished post's thread.

    Bluesky needs a reply's thread root; when part of an X thread is filtered
    out, the rest starts a new thread, so the root is the first post kept.
    `ordered` must have parents first (the output of `plan`).
    """
    roots: dict[str, str] = {}
    for post in ordered:
        parent = post.reply_to_post_id
        roots[post.id] = roots.get(parent, post.id) if parent else post.id
    return roots


def _language(language: str) -> str:
    base = (language or "en").replace("_", "-").split("-")[0].lower()
    return base if base in DATE_LINES else "en"


def format_date(day: date, language: str = "en") -> str:
    """ "12 March 2019" / "1er mars 2019"."""
    lang = _language(language)
    month = _MONTHS[lang][day.month - 1]
    number = "1er" if lang == "fr" and day.day == 1 else str(day.day)
    return f"{number} {month} {day.year}"


def reply_line(post: Post, language: str = "en") -> str | None:
    """The line that says what a reply answered, when its parent is not republished.

    A reply published alone reads as a statement of its own ("Yes, exactly"
    answers nothing), and leaving it out would drop a post the person chose
    to republish (replies are only republished when they ask for it). So it
    goes, opened by a line naming the post it answered, with a link to it on
    X: someone else's post, or one's own left out by a date filter.
    """
    parent = post.reply_to_post_id
    if not parent or not parent.isdigit():
        return None
    name = post.reply_to_screen_name
    url = f"https://x.com/{name}/status/{parent}" if name else f"https://x.com/i/status/{parent}"
    others, own = REPLY_LINES[_language(language)]
    return (own if post.is_self_reply else others).format(url=url)


def date_line(
    created_at: datetime,
    language: str = "en",
    template: str | None = None,
    tz: tzinfo | None = None,
) -> str:
    """The line that tells Mastodon readers when a post was first published.

    `template` overrides the language's sentence; it must contain "{date}".
    The date is the day in `tz` (UTC by default).
    """
    moment = _utc(created_at).astimezone(tz or UTC)
    sentence = template if template is not None else DATE_LINES[_language(language)]
    if "{date}" not in sentence:
        raise ComposeError(f"the date line template {sentence!r} must contain {{date}}")
    try:
        return sentence.format(date=format_date(moment.date(), language))
    except (KeyError, IndexError, ValueError) as error:
        raise ComposeError(
            f"the date line template {sentence!r} is invalid ({error}): use {{date}} "
            "and double any other braces"
        ) from None
