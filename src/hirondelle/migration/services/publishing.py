"""Publish prepared posts (plan items of kind `post`), one at a time, in order.

A post item's payload is a draft prepared by `hirondelle.compose` when the
plan was made: text within the network's limits, facets, the original date,
and references to the parts it replies to or quotes, as (X post id, part).
The references are resolved here, at publish time, from the items already
done, so threads and quotes survive a run that stops and resumes, and later
runs can reply to and quote what earlier runs published.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from hirondelle import compose
from hirondelle.archive.records import MediaKind
from hirondelle.migration.models import PlanItem
from hirondelle.networks.base import Adapter, MediaUpload, OutgoingPost, PublishedPost

__all__ = ["outgoing_post", "publish_item", "published_ref"]


def _done_part(account_id: int, ref: dict) -> PlanItem | None:
    """The done item of part `ref["part"]` (0 first, -1 last) of an X post."""
    parts = list(
        PlanItem.objects.filter(
            account_id=account_id, kind="post", x_id=ref["post_id"], state=PlanItem.State.DONE
        ).order_by("position")
    )
    if not parts:
        return None
    try:
        return parts[ref["part"]]
    except IndexError:
        return parts[-1]


def published_ref(account_id: int, ref: dict | None) -> PublishedPost | None:
    item = _done_part(account_id, ref) if ref else None
    return PublishedPost(uri=item.remote_id, cid=item.remote_cid) if item else None


def _thread_root(account_id: int, payload: dict) -> PublishedPost | None:
    """The first post of the thread this one continues (Bluesky replies name it)."""
    if payload.get("thread_root"):
        return published_ref(account_id, payload["thread_root"])
    ref = payload.get("reply_to")
    for _ in range(10_000):  # a thread is finite; never loop on bad data
        parent = _done_part(account_id, ref) if ref else None
        if parent is None:
            return None
        if parent.payload.get("thread_root"):
            return published_ref(account_id, parent.payload["thread_root"])
        if not parent.payload.get("reply_to") or not _done_part(
            account_id, parent.payload["reply_to"]
        ):
            return PublishedPost(uri=parent.remote_id, cid=parent.remote_cid)
        ref = parent.payload["reply_to"]
    return None


def _media(item: PlanItem, limits: compose.Limits) -> list[MediaUpload]:
    files = item.payload.get("media") or []
    if not files:
        return []
    from hirondelle.archive import open_archive

    sensitive = item.payload.get("sensitive", False)
    alts = list(item.payload.get("alt") or [])  # added by the person, never invented
    uploads = []
    with open_archive(item.payload["archive_path"]) as archive:
        for f in files:
            ref = compose.MediaRef(path=f["path"], kind=MediaKind(f["kind"]), mime_type=f["mime"])
            with archive.open_member(ref.path) as fh:
                data = fh.read()
            try:
                upload = compose.upload_for(ref, data, limits, sensitive=sensitive)
            except compose.MediaError:
                continue  # a video too large for this network: the text still goes
            if ref.kind == MediaKind.PHOTO and alts:
                upload = replace(upload, alt=alts.pop(0))
            uploads.append(upload)
    return uploads


def outgoing_post(item: PlanItem, limits: compose.Limits) -> OutgoingPost:
    p = item.payload
    created = p.get("created_at")
    reply_to = published_ref(item.account_id, p.get("reply_to"))
    root = _thread_root(item.account_id, p) if reply_to else None
    return OutgoingPost(
        text=p["text"],
        key=item.key,
        created_at=datetime.fromisoformat(created) if created else None,
        reply_to=reply_to,
        thread_root=root or reply_to,
        quote=published_ref(item.account_id, p.get("quote")),
        media=_media(item, limits),
        sensitive=p.get("sensitive", False),
        language=p.get("language", ""),
        visibility=p.get("visibility", "unlisted"),
        facets=p.get("facets", ()),
    )


def publish_item(adapter: Adapter, item: PlanItem, *, maybe_sent: bool = False) -> PublishedPost:
    """Publish one part. `maybe_sent`: an earlier attempt may have reached the
    network (a crash or a timeout); networks that can look for it do so first."""
    from hirondelle.migration.services.republishing import limits_for_account

    post = outgoing_post(item, limits_for_account(item.account, adapter))
    find = getattr(adapter, "find_published", None)
    if maybe_sent and find is not None:
        found = find(post, since=item.created_at)
        if found is not None:
            return found
    return adapter.publish(post)
