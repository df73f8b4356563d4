"""Idempotency keys of plan items: the same intent always gets the same key.

Planning the same follow twice (a re-import, an arrival noticed twice, the
web page and the command line both planning) therefore creates one item,
and the key doubles as the network-side idempotency key.
"""

from __future__ import annotations

import hashlib

__all__ = ["item_key"]


def item_key(account_id: int, kind: str, target: str, extra: str = "") -> str:
    raw = f"{account_id}\x1f{kind}\x1f{target}\x1f{extra}"
    return hashlib.sha256(raw.encode()).hexdigest()[:40]
