"""Honest results for people: what could not be done, why, and what to do,
in the page's language.

Plan items keep the network's own reason (`last_error`, English, for the
log and the command line); here it is sorted into a few kinds a person can
act on. The raw text never reaches the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from hirondelle.migration.models import ConnectedAccount, PlanItem

__all__ = ["Failure", "failures", "reason_kind", "status_words"]

_KINDS = (
    ("auth", re.compile(r"sign in again|session|token|unauthori[sz]ed|HTTP 401|expired", re.I)),
    ("list_gone", re.compile(r"list was deleted|removed from the list", re.I)),
    (
        "not_found",
        re.compile(r"not found|could not be found|no such|unknown|HTTP 404|HTTP 410", re.I),
    ),
    ("refused", re.compile(r"refused|did not|forbidden|HTTP 403|HTTP 422|blocked|suspended", re.I)),
    ("unreachable", re.compile(r"reach|timed? ?out|unavailable|HTTP 5\d\d|connect", re.I)),
)


def reason_kind(last_error: str) -> str:
    for kind, pattern in _KINDS:
        if pattern.search(last_error or ""):
            return kind
    return "other"


def _words(kind: str, item_kind: str) -> tuple[str, str]:
    """(why, what to do) for one kind of failure."""
    if kind == "auth":
        return (
            _(
                "Your new account no longer lets Hirondelle act for it (the sign-in expired or was "
                "withdrawn)."
            ),
            _("Sign in again with this account on the “Your new accounts” page: the work resumes."),
        )
    if kind == "list_gone":
        return (
            _("The list was removed, or the person was taken out of it, before they were added."),
            _("Nothing to do, unless you want them in the list again."),
        )
    if kind == "not_found":
        return (
            _(
                "This account could not be found from your server: it may have been deleted, "
                "renamed or moved."
            ),
            _(
                "Search for them by name on your network; if you find them, follow them from their "
                "profile."
            ),
        )
    if kind == "refused":
        return (
            _(
                "Their server, or yours, refused it (for example, the account is locked, blocks "
                "yours, or its server is blocked by yours)."
            ),
            _(
                "Open their profile on your network to see why, and follow them from there if you "
                "can."
            ),
        )
    if kind == "unreachable":
        return (
            _("Their server could not be reached, even after several tries."),
            _("Follow them by hand from their profile later, when their server is back."),
        )
    if item_kind == "post":
        return (
            _("The network did not accept this post."),
            _("You can publish it by hand; the rest of your posts are not affected."),
        )
    return (
        _("The network gave an unexpected answer."),
        _("If it matters to you, do it by hand on your network."),
    )


@dataclass(frozen=True)
class Failure:
    kind: str  # follow, block, mute, list_add, post
    who: str  # a handle, a list name or a post's date
    why: str
    todo: str
    skipped: bool


def failures(account: ConnectedAccount, *, limit: int = 50) -> list[Failure]:
    """The account's failed and skipped items, newest first, in plain words."""
    rows = (
        PlanItem.objects.filter(
            account=account, state__in=[PlanItem.State.FAILED, PlanItem.State.SKIPPED]
        )
        .order_by("-pk")
        .values("kind", "state", "target_handle", "x_id", "list_name", "last_error")[:limit]
    )
    out = []
    for row in rows:
        why, todo = _words(reason_kind(row["last_error"]), row["kind"])
        who = row["target_handle"] or row["list_name"] or row["x_id"]
        out.append(Failure(row["kind"], who, why, todo, row["state"] == PlanItem.State.SKIPPED))
    return out


def status_words(status: str) -> str:
    """Why an account's work stopped, with what to do."""
    if status == ConnectedAccount.Status.AUTH_EXPIRED:
        return _(
            "Stopped: the sign-in to this account expired. Sign in again with it, and the work "
            "resumes where it stopped."
        )
    if status == ConnectedAccount.Status.REVOKED:
        return _(
            "Stopped: Hirondelle's access to this account was withdrawn. Sign in again with it to "
            "resume."
        )
    return ""
