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
from hirondelle.networks.preview import eta_at_published_limits

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
    #: how long publishing the parts takes at the network's published limits
    eta_seconds: float = 0.0
    #: A few posts as they will appear (the first ones, a thread, one with media).
    samples: list[dict] = field(default_factory=list)
    limits: compose.Limits | None = None  # what the posts were prepared for
    #: Replies whose parent is not republished: they open with a line linking to it on X.
    replies_with_link: int = 0

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
            "eta_seconds": round(self.eta_seconds),
            "samples": self.samples,
            "replies_with_link": self.replies_with_link,
            "limits": {
                "max_characters": self.limits.max_graphemes,
                "max_media": self.limits.max_images,
            }
            if self.limits
            else None,
        }


def limits_for_account(account: ConnectedAccount, adapter=None) -> compose.Limits:
    """The limits of the account's own server, for planning and for publishing.

    A Mastodon-API server publishes its own (`max_characters`, media per post,
    media sizes in `/api/v2/instance`): many allow far more than Mastodon's
    500 characters, and splitting at 500 there would cut posts for nothing.
    Every path (command line, page, worker) asks here, with the adapter it
    holds or one made for the account. Bluesky's limits are the network's
    own (300 graphemes), the same on every server.
    """
    if account.network != Network.MASTODON:
        return compose.limits_for(account.network)
    own = adapter is None
    if own:
        from hirondelle.migration.services.adapters import adapter_for

        adapter = adapter_for(account)
    try:
        instance = getattr(adapter, "instance", None)
        return compose.mastodon_limits(instance() if instance is not None else {})
    finally:
        if own and hasattr(adapter, "close"):
            adapter.close()


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


SAMPLES = 4


def _keep_sample(summary: RepublishSummary, prepared) -> None:
    """Keep the first posts, the first thread and the first post with media."""
    if len(summary.samples) >= SAMPLES or not prepared.drafts:
        return
    drafts = prepared.drafts
    is_thread = len(drafts) > 1
    has_media = any(d.media for d in drafts)
    kinds = {k for s in summary.samples for k in s["kinds"]}
    wanted = (
        len(summary.samples) < 2
        or (is_thread and "thread" not in kinds)
        or (has_media and "media" not in kinds)
    )
    if not wanted:
        return
    summary.samples.append(
        {
            "created_at": drafts[0].created_at.isoformat(),
            "kinds": (["thread"] if is_thread else []) + (["media"] if has_media else []),
            "parts": [
                {
                    "text": d.text,
                    "media": [str(m.kind) for m in d.media],
                    "media_dropped": d.media_dropped,
                }
                for d in drafts
            ],
        }
    )


def plan_republish(
    migration: Migration,
    account: ConnectedAccount | None,
    *,
    network: str | None = None,
    filters: compose.Filters | None = None,
    options: compose.Options | None = None,
    limits: compose.Limits | None = None,
    dry_run: bool = False,
) -> RepublishSummary:
    """Prepare the chosen posts and add them to the account's plan (unless dry_run).

    A dry run needs no account: with `account=None` and a `network`, it
    previews against that network's published limits.
    """
    if account is None and not (dry_run and network):
        raise ValueError("without an account, only a dry run on a named network is possible")
    network = account.network if account is not None else Network(network)
    summary = RepublishSummary(network, account.handle if account is not None else "")
    limits = summary.limits = limits or (
        limits_for_account(account) if account is not None else compose.limits_for(network)
    )
    posts = (
        p.to_record()
        for p in migration.posts.filter(gone_at__isnull=True).order_by("created_at").iterator()
    )
    position = (
        PlanItem.objects.filter(account=account, kind=ActionKind.POST).aggregate(m=Max("position"))[
            "m"
        ]
        if account is not None
        else 0
    ) or 0
    now = timezone.now()
    items = []
    for prepared in compose.prepare_many(
        posts,
        network,
        filters=filters,
        limits=limits,
        resolve_mention=mention_resolver(network, migration),
        published=published_posts(account) if account is not None else {},
        options=options or compose.Options(),
    ):
        if prepared.error:
            summary.errors.append(f"{prepared.post.id}: {prepared.error}")
            continue
        summary.posts += 1
        summary.by_year[prepared.post.created_at.year] += 1
        if prepared.post.media:
            summary.with_media += 1
        _keep_sample(summary, prepared)
        for draft in prepared.drafts:
            summary.parts += 1
            summary.replies_with_link += draft.answers is not None
            summary.media_dropped += draft.media_dropped
            position += 1
            items.append(
                PlanItem(
                    account=account,
                    kind=ActionKind.POST,
                    x_id=draft.post_id,
                    position=position,
                    key=item_key(account.pk if account else 0, ActionKind.POST, draft.key),
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
    summary.eta_seconds = eta_at_published_limits(network, {ActionKind.POST: summary.parts})
    if not dry_run:
        before = PlanItem.objects.filter(account=account, kind=ActionKind.POST).count()
        PlanItem.objects.bulk_create(items, batch_size=1000, ignore_conflicts=True)
        after = PlanItem.objects.filter(account=account, kind=ActionKind.POST).count()
        summary.added = after - before
    return summary
