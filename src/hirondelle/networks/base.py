"""The one small interface every network adapter implements.

The plan runner only knows this interface: it asks an adapter's budget how
many actions fit, hands it a batch, and records each result. Adapters batch
where their network allows (Bluesky `applyWrites`: 200 writes per call) and
act one by one where it does not (Mastodon).

Idempotency: every action carries a `key` that is stable across retries.
Adapters use it where the network lets them (deterministic Bluesky record
keys, Mastodon's `Idempotency-Key` header), so a retried action after a crash
finds its own earlier effect instead of doing it twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from hirondelle.networks.budget import Budget
from hirondelle.networks.errors import NetworkError

__all__ = [
    "Action",
    "ActionKind",
    "ActionResult",
    "Adapter",
    "MediaUpload",
    "Network",
    "OutgoingPost",
    "PublishedPost",
    "Relationship",
    "RemoteAccount",
]


class Network(StrEnum):
    MASTODON = "mastodon"  # any server speaking the Mastodon client API
    BLUESKY = "bluesky"


class ActionKind(StrEnum):
    FOLLOW = "follow"
    BLOCK = "block"
    MUTE = "mute"
    LIST_ADD = "list_add"
    POST = "post"


@dataclass(frozen=True, slots=True)
class RemoteAccount:
    """An account on a destination network.

    `id`: Mastodon actor URI (stable across servers) or Bluesky DID.
    `handle`: ``user@host`` (no leading @) or a Bluesky handle.
    `local_id`: the id this account has on the person's own server, when known
    (Mastodon account ids differ from one server to the next).
    """

    network: Network
    id: str
    handle: str
    display_name: str = ""
    local_id: str | None = None


@dataclass(frozen=True, slots=True)
class Relationship:
    following: bool = False
    requested: bool = False  # a follow request awaits approval (locked account)
    blocking: bool = False
    muting: bool = False


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    target: RemoteAccount
    key: str  # idempotency key, stable across retries of the same plan item
    list_id: str | None = None  # for LIST_ADD


@dataclass(frozen=True, slots=True)
class ActionResult:
    action: Action
    remote_id: str | None = None  # follow record URI, relationship id…
    error: NetworkError | None = None
    already_done: bool = False  # the network says it was done before

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class MediaUpload:
    data: bytes
    mime_type: str
    alt: str = ""  # the archive has none; never invent it
    sensitive: bool = False


@dataclass(frozen=True, slots=True)
class OutgoingPost:
    """One post as a network takes it: text already within its limits."""

    text: str
    key: str  # idempotency key
    created_at: datetime | None = None  # honoured where the network allows backdating
    reply_to: PublishedPost | None = None
    thread_root: PublishedPost | None = None
    quote: PublishedPost | None = None
    media: Sequence[MediaUpload] = ()
    sensitive: bool = False
    language: str = ""
    visibility: str = "unlisted"  # Mastodon only
    facets: Sequence[dict] = field(default_factory=tuple)  # Bluesky only: rich-text facets


@dataclass(frozen=True, slots=True)
class PublishedPost:
    uri: str  # status URL/id on Mastodon, at:// URI on Bluesky
    cid: str = ""  # Bluesky content id (needed for replies and quotes)
    url: str = ""


@runtime_checkable
class Adapter(Protocol):
    """What the plan runner needs from a network. Raises only NetworkError."""

    network: Network
    budget: Budget

    def whoami(self) -> RemoteAccount: ...

    def resolve(self, handle: str) -> RemoteAccount | None:
        """Find an account by handle (WebFinger/lookup; handle → DID). None if absent."""

    def relationships(self, targets: Sequence[RemoteAccount]) -> dict[str, Relationship]:
        """Current relationships, keyed by RemoteAccount.id, to skip what is done."""

    def cost(self, kind: ActionKind) -> dict[str, float]:
        """Units one action of this kind costs in each budget pool."""

    def batch_size(self, kind: ActionKind) -> int:
        """How many actions of this kind one call to `apply` should carry."""

    def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        """Carry out actions (all of one kind); one result per action, in order."""

    def create_list(self, name: str, description: str = "") -> str:
        """Create a list; returns its id (Mastodon) or at:// URI (Bluesky)."""

    def publish(self, post: OutgoingPost) -> PublishedPost: ...

    def close(self) -> None: ...
