"""Bluesky (atproto) adapter: app-password sessions, batched record writes, budgets."""

from hirondelle.networks.bluesky.adapter import (
    COLLECTIONS,
    DEFAULT_POOLS,
    MAX_WRITES_PER_CALL,
    BlueskyAdapter,
    default_pools,
)
from hirondelle.networks.bluesky.tid import is_tid, tid_for

__all__ = [
    "COLLECTIONS",
    "DEFAULT_POOLS",
    "MAX_WRITES_PER_CALL",
    "BlueskyAdapter",
    "default_pools",
    "is_tid",
    "tid_for",
]
