"""What a public search finds: a profile as anyone can read it, network-neutral.

A `PublicProfile` is public fact (what the account says about itself, and
when we read it), never who looked: the discovery cache stores these for
everyone on a portal.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from hirondelle.discovery.claims import html_to_text

__all__ = ["BRIDGE_HOSTS", "ProfileField", "PublicProfile", "bridged_native", "html_to_text"]

#: Bridgy Fed's hosts: a fediverse account on Bluesky ends in `.ap.brid.gy`;
#: a Bluesky account on the fediverse is `handle@bsky.brid.gy`.
BRIDGE_HOSTS = ("ap.brid.gy", "bsky.brid.gy")


@dataclass(frozen=True, slots=True)
class ProfileField:
    """A Mastodon profile field; `verified` when the server checked its link (rel=me)."""

    name: str
    value: str
    verified: bool = False


@dataclass(frozen=True, slots=True)
class PublicProfile:
    """One account as its network publishes it.

    `account`: DID (Bluesky) or actor URI (Mastodon); `handle`: Bluesky handle
    or ``user@host``. Counts are None when the answer did not carry them
    (Bluesky's search results; `getProfiles` has them).
    """

    network: str
    account: str
    handle: str
    display_name: str = ""
    description: str = ""
    avatar: str = ""
    followers: int | None = None
    posts: int | None = None
    created_at: str = ""  # ISO 8601, as the network says
    fields: tuple[ProfileField, ...] = field(default_factory=tuple)
    url: str = ""

    @property
    def detailed(self) -> bool:
        """Counts and creation date are known (a full profile, not a search hit)."""
        return self.posts is not None and bool(self.created_at)

    @property
    def bridged(self) -> bool:
        """A Bridgy Fed mirror of an account on the other network."""
        return bridged_native(self) is not None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["fields"] = [asdict(f) for f in self.fields]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PublicProfile:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["fields"] = tuple(ProfileField(**f) for f in data.get("fields") or ())
        return cls(**known)


def bridged_native(profile: PublicProfile) -> tuple[str, str] | None:
    """(network, handle) of the account a Bridgy Fed mirror stands for, if it is one.

    ``alice.mastodon.social.ap.brid.gy`` on Bluesky mirrors the fediverse
    ``alice@mastodon.social``; ``alice.bsky.social@bsky.brid.gy`` on the
    fediverse mirrors the Bluesky ``alice.bsky.social``.
    """
    handle = profile.handle.lower()
    if profile.network == "bluesky" and handle.endswith(".ap.brid.gy"):
        user, _, host = handle.removesuffix(".ap.brid.gy").partition(".")
        if user and "." in host:
            return "mastodon", f"{user}@{host}"
    if profile.network == "mastodon" and handle.endswith("@bsky.brid.gy"):
        native = handle.removesuffix("@bsky.brid.gy")
        if "." in native:
            return "bluesky", native
    return None
