"""Small template helpers for the portal's pages: the guided path's steps,
proof in words, network names and local number formats."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django import template
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

register = template.Library()


@dataclass(frozen=True)
class Step:
    key: str
    url_name: str
    label: str
    does: str
    private: str
    takes: str


#: The guided path, in order. Each step says what it does (and what comes
#: next), what stays private, and how long it takes.
STEPS: tuple[Step, ...] = (
    Step(
        "archive",
        "portal:upload",
        _("Your archive"),
        _(
            "You choose the archive X sent you. It is opened on your device and we read "
            "the people you follow, your followers, blocks, mutes and lists. Next, we show "
            "you who we found."
        ),
        _(
            "Your messages, e-mail address, phone number, contacts and devices never leave "
            "your device. You see the list of files before anything is sent."
        ),
        _("A few minutes; up to half an hour for a very large account."),
    ),
    Step(
        "found",
        "portal:review",
        _("What we found"),
        _(
            "We show who among the people you follow is already on Mastodon or Bluesky, "
            "and how sure we are that it is them. You tick who to follow. Next, your new "
            "accounts."
        ),
        _("Your list of people is only yours: nobody else sees it."),
        _("A few minutes."),
    ),
    Step(
        "accounts",
        "portal:signin",
        _("Your new accounts"),
        _(
            "You connect your Mastodon or Bluesky account, or create one first. Next, we "
            "reconnect you."
        ),
        _("We never see your password. You can remove our access at any time."),
        _("Two minutes; ten if you create an account."),
    ),
    Step(
        "reconnect",
        "portal:run",
        _("Reconnect"),
        _(
            "Your new account follows the people you chose, at the pace each network "
            "allows. You can close the page: the work goes on. Next, your posts, if you "
            "want them."
        ),
        _("Only the follows you chose are made, nothing is posted."),
        _("From a few minutes to a few days for thousands of people."),
    ),
    Step(
        "posts",
        "portal:republish",
        _("Your posts"),
        _(
            "If you wish, your old posts are published again on your new account, with "
            "their date. You see a preview first. Next, people who arrive later."
        ),
        _("Nothing is published before you press Start."),
        _("About an hour per thousand posts."),
    ),
    Step(
        "later",
        "portal:later",
        _("Later arrivals"),
        _(
            "People you follow keep arriving. Here you see who came since your last visit "
            "and who was followed for you."
        ),
        _("You decide whether anything happens without you."),
        _("One minute, whenever you come back."),
    ),
)


def _done(user) -> set[str]:
    """The steps the person has been through (a few cheap queries)."""
    from hirondelle.migration.models import PlanItem
    from hirondelle.portal.models import ReviewChoice
    from hirondelle.portal.services.current import current_migration, my_accounts

    if not user.is_authenticated:
        return set()
    done = set()
    migration = current_migration(user)
    if migration is not None:
        done.add("archive")
        if ReviewChoice.objects.filter(migration=migration).exists():
            done.add("found")
    if my_accounts(user):
        done.add("accounts")
    kinds = set(
        PlanItem.objects.filter(account__user=user)
        .order_by()
        .values_list("kind", flat=True)
        .distinct()
    )
    if kinds - {"post"}:
        done.add("reconnect")
    if "post" in kinds:
        done.add("posts")
    return done


@register.inclusion_tag("portal/_steps.html", takes_context=True)
def steps(context, current: str, intro: bool = True) -> dict:
    """The steps indicator, and what the current step does (see STEPS)."""
    user = context.get("user")
    done = _done(user) if user is not None else set()
    rows = []
    number = 0
    for i, step in enumerate(STEPS, start=1):
        if step.key == current:
            number = i
        rows.append(
            {
                "n": i,
                "step": step,
                "url": reverse(step.url_name),
                "current": step.key == current,
                "done": step.key in done,
            }
        )
    here = STEPS[number - 1] if number else None
    return {"rows": rows, "number": number, "count": len(STEPS), "here": here, "intro": intro}


#: Evidence in sentences, for people (never the internal code).
EVIDENCE_WORDS = {
    "x_oauth": _("They proved it by signing in with X on this site."),
    "roster": _("Their organisation lists this account as its own."),
    "domain": _("The same website confirms both accounts."),
    "bridge": _("A bridge copies their already confirmed account."),
    "two_way": _("Their X profile names this account, and this account names them back."),
    "self": _("Only their own word: check before following."),
    "profile_claim": _("Only this account's own profile says so: check before following."),
    "name_match": _("Only the same name: it may be someone else."),
}


@register.simple_tag
def evidence_words(code) -> str:
    return str(EVIDENCE_WORDS.get(str(code), code))


NETWORK_NAMES = {"mastodon": "Mastodon", "bluesky": "Bluesky"}


@register.filter
def network_name(code) -> str:
    return NETWORK_NAMES.get(str(code), str(code).title())


@register.filter
def num(value) -> str:
    """A number in the page's language: 1 234 in French, 1,234 in English."""
    try:
        return formats.number_format(value, force_grouping=True)
    except (TypeError, ValueError):
        return str(value)


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
