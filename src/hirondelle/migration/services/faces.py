"""Names and avatars of the accounts found through the directory, read in the background.

A directory account is a handle and a URI; people are shown as people, so
its public profile is read: Bluesky's through the public AppView
(`getProfiles`, 25 a request), a fediverse account's from its own server
(`/api/v1/accounts/lookup`, no sign-in). Both go through discovery's week
cache of public answers (`CachedSearch`, `PublicFinding`): a profile that
discovery read is not asked again, and the Bluesky requests spend the budget
the whole portal shares.

Pages never wait for this. A page that shows accounts whose face is missing
or older than ``HIRONDELLE_PROFILE_REFRESH_DAYS`` marks them wanted
(`want_faces`) and queues one task; the task claims wanted accounts batch by
batch (a token and an expiry in the row, set by one UPDATE, so two workers
never read the same account at once, and a dead worker's claim lapses),
reads the profiles, fetches and re-encodes each new avatar
(`hirondelle.networks.faces`), and stores it in `AccountAvatar`. A failed or
absent avatar leaves the initial on the page.

Avatars are of directory accounts, shared by everyone whose network holds
them: nothing here records who looked. What a person's erasure removes is
in `forget_faces`.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from hirondelle.identity.models import AccountAvatar, Link, NetworkAccount
from hirondelle.migration.models import SharedBudget
from hirondelle.migration.services.discovery import BLUESKY_BUDGET, CachedSearch
from hirondelle.networks import faces as net
from hirondelle.networks.errors import NetworkError, RateLimited, Unavailable
from hirondelle.networks.search import BlueskyPublic, PublicProfile

__all__ = [
    "BATCH",
    "CLAIM_FOR",
    "RefreshReport",
    "any_wanted",
    "forget_faces",
    "forget_unlinked",
    "is_stale",
    "queue_refresh",
    "refresh_accounts",
    "refresh_wanted",
    "want_faces",
]

log = logging.getLogger(__name__)

#: accounts claimed at once: one getProfiles request reads a batch's Bluesky ones
BATCH = 25
#: how long a claim holds; a worker that dies releases its accounts after this
CLAIM_FOR = timedelta(minutes=5)
#: a wanted account no task took (a lost task) is wanted again after this
WANT_AGAIN = timedelta(hours=1)
#: seconds before a task tries again when a network could not be reached
RETRY_LATER = 300.0
#: a profile that could not be read this time (its server down): nothing changes
UNREACHABLE = PublicProfile(network="", account="", handle="")
#: Mastodon's picture for "no avatar": the initial says it better
_MISSING = "/avatars/original/missing.png"


def _refresh_after() -> timedelta:
    from hirondelle.config import get_settings

    return timedelta(days=get_settings().profile_refresh_days)


def is_stale(account: NetworkAccount, now: datetime | None = None) -> bool:
    """Never read, or read longer ago than the refresh setting."""
    if account.profile_fetched_at is None:
        return True
    return account.profile_fetched_at <= (now or timezone.now()) - _refresh_after()


def want_faces(accounts: Iterable[NetworkAccount], *, queue: bool = True) -> int:
    """Mark the stale ones among `accounts` (rows a page already has) for a
    background read, and queue one task if any was newly marked. Cheap: one
    UPDATE by primary key, nothing sent; returns how many were marked."""
    now = timezone.now()
    stale = [a.pk for a in accounts if a.pk and is_stale(a, now)]
    if not stale:
        return 0
    marked = (
        NetworkAccount.objects.filter(pk__in=stale)
        .filter(Q(profile_wanted_at__isnull=True) | Q(profile_wanted_at__lt=now - WANT_AGAIN))
        .update(profile_wanted_at=now)
    )
    if marked and queue:
        queue_refresh()
    return marked


def any_wanted() -> bool:
    """Whether a face is still waiting to be read (one index probe)."""
    return NetworkAccount.objects.filter(profile_wanted_at__isnull=False).exists()


def queue_refresh(at: datetime | None = None) -> None:
    """Ask a worker to read the wanted faces (after the current transaction commits)."""
    from hirondelle.migration.tasks import refresh_faces_task

    task = refresh_faces_task.using(run_after=at) if at else refresh_faces_task
    transaction.on_commit(task.enqueue)


@dataclass
class RefreshReport:
    """What one refresh did; `retry_after` is set when a network asked to wait."""

    read: int = 0
    stored: int = 0
    no_avatar: int = 0
    failed: int = 0
    gone: int = 0
    #: accounts whose own server could not be asked (they keep their old face)
    unreachable: int = 0
    requests: dict[str, int] = field(default_factory=lambda: {"bluesky": 0, "mastodon": 0})
    avatar_requests: int = 0
    retry_after: float | None = None
    batches: int = 0
    #: why avatars failed, by reason (for the log and the tests)
    reasons: dict[str, int] = field(default_factory=dict)


def _claim(ids: Sequence[int], now: datetime) -> list[NetworkAccount]:
    """Claim what nobody holds among `ids`: one UPDATE, then read back by token."""
    token = secrets.token_hex(16)
    NetworkAccount.objects.filter(pk__in=list(ids)).filter(
        Q(profile_claimed_until__isnull=True) | Q(profile_claimed_until__lt=now)
    ).update(profile_claim=token, profile_claimed_until=now + CLAIM_FOR)
    return list(NetworkAccount.objects.filter(pk__in=list(ids), profile_claim=token))


def _release(accounts: Sequence[NetworkAccount]) -> None:
    for account in accounts:
        NetworkAccount.objects.filter(pk=account.pk, profile_claim=account.profile_claim).update(
            profile_claim="", profile_claimed_until=None
        )


class _Sources:
    """The clients one refresh uses, made on first need and closed at the end."""

    def __init__(
        self,
        bluesky: BlueskyPublic | None,
        mastodon: net.MastodonLookup | None,
        avatars: httpx.Client | None,
    ) -> None:
        self._given = (bluesky, mastodon, avatars)
        self.bluesky = bluesky
        self.mastodon = mastodon
        self.avatars = avatars
        self.search: CachedSearch | None = None

    def cached(self) -> CachedSearch:
        if self.search is None:
            if self.bluesky is None:
                from hirondelle.config import get_settings

                state = SharedBudget.objects.filter(pk=BLUESKY_BUDGET).values_list(
                    "state", flat=True
                )
                self.bluesky = BlueskyPublic(
                    get_settings().bluesky_appview_url, budget_state=state.first() or None
                )
            if self.mastodon is None:
                self.mastodon = net.MastodonLookup()
            self.search = CachedSearch(bluesky=self.bluesky, mastodon=self.mastodon)  # type: ignore[arg-type]
        return self.search

    def avatar_client(self) -> httpx.Client:
        if self.avatars is None:
            self.avatars = net.avatar_client()
        return self.avatars

    def close(self) -> None:
        if self.bluesky is not None and self._given[0] is None:
            SharedBudget.objects.update_or_create(
                pk=BLUESKY_BUDGET, defaults={"state": self.bluesky.budget.to_dict()}
            )
            self.bluesky.close()
        if self.mastodon is not None and self._given[1] is None:
            self.mastodon.close()
        if self.avatars is not None and self._given[2] is None:
            self.avatars.close()


def _profiles(
    sources: _Sources, accounts: Sequence[NetworkAccount], report: RefreshReport
) -> dict[int, PublicProfile | None]:
    """Each account's public profile (None: the network knows it no more)."""
    search = sources.cached()
    before = dict(search.requests)
    found: dict[int, PublicProfile | None] = {}
    try:
        bluesky = [a for a in accounts if a.network == "bluesky"]
        if bluesky:
            actors = {a.pk: (a.uri or a.handle.lower()) for a in bluesky}
            found.update(_bluesky_profiles(search, actors, report))
        for account in accounts:
            if account.network != "mastodon":
                continue
            assert sources.mastodon is not None
            sources.mastodon.servers[account.handle.lower()] = account.uri
            try:
                found[account.pk] = search.mastodon_lookup(account.handle.lower())
            except ValueError:  # not user@host: nothing to ask
                found[account.pk] = None
            except NetworkError as error:
                # One server down or refusing must not hold up everyone else's:
                # this account keeps what it had until its next refresh.
                log.info("profile of %s not read: %s", account, error.message)
                report.unreachable += 1
                found[account.pk] = UNREACHABLE
    finally:
        for network, n in search.requests.items():
            report.requests[network] = report.requests.get(network, 0) + n - before.get(network, 0)
    return found


def _bluesky_profiles(
    search: CachedSearch, actors: dict[int, str], report: RefreshReport
) -> dict[int, PublicProfile | None]:
    """One getProfiles request for the batch; if the AppView refuses it (one
    malformed actor makes the whole request invalid), each actor alone, so one
    bad row costs nobody else their face."""
    try:
        profiles = search.bluesky_profiles(list(actors.values()))
        return {pk: profiles.get(actor) for pk, actor in actors.items()}
    except (RateLimited, Unavailable):
        raise
    except NetworkError as error:
        if len(actors) == 1:
            log.info("Bluesky profile %s not read: %s", next(iter(actors.values())), error.message)
            report.unreachable += 1
            return dict.fromkeys(actors, UNREACHABLE)
    found: dict[int, PublicProfile | None] = {}
    for pk, actor in actors.items():
        found.update(_bluesky_profiles(search, {pk: actor}, report))
    return found


def _avatar(
    sources: _Sources, account: NetworkAccount, url: str, report: RefreshReport
) -> tuple[str, bytes | None]:
    """(state, image) for the avatar at `url`."""
    if not url or urlsplit(url).path.endswith(_MISSING):
        return NetworkAccount.AvatarState.NONE, None
    report.avatar_requests += 1
    try:
        return NetworkAccount.AvatarState.STORED, net.fetch_avatar(url, sources.avatar_client())
    except NetworkError as error:
        reason = getattr(error, "reason", "") or type(error).__name__
        report.reasons[reason] = report.reasons.get(reason, 0) + 1
        log.info("avatar of %s not stored (%s): %s", account, reason, error.message)
        return NetworkAccount.AvatarState.FAILED, None


def _store(
    account: NetworkAccount,
    profile: PublicProfile | None,
    sources: _Sources,
    report: RefreshReport,
    now: datetime,
) -> None:
    name = net.clean_display_name(profile.display_name) if profile else ""
    url = (profile.avatar if profile else "")[:2000]
    unchanged = (
        url
        and url == account.avatar_url
        and account.avatar_state == NetworkAccount.AvatarState.STORED
        and AccountAvatar.objects.filter(account_id=account.pk).exists()
    )
    fields = {
        "display_name": name,
        "avatar_url": url,
        "profile_fetched_at": now,
        "profile_wanted_at": None,
        "profile_claim": "",
        "profile_claimed_until": None,
    }
    if profile is UNREACHABLE:
        NetworkAccount.objects.filter(pk=account.pk, profile_claim=account.profile_claim).update(
            profile_fetched_at=now,
            profile_wanted_at=None,
            profile_claim="",
            profile_claimed_until=None,
        )
        return
    report.read += 1
    report.gone += profile is None
    if unchanged:
        report.stored += 1
        NetworkAccount.objects.filter(pk=account.pk, profile_claim=account.profile_claim).update(
            **fields
        )
        return
    state, image = _avatar(sources, account, url, report)
    digest = hashlib.sha256(image).hexdigest()[:16] if image else ""
    with transaction.atomic():
        claimed = NetworkAccount.objects.filter(
            pk=account.pk, profile_claim=account.profile_claim
        ).update(avatar_state=state, avatar_digest=digest, **fields)
        if not claimed:  # our claim lapsed and another worker took it: theirs wins
            return
        if image is None:
            AccountAvatar.objects.filter(account_id=account.pk).delete()
        else:
            AccountAvatar.objects.update_or_create(
                account_id=account.pk,
                defaults={"image": image, "source_url": url, "fetched_at": now},
            )
    if state == NetworkAccount.AvatarState.STORED:
        report.stored += 1
    elif state == NetworkAccount.AvatarState.NONE:
        report.no_avatar += 1
    else:
        report.failed += 1


def _refresh(accounts: list[NetworkAccount], sources: _Sources, report: RefreshReport) -> bool:
    """Read and store one claimed batch; False when a network asked to wait."""
    try:
        profiles = _profiles(sources, accounts, report)
    except (RateLimited, Unavailable) as error:
        report.retry_after = error.retry_after if isinstance(error, RateLimited) else RETRY_LATER
        log.info("profiles not read for now: %s", error.message)
        _release(accounts)
        return False
    now = timezone.now()
    for account in accounts:
        _store(account, profiles.get(account.pk), sources, report, now)
    return True


def refresh_wanted(
    *,
    bluesky: BlueskyPublic | None = None,
    mastodon: net.MastodonLookup | None = None,
    avatars: httpx.Client | None = None,
    max_batches: int | None = None,
    batch: int = BATCH,
    now: Callable[[], datetime] = timezone.now,
) -> RefreshReport:
    """Read the wanted faces, oldest wish first, until none is left (the task's body)."""
    report = RefreshReport()
    forget_unlinked()
    sources = _Sources(bluesky, mastodon, avatars)
    batches = 0
    try:
        while max_batches is None or batches < max_batches:
            moment = now()
            ids = list(
                NetworkAccount.objects.filter(profile_wanted_at__isnull=False)
                .filter(Q(profile_claimed_until__isnull=True) | Q(profile_claimed_until__lt=moment))
                .order_by("profile_wanted_at", "pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                break
            claimed = _claim(ids, moment)
            batches += 1
            report.batches = batches
            if claimed and not _refresh(claimed, sources, report):
                break
    finally:
        sources.close()
    return report


def refresh_accounts(
    accounts: Iterable[NetworkAccount],
    *,
    bluesky: BlueskyPublic | None = None,
    mastodon: net.MastodonLookup | None = None,
    avatars: httpx.Client | None = None,
) -> RefreshReport:
    """Read these accounts' faces now, whatever their age (command line, tests)."""
    report = RefreshReport()
    sources = _Sources(bluesky, mastodon, avatars)
    ids = [a.pk for a in accounts]
    try:
        for start in range(0, len(ids), BATCH):
            claimed = _claim(ids[start : start + BATCH], timezone.now())
            if claimed and not _refresh(claimed, sources, report):
                break
    finally:
        sources.close()
    return report


def forget_faces(account_ids: Iterable[int]) -> int:
    """Forget the name and avatar read for these accounts (a person's own, when
    they erase everything): the row may stay for others' links, the face
    does not. Returns how many avatars were deleted."""
    ids = list(account_ids)
    if not ids:
        return 0
    deleted, _ = AccountAvatar.objects.filter(account_id__in=ids).delete()
    NetworkAccount.objects.filter(pk__in=ids).update(
        display_name="",
        avatar_url="",
        avatar_state=NetworkAccount.AvatarState.UNKNOWN,
        avatar_digest="",
        profile_fetched_at=None,
        profile_wanted_at=None,
    )
    return deleted


def forget_unlinked() -> int:
    """Avatars of accounts no link names any more (reports, erasures, rosters
    that dropped them): nobody is shown them, so they are not kept."""
    unlinked = ~Exists(Link.objects.filter(network_account_id=OuterRef("account_id")))
    deleted, _ = AccountAvatar.objects.filter(unlinked).delete()
    return deleted
