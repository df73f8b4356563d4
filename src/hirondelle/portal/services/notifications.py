"""Tell people who of their X network arrived: no e-mail, their own new account.

A person opts in on the "since then" page (off by default) and picks one of
their Mastodon accounts and how often. Arrivals are gathered into one open
*notice* per person (`ArrivalNotice`, state ``pending``) until it is due; then
it is closed (``sending``: text and idempotency key fixed) and posted as a
``direct`` status:

- by the person's own account, mentioning itself, so only they can read it
  (Mastodon sends no notification for one's own mention: it sits in their
  private mentions), or
- by the operator's notifier account (``HIRONDELLE_NOTIFIER_MASTODON``), a
  direct mention, so the person gets a real notification.

Never twice: each arrival is a `NoticeEntry`, unique per (person, network, X
account), so it belongs to exactly one notice; a notice is posted with its
own ``Idempotency-Key``, so a worker killed after the server accepted the
post finds the same status when the notice is taken up again, and its id is
recorded then. The sending account's lease (the plan runner's) is held while
posting, so the budget is never spent by two workers at once; a spent budget
means "retry when the window opens", never a failure.

Bluesky has no private posts, and its direct messages go through Bluesky's
closed chat service, which no test here can run: notices go to Mastodon
accounts only, and the page says so to Bluesky-only people.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hirondelle.config import get_settings
from hirondelle.identity.models import Link
from hirondelle.migration.models import ConnectedAccount, Direction, Edge, Migration, PlanItem
from hirondelle.migration.services.adapters import adapter_for, save_budget
from hirondelle.migration.services.running import hold_period, release_lease, take_lease
from hirondelle.networks.base import ActionKind, Adapter, Network, OutgoingPost
from hirondelle.networks.errors import AuthExpired, NetworkError, RateLimited, Transient
from hirondelle.portal.models import ArrivalNotice, NoticeEntry, NotificationPreference

__all__ = [
    "Route",
    "cancel_pending",
    "collect_arrivals",
    "forgotten_people",
    "last_notice",
    "next_wake",
    "notice_accounts",
    "notifier_account",
    "people_to_notify",
    "preference_for",
    "process_person",
    "render_notice",
    "route_for",
    "save_preference",
    "send_notice",
]

#: Arrivals gathered per pass; the rest join the next notice.
COLLECT_LIMIT = 1000
#: Attempts at a notice that keeps failing for a passing reason.
MAX_ATTEMPTS = 8
#: Mastodon's default post length, when the server does not say.
DEFAULT_LIMIT = 500
#: Mastodon keeps an `Idempotency-Key` for one hour: past this, a retry could
#: post a second copy, so a notice whose fate is unknown is given up instead.
IDEMPOTENCY_WINDOW = timedelta(minutes=55)
_GRAPH = [Direction.FOLLOWING, Direction.FOLLOWERS]


# --- preferences -------------------------------------------------------------


def preference_for(user) -> NotificationPreference:
    """The person's preference; an unsaved one (off) when they never chose."""
    pref = NotificationPreference.objects.filter(user=user).first()
    return pref or NotificationPreference(user=user, enabled=False)


def notice_accounts(user):
    """The accounts that can receive notices: the person's active Mastodon ones."""
    return ConnectedAccount.objects.filter(
        user=user, network=Network.MASTODON, status=ConnectedAccount.Status.ACTIVE
    ).order_by("handle")


def save_preference(
    user,
    *,
    enabled: bool,
    account: ConnectedAccount | None,
    frequency: str,
    language: str,
    now: datetime | None = None,
) -> NotificationPreference:
    """Opt in or out. Opting in announces arrivals from now on; opting out
    cancels the notices not yet sent."""
    now = now or timezone.now()
    if account is not None and account.user_id != user.pk:
        raise ValueError("A notice can only go to one of the person's own accounts.")
    languages = {code for code, _name in settings.LANGUAGES}
    pref = preference_for(user)
    was_enabled = pref.enabled and pref.pk is not None
    pref.enabled = enabled
    pref.account = account
    pref.frequency = NotificationPreference.Frequency(frequency)
    pref.language = language if language in languages else settings.LANGUAGE_CODE
    if enabled and not was_enabled:
        pref.since = now
    pref.save()
    if not enabled:
        cancel_pending(user)
    elif was_enabled:
        # A new frequency applies to the batch being gathered too.
        ArrivalNotice.objects.filter(user=user, state=ArrivalNotice.State.PENDING).update(
            due_at=_due(pref, now)
        )
    return pref


def last_notice(user) -> ArrivalNotice | None:
    """The latest notice that went out or could not, for the page to show."""
    return (
        ArrivalNotice.objects.filter(
            user=user, state__in=[ArrivalNotice.State.SENT, ArrivalNotice.State.FAILED]
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def cancel_pending(user) -> int:
    """Notices not yet closed are dropped (their arrivals stay on the page)."""
    return ArrivalNotice.objects.filter(user=user, state=ArrivalNotice.State.PENDING).update(
        state=ArrivalNotice.State.CANCELLED
    )


def _due(pref: NotificationPreference, now: datetime) -> datetime:
    """When the batch opened now is sent: soon for "as they arrive", else at
    the next digest time (every period since opting in)."""
    period = pref.period
    if pref.frequency == NotificationPreference.Frequency.IMMEDIATE or pref.since is None:
        return now + period
    periods = max(1, math.ceil((now - pref.since) / period))
    return pref.since + periods * period


# --- gathering arrivals ------------------------------------------------------


def people_to_notify(x_ids) -> list[int]:
    """Ids of opted-in people whose X graph holds one of these X accounts."""
    return list(
        Edge.objects.filter(
            x_account_id__in=list(x_ids),
            direction__in=_GRAPH,
            gone_at__isnull=True,
            migration__owner__notification_preference__enabled=True,
        )
        .values_list("migration__owner_id", flat=True)
        .distinct()
    )


def _new_links(pref: NotificationPreference) -> list[Link]:
    user_id = pref.user_id
    graph = Edge.objects.filter(migration__owner_id=user_id, direction__in=_GRAPH, gone_at=None)
    announced = NoticeEntry.objects.filter(
        user_id=user_id, network=OuterRef("network"), x_account_id=OuterRef("x_account_id")
    )
    links = (
        Link.objects.usable()
        .findable()
        .filter(x_account_id__in=graph.values("x_account_id"), asserted_at__gt=pref.since)
        .exclude(x_account_id__in=Migration.objects.filter(owner_id=user_id).values("x_account_id"))
        .filter(~Exists(announced))
        .select_related("network_account")
        .order_by("asserted_at", "id")[:COLLECT_LIMIT]
    )
    seen: set[tuple[str, int]] = set()
    out = []
    for link in links:
        if (link.network, link.x_account_id) not in seen:
            seen.add((link.network, link.x_account_id))
            out.append(link)
    return out


def collect_arrivals(
    pref: NotificationPreference, *, now: datetime | None = None
) -> ArrivalNotice | None:
    """Add the arrivals not yet announced to the person's open notice.

    Returns the open notice (None if there is nothing to say). Adding to a
    notice first re-checks, in the same transaction, that it is still open,
    so an arrival never joins a notice whose text is already fixed.
    """
    now = now or timezone.now()
    if not pref.enabled or pref.since is None:
        return None
    links = _new_links(pref)
    open_notices = ArrivalNotice.objects.filter(
        user_id=pref.user_id, state=ArrivalNotice.State.PENDING
    )
    if not links:
        return open_notices.first()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                notice = open_notices.first()
                if notice is None:
                    notice = ArrivalNotice.objects.create(
                        user_id=pref.user_id, due_at=_due(pref, now)
                    )
                elif not ArrivalNotice.objects.filter(
                    pk=notice.pk, state=ArrivalNotice.State.PENDING
                ).update(state=ArrivalNotice.State.PENDING):
                    continue  # closed meanwhile: open a new one
                NoticeEntry.objects.bulk_create(
                    [
                        NoticeEntry(
                            notice=notice,
                            user_id=pref.user_id,
                            network=link.network,
                            x_account_id=link.x_account_id,
                            handle=link.network_account.handle,
                            arrived_at=link.asserted_at,
                        )
                        for link in links
                    ],
                    ignore_conflicts=True,  # another worker announced it: theirs
                )
                return notice
        except IntegrityError:  # another worker opened the batch first: join it
            continue
    raise RuntimeError("Could not gather arrivals into a notice; try again.")


# --- writing -----------------------------------------------------------------


def _followed(notice: ArrivalNotice, entries: list[NoticeEntry]) -> set[tuple[str, str]]:
    """(network, X id) of arrivals Hirondelle follows (or is about to) for the person."""
    return set(
        PlanItem.objects.filter(
            account__user_id=notice.user_id,
            kind=ActionKind.FOLLOW,
            x_id__in=[str(e.x_account_id) for e in entries],
        )
        .exclude(state__in=[PlanItem.State.SKIPPED, PlanItem.State.FAILED])
        .values_list("account__network", "x_id")
    )


def _portal_link() -> str:
    base = get_settings().public_url.rstrip("/")
    return f"{base}{reverse('portal:later')}" if base else ""


def render_notice(
    notice: ArrivalNotice, *, language: str, mention: str = "", limit: int = DEFAULT_LIMIT
) -> str:
    """The message: who arrived, per network, whether followed for the person,
    cut to `limit` characters with "…and N more" (counted plainly, which is
    never less than what Mastodon counts for links and mentions)."""
    entries = list(notice.entries.order_by("network", "handle"))
    followed = _followed(notice, entries)
    link = _portal_link()
    with translation.override(language):
        head = ngettext(
            "Hirondelle: %(count)d person of your X network arrived.",
            "Hirondelle: %(count)d people of your X network arrived.",
            len(entries),
        ) % {"count": len(entries)}
        if mention:
            head = f"{mention} {head}"
        tail = [_("Everyone who came: %(url)s") % {"url": link}] if link else []
        lines: list[str] = []
        shown = 0
        network = None
        for index, entry in enumerate(entries):
            add = []
            if entry.network != network:
                add.append(f"{entry.network.title()}:")
            mark = (
                _("followed for you")
                if (entry.network, str(entry.x_account_id)) in followed
                else _("not followed")
            )
            # No leading "@": a handle written as a mention would add its owner
            # to this private conversation.
            add.append(f"- {entry.handle} ({mark})")
            left = len(entries) - index - 1
            more = (
                [ngettext("…and %(count)d more.", "…and %(count)d more.", left) % {"count": left}]
                if left
                else []
            )
            if len("\n".join([head, *lines, *add, *more, *tail])) > limit and shown:
                break
            lines.extend(add)
            network = entry.network
            shown += 1
        rest = len(entries) - shown
        more = (
            [ngettext("…and %(count)d more.", "…and %(count)d more.", rest) % {"count": rest}]
            if rest
            else []
        )
        return "\n".join([head, *lines, *more, *tail])[:limit]


# --- sending -----------------------------------------------------------------


def notifier_account(network: str = Network.MASTODON) -> ConnectedAccount | None:
    """The operator's notifier account, if configured and connected.

    Only accounts of the operator's profile (the command line's "local"
    user) or of staff count, so nobody can pose as the notifier by
    connecting an account with the same handle.
    """
    handle = get_settings().notifier_mastodon.strip().removeprefix("@")
    if network != Network.MASTODON or not handle:
        return None
    return (
        ConnectedAccount.objects.filter(
            network=Network.MASTODON,
            handle__iexact=handle,
            status=ConnectedAccount.Status.ACTIVE,
        )
        .filter(Q(user__username="local") | Q(user__is_staff=True))
        .first()
    )


@dataclass(frozen=True)
class Route:
    sender: ConnectedAccount
    recipient: ConnectedAccount
    mention: str

    @property
    def via_notifier(self) -> bool:
        return self.sender.pk != self.recipient.pk


def _mention(sender: ConnectedAccount, recipient: ConnectedAccount) -> str:
    user, _sep, host = recipient.handle.removeprefix("@").partition("@")
    sender_host = sender.handle.removeprefix("@").partition("@")[2]
    return f"@{user}" if not host or host.lower() == sender_host.lower() else f"@{user}@{host}"


def route_for(pref: NotificationPreference) -> Route | None:
    """Who writes and who reads: the notifier if there is one, else the
    person's own chosen account (or another active Mastodon account of theirs)."""
    recipient = pref.account
    if (
        recipient is None
        or recipient.network != Network.MASTODON
        or recipient.status != ConnectedAccount.Status.ACTIVE
    ):
        recipient = notice_accounts(pref.user_id).first()
    if recipient is None:
        return None
    sender = notifier_account(recipient.network) or recipient
    return Route(sender=sender, recipient=recipient, mention=_mention(sender, recipient))


def _claim(notice_id: int, now: datetime) -> bool:
    due = Q(state=ArrivalNotice.State.PENDING, due_at__lte=now) | Q(
        Q(locked_until__isnull=True) | Q(locked_until__lt=now),
        state=ArrivalNotice.State.SENDING,
    )
    return bool(
        ArrivalNotice.objects.filter(due, pk=notice_id).update(
            state=ArrivalNotice.State.SENDING, locked_until=now + hold_period()
        )
    )


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(6 * 3600, 60 * 2 ** max(0, attempts - 1)))


def send_notice(
    notice_id: int,
    *,
    now: Callable[[], datetime] = timezone.now,
    adapter_factory: Callable[[ConnectedAccount], Adapter] = adapter_for,
) -> str:
    """Post one due notice. Returns what happened: ``sent``, ``not_due``,
    ``busy`` (the account's lease is held elsewhere), ``retry``, ``failed``
    or ``cancelled``. Safe to call twice or after a crash: see the module."""
    if not _claim(notice_id, now()):
        return "not_due"
    notice = ArrivalNotice.objects.get(pk=notice_id)
    pref = NotificationPreference.objects.filter(user_id=notice.user_id).first()
    if pref is None or not pref.enabled:
        _finish(notice, ArrivalNotice.State.CANCELLED)
        return "cancelled"
    with translation.override(pref.language):  # what the page shows of a failure
        return _send(notice, pref, now, adapter_factory)


def _send(
    notice: ArrivalNotice,
    pref: NotificationPreference,
    now: Callable[[], datetime],
    adapter_factory: Callable[[ConnectedAccount], Adapter],
) -> str:
    if not notice.entries.exists():  # every arrival went to another worker's notice
        _finish(notice, ArrivalNotice.State.CANCELLED)
        return "cancelled"
    route = route_for(pref)
    if route is None:
        _finish(
            notice,
            ArrivalNotice.State.FAILED,
            error=_("No Mastodon account to receive the notice; connect one."),
        )
        return "failed"
    owner = f"notice-{uuid.uuid4().hex}"
    if not take_lease(route.sender, owner, now()):
        route.sender.refresh_from_db(fields=["lease_until"])
        notice.locked_until = route.sender.lease_until or now() + hold_period()
        notice.save(update_fields=["locked_until"])
        return "busy"
    adapter = adapter_factory(route.sender)
    try:
        return _post(notice, pref, route, adapter, now)
    finally:
        save_budget(route.sender, adapter)
        release_lease(route.sender, owner)
        adapter.close()


def _post(
    notice: ArrivalNotice,
    pref: NotificationPreference,
    route: Route,
    adapter: Adapter,
    now: Callable[[], datetime],
) -> str:
    started_here = notice.first_try_at is None
    try:
        if not notice.text:
            limits = getattr(adapter, "limits", None)
            limit = limits().max_characters if limits else DEFAULT_LIMIT
            notice.text = render_notice(
                notice, language=pref.language, mention=route.mention, limit=limit
            )
            notice.sender = route.sender.handle
            notice.save(update_fields=["text", "sender"])
        if started_here:
            notice.first_try_at = now()
            notice.save(update_fields=["first_try_at"])
        elif now() - notice.first_try_at > IDEMPOTENCY_WINDOW:
            _finish(
                notice,
                ArrivalNotice.State.FAILED,
                error=_(
                    "The server may have received this message long ago; it is not sent "
                    "again, so that it never arrives twice."
                ),
            )
            return "failed"
        published = adapter.publish(
            OutgoingPost(
                text=notice.text, key=notice.key, visibility="direct", language=pref.language
            )
        )
    except RateLimited as e:  # the budget, not the notice: no attempt spent
        if started_here:  # refused before anything was accepted
            notice.first_try_at = None
        notice.locked_until = now() + timedelta(seconds=max(1.0, e.retry_after))
        notice.last_error = e.message
        notice.save(update_fields=["first_try_at", "locked_until", "last_error"])
        return "retry"
    except AuthExpired as e:
        if route.via_notifier:  # the operator must reconnect it; people keep waiting
            notice.locked_until = now() + timedelta(hours=1)
            notice.last_error = e.message
            notice.save(update_fields=["locked_until", "last_error"])
            return "retry"
        ConnectedAccount.objects.filter(pk=route.sender.pk).update(
            status=ConnectedAccount.Status.AUTH_EXPIRED, status_reason=e.message
        )
        _finish(notice, ArrivalNotice.State.FAILED, error=e.message)
        return "failed"
    except Transient as e:
        notice.attempts += 1
        if notice.attempts >= MAX_ATTEMPTS:
            _finish(notice, ArrivalNotice.State.FAILED, error=e.message)
            return "failed"
        notice.locked_until = now() + _backoff(notice.attempts)
        notice.last_error = e.message
        notice.save(update_fields=["attempts", "locked_until", "last_error"])
        return "retry"
    except NetworkError as e:
        notice.attempts += 1
        _finish(notice, ArrivalNotice.State.FAILED, error=e.message)
        return "failed"
    notice.remote_id = published.uri
    notice.remote_url = published.url[:500]
    notice.sent_at = now()
    _finish(notice, ArrivalNotice.State.SENT)
    return "sent"


def _finish(notice: ArrivalNotice, state: str, *, error: str = "") -> None:
    notice.state = state
    notice.locked_until = None
    notice.last_error = error
    notice.save(
        update_fields=[
            "state",
            "locked_until",
            "last_error",
            "attempts",
            "remote_id",
            "remote_url",
            "sent_at",
        ]
    )


# --- one person, end to end ---------------------------------------------------


def next_wake(user_id: int) -> datetime | None:
    """When this person's notices next need a worker (None: nothing waits)."""
    times = []
    for state, due, locked in ArrivalNotice.objects.filter(
        user_id=user_id,
        state__in=[ArrivalNotice.State.PENDING, ArrivalNotice.State.SENDING],
    ).values_list("state", "due_at", "locked_until"):
        if state == ArrivalNotice.State.PENDING:
            times.append(due)
        else:
            times.append(locked or due)
    return min(times, default=None)


def forgotten_people(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """People with a notice due, or left sending by a dead worker, that no
    queued wake-up will look at (the worker that held it was killed)."""
    now = now or timezone.now()
    due = Q(state=ArrivalNotice.State.PENDING, due_at__lte=now) | Q(
        Q(locked_until__isnull=True) | Q(locked_until__lt=now),
        state=ArrivalNotice.State.SENDING,
    )
    asleep = Q(user__notification_preference__wake_at__isnull=True) | Q(
        user__notification_preference__wake_at__lt=now - hold_period()
    )
    return list(
        ArrivalNotice.objects.filter(due)
        .filter(asleep, user__notification_preference__enabled=True)
        .values_list("user_id", flat=True)
        .distinct()[:limit]
    )


def process_person(
    user_id: int,
    *,
    now: Callable[[], datetime] = timezone.now,
    adapter_factory: Callable[[ConnectedAccount], Adapter] = adapter_for,
) -> datetime | None:
    """Gather this person's new arrivals, send what is due; returns when to
    come back (None: nothing waits)."""
    pref = NotificationPreference.objects.filter(user_id=user_id).first()
    if pref is None or not pref.enabled:
        if pref is not None:
            cancel_pending(pref.user_id)
        return None
    collect_arrivals(pref, now=now())
    for notice_id in ArrivalNotice.objects.filter(
        user_id=user_id, state__in=[ArrivalNotice.State.PENDING, ArrivalNotice.State.SENDING]
    ).values_list("pk", flat=True):
        send_notice(notice_id, now=now, adapter_factory=adapter_factory)
    return next_wake(user_id)
