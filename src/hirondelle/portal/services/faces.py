"""People shown as people: the name and avatar of each directory account on a page.

Reads only what is stored (`NetworkAccount` and its `AccountAvatar`), never
the network: a page asks for the missing or stale faces to be read in the
background (`migration.services.faces.want_faces`) and shows the initial
until they are. Avatar URLs are this site's own (`portal:avatar`): a
visitor's browser never asks another server for a picture.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import reverse

from hirondelle.identity.models import Link, NetworkAccount
from hirondelle.migration.services.faces import want_faces

__all__ = ["Face", "face_of", "faces_for_links"]


@dataclass(frozen=True, slots=True)
class Face:
    """A display name (filtered; templates escape it) and our own avatar URL, or ""."""

    name: str = ""
    avatar: str = ""


def face_of(account: NetworkAccount) -> Face:
    avatar = ""
    if account.avatar_state == NetworkAccount.AvatarState.STORED and account.avatar_digest:
        avatar = reverse("portal:avatar", args=[account.pk, account.avatar_digest])
    return Face(name=account.display_name, avatar=avatar)


_FIELDS = (
    "id",
    "network",
    "handle",
    "display_name",
    "avatar_state",
    "avatar_digest",
    "profile_fetched_at",
)


def faces_for_links(link_ids: Iterable[int], *, want: bool = True) -> dict[int, Face]:
    """Link id → the face of its account (an empty `Face` when none is stored);
    the stale ones are asked for in the background. One query."""
    ids = list(set(link_ids))
    rows = Link.objects.filter(pk__in=ids).values_list(
        "pk", *(f"network_account__{f}" for f in _FIELDS)
    )
    accounts: dict[int, NetworkAccount] = {}
    faces: dict[int, Face] = dict.fromkeys(ids, Face())
    for link_id, *values in rows:
        account = NetworkAccount(**dict(zip(_FIELDS, values, strict=True)))
        accounts[account.pk] = account
        faces[link_id] = face_of(account)
    if want:
        want_faces(accounts.values())
    return faces
