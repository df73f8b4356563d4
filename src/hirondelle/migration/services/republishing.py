"""Plan the republishing of a person's own posts on one connected account.

The compose pipeline (`hirondelle.compose`, pure) chooses, orders and
prepares the posts; this module keeps the drafts as plan items (kind
`post`), in publishing order, so the ordinary runner publishes them within
the network's budget, resumably, never twice. Mentions are resolved through
the directory; posts published by earlier runs are known from their done
items, so later runs can reply to and quote them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Max
from django.utils import timezone

from hirondelle import compose
from hirondelle.identity.models import Link, x_id_to_db
from hirondelle.migration.models import ConnectedAccount, Migration, PlanItem
from hirondelle.migration.services.keys import item_key
from hirondelle.migration.services.names import ids_for_usernames
from hirondelle.networks.base import ActionKind, Network, PublishedPost, RemoteAccount

__all__ = ["RepublishSummary", "limits_for_account", "plan_republish"]


@dataclass
class RepublishSummary:
    network: str
    handle: str
    posts: int = 0  # X posts chosen
    parts: int = 0  # network posts they become (long posts split into threads)
    added: int = 0  # new plan items (the rest were planned before)
    with_media: int = 0
    media_dropped: int = 0
    errors: list[str] = field(default_factory=list)  # posts that cannot go, and why
    by_year: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {
            "network": self.network,
            "handle": self.handle,
            "posts": self.posts,
            "parts": self.parts,
            "added": self.added,
            "with_media": self.with_media,
            "media_dropped": self.media_dropped,
            "errors": self.errors,
            "by_year": dict(sorted(self.by_year.items())),
        }


def limits_for_account(account: ConnectedAccount, adapter=None) -> compose.Limits:
    """The network's limits; a Mastodon server's own, read from its instance document."""
    if account.network == Network.MASTODON and adapter is not None:
        return compose.mastodon_limits(adapter.instance())
    return compose.limits_for(account.network)


def mention_resolver(network: str, migration: Migration) -> compose.MentionResolver:
    """X screen name → the person's account on `network`, from consented links.

    The screen name is read as the migration's own archive named it (then as
    the directory does): another person's archive never decides who a
    mention points to.
    """
    cache: dict[str, RemoteAccount | None] = {}

    def resolve(screen_name: str) -> RemoteAccount | None:
        name = screen_name.lower()
        if name not in cache:
            x_id = ids_for_usernames(migration, [name]).get(name)
            link = (
                None
                if x_id is None
                else Link.objects.usable()
                .findable()
                .filter(
                    x_account_id=x_id_to_db(x_id),
                    network=network,
                    state=Link.State.CURRENT,
                )
                .select_related("network_account")
                .order_by("-strength")
                .first()
            )
            cache[name] = (
                RemoteAccount(
                    Network(network), link.network_account.uri, link.network_account.handle
                )
                if link and link.network_account.uri
                else None
            )
        return cache[name]

    return resolve


def published_posts(account: ConnectedAccount) -> dict[str, PublishedPost]:
    """X post id → its first republished part on this account."""
    rows = (
        PlanItem.objects.filter(account=account, kind=ActionKind.POST, state=PlanItem.State.DONE)
        .order_by("-position")
        .values_list("x_id", "remote_id", "remote_cid")
    )
    return {x_id: PublishedPost(uri=uri, cid=cid) for x_id, uri, cid in rows}


def _ref(ref: compose.PartRef | None) -> dict | None:
    return {"post_id": ref.post_id, "part": ref.part} if ref else None


def plan_republish(
    migration: Migration,
    account: ConnectedAccount,
    *,
    filters: compose.Filters | None = None,
    options: compose.Options | None = None,
    limits: compose.Limits | None = None,
    dry_run: bool = False,
) -> RepublishSummary:
    """Prepare the chosen posts and add them to the account's plan (unless dry_run)."""
    summary = RepublishSummary(account.network, account.handle)
    posts = (
        p.to_record()
        for p in migration.posts.filter(gone_at__isnull=True).order_by("created_at").iterator()
    )
    position = (
        PlanItem.objects.filter(account=account, kind=ActionKind.POST).aggregate(m=Max("position"))[
            "m"
        ]
        or 0
    )
    now = timezone.now()
    items = []
    for prepared in compose.prepare_many(
        posts,
        account.network,
        filters=filters,
        limits=limits or limits_for_account(account),
        resolve_mention=mention_resolver(account.network, migration),
        published=published_posts(account),
        options=options or compose.Options(),
    ):
        if prepared.error:
            summary.errors.append(f"{prepared.post.id}: {prepared.error}")
            continue
        summary.posts += 1
        summary.by_year[prepared.post.created_at.year] += 1
        if prepared.post.media:
            summary.with_media += 1
        for draft in prepared.drafts:
            summary.parts += 1
            summary.media_dropped += draft.media_dropped
            position += 1
            items.append(
                PlanItem(
                    account=account,
                    kind=ActionKind.POST,
                    x_id=draft.post_id,
                    position=position,
                    key=item_key(account.pk, ActionKind.POST, draft.key),
                    next_attempt_at=now,
                    payload={
                        "part": draft.part,
                        "parts": draft.parts,
                        "text": draft.text,
                        "facets": list(draft.facets),
                        "created_at": draft.created_at.isoformat(),
                        "reply_to": _ref(draft.reply_to),
                        "thread_root": _ref(draft.thread_root),
                        "quote": _ref(draft.quote),
                        "media": [
                            {"path": m.path, "kind": str(m.kind), "mime": m.mime_type}
                            for m in draft.media
                        ],
                        "sensitive": draft.sensitive,
                        "language": draft.language,
                        "visibility": draft.visibility,
                        "archive_path": migration.archive_path,
                    },
                )
            )
    if not dry_run:
        before = PlanItem.objects.filter(account=account, kind=ActionKind.POST).count()
        PlanItem.objects.bulk_create(items, batch_size=1000, ignore_conflicts=True)
        after = PlanItem.objects.filter(account=account, kind=ActionKind.POST).count()
        summary.added = after - before
    return summary
