"""Describe images later: the archive has no alt text, and Hirondelle never
invents one, so the person adds it, before or after a post is published.

Before: the description is kept with the plan item and goes out with the
upload. After: the network's post is edited (Bluesky `putRecord`, Mastodon
status edit with `media_attributes`).
"""

from __future__ import annotations

from dataclasses import dataclass

from hirondelle.migration.models import ConnectedAccount, PlanItem
from hirondelle.networks.base import Adapter, PublishedPost

__all__ = ["ALT_MAX", "AltTextError", "ImagePost", "posts_with_images", "set_alt_text"]

#: Mastodon's limit for a media description; Bluesky takes more.
ALT_MAX = 1500


class AltTextError(ValueError):
    """What is wrong with a description, in words for the person."""


@dataclass(frozen=True)
class ImagePost:
    x_id: str
    state: str
    text: str
    images: int
    alt: tuple[str, ...]

    @property
    def described(self) -> bool:
        return len([a for a in self.alt if a.strip()]) >= self.images


def _images(item: PlanItem) -> int:
    return sum(1 for m in item.payload.get("media") or [] if m.get("kind") == "photo")


def _carrier(account: ConnectedAccount, x_id: str) -> PlanItem | None:
    """The part of a republished X post that carries its media (the first)."""
    for item in PlanItem.objects.filter(account=account, kind="post", x_id=x_id).order_by(
        "position"
    ):
        if _images(item):
            return item
    return None


def posts_with_images(account: ConnectedAccount) -> list[ImagePost]:
    return [
        ImagePost(
            item.x_id,
            item.state,
            item.payload.get("text", "")[:80],
            _images(item),
            tuple(item.payload.get("alt") or ()),
        )
        for item in PlanItem.objects.filter(account=account, kind="post").order_by("position")
        if _images(item)
    ]


def set_alt_text(
    account: ConnectedAccount, x_id: str, alts: list[str], *, adapter: Adapter | None = None
) -> str:
    """Keep or apply the descriptions of one post's images, in order.

    Returns "kept" (the post is not published yet) or "updated" (edited on
    the network). Raises AltTextError for a description that cannot go.
    """
    item = _carrier(account, x_id)
    if item is None:
        raise AltTextError(f"Post {x_id} has no images planned for {account.handle}.")
    if len(alts) > _images(item):
        raise AltTextError(f"Post {x_id} has {_images(item)} image(s); {len(alts)} descriptions.")
    for alt in alts:
        if len(alt) > ALT_MAX:
            raise AltTextError(f"A description is {len(alt)} characters; at most {ALT_MAX}.")
    item.payload = {**item.payload, "alt": list(alts)}
    if item.state != PlanItem.State.DONE:
        item.save(update_fields=["payload"])
        return "kept"
    from hirondelle.migration.services.adapters import adapter_for, save_budget

    own = adapter is None
    adapter = adapter or adapter_for(account)
    try:
        updated = adapter.set_alt_texts(PublishedPost(item.remote_id, item.remote_cid), alts)
        save_budget(account, adapter)
    finally:
        if own:
            adapter.close()
    item.remote_cid = updated.cid or item.remote_cid
    item.save(update_fields=["payload", "remote_cid"])
    return "updated"
