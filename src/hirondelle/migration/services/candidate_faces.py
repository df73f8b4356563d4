"""Avatars of the accounts discovery proposed to one person, read in the background.

Discovery already read each proposed account's public profile (its name and
its avatar's URL are in `DiscoveryCandidate.profile`); what is left is the
picture. It is fetched through the same guarded, re-encoding path as the
directory's (`hirondelle.networks.faces.fetch_avatar`) and stored in
`CandidateFace`, which belongs to the person's migration: deleting the
migration, or everything, deletes the pictures (cascade), and the shared
directory never learns whom this person looked for.

Pages never wait: the discover page marks the missing faces wanted
(`want_candidate_faces`, one INSERT of new rows) and queues the faces task;
the task claims wanted rows batch by batch (a token and an expiry set by one
UPDATE, so two workers never fetch the same picture at once and a dead
worker's claim lapses). An account the directory already holds with a stored
face is shown with that one and never fetched here.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import httpx
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from hirondelle.identity.models import AccountAvatar, NetworkAccount
from hirondelle.migration.models import CandidateFace, DiscoveryCandidate, Migration
from hirondelle.migration.services.faces import BATCH, CLAIM_FOR, WANT_AGAIN, queue_refresh
from hirondelle.networks import faces as net
from hirondelle.networks.errors import NetworkError

__all__ = [
    "CandidateReport",
    "any_candidate_wanted",
    "directory_faces",
    "forget_orphans",
    "refresh_candidate_faces",
    "want_candidate_faces",
]

log = logging.getLogger(__name__)

#: Mastodon's picture for "no avatar": the initial says it better
_MISSING = "/avatars/original/missing.png"


def _refresh_after():
    from datetime import timedelta

    from hirondelle.config import get_settings

    return timedelta(days=get_settings().profile_refresh_days)


def avatar_url(candidate: DiscoveryCandidate) -> str:
    """The avatar URL discovery read in the candidate's profile ("" when none)."""
    url = (candidate.profile or {}).get("avatar")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return ""
    return "" if urlsplit(url).path.endswith(_MISSING) else url[:2000]


def directory_faces(network: str, uris: Iterable[str]) -> dict[str, NetworkAccount]:
    """The directory accounts among `uris` (one query)."""
    wanted = {u for u in uris if u}
    if not wanted:
        return {}
    return {a.uri: a for a in NetworkAccount.objects.filter(network=network, uri__in=wanted)}


def _has_directory_face(account: NetworkAccount | None) -> bool:
    return (
        account is not None
        and account.avatar_state == NetworkAccount.AvatarState.STORED
        and bool(account.avatar_digest)
    )


def want_candidate_faces(
    migration: Migration,
    candidates: Iterable[DiscoveryCandidate],
    *,
    known: dict[tuple[str, str], NetworkAccount] | None = None,
    queue: bool = True,
) -> int:
    """Ask for the pictures of these proposals that have none yet (rows a page
    already has): new rows are inserted wanted, a changed URL or an old
    failure is wanted again. Nothing is sent; one task is queued if anything
    was newly wanted. `known` maps (network, uri) to directory accounts the
    caller already read: those with a stored face are not fetched here."""
    known = known or {}
    urls: dict[tuple[str, str], str] = {}
    for c in candidates:
        url = avatar_url(c)
        if url and c.account and not _has_directory_face(known.get((c.network, c.account))):
            urls[(c.network, c.account)] = url
    if not urls:
        return 0
    now = timezone.now()
    existing = {
        (f.network, f.account): f
        for f in CandidateFace.objects.filter(
            migration=migration, account__in={a for _n, a in urls}
        ).only("id", "network", "account", "source_url", "state", "wanted_at", "fetched_at")
    }
    new = [
        CandidateFace(migration=migration, network=n, account=a, source_url=url, wanted_at=now)
        for (n, a), url in urls.items()
        if (n, a) not in existing
    ]
    if new:
        CandidateFace.objects.bulk_create(new, ignore_conflicts=True)
    again = 0
    for key, face in existing.items():
        if face.wanted_at is not None and face.wanted_at >= now - WANT_AGAIN:
            continue  # already asked for
        failed_long_ago = face.state == CandidateFace.State.FAILED and (
            face.fetched_at is None or face.fetched_at <= now - _refresh_after()
        )
        lost = face.wanted_at is not None  # wanted long ago, no task took it
        if face.source_url != urls[key] or failed_long_ago or lost:
            again += CandidateFace.objects.filter(pk=face.pk).update(
                source_url=urls[key], wanted_at=now
            )
    marked = len(new) + again
    if marked and queue:
        queue_refresh()
    return marked


def any_candidate_wanted() -> bool:
    """Whether a proposal's picture is still waiting (one index probe)."""
    return CandidateFace.objects.filter(wanted_at__isnull=False).exists()


@dataclass
class CandidateReport:
    stored: int = 0
    no_avatar: int = 0
    failed: int = 0
    #: already in the directory with a face: not fetched
    from_directory: int = 0
    avatar_requests: int = 0
    batches: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def _claim(ids: Sequence[int], now: datetime) -> list[CandidateFace]:
    token = secrets.token_hex(16)
    CandidateFace.objects.filter(pk__in=list(ids)).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    ).update(claim=token, claimed_until=now + CLAIM_FOR)
    return list(
        CandidateFace.objects.filter(pk__in=list(ids), claim=token).defer("image").order_by("pk")
    )


def _fetch(face: CandidateFace, client: httpx.Client, report: CandidateReport):
    if not face.source_url:
        return CandidateFace.State.NONE, None
    report.avatar_requests += 1
    try:
        return CandidateFace.State.STORED, net.fetch_avatar(face.source_url, client)
    except NetworkError as error:
        reason = getattr(error, "reason", "") or type(error).__name__
        report.reasons[reason] = report.reasons.get(reason, 0) + 1
        log.info("a proposal's avatar not stored (%s): %s", reason, error.message)
        return CandidateFace.State.FAILED, None


def _store(face: CandidateFace, client: httpx.Client, report: CandidateReport) -> None:
    known = directory_faces(face.network, [face.account]).get(face.account)
    mine = CandidateFace.objects.filter(pk=face.pk, claim=face.claim)
    if _has_directory_face(known) and AccountAvatar.objects.filter(account=known).exists():
        # The directory has it: the page shows that one; nothing is fetched or kept here.
        report.from_directory += mine.delete()[0]
        return
    state, image = _fetch(face, client, report)
    updated = mine.update(
        state=state,
        image=image,
        digest=hashlib.sha256(image).hexdigest()[:16] if image else "",
        fetched_at=timezone.now(),
        wanted_at=None,
        claim="",
        claimed_until=None,
    )
    if not updated:  # our claim lapsed and another worker took it: theirs wins
        return
    if state == CandidateFace.State.STORED:
        report.stored += 1
    elif state == CandidateFace.State.NONE:
        report.no_avatar += 1
    else:
        report.failed += 1


def refresh_candidate_faces(
    *,
    avatars: httpx.Client | None = None,
    max_batches: int | None = None,
    batch: int = BATCH,
    now: Callable[[], datetime] = timezone.now,
) -> CandidateReport:
    """Fetch the wanted pictures, oldest wish first, until none is left (the task's body)."""
    report = CandidateReport()
    forget_orphans()
    client = avatars or net.avatar_client()
    try:
        while max_batches is None or report.batches < max_batches:
            moment = now()
            ids = list(
                CandidateFace.objects.filter(wanted_at__isnull=False)
                .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=moment))
                .order_by("wanted_at", "pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                break
            report.batches += 1
            for face in _claim(ids, moment):
                _store(face, client, report)
    finally:
        if avatars is None:
            client.close()
    return report


def forget_orphans() -> int:
    """Pictures of accounts no proposal of their migration names any more
    (a new search dropped them): nobody is shown them, so they are not kept."""
    proposed = DiscoveryCandidate.objects.filter(
        migration_id=OuterRef("migration_id"),
        network=OuterRef("network"),
        account=OuterRef("account"),
    )
    with transaction.atomic():
        deleted, _ = CandidateFace.objects.filter(~Exists(proposed)).delete()
    return deleted
